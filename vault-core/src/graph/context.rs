//! The one context writer: what an AI agent is told about the user.
//!
//! Given the profile (a [`KnowledgeGraph`]), an agent and a budget in characters, it writes
//! plain sentences in the user's voice ("I prefer brief answers."), strongest and most
//! relevant first, never cutting one. Every front end that hands the profile to an agent uses
//! it: the custom-instructions export ([`super::export::instructions`], one call per field),
//! the extension's "insert my context into this chat", and the command line.
//!
//! - A fact is a node the agent's view holds with strength >= [`KNOWN`] and no contest
//!   ([`KnowledgeGraph::instruction_nodes`]), said by its value's `says` sentence from the
//!   card library (`assets/cards/*.json`). A value whose sentence is empty ("My first
//!   language" without saying which) and every facet marked `meta` (questions about SelfOS
//!   itself, such as how well an AI understands the user) are never told.
//! - Order: score = strength × the dimension's priority (how much the dimension shapes the
//!   answers an agent gives), ties by node id: deterministic for a profile.
//! - Budget: counted in UTF-16 code units (what a browser text field counts; never fewer than
//!   characters), headings and line breaks included. Facts that do not fit are skipped, and
//!   smaller ones after them may still go in (greedy).
//! - Deleted answers: the graph is a pure function of the records, so a fact supported only by
//!   deleted records is not in the profile and cannot be told.

use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};

use super::alignment::KNOWN;
use super::export::agents::{field_len, Section};
use super::model::{GraphNodeKind, KnowledgeGraph};
use crate::agents::display_name;
use crate::cards::library::Library;
use crate::record::Namespace;

/// The heading of the facts about the user in a block that holds both sections.
pub const ABOUT_HEADING: &str = "About me:";
/// The heading of the preferences about answers in a block that holds both sections.
pub const RESPOND_HEADING: &str = "How I like answers:";
/// The first line of a block inserted into a chat, so the model knows what it reads.
pub const CHAT_LEAD: &str = "Context about me, to keep in mind in this chat:";

/// One thing an agent can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    /// The graph node (`style.length=brief`, `goals.this-week:…`).
    pub node: String,
    /// The sentence the agent reads.
    pub sentence: String,
    pub section: Section,
    pub strength: f64,
    /// strength × dimension priority: the order facts are told in.
    pub score: f64,
    /// The answers that support it (record ids): deleting them removes the fact.
    pub records: Vec<String>,
}

/// A block of context for one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextBlock {
    pub agent: String,
    /// The agent's display name.
    pub name: String,
    pub budget: usize,
    /// What to hand the agent; its [`field_len`] is never above `budget`.
    pub text: String,
    /// The facts the text carries, in the order told.
    pub facts: Vec<Fact>,
    /// How many more facts the profile holds for this agent that did not fit.
    pub left_out: usize,
}

/// Why there is no block to hand over. Messages say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("unknown agent `{0}`: use a namespace such as chatgpt, claude or gemini (lowercase letters, digits, `.:_-`)")]
    BadAgent(String),
    #[error("SelfOS knows nothing about you for {0} yet: answer a few cards while it generates, then try again.")]
    NothingKnown(String),
    #[error("No fact fits in {budget} characters; allow more room for the context.")]
    BudgetTooSmall { budget: usize },
}

/// Which section a node's sentence belongs to.
pub fn section_of(kind: GraphNodeKind) -> Section {
    match kind {
        GraphNodeKind::Preference => Section::HowToRespond,
        _ => Section::AboutYou,
    }
}

/// One line of text: whitespace collapsed, control characters dropped.
pub fn one_line(s: &str) -> String {
    s.split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The sentence a node is told as (`None`: a dimension node, a meta facet, a value that
/// says nothing usable, or an empty free text).
pub(crate) fn sentence(kg: &KnowledgeGraph, lib: &Library, n: NodeIndex) -> Option<String> {
    let node = &kg.graph[n];
    let facet = lib.facet(node.facet.as_deref()?)?;
    if facet.meta {
        return None;
    }
    let s = if facet.open {
        let text = one_line(&node.label);
        if text.is_empty() {
            return None;
        }
        let s = facet.says.as_deref()?.replace("{text}", &text);
        if s.ends_with(['.', '!', '?']) {
            s
        } else {
            format!("{s}.")
        }
    } else {
        let base = node.id.split('@').next()?;
        let value_id = base.strip_prefix(&facet.id)?.strip_prefix('=')?;
        let value = facet.values.iter().find(|v| v.id == value_id)?;
        value.says.clone()?
    };
    (!s.is_empty()).then_some(s)
}

/// The sentence a node is told as, by id (`None` as for [`sentence`], or an unknown id).
pub fn sentence_for(kg: &KnowledgeGraph, lib: &Library, id: &str) -> Option<String> {
    sentence(kg, lib, *kg.index.get(id)?)
}

/// The agent name under which the dashboard reads the profile as the user's own view ("What
/// SelfOS knows about you"): what every agent is told, without one agent's own wishes.
pub const EVERY_AGENT: &str = "everyone";

/// What the profile holds about the user in plain sentences, the order agents are told it in:
/// [`facts`] for [`EVERY_AGENT`].
pub fn known_facts(kg: &KnowledgeGraph, lib: &Library) -> Vec<Fact> {
    facts(kg, lib, EVERY_AGENT).unwrap_or_default()
}

/// How sure the profile is of a fact, in words a person reads (strength is in [0, 1]; a fact
/// is told from [`KNOWN`] up).
pub fn certainty(strength: f64) -> &'static str {
    match strength {
        s if s >= 0.8 => "very sure",
        s if s >= 0.55 => "fairly sure",
        _ => "not sure yet",
    }
}

/// Everything the profile can tell this agent, in the order it is told.
pub fn facts(kg: &KnowledgeGraph, lib: &Library, agent: &str) -> Result<Vec<Fact>, ContextError> {
    let mut facts = candidates(kg, lib, agent)?;
    for f in &mut facts {
        f.records = supporting_records(kg, &f.node);
    }
    Ok(facts)
}

/// [`facts`] without their `records`: listing every supporting answer's id is the costly part
/// on a large vault, and a block only needs it for the few facts it tells.
fn candidates(kg: &KnowledgeGraph, lib: &Library, agent: &str) -> Result<Vec<Fact>, ContextError> {
    Namespace::new(agent).map_err(|_| ContextError::BadAgent(agent.to_owned()))?;
    let mut out: Vec<Fact> = kg
        .instruction_nodes(lib, agent)
        .into_iter()
        .filter_map(|n| {
            let node = &kg.graph[n];
            let priority = lib.facet(node.facet.as_deref()?)?.priority;
            if node.metrics.strength < KNOWN {
                return None;
            }
            Some(Fact {
                node: node.id.clone(),
                sentence: sentence(kg, lib, n)?,
                section: section_of(node.kind),
                strength: node.metrics.strength,
                score: node.metrics.strength * priority,
                records: Vec::new(),
            })
        })
        .collect();
    crate::sort::sort_by(&mut out, |a, b| {
        b.score.total_cmp(&a.score).then(a.node.cmp(&b.node))
    });
    Ok(out)
}

/// The answers that support a node (record ids, oldest evidence first).
fn supporting_records(kg: &KnowledgeGraph, node: &str) -> Vec<String> {
    kg.node(node).map_or_else(Vec::new, |n| {
        n.evidence
            .iter()
            .filter(|e| e.polarity > 0)
            .map(|e| e.record.to_string())
            .collect()
    })
}

/// The text of a set of told facts. `section` `Both` gives each section under its heading
/// (when both are present; a single section needs none); `lead` is a first line.
pub fn render(told: &[&Fact], section: Section, lead: Option<&str>) -> String {
    let lines = |s: Section| {
        told.iter()
            .filter(|f| f.section == s)
            .map(|f| f.sentence.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let body = match section {
        Section::AboutYou | Section::HowToRespond => told
            .iter()
            .map(|f| f.sentence.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        Section::Both => {
            let (about, respond) = (lines(Section::AboutYou), lines(Section::HowToRespond));
            match (about.is_empty(), respond.is_empty()) {
                (false, false) => {
                    format!("{ABOUT_HEADING}\n{about}\n\n{RESPOND_HEADING}\n{respond}")
                }
                (false, true) => about,
                (true, false) => respond,
                (true, true) => String::new(),
            }
        }
    };
    match lead {
        Some(lead) if !body.is_empty() => format!("{lead}\n{body}"),
        _ => body,
    }
}

/// Packs facts into `budget`: greedily, in order, those of `section` (all for `Both`) not yet
/// `placed`; marks the ones it takes. Returns the text (never longer than `budget`) and the
/// indexes taken, in order.
pub fn pack(
    facts: &[Fact],
    budget: usize,
    section: Section,
    lead: Option<&str>,
    placed: &mut [bool],
) -> (String, Vec<usize>) {
    let mut taken: Vec<usize> = Vec::new();
    // The rendered length is kept as a sum, so each candidate costs O(1), not a render of
    // everything taken so far (a profile of a few hundred facts made this quadratic).
    let mut length = RenderedLen::new(section, lead);
    for (i, f) in facts.iter().enumerate() {
        if placed.get(i).copied().unwrap_or(true)
            || (section != Section::Both && f.section != section)
        {
            continue;
        }
        let sentence = field_len(&f.sentence);
        if length.with(f.section, sentence) > budget {
            continue;
        }
        length.add(f.section, sentence);
        taken.push(i);
        placed[i] = true;
    }
    let told: Vec<&Fact> = taken.iter().map(|&j| &facts[j]).collect();
    let text = render(&told, section, lead);
    debug_assert_eq!(field_len(&text), length.total());
    (text, taken)
}

/// The [`field_len`] that [`render`] would give, kept up to date as facts are added.
/// Lengths add up because `field_len` counts UTF-16 units, which concatenation preserves.
#[derive(Debug, Clone, Copy)]
struct RenderedLen {
    section: Section,
    lead: Option<usize>,
    /// (count, total sentence length) of the AboutYou and HowToRespond facts.
    about: (usize, usize),
    respond: (usize, usize),
}

impl RenderedLen {
    fn new(section: Section, lead: Option<&str>) -> Self {
        RenderedLen {
            section,
            lead: lead.map(field_len),
            about: (0, 0),
            respond: (0, 0),
        }
    }

    fn add(&mut self, section: Section, sentence: usize) {
        let part = if section == Section::HowToRespond {
            &mut self.respond
        } else {
            &mut self.about
        };
        part.0 += 1;
        part.1 += sentence;
    }

    /// The length with one more fact.
    fn with(&self, section: Section, sentence: usize) -> usize {
        let mut next = *self;
        next.add(section, sentence);
        next.total()
    }

    fn total(&self) -> usize {
        // n lines joined by newlines (empty when that is no character at all, as a
        // joined string would be).
        let lines = |(n, len): (usize, usize)| len + n.saturating_sub(1);
        let (about, respond) = (lines(self.about), lines(self.respond));
        let body = match self.section {
            Section::AboutYou | Section::HowToRespond => {
                lines((self.about.0 + self.respond.0, self.about.1 + self.respond.1))
            }
            Section::Both if about > 0 && respond > 0 => {
                field_len(ABOUT_HEADING) + 1 + about + 2 + field_len(RESPOND_HEADING) + 1 + respond
            }
            Section::Both => about + respond,
        };
        match self.lead {
            Some(lead) if body > 0 => lead + 1 + body,
            _ => body,
        }
    }
}

/// The block to hand an agent in a chat: its strongest, most relevant facts within `budget`.
pub fn block(
    kg: &KnowledgeGraph,
    lib: &Library,
    agent: &str,
    budget: usize,
) -> Result<ContextBlock, ContextError> {
    block_on_topic(kg, lib, agent, budget, None)
}

/// [`block`], keeping only the facts about `topic` when one is given: a fact is about it when
/// its dimension, its node id or its sentence contains the topic, ignoring case (`selfos
/// mcp`'s `get_profile(topic)`, so a coding agent can ask for "work" only). Same order and
/// budget rules as [`block`]; a topic nothing matches is [`ContextError::NothingKnown`].
pub fn block_on_topic(
    kg: &KnowledgeGraph,
    lib: &Library,
    agent: &str,
    budget: usize,
    topic: Option<&str>,
) -> Result<ContextBlock, ContextError> {
    let mut facts = candidates(kg, lib, agent)?;
    if let Some(topic) = topic.map(str::trim).filter(|t| !t.is_empty()) {
        let topic = topic.to_lowercase();
        facts.retain(|f| {
            f.sentence.to_lowercase().contains(&topic)
                || f.node.to_lowercase().contains(&topic)
                || kg
                    .node(&f.node)
                    .is_some_and(|n| n.dimension.to_lowercase().contains(&topic))
        });
    }
    let name = display_name(agent);
    if facts.is_empty() {
        return Err(ContextError::NothingKnown(name));
    }
    let mut placed = vec![false; facts.len()];
    let (text, taken) = pack(&facts, budget, Section::Both, Some(CHAT_LEAD), &mut placed);
    if taken.is_empty() {
        return Err(ContextError::BudgetTooSmall { budget });
    }
    let left_out = facts.len() - taken.len();
    Ok(ContextBlock {
        agent: agent.to_owned(),
        name,
        budget,
        text,
        facts: taken
            .into_iter()
            .map(|i| Fact {
                records: supporting_records(kg, &facts[i].node),
                ..facts[i].clone()
            })
            .collect(),
        left_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(id: &str, s: &str, section: Section) -> Fact {
        Fact {
            node: id.into(),
            sentence: s.into(),
            section,
            strength: 1.0,
            score: 1.0,
            records: vec![],
        }
    }

    #[test]
    fn one_line_collapses_and_strips() {
        assert_eq!(one_line("  a\n\tb \u{7}c  "), "a b c");
    }

    #[test]
    fn headings_only_when_both_sections_are_present() {
        let a = fact("a", "I am a student.", Section::AboutYou);
        let r = fact("r", "I prefer brief answers.", Section::HowToRespond);
        assert_eq!(render(&[&a], Section::Both, None), "I am a student.");
        assert_eq!(
            render(&[&a, &r], Section::Both, Some(CHAT_LEAD)),
            format!("{CHAT_LEAD}\n{ABOUT_HEADING}\nI am a student.\n\n{RESPOND_HEADING}\nI prefer brief answers.")
        );
        assert_eq!(render(&[], Section::Both, Some(CHAT_LEAD)), "");
    }

    #[test]
    fn packing_skips_what_does_not_fit_and_takes_smaller_ones_after() {
        let facts = vec![
            fact(
                "a",
                "A very long sentence that will not fit at all.",
                Section::AboutYou,
            ),
            fact("b", "Short.", Section::AboutYou),
            fact("c", "Tiny.", Section::AboutYou),
        ];
        let mut placed = vec![false; 3];
        let (text, taken) = pack(&facts, 12, Section::AboutYou, None, &mut placed);
        assert_eq!((text.as_str(), taken), ("Short.\nTiny.", vec![1, 2]));
        assert_eq!(placed, [false, true, true]);
        // Placed facts are not told twice.
        let (text, _) = pack(&facts, 100, Section::Both, None, &mut placed);
        assert_eq!(text, "A very long sentence that will not fit at all.");
    }

    /// The greedy packing as first written: render everything taken so far for each
    /// candidate. [`pack`] keeps the length as a sum instead and must agree with it.
    #[cfg(not(target_arch = "wasm32"))]
    fn pack_by_rendering(
        facts: &[Fact],
        budget: usize,
        section: Section,
        lead: Option<&str>,
    ) -> (String, Vec<usize>) {
        let mut taken: Vec<usize> = Vec::new();
        for (i, f) in facts.iter().enumerate() {
            if section != Section::Both && f.section != section {
                continue;
            }
            taken.push(i);
            let told: Vec<&Fact> = taken.iter().map(|&j| &facts[j]).collect();
            if field_len(&render(&told, section, lead)) > budget {
                taken.pop();
            }
        }
        let told: Vec<&Fact> = taken.iter().map(|&j| &facts[j]).collect();
        (render(&told, section, lead), taken)
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn packing_by_length_sums_matches_rendering(
            sentences in proptest::collection::vec(("(|[a-z ]{1,30}|é😀x)", 0u8..2), 0..24),
            budget in 0usize..400,
            section in 0u8..3,
            lead in proptest::option::of("(|Lead é:)"),
        ) {
            let facts: Vec<Fact> = sentences
                .iter()
                .enumerate()
                .map(|(i, (s, which))| {
                    let sec = if *which == 0 { Section::AboutYou } else { Section::HowToRespond };
                    fact(&i.to_string(), s, sec)
                })
                .collect();
            let section = [Section::AboutYou, Section::HowToRespond, Section::Both][usize::from(section)];
            let mut placed = vec![false; facts.len()];
            let got = pack(&facts, budget, section, lead.as_deref(), &mut placed);
            let want = pack_by_rendering(&facts, budget, section, lead.as_deref());
            proptest::prop_assert_eq!(&got, &want);
            proptest::prop_assert!(field_len(&got.0) <= budget);
        }
    }
}
