//! Everything the views show, computed in one place from the decrypted answers: the graph,
//! the overview, alignment per agent and what changed since the last export. A pure function
//! of `(records, now, snapshots)`, so an edit or a delete just builds a new one.

use std::collections::HashMap;

use vault_core::cards::builtin;
use vault_core::graph::DAY_MS;
use vault_core::graph::{AgentAlignment, Changes, InstructionSnapshot, KnowledgeGraph, Overview};
use vault_core::{AnswerRecord, RecordId};

/// How many nodes the overview lists as strongest and weakest.
pub const TOP_NODES: usize = 8;
/// Without any export yet, "what changed" looks back this far.
pub const DEFAULT_CHANGE_WINDOW_MS: u64 = 7 * DAY_MS;

/// Where "what changed" starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// The newest instructions export (to any agent).
    LastExport(u64),
    /// No export yet: a week before now.
    Window(u64),
}

impl Since {
    pub fn ms(self) -> u64 {
        match self {
            Since::LastExport(t) | Since::Window(t) => t,
        }
    }
}

pub struct Profile {
    /// Live records, oldest first.
    pub records: Vec<AnswerRecord>,
    index: HashMap<RecordId, usize>,
    pub graph: KnowledgeGraph,
    pub overview: Overview,
    pub alignment: Vec<AgentAlignment>,
    pub since: Since,
    pub changes: Changes,
    pub snapshots: Vec<InstructionSnapshot>,
}

impl Profile {
    pub fn build(
        mut records: Vec<AnswerRecord>,
        now_ms: u64,
        snapshots: Vec<InstructionSnapshot>,
    ) -> Profile {
        let lib = builtin();
        vault_core::sort::sort_by(&mut records, |a, b| {
            a.captured_at_ms
                .cmp(&b.captured_at_ms)
                .then(a.id.cmp(&b.id))
        });
        let index = records.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        let graph = KnowledgeGraph::build(lib, &records, now_ms);
        let overview = graph.overview(TOP_NODES);
        let alignment = graph.alignment(lib, &snapshots);
        let since = match snapshots.iter().map(|s| s.exported_at_ms).max() {
            Some(t) if t <= now_ms => Since::LastExport(t),
            _ => Since::Window(now_ms.saturating_sub(DEFAULT_CHANGE_WINDOW_MS)),
        };
        let changes = graph.changes_since_time(lib, &records, since.ms());
        Profile {
            records,
            index,
            graph,
            overview,
            alignment,
            since,
            changes,
            snapshots,
        }
    }

    pub fn record(&self, id: &RecordId) -> Option<&AnswerRecord> {
        self.index.get(id).map(|&i| &self.records[i])
    }

    /// The same profile with one record replaced (`Some`) or removed (`None`).
    pub fn with_change(&self, id: &RecordId, record: Option<AnswerRecord>, now_ms: u64) -> Profile {
        let mut records: Vec<AnswerRecord> = self
            .records
            .iter()
            .filter(|r| &r.id != id)
            .cloned()
            .collect();
        records.extend(record);
        Profile::build(records, now_ms, self.snapshots.clone())
    }

    /// The same records with one more export snapshot.
    pub fn with_snapshots(&self, snapshots: Vec<InstructionSnapshot>, now_ms: u64) -> Profile {
        Profile::build(self.records.clone(), now_ms, snapshots)
    }

    /// Answers that carried evidence (not skips), the overview's headline number.
    pub fn answered(&self) -> u32 {
        self.overview.answered
    }
}

/// Node strength at each of `moments` (ms), for the given node ids: one row per node.
/// Each moment is a full `build_as_of`, so callers keep `moments` short (a dozen).
pub fn strength_history(
    records: &[AnswerRecord],
    nodes: &[String],
    moments: &[u64],
) -> Vec<Vec<f64>> {
    let lib = builtin();
    let graphs: Vec<KnowledgeGraph> = moments
        .iter()
        .map(|&t| KnowledgeGraph::build_as_of(lib, records, t))
        .collect();
    nodes
        .iter()
        .map(|id| {
            graphs
                .iter()
                .map(|g| g.node(id).map_or(0.0, |n| n.metrics.strength))
                .collect()
        })
        .collect()
}

/// `count` evenly spaced moments from the first record to `now` (both included).
pub fn moments(records: &[AnswerRecord], now_ms: u64, count: usize) -> Vec<u64> {
    let first = records
        .iter()
        .map(|r| r.captured_at_ms)
        .min()
        .unwrap_or(now_ms);
    let count = count.max(2);
    let span = now_ms.saturating_sub(first);
    (0..count)
        .map(|i| first + span * i as u64 / (count as u64 - 1))
        .collect()
}

/// Axis labels for [`moments`]: the date (`MM-DD`) where each moment falls on a day of its
/// own, else the date and time (`MM-DD HH:MM`), so an axis never repeats one label (a new
/// user's answers all fall on one day).
pub fn moment_labels(moments: &[u64]) -> Vec<String> {
    let days: Vec<String> = moments
        .iter()
        .map(|&t| crate::text::date(t)[5..].to_string())
        .collect();
    if days.windows(2).all(|w| w[0] != w[1]) {
        days
    } else {
        moments
            .iter()
            .map(|&t| crate::text::date_time(t)[5..].to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vault_core::graph::synthetic;

    #[test]
    fn axis_labels_never_repeat_a_date() {
        let day = 1_700_006_400_000; // 2023-11-15 00:00 UTC
        let spread: Vec<u64> = (0..6).map(|i| day + i * DAY_MS).collect();
        assert_eq!(moment_labels(&spread)[0], "11-15");
        assert_eq!(moment_labels(&spread)[5], "11-20");
        let one_day: Vec<u64> = (0..6).map(|i| day + i * 3_600_000).collect();
        let labels = moment_labels(&one_day);
        assert_eq!(labels[0], "11-15 00:00");
        assert_eq!(labels[5], "11-15 05:00");
        let distinct: std::collections::BTreeSet<&String> = labels.iter().collect();
        assert_eq!(distinct.len(), labels.len());
    }

    #[test]
    fn builds_and_changes() {
        let lib = builtin();
        let records = synthetic::answers(lib, 400, 1_700_000_000_000, 7);
        let now = records.last().map_or(0, |r| r.captured_at_ms) + 1_000;
        let p = Profile::build(records.clone(), now, Vec::new());
        assert!(p.overview.answered > 0);
        assert!(p.graph.node_count() > 50);
        assert!(matches!(p.since, Since::Window(_)));
        let victim = records[10].id;
        assert!(p.record(&victim).is_some());
        let q = p.with_change(&victim, None, now);
        assert!(q.record(&victim).is_none());
        assert!(!q.graph.has_evidence_from(&victim));
        let m = moments(&records, now, 5);
        assert_eq!(m.len(), 5);
        assert_eq!(m[4], now);
        let top: Vec<String> = p
            .overview
            .most_certain
            .iter()
            .map(|n| n.id.clone())
            .collect();
        let h = strength_history(&records, &top, &m);
        assert_eq!(h.len(), top.len());
        assert!(h[0][4] > 0.0);
    }
}
