//! Records -> graph. One pass over the records in time order: each answer's evidence (from
//! [`crate::cards::graph::evidence`]) lands on its nodes, and answers no more than the
//! session gap apart form a session whose supported nodes get co-occurrence edges.
//!
//! Speed matters (the web app rebuilds on every unlock and every date-slider move), so the
//! evidence of a closed-facet answer is computed once per (card, answered value, agent) and
//! reused: it depends on nothing else.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use petgraph::graph::{NodeIndex, UnGraph};

use super::model::{BuildStats, Edge, EdgeKind, FacetGroup, GraphNodeKind, KnowledgeGraph, Node};
use super::{contradictions, rank, strength};
use crate::cards::belief::answered_value;
use crate::cards::graph::evidence;
use crate::cards::library::Library;
use crate::record::{Answer, AnswerRecord};

/// How the graph is built. The defaults are what the dashboard uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    /// Ignore records captured after this moment and decay evidence to it: the profile as it
    /// stood then. `None`: every record counts, decayed to `now_ms`.
    pub as_of_ms: Option<u64>,
    /// Two answers at most this far apart belong to one session (30 minutes, the usual
    /// inactivity cut-off of web analytics).
    pub session_gap_ms: u64,
    /// A session longer than this many answers (a bulk import with one timestamp, say) is cut
    /// into chunks, so co-occurrence stays about what the user had in mind at once and the
    /// pair count stays linear in the number of answers.
    pub max_session_answers: usize,
    /// The user's offset from UTC, for "answers per day" and streaks.
    pub utc_offset_minutes: i32,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            as_of_ms: None,
            session_gap_ms: 30 * 60 * 1000,
            max_session_answers: 64,
            utc_offset_minutes: 0,
        }
    }
}

/// The id of a closed facet's value node, as [`crate::cards::graph::NodeEvidence::node`]
/// spells it, with `@agent` for per-agent facets.
pub(crate) fn node_id(evidence_node: &str, agent: Option<&str>) -> String {
    match agent {
        Some(a) => format!("{evidence_node}@{a}"),
        None => evidence_node.to_owned(),
    }
}

/// The id of a dimension's hub node.
pub fn dimension_node_id(dimension: &str) -> String {
    format!("dim:{dimension}")
}

/// Local day number (days since 1970-01-01 in the user's time zone).
pub(crate) fn local_day(at_ms: u64, offset_minutes: i32) -> i64 {
    (at_ms as i64 + i64::from(offset_minutes) * 60_000).div_euclid(super::DAY_MS as i64)
}

/// A multiplicative hasher for the pair map's `u64` keys (no DoS concern: keys are node
/// index pairs the graph itself made).
#[derive(Default)]
struct PairHasher(u64);

impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        self.0 ^= self.0 >> 32;
    }
}

type PairMap = HashMap<u64, u32, BuildHasherDefault<PairHasher>>;

const NO_AGENT: u16 = u16::MAX;

struct Builder<'a> {
    lib: &'a Library,
    kg: KnowledgeGraph,
    /// (facet position, agent or NO_AGENT) -> group index.
    group_of: HashMap<(usize, u16), u32>,
    /// (card position, value index, agent or NO_AGENT) -> evidence of such an answer.
    cache: HashMap<(u32, u16, u16), Vec<(NodeIndex, i8)>>,
    /// Facet position of each card.
    card_facet: Vec<Option<usize>>,
}

impl KnowledgeGraph {
    /// The graph from every record, with evidence decayed to `now_ms` (records stamped later
    /// by a device whose clock runs ahead count as fresh).
    pub fn build(lib: &Library, records: &[AnswerRecord], now_ms: u64) -> KnowledgeGraph {
        Self::build_with(lib, records, now_ms, &BuildOptions::default())
    }

    /// The profile as it stood at `as_of_ms`: later records are ignored and evidence is
    /// decayed to that moment (the dashboard's history slider).
    pub fn build_as_of(lib: &Library, records: &[AnswerRecord], as_of_ms: u64) -> KnowledgeGraph {
        let opts = BuildOptions {
            as_of_ms: Some(as_of_ms),
            ..BuildOptions::default()
        };
        Self::build_with(lib, records, as_of_ms, &opts)
    }

    /// The general form: see [`BuildOptions`].
    pub fn build_with(
        lib: &Library,
        records: &[AnswerRecord],
        now_ms: u64,
        opts: &BuildOptions,
    ) -> KnowledgeGraph {
        let decay_to = opts.as_of_ms.unwrap_or(now_ms);
        let mut stats = BuildStats {
            records: records.len(),
            ..BuildStats::default()
        };
        let mut order: Vec<usize> = (0..records.len())
            .filter(|&i| {
                opts.as_of_ms
                    .is_none_or(|cut| records[i].captured_at_ms <= cut)
            })
            .collect();
        stats.after_as_of = records.len() - order.len();
        crate::sort::sort_by(&mut order, |&a, &b| {
            let (ra, rb) = (&records[a], &records[b]);
            ra.captured_at_ms
                .cmp(&rb.captured_at_ms)
                .then(ra.id.cmp(&rb.id))
        });

        let mut b = Builder::new(lib, decay_to, opts.utc_offset_minutes);
        // Agents in first-seen order, each with its per-agent facet nodes.
        let mut agent_of: Vec<u16> = Vec::with_capacity(order.len());
        let mut known: HashMap<&str, u16> = HashMap::new();
        for &i in &order {
            let ns = records[i].namespace.as_str();
            let a = match known.get(ns) {
                Some(&a) => a,
                None => {
                    let a = b.add_agent(ns);
                    known.insert(ns, a);
                    a
                }
            };
            agent_of.push(a);
        }

        let mut pairs = PairMap::default();
        let mut session: Vec<NodeIndex> = Vec::new();
        let mut session_answers = 0usize;
        let mut last_at: Option<u64> = None;
        let mut supported: Vec<NodeIndex> = Vec::with_capacity(4);
        for (k, &i) in order.iter().enumerate() {
            let rec = &records[i];
            let agent = agent_of[k];
            if agent == NO_AGENT {
                stats.unusable += 1;
                continue;
            }
            let new_session = last_at
                .is_none_or(|t| rec.captured_at_ms.saturating_sub(t) > opts.session_gap_ms)
                || session_answers >= opts.max_session_answers.max(1);
            if new_session {
                if last_at.is_some() {
                    stats.sessions += 1;
                }
                flush(&mut session, &mut pairs);
                session_answers = 0;
            }
            last_at = Some(rec.captured_at_ms);
            session_answers += 1;
            let day = local_day(rec.captured_at_ms, opts.utc_offset_minutes);
            let activity = &mut b.kg.agent_activity[usize::from(agent)];
            activity.0 += 1;
            activity.1 = activity.1.max(rec.captured_at_ms);
            if matches!(rec.answer, Answer::Skipped | Answer::Dismissed) {
                stats.skipped += 1;
                b.kg.days.entry(day).or_default().1 += 1;
                continue;
            }
            supported.clear();
            if !b.observe(rec, agent, &mut supported) {
                stats.unusable += 1;
                continue;
            }
            stats.with_evidence += 1;
            b.kg.days.entry(day).or_default().0 += 1;
            session.extend_from_slice(&supported);
        }
        if last_at.is_some() {
            stats.sessions += 1;
        }
        flush(&mut session, &mut pairs);
        b.kg.stats = stats;
        b.finish(pairs)
    }
}

/// Counts each pair of distinct nodes supported in one session once.
fn flush(session: &mut Vec<NodeIndex>, pairs: &mut PairMap) {
    crate::sort::sort(session);
    session.dedup();
    for (x, &a) in session.iter().enumerate() {
        for &c in &session[x + 1..] {
            let key = (u64::from(a.index() as u32) << 32) | u64::from(c.index() as u32);
            *pairs.entry(key).or_insert(0) += 1;
        }
    }
    session.clear();
}

impl<'a> Builder<'a> {
    fn new(lib: &'a Library, as_of_ms: u64, utc_offset_minutes: i32) -> Self {
        let mut kg = KnowledgeGraph {
            graph: UnGraph::with_capacity(512, 4096),
            index: HashMap::new(),
            agents: Vec::new(),
            groups: Vec::new(),
            dimension_nodes: Vec::new(),
            as_of_ms,
            utc_offset_minutes,
            stats: BuildStats::default(),
            days: BTreeMap::new(),
            agent_activity: Vec::new(),
            contradictions: Vec::new(),
        };
        for d in &lib.dimensions {
            let id = dimension_node_id(&d.id);
            let ix = kg.graph.add_node(Node {
                id: id.clone(),
                label: d.label.clone(),
                kind: GraphNodeKind::Dimension,
                dimension: d.id.clone(),
                facet: None,
                agent: None,
                metrics: Default::default(),
                evidence: Vec::new(),
                stability_days: 0.0,
            });
            kg.index.insert(id, ix);
            kg.dimension_nodes.push(ix);
        }
        let card_facet = lib
            .cards
            .iter()
            .map(|c| lib.facet_position(&c.facet))
            .collect();
        let mut b = Builder {
            lib,
            kg,
            group_of: HashMap::new(),
            cache: HashMap::new(),
            card_facet,
        };
        for f in 0..lib.facets.len() {
            if !lib.facets[f].per_agent {
                b.add_group(f, NO_AGENT);
            }
        }
        b
    }

    /// Interns an agent and creates its per-agent facets' nodes. `NO_AGENT` when the table
    /// is full (65,535 namespaces: no real vault gets there).
    fn add_agent(&mut self, name: &str) -> u16 {
        let Ok(a) = u16::try_from(self.kg.agents.len()) else {
            return NO_AGENT;
        };
        if a == NO_AGENT {
            return NO_AGENT;
        }
        self.kg.agents.push(name.to_owned());
        self.kg.agent_activity.push((0, 0));
        for f in 0..self.lib.facets.len() {
            if self.lib.facets[f].per_agent {
                self.add_group(f, a);
            }
        }
        a
    }

    fn add_group(&mut self, f: usize, agent: u16) -> u32 {
        let g = self.kg.groups.len() as u32;
        self.kg.groups.push(FacetGroup {
            facet: f,
            agent: (agent != NO_AGENT).then_some(agent),
            nodes: Vec::new(),
        });
        self.group_of.insert((f, agent), g);
        let facet = &self.lib.facets[f];
        for v in &facet.values {
            let base = format!("{}={}", facet.id, v.id);
            let label = format!("{}: {}", facet.label, v.label);
            self.add_node(g, &base, label);
        }
        g
    }

    fn add_node(&mut self, g: u32, evidence_node: &str, label: String) -> NodeIndex {
        let group = &self.kg.groups[g as usize];
        let facet = &self.lib.facets[group.facet];
        let agent = group.agent.map(|a| self.kg.agents[usize::from(a)].clone());
        let id = node_id(evidence_node, agent.as_deref());
        if let Some(&ix) = self.kg.index.get(&id) {
            return ix;
        }
        let label = match &agent {
            Some(a) => format!("{label} ({a})"),
            None => label,
        };
        let ix = self.kg.graph.add_node(Node {
            id: id.clone(),
            label,
            kind: facet.node_kind.into(),
            dimension: facet.dimension.clone(),
            facet: Some(facet.id.clone()),
            agent,
            metrics: Default::default(),
            evidence: Vec::new(),
            stability_days: facet.stability_days,
        });
        self.kg.index.insert(id, ix);
        self.kg.groups[g as usize].nodes.push(ix);
        ix
    }

    /// Adds one answer's evidence; pushes the nodes it supports. False when the answer
    /// carries no evidence (unknown card, answer that does not fit the card, empty text).
    fn observe(&mut self, rec: &AnswerRecord, agent: u16, supported: &mut Vec<NodeIndex>) -> bool {
        let Some(card_pos) = self.lib.card_position(&rec.prompt_id) else {
            return false;
        };
        let Some(f) = self.card_facet[card_pos] else {
            return false;
        };
        let facet = &self.lib.facets[f];
        let agent_key = if facet.per_agent { agent } else { NO_AGENT };
        let push = |kg: &mut KnowledgeGraph, items: &[(NodeIndex, i8)], out: &mut Vec<_>| {
            for &(ix, polarity) in items {
                kg.graph[ix].evidence.push(super::model::EvidenceRef {
                    record: rec.id,
                    at_ms: rec.captured_at_ms,
                    agent,
                    polarity,
                });
                if polarity > 0 {
                    out.push(ix);
                }
            }
        };
        if facet.open {
            let Some(&g) = self.group_of.get(&(f, agent_key)) else {
                return false;
            };
            let items: Vec<(NodeIndex, i8)> = evidence(self.lib, rec)
                .into_iter()
                .map(|ev| (self.add_node(g, &ev.node, ev.label), ev.polarity))
                .collect();
            push(&mut self.kg, &items, supported);
            return !items.is_empty();
        }
        let card = &self.lib.cards[card_pos];
        let Some(v) = answered_value(card, facet, &rec.answer) else {
            return false;
        };
        let key = (card_pos as u32, v as u16, agent_key);
        if !self.cache.contains_key(&key) {
            let Some(&g) = self.group_of.get(&(f, agent_key)) else {
                return false;
            };
            let items: Vec<(NodeIndex, i8)> = evidence(self.lib, rec)
                .into_iter()
                .map(|ev| (self.add_node(g, &ev.node, ev.label), ev.polarity))
                .collect();
            self.cache.insert(key, items);
        }
        let items = &self.cache[&key];
        push(&mut self.kg, items, supported);
        !items.is_empty()
    }

    fn finish(mut self, pairs: PairMap) -> KnowledgeGraph {
        let kg = &mut self.kg;
        // Declared edges: every value node belongs to its dimension.
        let dim_of: HashMap<&str, NodeIndex> = self
            .lib
            .dimensions
            .iter()
            .zip(&kg.dimension_nodes)
            .map(|(d, &ix)| (d.id.as_str(), ix))
            .collect();
        let declared: Vec<(NodeIndex, NodeIndex)> = kg
            .graph
            .node_indices()
            .filter(|&ix| !kg.graph[ix].is_dimension())
            .filter_map(|ix| {
                dim_of
                    .get(kg.graph[ix].dimension.as_str())
                    .map(|&d| (ix, d))
            })
            .collect();
        for (a, d) in declared {
            kg.graph.add_edge(
                a,
                d,
                Edge {
                    kind: EdgeKind::InDimension,
                    weight: 1.0,
                },
            );
        }
        let mut co: Vec<(u64, u32)> = pairs.into_iter().collect();
        crate::sort::sort(&mut co);
        for (key, n) in co {
            let a = NodeIndex::new((key >> 32) as usize);
            let c = NodeIndex::new((key & 0xffff_ffff) as usize);
            kg.graph.add_edge(
                a,
                c,
                Edge {
                    kind: EdgeKind::CoOccurs,
                    weight: f64::from(n),
                },
            );
        }
        strength::compute(kg, self.lib);
        contradictions::mark(kg, self.lib);
        rank::compute(kg);
        self.kg
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cards::builtin;

    #[test]
    fn node_ids_match_the_evidence_mapping() {
        // The builder names unanswered values itself; the names must be the ones
        // `cards::graph::evidence` gives, or answered and unanswered nodes would split.
        let lib = builtin();
        let recs = super::super::synthetic::answers(lib, 400, 1_700_000_000_000, 3);
        let kg = KnowledgeGraph::build(lib, &recs, 1_800_000_000_000);
        let facets_before = lib.facets.iter().filter(|f| !f.open).count();
        assert!(facets_before > 0);
        for rec in &recs {
            for ev in evidence(lib, rec) {
                let agent = ev.agent.as_deref();
                assert!(
                    kg.node(&node_id(&ev.node, agent)).is_some(),
                    "{} missing",
                    ev.node
                );
            }
        }
        let closed_values: usize = lib
            .facets
            .iter()
            .filter(|f| !f.per_agent)
            .map(|f| f.values.len())
            .sum();
        let value_nodes = kg
            .nodes()
            .filter(|n| n.agent.is_none() && !n.is_dimension())
            .filter(|n| n.id.contains('='))
            .count();
        assert_eq!(
            value_nodes, closed_values,
            "no node split by a naming mismatch"
        );
    }

    #[test]
    fn sessions_split_on_gaps_and_link_what_they_share() {
        let lib = builtin();
        // Two answers on two different closed facets.
        let pool = super::super::synthetic::answers(lib, 200, 1_700_000_000_000, 9);
        let facet_of = |r: &AnswerRecord| lib.card(&r.prompt_id).map(|c| c.facet.clone());
        let closed = |r: &&AnswerRecord| {
            !matches!(r.answer, Answer::Skipped | Answer::ShortText { .. })
                && lib
                    .facet(&facet_of(r).unwrap())
                    .is_some_and(|f| !f.per_agent)
        };
        let first = pool.iter().find(closed).unwrap().clone();
        let second = pool
            .iter()
            .filter(closed)
            .find(|r| facet_of(r) != facet_of(&first))
            .unwrap()
            .clone();
        let mut recs = vec![first, second];
        recs[1].captured_at_ms = recs[0].captured_at_ms + 60_000;
        let co_edges = |kg: &KnowledgeGraph| {
            kg.edges()
                .filter(|e| e.2.kind == EdgeKind::CoOccurs)
                .map(|e| (e.0.to_owned(), e.1.to_owned(), e.2.weight))
                .collect::<Vec<_>>()
        };
        let kg = KnowledgeGraph::build(lib, &recs, 1_700_100_000_000);
        assert_eq!(kg.stats().sessions, 1);
        let co = co_edges(&kg);
        assert_eq!(co.len(), 1, "{co:?}");
        assert_eq!(co[0].2, 1.0);
        let supported: Vec<&str> = kg
            .nodes()
            .filter(|n| n.metrics.supports > 0)
            .map(|n| n.id.as_str())
            .collect();
        assert!(supported.contains(&co[0].0.as_str()) && supported.contains(&co[0].1.as_str()));
        // 31 minutes apart: two sessions, no link.
        recs[1].captured_at_ms = recs[0].captured_at_ms + 31 * 60_000;
        let apart = KnowledgeGraph::build(lib, &recs, 1_700_100_000_000);
        assert_eq!(apart.stats().sessions, 2);
        assert!(co_edges(&apart).is_empty());
        // The same pair in a second session: weight 2.
        let mut again = recs.clone();
        for (k, r) in recs.iter().enumerate() {
            let mut r = r.clone();
            r.id = crate::record::RecordId::from_bytes([k as u8 + 1; 16]);
            r.captured_at_ms = recs[0].captured_at_ms + 86_400_000 + k as u64 * 60_000;
            again.push(r);
        }
        again[1].captured_at_ms = again[0].captured_at_ms + 60_000;
        let twice = KnowledgeGraph::build(lib, &again, 1_700_300_000_000);
        assert_eq!(co_edges(&twice)[0].2, 2.0);
    }
}
