//! The one context writer (`vault_core::graph::context`): property tests (always within the
//! budget, deterministic, never a deleted answer, never a meta card) and what its sentences
//! read like.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use proptest::prelude::*;
use vault_core::cards::builtin;
use vault_core::graph::context::{self, ContextError, CHAT_LEAD};
use vault_core::graph::export::agents::field_len;
use vault_core::graph::export::instructions;
use vault_core::graph::synthetic;
use vault_core::graph::KnowledgeGraph;
use vault_core::{Answer, AnswerRecord, CardType, Namespace, RecordFlags, RecordId};

const T0: u64 = 1_764_000_000_000;
const DAY: u64 = 86_400_000;
const AGENTS: &[&str] = &[
    "chatgpt",
    "claude",
    "gemini",
    "perplexity",
    "site:chat.example.org",
];

fn answer(
    n: u32,
    card: &str,
    kind: CardType,
    answer: Answer,
    agent: &str,
    at: u64,
) -> AnswerRecord {
    let mut id = [0xc0; 16];
    id[..4].copy_from_slice(&n.to_be_bytes());
    AnswerRecord {
        id: RecordId::from_bytes(id),
        prompt_id: card.into(),
        prompt_version: 1,
        card_type: kind,
        answer,
        namespace: Namespace::new(agent).unwrap(),
        origin: None,
        page_context: None,
        captured_at_ms: at,
        answer_latency_ms: 2_000,
        wait_duration_ms: 8_000,
        flags: RecordFlags::default(),
    }
}

/// A card of `facet` of this type.
fn card_of(facet: &str, kind: vault_core::cards::library::CardKind) -> String {
    builtin()
        .cards
        .iter()
        .find(|c| c.facet == facet && c.kind == kind)
        .map(|c| c.id.clone())
        .unwrap_or_else(|| panic!("no {kind:?} card for {facet}"))
}

/// A profile: synthetic answers plus free-text answers, each carrying a marker word that
/// appears nowhere else, so the text shows whether an answer got in.
fn profile(n: usize, seed: u64, texts: &[(String, usize)]) -> Vec<AnswerRecord> {
    use vault_core::cards::library::CardKind;
    let lib = builtin();
    let mut records = synthetic::answers(lib, n, T0, seed);
    let open = ["goals.this-week", "goals.skill-to-grow", "values.never"];
    let last = records.last().map_or(T0, |r| r.captured_at_ms);
    for (i, (text, which)) in texts.iter().enumerate() {
        let facet = open[which % open.len()];
        records.push(answer(
            i as u32,
            &card_of(facet, CardKind::ShortText),
            CardType::ShortText,
            Answer::ShortText { text: text.clone() },
            AGENTS[which % 2],
            last + 1_000 * (i as u64 + 1),
        ));
    }
    records
}

fn now(records: &[AnswerRecord]) -> u64 {
    records.iter().map(|r| r.captured_at_ms).max().unwrap_or(T0) + DAY
}

/// Marker words: lowercase, long enough to be unique, never a word of a sentence.
fn marker() -> impl Strategy<Value = String> {
    "zq[a-z]{10}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the profile, agent and budget: the text fits, both in UTF-16 units (what a
    /// browser field counts) and in characters, and no sentence is cut.
    #[test]
    fn always_fits_the_budget(n in 0usize..400, seed in any::<u64>(), agent in 0..AGENTS.len(),
                              budget in 0usize..2_500,
                              texts in proptest::collection::vec(("[ -~éü€😀]{1,120}", 0usize..6), 0..6)) {
        let lib = builtin();
        let records = profile(n, seed, &texts);
        let kg = KnowledgeGraph::build(lib, &records, now(&records));
        match context::block(&kg, lib, AGENTS[agent], budget) {
            Ok(b) => {
                prop_assert!(field_len(&b.text) <= budget, "{} > {budget}", field_len(&b.text));
                prop_assert!(b.text.chars().count() <= budget);
                prop_assert!(!b.facts.is_empty());
                prop_assert!(b.text.starts_with(CHAT_LEAD));
                for f in &b.facts {
                    prop_assert!(b.text.contains(&f.sentence), "whole sentence: {}", f.sentence);
                }
            }
            Err(ContextError::NothingKnown(_)) => {
                prop_assert!(context::facts(&kg, lib, AGENTS[agent]).unwrap().is_empty());
            }
            Err(ContextError::BudgetTooSmall { .. }) => {
                let shortest = context::facts(&kg, lib, AGENTS[agent]).unwrap().iter()
                    .map(|f| field_len(&format!("{CHAT_LEAD}\n{}", f.sentence))).min().unwrap();
                prop_assert!(shortest > budget);
            }
            Err(e) => prop_assert!(false, "{e}"),
        }
        for a in instructions::for_all(&kg, lib) {
            for f in &a.fields {
                prop_assert!(f.length <= f.limit && field_len(&f.text) == f.length);
            }
        }
    }

    /// The same profile gives the same block, byte for byte, however the records are ordered.
    #[test]
    fn is_deterministic(n in 1usize..300, seed in any::<u64>(), agent in 0..AGENTS.len(),
                        budget in 50usize..3_000, rotate in any::<usize>()) {
        let lib = builtin();
        let records = profile(n, seed, &[]);
        let kg = KnowledgeGraph::build(lib, &records, now(&records));
        let mut turned = records.clone();
        let k = rotate % turned.len();
        turned.rotate_left(k);
        let kg2 = KnowledgeGraph::build(lib, &turned, now(&records));
        let a = context::block(&kg, lib, AGENTS[agent], budget);
        prop_assert_eq!(&a, &context::block(&kg, lib, AGENTS[agent], budget));
        prop_assert_eq!(&a, &context::block(&kg2, lib, AGENTS[agent], budget));
    }

    /// A deleted answer is never told: neither its words nor a fact only it supported.
    #[test]
    fn never_tells_a_deleted_answer(n in 0usize..200, seed in any::<u64>(), agent in 0..2usize,
                                    markers in proptest::collection::btree_set(marker(), 1..8),
                                    delete in proptest::collection::vec(any::<bool>(), 8)) {
        let lib = builtin();
        let texts: Vec<(String, usize)> = markers.iter().enumerate()
            .map(|(i, m)| (format!("finish the {m} report"), i)).collect();
        let all = profile(n, seed, &texts);
        let gone: BTreeSet<RecordId> = all.iter().enumerate()
            .filter(|(i, _)| delete[i % delete.len()])
            .map(|(_, r)| r.id).collect();
        let kept: Vec<AnswerRecord> = all.iter().filter(|r| !gone.contains(&r.id)).cloned().collect();
        let kg = KnowledgeGraph::build(lib, &kept, now(&all));
        let gone_text: Vec<&str> = all.iter().filter(|r| gone.contains(&r.id))
            .filter_map(|r| match &r.answer { Answer::ShortText { text } => Some(text.as_str()), _ => None })
            .filter_map(|t| t.split(' ').find(|w| w.starts_with("zq")))
            .collect();
        if let Ok(b) = context::block(&kg, lib, AGENTS[agent], 4_000) {
            for m in &gone_text {
                prop_assert!(!b.text.contains(m), "deleted `{m}` told: {}", b.text);
            }
            for f in &b.facts {
                prop_assert!(!f.records.is_empty());
                for r in &f.records {
                    prop_assert!(!gone.iter().any(|g| g.to_string() == *r), "{} from a deleted answer", f.node);
                }
            }
        }
        for a in instructions::for_all(&kg, lib) {
            for f in &a.fields {
                for m in &gone_text {
                    prop_assert!(!f.text.contains(m));
                }
            }
        }
    }
}

/// A heavy user's block reads as plain sentences in the user's voice: no "Label: Value"
/// lines, no bullets, nothing about SelfOS itself, and "my first language" is never told
/// without saying which (only the open card that asks which is told).
#[test]
fn a_full_profile_reads_as_plain_sentences() {
    let lib = builtin();
    let records = synthetic::answers(lib, 20_000, T0, 11);
    let kg = KnowledgeGraph::build(lib, &records, now(&records));
    let labels: BTreeSet<String> = lib.facets.iter().map(|f| format!("{}:", f.label)).collect();
    for agent in ["chatgpt", "claude", "gemini"] {
        let b = context::block(&kg, lib, agent, 1_200).unwrap();
        assert!(b.left_out > 0, "a heavy user has more than fits");
        assert!(b.facts.len() >= 8, "{}", b.text);
        for line in b.text.lines().skip(1).filter(|l| !l.is_empty()) {
            assert!(!line.starts_with("- "), "{line}");
            assert!(
                !labels.iter().any(|l| line.starts_with(l.as_str())),
                "label line: {line}"
            );
            assert!(
                line.ends_with(['.', '!', '?'])
                    || line == context::ABOUT_HEADING
                    || line == context::RESPOND_HEADING,
                "{line}"
            );
        }
        for f in &b.facts {
            let facet = f.node.split(['=', ':', '@']).next().unwrap();
            assert!(
                !lib.facet(facet).unwrap().meta,
                "meta card told: {}",
                f.node
            );
            assert!(!f.node.starts_with("constraints.language=first-language"));
            assert!(!f.node.starts_with("expertise.current-topic="));
        }
        // Strongest and most relevant first.
        for w in b.facts.windows(2) {
            assert!(w[0].score >= w[1].score);
        }
        assert!(!b.text.to_lowercase().contains("understands you"));
        // Only the open question names it (constraints.first-language: "My first language
        // is Dutch."); the choice's bare "my first language" value is never told.
        assert!(b
            .text
            .lines()
            .filter(|l| l.to_lowercase().contains("first language"))
            .all(|l| l.starts_with("My first language is ")));
    }
}

/// The dashboard's "What SelfOS knows about you": every fact told to every agent, in plain
/// sentences with a certainty in words, none of one agent's own wishes, each backed by answers.
#[test]
fn the_users_own_view_holds_what_every_agent_is_told() {
    let lib = builtin();
    let records = synthetic::answers(lib, 2_000, T0, 5);
    let kg = KnowledgeGraph::build(lib, &records, now(&records));
    let own = context::known_facts(&kg, lib);
    assert!(own.len() >= 3, "{own:?}");
    for f in &own {
        assert!(!f.node.contains('@'), "one agent's wish: {}", f.node);
        assert!(!f.records.is_empty(), "{} has no answer behind it", f.node);
        assert!(f.sentence.ends_with(['.', '!', '?']), "{}", f.sentence);
    }
    for w in own.windows(2) {
        assert!(w[0].score >= w[1].score, "told in order");
    }
    assert_eq!(context::certainty(0.95), "very sure");
    assert_eq!(context::certainty(0.6), "fairly sure");
    assert_eq!(context::certainty(0.31), "not sure yet");
}

/// Meta cards and sentences that say nothing are never told, however strong.
#[test]
fn meta_cards_and_empty_sentences_are_never_told() {
    use vault_core::cards::library::CardKind;
    let lib = builtin();
    let mut records = Vec::new();
    for i in 0..6u32 {
        for (facet, option_value) in [
            ("agent.understands", "high"),
            ("constraints.language", "first-language"),
            ("style.length", "brief"),
        ] {
            let card = lib
                .cards
                .iter()
                .find(|c| {
                    c.facet == facet
                        && c.kind == CardKind::Choice
                        && c.options.iter().any(|o| o.value == option_value)
                })
                .unwrap_or_else(|| panic!("a choice card for {facet}"));
            records.push(answer(
                i * 10 + records.len() as u32,
                &card.id,
                CardType::Choice,
                Answer::Choice {
                    option: option_value.into(),
                },
                "chatgpt",
                T0 + u64::from(i) * 60_000,
            ));
        }
    }
    let kg = KnowledgeGraph::build(lib, &records, T0 + DAY);
    let b = context::block(&kg, lib, "chatgpt", 2_000).unwrap();
    assert_eq!(b.text, format!("{CHAT_LEAD}\nI prefer brief answers."));
    let instr = instructions::for_agent(&kg, lib, "chatgpt").unwrap();
    assert_eq!(
        instr.included.keys().collect::<Vec<_>>(),
        ["style.length=brief"]
    );
    assert!(kg
        .exportable_strengths(lib, "chatgpt")
        .keys()
        .all(|k| k == "style.length=brief"));
}

#[test]
fn nothing_known_and_bad_agents_say_what_to_do() {
    let lib = builtin();
    let kg = KnowledgeGraph::build(lib, &[], T0);
    let e = context::block(&kg, lib, "claude", 1_000).unwrap_err();
    assert_eq!(e, ContextError::NothingKnown("Claude".into()));
    assert!(e.to_string().contains("answer a few cards"), "{e}");
    assert!(matches!(
        context::block(&kg, lib, "Not An Agent!", 1_000),
        Err(ContextError::BadAgent(_))
    ));
}

/// `block_on_topic` (`selfos mcp`'s `get_profile(topic)`): the same writer, narrowed to the
/// facts about a topic; no topic is exactly `block`, and a topic nothing matches is
/// "nothing known", never an empty block.
#[test]
fn a_topic_narrows_the_block() {
    let lib = builtin();
    let records = synthetic::answers(lib, 5_000, T0, 7);
    let kg = KnowledgeGraph::build(lib, &records, now(&records));
    let all = context::block(&kg, lib, "claude", 4_000).unwrap();
    assert_eq!(
        context::block_on_topic(&kg, lib, "claude", 4_000, None).unwrap(),
        all
    );
    assert_eq!(
        context::block_on_topic(&kg, lib, "claude", 4_000, Some("  ")).unwrap(),
        all
    );
    let dim = kg.node(&all.facts[0].node).unwrap().dimension.clone();
    let narrow =
        context::block_on_topic(&kg, lib, "claude", 4_000, Some(&dim.to_uppercase())).unwrap();
    assert!(!narrow.facts.is_empty() && narrow.facts.len() < all.facts.len());
    for f in &narrow.facts {
        let n = kg.node(&f.node).unwrap();
        assert!(
            n.dimension == dim || f.node.contains(&dim) || f.sentence.to_lowercase().contains(&dim),
            "{} is not about {dim}",
            f.node
        );
    }
    assert!(matches!(
        context::block_on_topic(&kg, lib, "claude", 4_000, Some("zzqqxx")),
        Err(ContextError::NothingKnown(_))
    ));
}
