//! The graph's types. Nodes keep their evidence compactly (record id, time, agent index,
//! polarity) because a heavy user has hundreds of thousands of evidence items; the public
//! accessors resolve agent names on the way out.

use std::collections::HashMap;

use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;
use serde::Serialize;

use crate::cards::library::NodeKind;
use crate::record::RecordId;

/// What a node stands for. Mirrors the library's [`NodeKind`] plus the dimension hubs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GraphNodeKind {
    Dimension,
    Preference,
    Value,
    Skill,
    Goal,
    Constraint,
    Topic,
    Trait,
}

impl GraphNodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GraphNodeKind::Dimension => "dimension",
            GraphNodeKind::Preference => "preference",
            GraphNodeKind::Value => "value",
            GraphNodeKind::Skill => "skill",
            GraphNodeKind::Goal => "goal",
            GraphNodeKind::Constraint => "constraint",
            GraphNodeKind::Topic => "topic",
            GraphNodeKind::Trait => "trait",
        }
    }
}

impl From<NodeKind> for GraphNodeKind {
    fn from(k: NodeKind) -> Self {
        match k {
            NodeKind::Preference => GraphNodeKind::Preference,
            NodeKind::Value => GraphNodeKind::Value,
            NodeKind::Skill => GraphNodeKind::Skill,
            NodeKind::Goal => GraphNodeKind::Goal,
            NodeKind::Constraint => GraphNodeKind::Constraint,
            NodeKind::Topic => GraphNodeKind::Topic,
            NodeKind::Trait => GraphNodeKind::Trait,
        }
    }
}

/// One answer's word on one node, stored compactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EvidenceRef {
    pub record: RecordId,
    pub at_ms: u64,
    /// Index into [`KnowledgeGraph::agents`]: the namespace the answer was captured on.
    pub agent: u16,
    pub polarity: i8,
}

/// One answer's word on one node, as the UI and exports see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The record's id (32 hex digits): deleting that record removes this item.
    pub record: RecordId,
    /// +1 the answer supports the node, -1 it speaks against it.
    pub polarity: i8,
    pub at_ms: u64,
    /// The namespace (agent) the answer was captured on.
    pub agent: String,
}

/// Figures computed for each node (`docs/METRICS.md`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NodeMetrics {
    /// In [0, 1]: `amount × consistency`, evidence decayed by age.
    pub strength: f64,
    /// Decayed support / (decayed support + decayed contradiction); 0 without evidence.
    pub consistency: f64,
    /// Retrievability of the newest supporting answer; 0 when nothing supports the node.
    pub recency: f64,
    /// Decayed sum of supporting answers.
    pub support: f64,
    /// Decayed sum of contradicting answers.
    pub contradiction: f64,
    /// Undecayed counts.
    pub supports: u32,
    pub contradicts: u32,
    pub last_support_ms: Option<u64>,
    /// Part of a facet whose recent answers disagree.
    pub contested: bool,
    /// Weighted PageRank (damping 0.85) over the undirected graph.
    pub pagerank: f64,
    /// Sum of the weights of the node's edges.
    pub weighted_degree: f64,
}

/// A node of the profile.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// Stable id: `dim:<dimension>`, `<facet>=<value>`, `<facet>:<text>`; per-agent facets
    /// append `@<agent>` so one agent's wishes never contradict another's.
    pub id: String,
    pub label: String,
    pub kind: GraphNodeKind,
    pub dimension: String,
    /// The facet the node is a value of (`None` for dimension nodes).
    pub facet: Option<String>,
    /// The agent a per-agent facet's node is about.
    pub agent: Option<String>,
    pub metrics: NodeMetrics,
    #[serde(skip)]
    pub(crate) evidence: Vec<EvidenceRef>,
    #[serde(skip)]
    pub(crate) stability_days: f64,
}

impl Node {
    /// How many evidence items (supporting and contradicting) the node has.
    pub fn evidence_count(&self) -> usize {
        self.evidence.len()
    }

    pub fn is_dimension(&self) -> bool {
        self.kind == GraphNodeKind::Dimension
    }
}

/// Why two nodes are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// Declared by the library: a facet value belongs to its dimension (weight 1).
    InDimension,
    /// Both nodes were supported by answers of one session (weight = number of sessions).
    CoOccurs,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::InDimension => "in_dimension",
            EdgeKind::CoOccurs => "co_occurs",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Edge {
    pub kind: EdgeKind,
    pub weight: f64,
}

/// Counts from one build, so the UI can say what was left out and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BuildStats {
    /// Records handed in.
    pub records: usize,
    /// Records captured after `as_of_ms`, ignored.
    pub after_as_of: usize,
    /// Records that added evidence.
    pub with_evidence: usize,
    /// Skips and dismissals (they count for activity, not for the profile).
    pub skipped: usize,
    /// Records whose card the library does not know, or whose answer does not fit it.
    pub unusable: usize,
    /// Sessions found (answers no more than the session gap apart).
    pub sessions: usize,
}

/// A facet's nodes, for one agent where the facet is kept per agent.
#[derive(Debug, Clone)]
pub(crate) struct FacetGroup {
    pub facet: usize,
    pub agent: Option<u16>,
    pub nodes: Vec<NodeIndex>,
}

/// The graph and every per-node figure, as of one moment.
#[derive(Debug, Clone)]
pub struct KnowledgeGraph {
    pub(crate) graph: UnGraph<Node, Edge>,
    pub(crate) index: HashMap<String, NodeIndex>,
    pub(crate) agents: Vec<String>,
    pub(crate) groups: Vec<FacetGroup>,
    pub(crate) dimension_nodes: Vec<NodeIndex>,
    pub(crate) as_of_ms: u64,
    pub(crate) utc_offset_minutes: i32,
    pub(crate) stats: BuildStats,
    /// Per local day (days since 1970-01-01): (answers with evidence, skips/dismissals).
    pub(crate) days: std::collections::BTreeMap<i64, (u32, u32)>,
    /// Per agent index: answers captured on it and the newest capture time.
    pub(crate) agent_activity: Vec<(u32, u64)>,
    pub(crate) contradictions: Vec<super::Contradiction>,
}

/// Serializes as [`KnowledgeGraph::view`]: nodes with their figures and edges, without the
/// per-answer evidence (ask [`KnowledgeGraph::evidence`] for one node's).
impl Serialize for KnowledgeGraph {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.view().serialize(s)
    }
}

/// A serializable picture of the graph without per-answer evidence: what the dashboard draws.
#[derive(Debug, Clone, Serialize)]
pub struct GraphView<'a> {
    pub as_of_ms: u64,
    pub stats: BuildStats,
    pub agents: &'a [String],
    pub nodes: Vec<&'a Node>,
    pub edges: Vec<EdgeView<'a>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EdgeView<'a> {
    pub source: &'a str,
    pub target: &'a str,
    pub kind: EdgeKind,
    pub weight: f64,
}

impl KnowledgeGraph {
    /// The moment the graph describes (later records were ignored, evidence decayed to it).
    pub fn as_of_ms(&self) -> u64 {
        self.as_of_ms
    }

    pub fn stats(&self) -> BuildStats {
        self.stats
    }

    /// Agents (namespaces) seen in the records, in first-seen order.
    pub fn agents(&self) -> &[String] {
        &self.agents
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Every node, in a stable order (dimensions first, then library order).
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.graph.node_weights()
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.index.get(id).map(|&i| &self.graph[i])
    }

    /// Every edge as `(source id, target id, edge)`.
    pub fn edges(&self) -> impl Iterator<Item = (&str, &str, &Edge)> {
        self.graph.edge_references().map(|e| {
            (
                self.graph[e.source()].id.as_str(),
                self.graph[e.target()].id.as_str(),
                e.weight(),
            )
        })
    }

    /// The nodes linked to `id`, heaviest link first.
    pub fn neighbours(&self, id: &str) -> Vec<(&Node, &Edge)> {
        let Some(&i) = self.index.get(id) else {
            return Vec::new();
        };
        let mut out: Vec<(&Node, &Edge)> = self
            .graph
            .edges(i)
            .map(|e| {
                let other = if e.source() == i {
                    e.target()
                } else {
                    e.source()
                };
                (&self.graph[other], e.weight())
            })
            .collect();
        crate::sort::sort_by(&mut out, |a, b| {
            b.1.weight.total_cmp(&a.1.weight).then(a.0.id.cmp(&b.0.id))
        });
        out
    }

    /// A node's evidence, newest first.
    pub fn evidence(&self, id: &str) -> Vec<Evidence> {
        let Some(node) = self.node(id) else {
            return Vec::new();
        };
        let mut out: Vec<Evidence> = node
            .evidence
            .iter()
            .map(|e| Evidence {
                record: e.record,
                polarity: e.polarity,
                at_ms: e.at_ms,
                agent: self.agent_name(e.agent).to_owned(),
            })
            .collect();
        crate::sort::sort_by(&mut out, |a, b| {
            b.at_ms.cmp(&a.at_ms).then(a.record.cmp(&b.record))
        });
        out
    }

    /// Does any node hold evidence from this record?
    pub fn has_evidence_from(&self, record: &RecordId) -> bool {
        self.graph
            .node_weights()
            .any(|n| n.evidence.iter().any(|e| &e.record == record))
    }

    /// The graph without per-answer evidence, ready to serialize for the UI.
    pub fn view(&self) -> GraphView<'_> {
        GraphView {
            as_of_ms: self.as_of_ms,
            stats: self.stats,
            agents: &self.agents,
            nodes: self.graph.node_weights().collect(),
            edges: self
                .edges()
                .map(|(source, target, e)| EdgeView {
                    source,
                    target,
                    kind: e.kind,
                    weight: e.weight,
                })
                .collect(),
        }
    }

    pub(crate) fn agent_name(&self, agent: u16) -> &str {
        self.agents
            .get(usize::from(agent))
            .map_or("", String::as_str)
    }

    pub(crate) fn agent_index(&self, name: &str) -> Option<u16> {
        self.agents
            .iter()
            .position(|a| a == name)
            .and_then(|i| u16::try_from(i).ok())
    }
}
