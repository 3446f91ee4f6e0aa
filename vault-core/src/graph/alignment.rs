//! Alignment per agent: how much of the profile an agent can know, how sure it is, and how
//! far the agent's last exported instructions lag behind the profile now.
//!
//! An agent's *view* of the profile is every shared facet plus the per-agent facets kept for
//! that agent. Per facet `f` in the view, `L_f` is the strength of its leading value (0 when
//! nothing supports any value). Definitions and rationale: `docs/METRICS.md`.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};

use super::model::KnowledgeGraph;
use super::strength::leader;
use crate::cards::library::Library;

/// A facet is "known" (and a node may go into instructions) from this leader strength on:
/// about one fresh answer that nothing contradicts.
pub const KNOWN: f64 = 0.3;
/// At most this many free-text nodes per open facet go into instructions.
pub const MAX_TEXTS_PER_FACET: usize = 3;

/// What an agent was told: the node strengths in the instructions exported to it. Made by
/// [`crate::graph::export::instructions::AgentInstructions::snapshot`]; the web app keeps
/// it (in the vault) and hands it back to compute staleness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstructionSnapshot {
    pub agent: String,
    pub exported_at_ms: u64,
    /// Node id -> strength at export, for the nodes the instructions included.
    pub strengths: BTreeMap<String, f64>,
}

/// Coverage of one dimension in an agent's view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionCoverage {
    pub dimension: String,
    pub label: String,
    pub priority: f64,
    pub facets: u32,
    /// Facets whose leading value has strength >= [`KNOWN`].
    pub known: u32,
    /// known / facets.
    pub coverage: f64,
    /// Mean leader strength over the dimension's facets (known or not).
    pub strength: f64,
}

/// A node whose strength moved since the agent's last export.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleNode {
    pub node: String,
    pub label: String,
    /// Strength in the exported instructions (0: not included).
    pub exported: f64,
    /// Strength it would be exported with now (0: it would be left out).
    pub now: f64,
}

/// Every alignment figure for one agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentAlignment {
    pub agent: String,
    /// Answers captured on this agent's site (activity, not knowledge).
    pub answers: u32,
    pub last_answer_ms: Option<u64>,
    /// Priority-weighted share of the view's facets that are known.
    pub coverage: f64,
    pub by_dimension: Vec<DimensionCoverage>,
    /// Share of decayed answers, over the view's closed facets, that agree with the facet's
    /// leading value.
    pub consistency: f64,
    /// Mean leader strength over known facets.
    pub confidence: f64,
    /// Priority-weighted mean leader strength over all facets of the view.
    pub knowledge: f64,
    /// Weighted share of exportable strength that changed since the last export (1 when
    /// the agent was never given instructions and there is something to tell it).
    pub staleness: f64,
    pub last_export_ms: Option<u64>,
    /// The nodes that moved most since the last export (at most 10).
    pub stale_nodes: Vec<StaleNode>,
    /// `knowledge × (1 - staleness)`: how well this agent, as instructed, knows the user.
    pub alignment: f64,
}

impl KnowledgeGraph {
    /// Facet groups in an agent's view: `(facet position, group index if any)`.
    fn view_groups(&self, lib: &Library, agent: Option<u16>) -> Vec<(usize, Option<usize>)> {
        (0..lib.facets.len())
            .map(|f| {
                let per_agent = lib.facets[f].per_agent;
                let g = self.groups.iter().position(|g| {
                    g.facet == f
                        && if per_agent {
                            g.agent.is_some() && g.agent == agent
                        } else {
                            g.agent.is_none()
                        }
                });
                (f, g)
            })
            .collect()
    }

    /// The nodes an agent's instructions carry, strongest first: per facet in its view, the
    /// leading value when it is known and not contested; for open facets, up to
    /// [`MAX_TEXTS_PER_FACET`] known texts. Never a meta facet or a value whose sentence says
    /// nothing ([`crate::graph::context`]'s rules).
    pub(crate) fn instruction_nodes(&self, lib: &Library, agent: &str) -> Vec<NodeIndex> {
        let a = self.agent_index(agent);
        let mut out = Vec::new();
        for (f, g) in self.view_groups(lib, a) {
            let Some(g) = g else { continue };
            let facet = &lib.facets[f];
            if facet.meta {
                continue;
            }
            if facet.open {
                let mut texts: Vec<NodeIndex> = self.groups[g]
                    .nodes
                    .iter()
                    .copied()
                    .filter(|&n| self.graph[n].metrics.strength >= KNOWN)
                    .collect();
                crate::sort::sort_by(&mut texts, |&x, &y| {
                    self.graph[y]
                        .metrics
                        .strength
                        .total_cmp(&self.graph[x].metrics.strength)
                });
                out.extend(
                    texts
                        .into_iter()
                        .filter(|&n| super::context::sentence(self, lib, n).is_some())
                        .take(MAX_TEXTS_PER_FACET),
                );
            } else if let Some(n) = leader(self, g) {
                let m = &self.graph[n].metrics;
                if m.strength >= KNOWN
                    && !m.contested
                    && super::context::sentence(self, lib, n).is_some()
                {
                    out.push(n);
                }
            }
        }
        crate::sort::sort_by(&mut out, |&x, &y| {
            let (nx, ny) = (&self.graph[x], &self.graph[y]);
            ny.metrics
                .strength
                .total_cmp(&nx.metrics.strength)
                .then(nx.id.cmp(&ny.id))
        });
        out
    }

    /// What instructions exported now would tell the agent: node id -> strength.
    pub fn exportable_strengths(&self, lib: &Library, agent: &str) -> BTreeMap<String, f64> {
        self.instruction_nodes(lib, agent)
            .into_iter()
            .map(|n| (self.graph[n].id.clone(), self.graph[n].metrics.strength))
            .collect()
    }

    /// Alignment of one agent. `snapshot`: the newest instructions exported to it (ignored
    /// if exported after the graph's moment, so history stays truthful).
    pub fn agent_alignment(
        &self,
        lib: &Library,
        agent: &str,
        snapshot: Option<&InstructionSnapshot>,
    ) -> AgentAlignment {
        let a = self.agent_index(agent);
        let snapshot = snapshot.filter(|s| s.exported_at_ms <= self.as_of_ms && s.agent == agent);
        let view = self.view_groups(lib, a);
        let mut dims: BTreeMap<&str, (u32, u32, f64)> = BTreeMap::new();
        let (mut weighted_known, mut weighted_strength, mut total_priority) = (0.0, 0.0, 0.0);
        let (mut known_strength, mut known) = (0.0, 0u32);
        let (mut agree, mut all_support) = (0.0, 0.0);
        for &(f, g) in &view {
            let facet = &lib.facets[f];
            let lead = g.and_then(|g| leader(self, g));
            let l = lead.map_or(0.0, |n| self.graph[n].metrics.strength);
            let is_known = l >= KNOWN;
            let d = dims.entry(facet.dimension.as_str()).or_default();
            d.0 += 1;
            d.1 += u32::from(is_known);
            d.2 += l;
            total_priority += facet.priority;
            weighted_strength += facet.priority * l;
            if is_known {
                weighted_known += facet.priority;
                known_strength += l;
                known += 1;
            }
            if let (false, Some(g), Some(lead)) = (facet.open, g, lead) {
                agree += self.graph[lead].metrics.support;
                all_support += self.groups[g]
                    .nodes
                    .iter()
                    .map(|&n| self.graph[n].metrics.support)
                    .sum::<f64>();
            }
        }
        let by_dimension = lib
            .dimensions
            .iter()
            .filter_map(|d| {
                let &(facets, k, s) = dims.get(d.id.as_str())?;
                Some(DimensionCoverage {
                    dimension: d.id.clone(),
                    label: d.label.clone(),
                    priority: d.priority,
                    facets,
                    known: k,
                    coverage: ratio(f64::from(k), f64::from(facets)),
                    strength: ratio(s, f64::from(facets)),
                })
            })
            .collect();
        let now = self.exportable_strengths(lib, agent);
        let (staleness, stale_nodes) = staleness(self, &now, snapshot);
        let knowledge = ratio(weighted_strength, total_priority);
        let activity = a.map(|a| self.agent_activity[usize::from(a)]);
        AgentAlignment {
            agent: agent.to_owned(),
            answers: activity.map_or(0, |x| x.0),
            last_answer_ms: activity.filter(|x| x.0 > 0).map(|x| x.1),
            coverage: ratio(weighted_known, total_priority),
            by_dimension,
            consistency: ratio(agree, all_support),
            confidence: ratio(known_strength, f64::from(known)),
            knowledge,
            staleness,
            last_export_ms: snapshot.map(|s| s.exported_at_ms),
            stale_nodes,
            alignment: knowledge * (1.0 - staleness),
        }
    }

    /// Alignment of every agent seen in the records or in `snapshots` (for each agent the
    /// newest snapshot not later than the graph's moment counts).
    pub fn alignment(
        &self,
        lib: &Library,
        snapshots: &[InstructionSnapshot],
    ) -> Vec<AgentAlignment> {
        let mut agents: Vec<String> = self.agents.clone();
        let seen: BTreeSet<&str> = self.agents.iter().map(String::as_str).collect();
        let extra: BTreeSet<&str> = snapshots
            .iter()
            .map(|s| s.agent.as_str())
            .filter(|a| !seen.contains(a))
            .collect();
        agents.extend(extra.into_iter().map(str::to_owned));
        agents
            .iter()
            .map(|agent| {
                let snap = snapshots
                    .iter()
                    .filter(|s| &s.agent == agent && s.exported_at_ms <= self.as_of_ms)
                    .max_by_key(|s| s.exported_at_ms);
                self.agent_alignment(lib, agent, snap)
            })
            .collect()
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// `Σ |now - exported| / Σ max(now, exported)` over the union of nodes.
fn staleness(
    kg: &KnowledgeGraph,
    now: &BTreeMap<String, f64>,
    snapshot: Option<&InstructionSnapshot>,
) -> (f64, Vec<StaleNode>) {
    let empty = BTreeMap::new();
    let then = snapshot.map_or(&empty, |s| &s.strengths);
    let ids: BTreeSet<&String> = now.keys().chain(then.keys()).collect();
    let (mut changed, mut total) = (0.0, 0.0);
    let mut nodes = Vec::new();
    for id in ids {
        let a = now.get(id).copied().unwrap_or(0.0);
        let b = then.get(id).copied().unwrap_or(0.0).clamp(0.0, 1.0);
        changed += (a - b).abs();
        total += a.max(b);
        if (a - b).abs() > 1e-9 {
            nodes.push(StaleNode {
                node: id.clone(),
                label: kg.node(id).map_or_else(|| id.clone(), |n| n.label.clone()),
                exported: b,
                now: a,
            });
        }
    }
    crate::sort::sort_by(&mut nodes, |x, y| {
        (y.now - y.exported)
            .abs()
            .total_cmp(&(x.now - x.exported).abs())
            .then(x.node.cmp(&y.node))
    });
    nodes.truncate(10);
    if snapshot.is_none() {
        return (if total > 0.0 { 1.0 } else { 0.0 }, nodes);
    }
    (ratio(changed, total), nodes)
}
