//! Alignment per agent: how much of what the profile says now the agent was actually given
//! (deliveries, [`crate::delivery`]), how much of the profile it could know, how sure it is,
//! and how far what it was last given lags behind the profile now.
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
use crate::delivery::DeliveryMethod;

/// The per-agent meta facet where the user rates how well the agent understands them: shown
/// beside alignment as the user's own view, never told to any agent.
pub const SELF_RATING_FACET: &str = "agent.understands";

const DAY_MS: f64 = 86_400_000.0;

/// A facet is "known" (and a node may go into instructions) from this leader strength on:
/// about one fresh answer that nothing contradicts.
pub const KNOWN: f64 = 0.3;
/// At most this many free-text nodes per open facet go into instructions.
pub const MAX_TEXTS_PER_FACET: usize = 3;
/// ... except on the facet accepted proposals are filed under (`work.learned`): each text
/// there is a fact the user approved one by one, so more of them are told.
pub const MAX_LEARNED_TEXTS: usize = 20;

/// What an agent was told at one moment: the node strengths in what it was given. Made from
/// a delivery record ([`crate::delivery::DeliveryRecord::snapshot`]) or from instructions
/// ([`crate::graph::export::instructions::AgentInstructions::snapshot`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstructionSnapshot {
    pub agent: String,
    pub exported_at_ms: u64,
    /// Node id -> strength at export, for the nodes the instructions included.
    pub strengths: BTreeMap<String, f64>,
    /// How it was given; none for the web app's local export snapshots of earlier
    /// versions, which count as downloaded instructions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<DeliveryMethod>,
}

impl InstructionSnapshot {
    /// How much of what was given the agent still knows after `elapsed_ms`: the forgetting
    /// curve `R = (1 + t / 9S)^-1` with the method's stability `S` (docs/METRICS.md).
    pub fn retention(&self, elapsed_ms: u64) -> f64 {
        let s = self
            .method
            .unwrap_or(DeliveryMethod::Downloaded)
            .stability_days();
        let days = elapsed_ms as f64 / DAY_MS;
        1.0 / (1.0 + days / (9.0 * s))
    }
}

/// The user's own rating of how well an agent understands them (the self-rating card).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelfRating {
    /// The value's id (`low`, `medium`, `high`).
    pub value: String,
    pub label: String,
    pub strength: f64,
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
    /// How many times the profile was given to this agent (up to the graph's moment).
    pub deliveries: u32,
    /// How it was given last.
    pub last_delivery_method: Option<DeliveryMethod>,
    /// Share of what the profile would tell this agent now that it was actually given:
    /// `Σ w_f · c_f / Σ w_f` over the facts of the agent's block now, `w_f` the fact's
    /// strength (its evidence), `c_f` the best delivery of that fact, faded by the time since
    /// ([`InstructionSnapshot::retention`]) and by how much weaker it was then. 0 before any
    /// delivery, about 1 right after a full one, lower as the profile moves on.
    pub alignment: f64,
    /// The user's own view (the self-rating card), if answered for this agent.
    pub self_rating: Option<SelfRating>,
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
    /// [`MAX_TEXTS_PER_FACET`] known texts ([`MAX_LEARNED_TEXTS`] for accepted proposals). Never a meta facet or a value whose sentence says
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
                        .take(if lib.is_proposal_facet(&facet.id) {
                            MAX_LEARNED_TEXTS
                        } else {
                            MAX_TEXTS_PER_FACET
                        }),
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

    /// Alignment of one agent. `given`: what it was given (deliveries and exports; those
    /// of other agents, and those after the graph's moment, are ignored, so history stays
    /// truthful).
    pub fn agent_alignment(
        &self,
        lib: &Library,
        agent: &str,
        given: &[InstructionSnapshot],
    ) -> AgentAlignment {
        let a = self.agent_index(agent);
        let given: Vec<&InstructionSnapshot> = given
            .iter()
            .filter(|s| s.exported_at_ms <= self.as_of_ms && s.agent == agent)
            .collect();
        let snapshot = given.iter().copied().max_by_key(|s| s.exported_at_ms);
        let mut self_rating = None;
        let view = self.view_groups(lib, a);
        let mut dims: BTreeMap<&str, (u32, u32, f64)> = BTreeMap::new();
        let (mut weighted_known, mut weighted_strength, mut total_priority) = (0.0, 0.0, 0.0);
        let (mut known_strength, mut known) = (0.0, 0u32);
        let (mut agree, mut all_support) = (0.0, 0.0);
        for &(f, g) in &view {
            let facet = &lib.facets[f];
            let lead = g.and_then(|g| leader(self, g));
            if facet.id == SELF_RATING_FACET {
                self_rating = lead.map(|n| {
                    let node = &self.graph[n];
                    // `agent.understands=high@chatgpt` -> `high`.
                    let value = node.id.split_once('=').map_or("", |(_, v)| v);
                    let value = value.split('@').next().unwrap_or(value);
                    // The value's own label ("Very well"), not the node's (which names
                    // the question and the agent).
                    let label = facet
                        .values
                        .iter()
                        .find(|v| v.id == value)
                        .map_or_else(|| value.to_owned(), |v| v.label.clone());
                    SelfRating {
                        value: value.to_owned(),
                        label,
                        strength: node.metrics.strength,
                    }
                });
            }
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
        let alignment = delivered_share(&now, &given, self.as_of_ms);
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
            deliveries: u32::try_from(given.len()).unwrap_or(u32::MAX),
            last_delivery_method: snapshot.map(|s| s.method.unwrap_or(DeliveryMethod::Downloaded)),
            alignment,
            self_rating,
        }
    }

    /// Alignment of every agent seen in the records or in `snapshots` (everything given to
    /// each agent up to the graph's moment counts).
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
            .map(|agent| self.agent_alignment(lib, agent, snapshots))
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

/// `Σ_f w_f · c_f / Σ_f w_f` over the facts `f` the agent would be told now (`now`: node ->
/// strength `w_f`), with `c_f = max` over what was given holding `f` of
/// `retention(t) · min(1, s_then / w_f)`.
fn delivered_share(now: &BTreeMap<String, f64>, given: &[&InstructionSnapshot], at_ms: u64) -> f64 {
    let (mut got, mut total) = (0.0, 0.0);
    for (node, &w) in now {
        if w <= 0.0 {
            continue;
        }
        total += w;
        let credit = given
            .iter()
            .filter_map(|s| {
                let then = s.strengths.get(node)?.clamp(0.0, 1.0);
                let kept = s.retention(at_ms.saturating_sub(s.exported_at_ms));
                Some(kept * (then / w).min(1.0))
            })
            .fold(0.0, f64::max);
        got += w * credit;
    }
    ratio(got, total)
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
