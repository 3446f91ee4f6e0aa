//! Contradictions: facets whose recent answers disagree. The scheduler turns them into
//! re-ask cards (a fresh answer settles which value holds now); the instructions export
//! leaves them out rather than tell an agent something the user contradicts.
//!
//! Rule (per facet, per agent for per-agent facets): take the facet's answers within its
//! stability window (`stability_days` before the graph's moment), at most the
//! [`RECENT_ANSWERS`] newest. Weigh each by retrievability. The facet is contradicted when
//! at least two answers remain and the runner-up value holds at least [`SPLIT`] of the
//! leader's weight: the same split the belief model calls contradicted.

use serde::Serialize;

use super::model::KnowledgeGraph;
use super::strength::weight;
use super::DAY_MS;
use crate::cards::library::Library;

/// How many of a facet's newest answers count as "recent".
pub const RECENT_ANSWERS: usize = 6;
/// Runner-up weight, as a share of the leader's, from which a facet is contradicted.
pub const SPLIT: f64 = 0.5;

/// One value's share of a contradicted facet's recent answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContestedValue {
    pub node: String,
    pub label: String,
    /// Decayed weight of the recent answers for this value.
    pub weight: f64,
    pub answers: u32,
}

/// A facet whose recent answers disagree: a candidate for a re-ask card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contradiction {
    /// The facet id the scheduler re-asks.
    pub facet: String,
    pub facet_label: String,
    /// The agent, for per-agent facets.
    pub agent: Option<String>,
    pub dimension: String,
    /// Values with recent answers, heaviest first.
    pub values: Vec<ContestedValue>,
    /// Runner-up weight / leader weight, in [SPLIT, 1]: 1 is an even split.
    pub severity: f64,
    pub recent_answers: u32,
    pub last_answer_ms: u64,
}

pub(crate) fn mark(kg: &mut KnowledgeGraph, lib: &Library) {
    let now = kg.as_of_ms;
    let mut found = Vec::new();
    for g in &kg.groups {
        let facet = &lib.facets[g.facet];
        if facet.open || g.nodes.len() < 2 {
            continue;
        }
        let window_ms = (facet.stability_days * DAY_MS as f64) as u64;
        // (time, position in group) of each supporting answer in the window.
        let mut recent: Vec<(u64, usize)> = g
            .nodes
            .iter()
            .enumerate()
            .flat_map(|(pos, &n)| {
                kg.graph[n]
                    .evidence
                    .iter()
                    .filter(|e| e.polarity > 0 && now.saturating_sub(e.at_ms) <= window_ms)
                    .map(move |e| (e.at_ms, pos))
            })
            .collect();
        if recent.len() < 2 {
            continue;
        }
        crate::sort::sort_by(&mut recent, |a, b| b.cmp(a));
        recent.truncate(RECENT_ANSWERS);
        let mut per_value = vec![(0.0f64, 0u32); g.nodes.len()];
        for &(at, pos) in &recent {
            per_value[pos].0 += weight(now.saturating_sub(at), facet.stability_days);
            per_value[pos].1 += 1;
        }
        let mut order: Vec<usize> = (0..g.nodes.len()).filter(|&p| per_value[p].1 > 0).collect();
        crate::sort::sort_by(&mut order, |&a, &b| {
            per_value[b].0.total_cmp(&per_value[a].0).then(a.cmp(&b))
        });
        if order.len() < 2 {
            continue;
        }
        let (lead, second) = (per_value[order[0]].0, per_value[order[1]].0);
        if lead <= 0.0 || second < SPLIT * lead {
            continue;
        }
        found.push((
            order
                .iter()
                .take(2)
                .map(|&p| g.nodes[p])
                .collect::<Vec<_>>(),
            Contradiction {
                facet: facet.id.clone(),
                facet_label: facet.label.clone(),
                agent: g.agent.map(|a| kg.agents[usize::from(a)].clone()),
                dimension: facet.dimension.clone(),
                values: order
                    .iter()
                    .map(|&p| {
                        let n = &kg.graph[g.nodes[p]];
                        ContestedValue {
                            node: n.id.clone(),
                            label: n.label.clone(),
                            weight: per_value[p].0,
                            answers: per_value[p].1,
                        }
                    })
                    .collect(),
                severity: second / lead,
                recent_answers: recent.len() as u32,
                last_answer_ms: recent[0].0,
            },
        ));
    }
    for (nodes, _) in &found {
        for &n in nodes {
            kg.graph[n].metrics.contested = true;
        }
    }
    kg.contradictions = found.into_iter().map(|(_, c)| c).collect();
    // Most even splits first: those are the re-asks that settle the most.
    crate::sort::sort_by(&mut kg.contradictions, |a, b| {
        b.severity
            .total_cmp(&a.severity)
            .then(b.last_answer_ms.cmp(&a.last_answer_ms))
    });
}

impl KnowledgeGraph {
    /// Facets whose recent answers disagree, most even split first.
    pub fn contradictions(&self) -> &[Contradiction] {
        &self.contradictions
    }

    /// What the scheduler should re-ask: `(facet id, agent for per-agent facets)`, most
    /// contested first. Map to the scheduler's `FacetKey` with `Library::facet_position`.
    pub fn reask_facets(&self) -> Vec<(String, Option<String>)> {
        self.contradictions
            .iter()
            .map(|c| (c.facet.clone(), c.agent.clone()))
            .collect()
    }

    /// [`Self::reask_facets`] as the scheduler's belief keys (facet position, agent).
    pub fn reask_keys(&self, lib: &Library) -> Vec<crate::cards::belief::FacetKey> {
        self.contradictions
            .iter()
            .filter_map(|c| Some((lib.facet_position(&c.facet)?, c.agent.clone())))
            .collect()
    }

    /// Is this facet (for this agent, if per-agent) contradicted?
    pub fn is_contested(&self, facet: &str, agent: Option<&str>) -> bool {
        self.contradictions
            .iter()
            .any(|c| c.facet == facet && c.agent.as_deref() == agent)
    }
}
