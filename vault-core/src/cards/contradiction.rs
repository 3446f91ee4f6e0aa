//! When a facet counts as contradicted: the one rule the belief model
//! ([`super::belief::FacetBelief::contradicted`]) and the knowledge graph
//! ([`crate::graph::contradictions`]) share, so the scheduler and the exports never disagree
//! about which facets the user's recent answers split.
//!
//! Rule (per facet, per agent for per-agent facets): take the facet's answers within its
//! stability window (`stability_days` before now), at most the [`RECENT_ANSWERS`] newest.
//! Weigh each by retrievability. The facet is contradicted when at least two answers remain
//! and the runner-up value holds at least [`SPLIT`] of the leader's weight.

use super::belief::retrievability;

/// How many of a facet's newest answers count as "recent".
pub const RECENT_ANSWERS: usize = 6;
/// Runner-up weight, as a share of the leader's, from which a facet is contradicted.
pub const SPLIT: f64 = 0.5;
const DAY_MS: f64 = 86_400_000.0;

/// How a contradicted facet's recent answers split.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// `(decayed weight, answers)` of the recent answers per value position.
    pub per_value: Vec<(f64, u32)>,
    /// The positions with recent answers, heaviest first (equal weights: lower first).
    pub order: Vec<usize>,
    /// Runner-up weight / leader weight, in [SPLIT, 1]: 1 is an even split.
    pub severity: f64,
    pub recent_answers: u32,
    pub last_answer_ms: u64,
}

/// The newest `(time, value position)` answers first, at most [`RECENT_ANSWERS`]: what the
/// rule reads of a history. Keeping only these is enough to apply it later.
pub fn keep_recent(answers: &mut Vec<(u64, usize)>) {
    crate::sort::sort_by(answers, |a, b| b.cmp(a));
    answers.truncate(RECENT_ANSWERS);
}

/// Applies the rule to a facet's answers, `(time, value position)` with positions below
/// `values`, as of `now_ms`: the split when the facet is contradicted.
pub fn split(
    answers: &[(u64, usize)],
    values: usize,
    now_ms: u64,
    stability_days: f64,
) -> Option<Split> {
    let window_ms = (stability_days * DAY_MS) as u64;
    let mut recent: Vec<(u64, usize)> = answers
        .iter()
        .copied()
        .filter(|&(at, pos)| pos < values && now_ms.saturating_sub(at) <= window_ms)
        .collect();
    if recent.len() < 2 {
        return None;
    }
    keep_recent(&mut recent);
    let mut per_value = vec![(0.0f64, 0u32); values];
    for &(at, pos) in &recent {
        let age_days = now_ms.saturating_sub(at) as f64 / DAY_MS;
        per_value[pos].0 += retrievability(age_days, stability_days);
        per_value[pos].1 += 1;
    }
    let mut order: Vec<usize> = (0..values).filter(|&p| per_value[p].1 > 0).collect();
    crate::sort::sort_by(&mut order, |&a, &b| {
        per_value[b].0.total_cmp(&per_value[a].0).then(a.cmp(&b))
    });
    let (&first, &second) = (order.first()?, order.get(1)?);
    let (lead, runner_up) = (per_value[first].0, per_value[second].0);
    if lead <= 0.0 || runner_up < SPLIT * lead {
        return None;
    }
    Some(Split {
        per_value,
        order,
        severity: runner_up / lead,
        recent_answers: recent.len() as u32,
        last_answer_ms: recent[0].0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;
    const DAY: u64 = 86_400_000;

    #[test]
    fn a_split_needs_two_recent_answers_and_a_close_runner_up() {
        // One answer, or two for the same value: settled.
        assert_eq!(split(&[(NOW, 0)], 3, NOW, 30.0), None);
        assert_eq!(split(&[(NOW, 0), (NOW - DAY, 0)], 3, NOW, 30.0), None);
        // Two fresh answers for two values: an even split.
        let s = split(&[(NOW, 0), (NOW, 1)], 3, NOW, 30.0).unwrap();
        assert_eq!(s.order, vec![0, 1]);
        assert_eq!(s.severity, 1.0);
        assert_eq!(s.recent_answers, 2);
        // Three to one: the runner-up holds a third of the leader's weight.
        let three_to_one = [(NOW, 0), (NOW, 0), (NOW, 0), (NOW, 1)];
        assert_eq!(split(&three_to_one, 3, NOW, 30.0), None);
        // Two to one: exactly half, contradicted.
        let s = split(&three_to_one[1..], 3, NOW, 30.0).unwrap();
        assert!((s.severity - SPLIT).abs() < 1e-12);
    }

    #[test]
    fn only_the_newest_answers_within_the_window_count() {
        // The old disagreement left the stability window.
        let old = [(NOW, 0), (NOW - 40 * DAY, 1)];
        assert_eq!(split(&old, 2, NOW, 30.0), None);
        assert!(split(&old, 2, NOW, 60.0).is_some());
        // Six newer answers agree: an older dissenter is past the recent six.
        let mut answers: Vec<(u64, usize)> = (0..RECENT_ANSWERS as u64)
            .map(|i| (NOW - i * 1000, 0))
            .collect();
        answers.push((NOW - DAY, 1));
        answers.push((NOW - DAY - 1, 1));
        answers.push((NOW - DAY - 2, 1));
        answers.push((NOW - DAY - 3, 1));
        assert_eq!(split(&answers, 2, NOW, 30.0), None);
        let mut kept = answers.clone();
        keep_recent(&mut kept);
        assert_eq!(kept.len(), RECENT_ANSWERS);
        assert!(kept.iter().all(|&(_, v)| v == 0));
    }
}
