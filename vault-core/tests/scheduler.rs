//! The card library validator and the scheduler, on a small library written here.
#![cfg(not(target_arch = "wasm32"))]

use vault_core::cards::belief::{retrievability, Belief};
use vault_core::cards::scheduler::{
    expected_gain, Decision, Limits, Moment, NoCard, Scheduler, Strategy, WaitHistory,
};
use vault_core::cards::simulation::{answers_to_target, SimConfig, Target};
use vault_core::cards::Library;
use vault_core::{Answer, AnswerRecord, CardType, Namespace, RecordFlags, RecordId};

const LIB: &str = r#"{
  "dimension": "answer_style", "label": "How you like answers",
  "facets": [
    {"id": "style.length", "label": "Length", "node_kind": "preference", "ordinal": true, "stability_days": 120,
     "values": [{"id": "brief", "label": "Brief", "says": "I prefer brief answers."}, {"id": "medium", "label": "Medium", "says": "I prefer answers of medium length."}, {"id": "detailed", "label": "Detailed", "says": "I prefer detailed answers."}]},
    {"id": "style.examples", "label": "Examples", "node_kind": "preference", "stability_days": 60,
     "values": [{"id": "examples", "label": "Examples first", "says": "I like an example first."}, {"id": "theory", "label": "Theory first", "says": "I like the principle first."}, {"id": "depends", "label": "Depends", "says": "", "neither": true}]},
    {"id": "expertise.current-topic", "label": "Topic familiarity", "node_kind": "skill", "ordinal": true, "stability_days": 30,
     "values": [{"id": "new", "label": "New", "says": ""}, {"id": "some", "label": "Some", "says": ""}, {"id": "expert", "label": "Expert", "says": ""}]},
    {"id": "goals.week", "label": "This week", "node_kind": "goal", "open": true, "stability_days": 7, "says": "This week I am working on {text}."}
  ],
  "cards": [
    {"id": "style.length.quick", "version": 1, "type": "choice", "facet": "style.length",
     "text": "For a quick question, how long should the answer be?", "expected_seconds": 6,
     "options": [{"label": "A line or two", "value": "brief"}, {"label": "A paragraph", "value": "medium"}, {"label": "Thorough", "value": "detailed"}]},
    {"id": "style.length.scale", "version": 1, "type": "scale", "facet": "style.length",
     "text": "How detailed should answers be?", "expected_seconds": 4,
     "scale": {"min": 1, "max": 5, "min_label": "Minimal", "max_label": "Exhaustive"}},
    {"id": "style.examples.pair", "version": 1, "type": "pairwise", "facet": "style.examples",
     "text": "Which helps you more?", "expected_seconds": 4,
     "options": [{"label": "An example", "value": "examples"}, {"label": "The principle", "value": "theory"}, {"label": "It depends", "value": "depends"}]},
    {"id": "style.examples.yes", "version": 1, "type": "yes_no", "facet": "style.examples",
     "text": "Should answers start with an example?", "expected_seconds": 4,
     "options": [{"label": "Yes", "value": "examples"}, {"label": "No", "value": "theory"}]},
    {"id": "expertise.current-topic.how", "version": 1, "type": "choice", "facet": "expertise.current-topic",
     "context": "topic", "text": "How familiar are you with {topic}?", "expected_seconds": 5,
     "options": [{"label": "New to it", "value": "new"}, {"label": "Some", "value": "some"}, {"label": "Expert", "value": "expert"}]},
    {"id": "goals.week.text", "version": 1, "type": "short_text", "facet": "goals.week",
     "text": "In a few words: what are you working on this week?", "expected_seconds": 8}
  ]
}"#;

fn lib() -> Library {
    Library::parse(&[("test.json", LIB)]).unwrap()
}

const T0: u64 = 1_763_800_000_000;
const DAY: u64 = 86_400_000;

fn answer(card: &str, answer: Answer, at: u64) -> AnswerRecord {
    AnswerRecord {
        id: RecordId::generate().unwrap(),
        prompt_id: card.into(),
        prompt_version: 1,
        card_type: CardType::Choice,
        answer,
        namespace: Namespace::new("chatgpt").unwrap(),
        origin: None,
        page_context: None,
        captured_at_ms: at,
        answer_latency_ms: 2_000,
        wait_duration_ms: 3_000,
        flags: RecordFlags::default(),
    }
}

fn choice(v: &str) -> Answer {
    Answer::Choice { option: v.into() }
}

fn moment(now: u64) -> Moment<'static> {
    Moment {
        now_ms: now,
        agent: "chatgpt",
        agent_name: "ChatGPT",
        elapsed_ms: 3_000,
        topic: None,
    }
}

fn decide(
    lib: &Library,
    history: &[AnswerRecord],
    m: &Moment<'_>,
    limits: &Limits,
    seed: u64,
) -> Decision {
    let belief = Belief::from_history(lib, history, m.now_ms);
    let waits = WaitHistory::default();
    Scheduler {
        lib,
        history,
        belief: &belief,
        limits,
        waits: &waits,
    }
    .next_card(m, Strategy::Adaptive, seed)
}

#[test]
fn validator_reports_every_broken_rule() {
    let broken = LIB
        .replace(
            "\"facet\": \"style.examples\",\n     \"text\": \"Should",
            "\"facet\": \"style.nope\",\n     \"text\": \"Should",
        )
        .replace(
            "\"Yes\", \"value\": \"examples\"",
            "\"Sure\", \"value\": \"examples\"",
        )
        .replace("\"expected_seconds\": 8", "\"expected_seconds\": 5")
        .replace(
            "How familiar are you with {topic}?",
            "How familiar are you with it?",
        );
    let errors = Library::parse(&[("broken.json", &broken)]).unwrap_err();
    let all = errors.join("\n");
    assert!(all.contains("unknown facet `style.nope`"), "{all}");
    assert!(all.contains("more than the 5 s it claims"), "{all}");
    assert!(all.contains("topic card without {topic}"), "{all}");
    let dup = LIB.replace("style.length.scale", "style.length.quick");
    assert!(Library::parse(&[("dup.json", &dup)])
        .unwrap_err()
        .join("\n")
        .contains("duplicate card id"));
    let scale_on_nominal = LIB.replace(
        "\"id\": \"style.length\", \"label\": \"Length\", \"node_kind\": \"preference\", \"ordinal\": true",
        "\"id\": \"style.length\", \"label\": \"Length\", \"node_kind\": \"preference\"",
    );
    assert!(Library::parse(&[("s.json", &scale_on_nominal)])
        .unwrap_err()
        .join("\n")
        .contains("not ordinal"));
    assert!(Library::parse(&[("bad.json", "{")]).is_err());
}

#[test]
fn the_builtin_library_meets_the_brief() {
    let lib = vault_core::cards::builtin();
    assert!(lib.cards.len() >= 150, "{} cards", lib.cards.len());
    assert!(
        lib.dimensions.len() >= 10,
        "{} dimensions",
        lib.dimensions.len()
    );
    assert!(lib.cards.iter().all(|c| c.expected_seconds <= 8.0));
    for kind in ["choice", "scale", "pairwise", "short_text", "yes_no"] {
        assert!(
            lib.cards
                .iter()
                .any(|c| format!("{:?}", c.kind).to_lowercase().replace('_', "")
                    == kind.replace('_', "")),
            "no {kind} card"
        );
    }
}

#[test]
fn gain_is_highest_where_the_profile_is_unknown() {
    let lib = lib();
    let card = lib.card("style.length.quick").unwrap();
    let facet = lib.facet("style.length").unwrap();
    let unknown = expected_gain(card, facet, None);
    let history: Vec<_> = (0..4)
        .map(|i| answer("style.length.quick", choice("brief"), T0 + i))
        .collect();
    let known = Belief::from_history(&lib, &history, T0 + 10);
    let key = Belief::key(&lib, lib.facet_position("style.length").unwrap(), "chatgpt");
    let confident = expected_gain(card, facet, known.get(&key));
    assert!(unknown > 2.0 * confident, "{unknown} vs {confident}");
    // A year later the same evidence has faded: re-confirming is worth more again.
    let later = Belief::from_history(&lib, &history, T0 + 365 * DAY);
    let stale = expected_gain(card, facet, later.get(&key));
    assert!(stale > confident, "{stale} vs {confident}");
    assert!((retrievability(0.0, 10.0) - 1.0).abs() < 1e-12);
    assert!(
        (retrievability(90.0, 10.0) - 0.5).abs() < 1e-12,
        "FSRS: R(9S) = 0.5"
    );
}

#[test]
fn contradictions_are_detected_and_re_asked_first() {
    let lib = lib();
    let history = vec![
        answer(
            "style.examples.pair",
            Answer::Pairwise {
                picked: "examples".into(),
                over: "theory".into(),
            },
            T0,
        ),
        answer(
            "style.examples.pair",
            Answer::Pairwise {
                picked: "theory".into(),
                over: "examples".into(),
            },
            T0 + 1,
        ),
        answer("style.length.quick", choice("brief"), T0 + 2),
        answer(
            "style.length.scale",
            Answer::Scale {
                value: 1,
                min: 1,
                max: 5,
            },
            T0 + 3,
        ),
        answer(
            "goals.week.text",
            Answer::ShortText {
                text: "thesis".into(),
            },
            T0 + 4,
        ),
    ];
    let belief = Belief::from_history(&lib, &history, T0 + DAY);
    let key = Belief::key(
        &lib,
        lib.facet_position("style.examples").unwrap(),
        "chatgpt",
    );
    assert!(belief.get(&key).unwrap().contradicted());
    match decide(&lib, &history, &moment(T0 + DAY), &Limits::default(), 1) {
        // The pairwise card rests in its spacing window; the yes/no card asks the same facet.
        Decision::Show(c) => assert_eq!(c.card_id, "style.examples.yes"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn limits_and_pauses_are_honoured() {
    let lib = lib();
    let m = moment(T0);
    let check = |limits: Limits, m: &Moment<'_>, want: NoCard| {
        assert_eq!(decide(&lib, &[], m, &limits, 1), Decision::Skip(want));
    };
    check(
        Limits {
            paused_until_ms: Some(T0 + 1),
            ..Limits::default()
        },
        &m,
        NoCard::Paused,
    );
    check(
        Limits {
            paused_agents: vec!["chatgpt".into()],
            ..Limits::default()
        },
        &m,
        NoCard::AgentPaused,
    );
    let hour = ((T0 / 3_600_000) % 24) as u8;
    check(
        Limits {
            quiet_hours: Some(((hour + 23) % 24, (hour + 1) % 24)),
            ..Limits::default()
        },
        &m,
        NoCard::QuietHours,
    );
    check(
        Limits::default(),
        &Moment {
            elapsed_ms: 500,
            ..moment(T0)
        },
        NoCard::TooEarly,
    );
    check(
        Limits::default(),
        &Moment {
            elapsed_ms: 11_000,
            ..moment(T0)
        },
        NoCard::NoTimeLeft,
    );
    let today: Vec<_> = (0..3)
        .map(|i| answer("style.length.quick", Answer::Skipped, T0 - i))
        .collect();
    assert_eq!(
        decide(
            &lib,
            &today,
            &m,
            &Limits {
                daily_cap: 3,
                ..Limits::default()
            },
            1
        ),
        Decision::Skip(NoCard::DailyCapReached)
    );
    // Quiet hours that do not cover now let cards through.
    let open = Limits {
        quiet_hours: Some(((hour + 2) % 24, (hour + 4) % 24)),
        ..Limits::default()
    };
    assert!(matches!(decide(&lib, &[], &m, &open, 1), Decision::Show(_)));
}

#[test]
fn spacing_topics_and_determinism() {
    let lib = lib();
    let m = moment(T0);
    let first = decide(&lib, &[], &m, &Limits::default(), 7);
    assert_eq!(
        first,
        decide(&lib, &[], &m, &Limits::default(), 7),
        "same inputs, same seed"
    );
    let Decision::Show(c) = first else { panic!() };
    assert!(
        !c.card_id.starts_with("expertise."),
        "no topic card without a topic"
    );
    // Answered just now: neither that card nor its facet comes back at once.
    let history = vec![answer(&c.card_id, choice("brief"), T0)];
    let Decision::Show(next) = decide(&lib, &history, &moment(T0 + 60_000), &Limits::default(), 7)
    else {
        panic!()
    };
    let facet_of = |id: &str| lib.card(id).unwrap().facet.clone();
    assert_ne!(facet_of(&next.card_id), facet_of(&c.card_id));
    // With a topic the topic card becomes eligible and its text is filled in. (Everything
    // else was answered two days ago, so the topic card is the most informative.)
    let known: Vec<_> = [
        ("style.length.quick", choice("brief")),
        (
            "style.length.scale",
            Answer::Scale {
                value: 1,
                min: 1,
                max: 5,
            },
        ),
        ("style.examples.yes", Answer::YesNo { value: true }),
        (
            "style.examples.pair",
            Answer::Pairwise {
                picked: "examples".into(),
                over: "theory".into(),
            },
        ),
        (
            "goals.week.text",
            Answer::ShortText {
                text: "thesis".into(),
            },
        ),
    ]
    .into_iter()
    .map(|(card, a)| answer(card, a, T0 - 2 * DAY))
    .collect();
    let with_topic = Moment {
        topic: Some("Rust lifetimes"),
        ..moment(T0)
    };
    for seed in 0..5 {
        match decide(&lib, &known, &with_topic, &Limits::default(), seed) {
            Decision::Show(c) => assert_eq!(c.text, "How familiar are you with Rust lifetimes?"),
            other => panic!("{other:?}"),
        }
    }
    // Without the topic, the same state offers no topic card.
    assert!(!matches!(
        decide(&lib, &known, &moment(T0), &Limits::default(), 1),
        Decision::Show(c) if c.card_id.starts_with("expertise.")
    ));
}

#[test]
fn adaptive_needs_fewer_answers_than_random() {
    let lib = vault_core::cards::builtin();
    let cfg = SimConfig {
        max_answers: 600,
        ..SimConfig::default()
    };
    let (mut a, mut r) = (0usize, 0usize);
    for seed in 0..6u64 {
        a += answers_to_target(lib, Strategy::Adaptive, Target::TopDimensions, seed, &cfg)
            .unwrap_or(cfg.max_answers);
        r += answers_to_target(lib, Strategy::Random, Target::TopDimensions, seed, &cfg)
            .unwrap_or(cfg.max_answers);
    }
    assert!(
        (a as f64) < 0.75 * r as f64,
        "adaptive {a} vs random {r} answers over 6 users"
    );
}

#[test]
fn answers_map_to_graph_evidence() {
    use vault_core::cards::graph::evidence;
    let lib = lib();
    let ev = evidence(
        &lib,
        &answer(
            "style.length.scale",
            Answer::Scale {
                value: 5,
                min: 1,
                max: 5,
            },
            T0,
        ),
    );
    let support: Vec<_> = ev
        .iter()
        .filter(|e| e.polarity == 1)
        .map(|e| e.node.as_str())
        .collect();
    assert_eq!(support, ["style.length=detailed"]);
    assert_eq!(ev.iter().filter(|e| e.polarity == -1).count(), 2);
    assert!(ev
        .iter()
        .all(|e| e.dimension == "answer_style" && e.agent.is_none()));
    let text = evidence(
        &lib,
        &answer(
            "goals.week.text",
            Answer::ShortText {
                text: " Thesis ".into(),
            },
            T0,
        ),
    );
    assert_eq!(text.len(), 1);
    assert_eq!(
        (text[0].node.as_str(), text[0].label.as_str()),
        ("goals.week:thesis", "Thesis")
    );
    assert!(evidence(&lib, &answer("style.length.quick", Answer::Skipped, T0)).is_empty());
    assert!(evidence(&lib, &answer("no.such.card", choice("brief"), T0)).is_empty());
}

#[test]
fn every_builtin_option_maps_to_the_graph() {
    let lib = vault_core::cards::builtin();
    for card in &lib.cards {
        let facet = lib.facet(&card.facet).unwrap();
        for o in &card.options {
            assert!(
                facet.values.iter().any(|v| v.id == o.value),
                "{}: {}",
                card.id,
                o.value
            );
        }
    }
}

/// The cold start: a new user's first ten cards come from the dimensions that change the
/// very next AI answer (the library's `first` dimensions: answer style and feedback), not
/// from skill ratings; after it, the other dimensions get their turn.
#[test]
fn a_new_users_first_cards_shape_the_next_answer() {
    use vault_core::cards::scheduler::COLD_START_CARDS;
    use vault_core::cards::simulation::first_dimensions;
    let lib = vault_core::cards::builtin();
    let cfg = SimConfig::default();
    let first: Vec<&str> = lib
        .dimensions
        .iter()
        .filter(|d| lib.facets.iter().any(|f| f.dimension == d.id && f.first))
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(first, ["answer_style", "feedback"]);
    for seed in 0..4u64 {
        let dims = first_dimensions(lib, Strategy::Adaptive, seed, &cfg, 30);
        let early = dims[..COLD_START_CARDS]
            .iter()
            .filter(|d| first.contains(&d.as_str()))
            .count();
        assert!(
            early * 10 >= COLD_START_CARDS * 6,
            "user {seed}: {early} of the first {COLD_START_CARDS} cards shape answers: {dims:?}"
        );
        assert!(
            dims[COLD_START_CARDS..]
                .iter()
                .any(|d| !first.contains(&d.as_str())),
            "user {seed}: other dimensions after the cold start: {dims:?}"
        );
    }
}
