//! Contradictions: facets whose recent answers disagree. The scheduler turns them into
//! re-ask cards (a fresh answer settles which value holds now); the instructions export
//! leaves them out rather than tell an agent something the user contradicts.
//!
//! The rule is the one the belief model uses too, in [`crate::cards::contradiction`]: the
//! facet's newest answers within its stability window, weighed by retrievability, split
//! when the runner-up value holds at least [`SPLIT`] of the leader's weight.

use serde::Serialize;

use super::model::KnowledgeGraph;
use crate::cards::contradiction;
use crate::cards::library::Library;

pub use crate::cards::contradiction::{RECENT_ANSWERS, SPLIT};

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
        // (time, position in group) of each supporting answer.
        let answers: Vec<(u64, usize)> = g
            .nodes
            .iter()
            .enumerate()
            .flat_map(|(pos, &n)| {
                kg.graph[n]
                    .evidence
                    .iter()
                    .filter(|e| e.polarity > 0)
                    .map(move |e| (e.at_ms, pos))
            })
            .collect();
        let Some(split) = contradiction::split(&answers, g.nodes.len(), now, facet.stability_days)
        else {
            continue;
        };
        let order = split.order;
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
                            weight: split.per_value[p].0,
                            answers: split.per_value[p].1,
                        }
                    })
                    .collect(),
                severity: split.severity,
                recent_answers: split.recent_answers,
                last_answer_ms: split.last_answer_ms,
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
