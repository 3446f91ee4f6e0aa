//! What an answer says about the knowledge graph: the nodes it supports or contradicts and
//! the edges it draws. The graph itself (strengths, metrics) is built from these by the web
//! app's graph engine; the mapping lives here, beside the library that declares it.

use super::belief::answered_value;
use super::library::{Library, NodeKind};
use crate::record::{Answer, AnswerRecord};

/// One piece of evidence about one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeEvidence {
    /// Stable node id: `<facet>=<value>`, or `<facet>:<text>` for open facets.
    pub node: String,
    pub kind: NodeKind,
    pub label: String,
    /// The dimension the node belongs to (an edge node -> `dim:<dimension>`).
    pub dimension: String,
    /// +1 the answer supports the node, -1 it speaks against it.
    pub polarity: i8,
    /// The agent it is about, for per-agent facets.
    pub agent: Option<String>,
}

/// The evidence one answer carries. Skips, dismissals and unknown cards carry none.
pub fn evidence(lib: &Library, rec: &AnswerRecord) -> Vec<NodeEvidence> {
    let Some(card) = lib.card(&rec.prompt_id) else {
        return Vec::new();
    };
    let Some(facet) = lib.facet(&card.facet) else {
        return Vec::new();
    };
    let agent = facet.per_agent.then(|| rec.namespace.as_str().to_owned());
    let node = |node: String, label: String, polarity| NodeEvidence {
        node,
        kind: facet.node_kind,
        label,
        dimension: facet.dimension.clone(),
        polarity,
        agent: agent.clone(),
    };
    if let (true, Answer::ShortText { text }) = (facet.open, &rec.answer) {
        let text = text.trim();
        if text.is_empty() {
            return Vec::new();
        }
        return vec![node(
            format!("{}:{}", facet.id, text.to_lowercase()),
            text.to_owned(),
            1,
        )];
    }
    let Some(v) = answered_value(card, facet, &rec.answer) else {
        return Vec::new();
    };
    facet
        .values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            node(
                format!("{}={}", facet.id, value.id),
                format!("{}: {}", facet.label, value.label),
                if i == v { 1 } else { -1 },
            )
        })
        .collect()
}
