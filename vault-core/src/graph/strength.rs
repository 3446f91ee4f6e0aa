//! Node strength: how firmly the answers establish a node, in [0, 1].
//!
//! Each evidence item weighs its retrievability `R(age) = (1 + age / (9 S))^-1` (the FSRS
//! forgetting curve the belief model uses, with the facet's stability `S` in days). Then
//!
//! ```text
//! support       s = Σ R over supporting answers
//! contradiction c = Σ R over contradicting answers
//! consistency   k = s / (s + c)                 (0 without evidence)
//! amount        a = 1 - exp(-s / SATURATION)
//! strength        = a × k
//! recency         = R(age of the newest supporting answer)
//! ```
//!
//! So strength rises with consistent answers (saturating: the third fresh answer adds less
//! than the first), falls when answers disagree, and fades as the evidence ages, at the pace
//! the facet declares (tastes in tone over months, this week's goal within days).

use petgraph::graph::NodeIndex;

use super::model::KnowledgeGraph;
use super::DAY_MS;
use crate::cards::belief::retrievability;
use crate::cards::library::Library;

/// Decayed supporting answers at which `amount` reaches `1 - 1/e` (about 0.63): one fresh
/// answer gives 0.49, two 0.74, three 0.86.
pub const SATURATION: f64 = 1.5;

/// `(strength, consistency)` from decayed support and contradiction.
pub fn strength(support: f64, contradiction: f64) -> (f64, f64) {
    let mass = support + contradiction;
    if mass <= 0.0 {
        return (0.0, 0.0);
    }
    let consistency = support / mass;
    let amount = 1.0 - (-support / SATURATION).exp();
    ((amount * consistency).clamp(0.0, 1.0), consistency)
}

/// Evidence weight of an answer `age_ms` old on a facet of stability `stability_days`.
pub fn weight(age_ms: u64, stability_days: f64) -> f64 {
    retrievability(age_ms as f64 / DAY_MS as f64, stability_days)
}

pub(crate) fn compute(kg: &mut KnowledgeGraph, lib: &Library) {
    let now = kg.as_of_ms;
    for node in kg.graph.node_weights_mut() {
        if node.is_dimension() {
            continue;
        }
        let m = &mut node.metrics;
        let (mut s, mut c) = (0.0, 0.0);
        let (mut ns, mut nc) = (0u32, 0u32);
        let mut last: Option<u64> = None;
        for e in &node.evidence {
            let w = weight(now.saturating_sub(e.at_ms), node.stability_days);
            if e.polarity > 0 {
                s += w;
                ns += 1;
                last = Some(last.map_or(e.at_ms, |l| l.max(e.at_ms)));
            } else {
                c += w;
                nc += 1;
            }
        }
        let (st, k) = strength(s, c);
        m.strength = st;
        m.consistency = k;
        m.support = s;
        m.contradiction = c;
        m.supports = ns;
        m.contradicts = nc;
        m.last_support_ms = last;
        m.recency = last.map_or(0.0, |l| weight(now.saturating_sub(l), node.stability_days));
    }
    // A dimension node's strength: the mean strength of its facets' leading values (every
    // agent's copy of a per-agent facet counts), i.e. how well the dimension is known.
    for d in kg.dimension_nodes.clone() {
        let dim = kg.graph[d].dimension.clone();
        let leaders: Vec<f64> = (0..kg.groups.len())
            .filter(|&g| lib.facets[kg.groups[g].facet].dimension == dim)
            .map(|g| leader_strength(kg, g))
            .collect();
        let m = &mut kg.graph[d].metrics;
        m.strength = if leaders.is_empty() {
            0.0
        } else {
            leaders.iter().sum::<f64>() / leaders.len() as f64
        };
    }
}

/// The strongest node of a facet group (ties: the earlier value), if it has any strength.
pub(crate) fn leader(kg: &KnowledgeGraph, group: usize) -> Option<NodeIndex> {
    let g = kg.groups.get(group)?;
    let mut best: Option<NodeIndex> = None;
    for &n in &g.nodes {
        let s = kg.graph[n].metrics.strength;
        if s > 0.0 && best.is_none_or(|b| s > kg.graph[b].metrics.strength) {
            best = Some(n);
        }
    }
    best
}

/// The strength of a group's leading node (0 when nothing supports any value).
pub(crate) fn leader_strength(kg: &KnowledgeGraph, group: usize) -> f64 {
    leader(kg, group).map_or(0.0, |n| kg.graph[n].metrics.strength)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_saturates_and_needs_consistency() {
        let one = strength(1.0, 0.0).0;
        let two = strength(2.0, 0.0).0;
        let three = strength(3.0, 0.0).0;
        assert!(one < two && two < three && three < 1.0);
        assert!(two - one > three - two, "diminishing returns");
        assert!((one - (1.0 - (-1.0f64 / 1.5).exp())).abs() < 1e-12);
        let split = strength(2.0, 2.0);
        assert!((split.1 - 0.5).abs() < 1e-12);
        assert!(split.0 < two / 1.9);
        assert_eq!(strength(0.0, 3.0), (0.0, 0.0));
        assert_eq!(strength(0.0, 0.0), (0.0, 0.0));
    }

    #[test]
    fn weight_follows_the_forgetting_curve() {
        assert_eq!(weight(0, 30.0), 1.0);
        // At t = 9 S the curve is at one half.
        let w = weight(9 * 30 * DAY_MS, 30.0);
        assert!((w - 0.5).abs() < 1e-12);
        assert!(weight(DAY_MS, 7.0) < weight(DAY_MS, 365.0));
    }
}
