//! The dashboard's overview: activity per day, streaks, most and least certain facts, and
//! what changed between two moments (two graphs of the same records, `as_of` apart).

use std::collections::BTreeMap;

use serde::Serialize;

use super::build::local_day;
use super::model::{GraphNodeKind, KnowledgeGraph, Node};
use super::strength::leader;
use crate::cards::library::Library;
use crate::record::AnswerRecord;

/// A strength change smaller than this is noise (evidence ageing a little), not a change.
pub const MIN_CHANGE: f64 = 0.05;
/// At most this many entries per list in [`Changes`].
pub const MAX_CHANGES: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayCount {
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    /// Answers that carried evidence.
    pub answered: u32,
    /// Skips and dismissals.
    pub skipped: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeSummary {
    pub id: String,
    pub label: String,
    pub kind: GraphNodeKind,
    pub dimension: String,
    pub strength: f64,
    pub supports: u32,
    pub contradicts: u32,
    pub last_support_ms: Option<u64>,
}

impl NodeSummary {
    fn of(n: &Node) -> Self {
        NodeSummary {
            id: n.id.clone(),
            label: n.label.clone(),
            kind: n.kind,
            dimension: n.dimension.clone(),
            strength: n.metrics.strength,
            supports: n.metrics.supports,
            contradicts: n.metrics.contradicts,
            last_support_ms: n.metrics.last_support_ms,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    pub as_of_ms: u64,
    pub answered: u32,
    pub skipped: u32,
    /// Every local day from the first answer to the graph's moment, empty days included.
    pub per_day: Vec<DayCount>,
    /// Mean answers (with evidence) per day over the last 30 days.
    pub answers_per_day_30d: f64,
    /// Consecutive days with at least one answer, ending today (or yesterday, so a streak
    /// is not lost before the day is over).
    pub current_streak_days: u32,
    pub longest_streak_days: u32,
    /// What the profile holds most surely: the leading value of each facet (never a value
    /// the user's answers put second), most certain first.
    pub most_certain: Vec<NodeSummary>,
    /// The leading values held least surely (fading or disputed), least certain first. Never
    /// a node of `most_certain`: with few facets known the two lists split them.
    pub least_certain: Vec<NodeSummary>,
    /// Dimension nodes with their strength (how well each dimension is known).
    pub dimensions: Vec<NodeSummary>,
    pub contradictions: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeChange {
    pub id: String,
    pub label: String,
    pub before: f64,
    pub after: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaderChange {
    pub facet: String,
    pub agent: Option<String>,
    /// Label of the leading value before (None: nothing known then).
    pub from: Option<String>,
    pub to: Option<String>,
}

/// What changed between an older graph and this one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changes {
    pub since_ms: u64,
    pub until_ms: u64,
    pub new_answers: u32,
    /// Nodes without support before that have some now.
    pub new_nodes: Vec<NodeChange>,
    pub strengthened: Vec<NodeChange>,
    pub weakened: Vec<NodeChange>,
    /// Facets whose leading value changed (the user changed their mind, or a first answer).
    pub leader_changes: Vec<LeaderChange>,
    /// Facets contradicted now but not before (`facet` or `facet@agent`).
    pub new_contradictions: Vec<String>,
    /// Facets contradicted before but not now (`facet` or `facet@agent`).
    pub resolved_contradictions: Vec<String>,
}

/// `(year, month, day)` of a day number (days since 1970-01-01), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
pub fn civil(day: i64) -> (i64, u32, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DD` of a day number.
pub fn date_of_day(day: i64) -> String {
    let (y, m, d) = civil(day);
    format!("{y:04}-{m:02}-{d:02}")
}

impl KnowledgeGraph {
    /// The overview, with up to `top` nodes in each of the most and least certain lists.
    pub fn overview(&self, top: usize) -> Overview {
        let today = local_day(self.as_of_ms, self.utc_offset_minutes);
        let mut per_day = Vec::new();
        let (mut answered, mut skipped) = (0u32, 0u32);
        let (mut longest, mut run) = (0u32, 0u32);
        let mut last_day: Option<i64> = None;
        if let Some((&first, _)) = self.days.iter().next() {
            for day in first..=today.max(first) {
                let (a, s) = self.days.get(&day).copied().unwrap_or((0, 0));
                answered += a;
                skipped += s;
                per_day.push(DayCount {
                    date: date_of_day(day),
                    answered: a,
                    skipped: s,
                });
                if a > 0 {
                    run += 1;
                    longest = longest.max(run);
                    last_day = Some(day);
                } else {
                    run = 0;
                }
            }
        }
        // `run` ends at today; if today has no answer yet, the streak ending yesterday holds.
        let current = match last_day {
            Some(d) if d == today => run,
            Some(d) if d == today - 1 => {
                let mut n = 0;
                let mut day = d;
                while self.days.get(&day).is_some_and(|x| x.0 > 0) {
                    n += 1;
                    day -= 1;
                }
                n
            }
            _ => 0,
        };
        let last30: u32 = self
            .days
            .range(today - 29..=today)
            .map(|(_, &(a, _))| a)
            .sum();
        // Only what the answers hold: each facet's leading value. A value the user turned
        // down (it has support, but another value of its facet leads) is no fact about them.
        let mut leaders: Vec<&Node> = (0..self.groups.len())
            .filter_map(|g| leader(self, g))
            .map(|n| &self.graph[n])
            .filter(|n| n.metrics.supports > 0)
            .collect();
        crate::sort::sort_by(&mut leaders, |a, b| {
            b.metrics
                .strength
                .total_cmp(&a.metrics.strength)
                .then(a.id.cmp(&b.id))
        });
        // With fewer than two lists' worth, the more certain half goes first.
        let split = top.min(leaders.len().div_ceil(2));
        let most_certain = leaders[..split]
            .iter()
            .map(|n| NodeSummary::of(n))
            .collect();
        let least_certain = leaders[split..]
            .iter()
            .rev()
            .take(top)
            .map(|n| NodeSummary::of(n))
            .collect();
        Overview {
            as_of_ms: self.as_of_ms,
            answered,
            skipped,
            per_day,
            answers_per_day_30d: f64::from(last30) / 30.0,
            current_streak_days: current,
            longest_streak_days: longest,
            most_certain,
            least_certain,
            dimensions: self
                .dimension_nodes
                .iter()
                .map(|&d| NodeSummary::of(&self.graph[d]))
                .collect(),
            contradictions: self.contradictions.len(),
        }
    }

    /// Leading value label per (facet id, agent).
    fn leaders(&self, lib: &Library) -> BTreeMap<(String, Option<String>), Option<String>> {
        (0..self.groups.len())
            .map(|g| {
                let grp = &self.groups[g];
                let key = (
                    lib.facets[grp.facet].id.clone(),
                    grp.agent.map(|a| self.agents[usize::from(a)].clone()),
                );
                (key, leader(self, g).map(|n| self.graph[n].label.clone()))
            })
            .collect()
    }

    /// What changed from `older` (the same records as of an earlier moment) to this graph.
    pub fn changes_since(&self, lib: &Library, older: &KnowledgeGraph) -> Changes {
        let (mut new_nodes, mut up, mut down) = (Vec::new(), Vec::new(), Vec::new());
        for n in self.nodes().filter(|n| !n.is_dimension()) {
            let old = older.node(&n.id);
            let before = old.map_or(0.0, |o| o.metrics.strength);
            let after = n.metrics.strength;
            let change = NodeChange {
                id: n.id.clone(),
                label: n.label.clone(),
                before,
                after,
            };
            if old.is_none_or(|o| o.metrics.supports == 0) && n.metrics.supports > 0 {
                new_nodes.push(change);
            } else if after - before >= MIN_CHANGE {
                up.push(change);
            } else if before - after >= MIN_CHANGE {
                down.push(change);
            }
        }
        for list in [&mut new_nodes, &mut up, &mut down] {
            crate::sort::sort_by(list, |a, b| {
                (b.after - b.before)
                    .abs()
                    .total_cmp(&(a.after - a.before).abs())
                    .then(a.id.cmp(&b.id))
            });
            list.truncate(MAX_CHANGES);
        }
        let before = older.leaders(lib);
        let leader_changes = self
            .leaders(lib)
            .into_iter()
            .filter_map(|(key, to)| {
                let from = before.get(&key).cloned().flatten();
                (from != to).then_some(LeaderChange {
                    facet: key.0,
                    agent: key.1,
                    from,
                    to,
                })
            })
            .collect();
        let contested = |kg: &KnowledgeGraph| -> Vec<String> {
            kg.contradictions
                .iter()
                .map(|c| match &c.agent {
                    Some(a) => format!("{}@{a}", c.facet),
                    None => c.facet.clone(),
                })
                .collect()
        };
        let (now_c, then_c) = (contested(self), contested(older));
        Changes {
            since_ms: older.as_of_ms,
            until_ms: self.as_of_ms,
            new_answers: (self.stats.with_evidence as u32)
                .saturating_sub(older.stats.with_evidence as u32),
            new_nodes,
            strengthened: up,
            weakened: down,
            leader_changes,
            new_contradictions: now_c
                .iter()
                .filter(|c| !then_c.contains(c))
                .cloned()
                .collect(),
            resolved_contradictions: then_c
                .iter()
                .filter(|c| !now_c.contains(c))
                .cloned()
                .collect(),
        }
    }

    /// Convenience: builds the graph as of `since_ms` from the same records and compares.
    pub fn changes_since_time(
        &self,
        lib: &Library,
        records: &[AnswerRecord],
        since_ms: u64,
    ) -> Changes {
        let older = KnowledgeGraph::build_as_of(lib, records, since_ms);
        self.changes_since(lib, &older)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date_of_day(0), "1970-01-01");
        assert_eq!(date_of_day(19_723), "2024-01-01");
        assert_eq!(date_of_day(19_782), "2024-02-29");
        assert_eq!(date_of_day(-1), "1969-12-31");
    }
}
