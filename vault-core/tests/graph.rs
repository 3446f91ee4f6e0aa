//! The knowledge graph from the outside: strengths, contradictions, history, per-agent
//! alignment, deletion, and every export's validity and limits.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use quick_xml::events::Event;
use vault_core::cards::builtin;
use vault_core::graph::export::{agents, graphml, instructions, jgf, markdown, zip};
use vault_core::graph::{synthetic, EdgeKind, InstructionSnapshot, KnowledgeGraph};
use vault_core::store::block_on;
use vault_core::{Answer, AnswerRecord, CardType, Namespace, RecordFlags, RecordId};

const DAY: u64 = 86_400_000;
const T0: u64 = 1_750_000_000_000;

fn rec(n: u8, card: &str, answer: Answer, agent: &str, at: u64) -> AnswerRecord {
    let card_type = match &answer {
        Answer::Choice { .. } => CardType::Choice,
        Answer::Scale { .. } => CardType::Scale,
        Answer::Pairwise { .. } => CardType::Pairwise,
        Answer::ShortText { .. } => CardType::ShortText,
        Answer::YesNo { .. } => CardType::YesNo,
        Answer::Skipped | Answer::Dismissed => CardType::Choice,
    };
    AnswerRecord {
        id: RecordId::from_bytes([n; 16]),
        prompt_id: card.into(),
        prompt_version: 1,
        card_type,
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

fn length(n: u8, value: &str, agent: &str, at: u64) -> AnswerRecord {
    rec(
        n,
        "style.length.quick-question",
        Answer::Choice {
            option: value.into(),
        },
        agent,
        at,
    )
}

fn strength(kg: &KnowledgeGraph, id: &str) -> f64 {
    kg.node(id).unwrap().metrics.strength
}

#[test]
fn strength_rises_with_consistent_answers_and_decays_with_age() {
    let lib = builtin();
    let answers: Vec<AnswerRecord> = (0..4)
        .map(|i| length(i, "brief", "chatgpt", T0 + u64::from(i) * DAY))
        .collect();
    let now = T0 + 4 * DAY;
    let s: Vec<f64> = (1..=4)
        .map(|n| {
            strength(
                &KnowledgeGraph::build(lib, &answers[..n], now),
                "style.length=brief",
            )
        })
        .collect();
    assert!(s.windows(2).all(|w| w[1] > w[0]), "{s:?}");
    assert!(s[0] > 0.3 && s[3] < 1.0, "{s:?}");
    // The other values of the facet are spoken against, not supported.
    let kg = KnowledgeGraph::build(lib, &answers, now);
    assert_eq!(strength(&kg, "style.length=detailed"), 0.0);
    assert_eq!(
        kg.node("style.length=detailed")
            .unwrap()
            .metrics
            .contradicts,
        4
    );
    // Same answers, judged a year and then three years later: weaker each time.
    let later = strength(
        &KnowledgeGraph::build(lib, &answers, now + 365 * DAY),
        "style.length=brief",
    );
    let much_later = strength(
        &KnowledgeGraph::build(lib, &answers, now + 3 * 365 * DAY),
        "style.length=brief",
    );
    assert!(
        s[3] > later && later > much_later && much_later > 0.0,
        "{s:?} {later} {much_later}"
    );
    let m = &kg.node("style.length=brief").unwrap().metrics;
    assert!(m.recency > 0.99 && (m.consistency - 1.0).abs() < 1e-12);
}

#[test]
fn contradicting_answers_are_found_and_kept_out_of_instructions() {
    let lib = builtin();
    let flip = ["brief", "detailed", "brief", "detailed"];
    let mut records: Vec<AnswerRecord> = flip
        .iter()
        .enumerate()
        .map(|(i, v)| length(i as u8, v, "chatgpt", T0 + i as u64 * DAY))
        .collect();
    // A consistent facet beside it.
    for i in 0..3u8 {
        records.push(rec(
            10 + i,
            "style.tone.which-tone",
            Answer::Choice {
                option: "neutral".into(),
            },
            "chatgpt",
            T0 + u64::from(i) * DAY,
        ));
    }
    let kg = KnowledgeGraph::build(lib, &records, T0 + 5 * DAY);
    let reask = kg.reask_facets();
    assert_eq!(reask, vec![("style.length".to_owned(), None)]);
    let key = kg.reask_keys(lib);
    assert_eq!(
        key,
        vec![(lib.facet_position("style.length").unwrap(), None)]
    );
    let c = &kg.contradictions()[0];
    assert_eq!(c.values.len(), 2);
    assert!(c.severity >= 0.5 && c.severity <= 1.0);
    assert!(kg.node("style.length=brief").unwrap().metrics.contested);
    assert!(!kg.node("style.tone=neutral").unwrap().metrics.contested);
    let text = instructions::for_agent(&kg, lib, "chatgpt")
        .unwrap()
        .to_text();
    assert!(text.contains("I like a neutral tone."), "{text}");
    assert!(
        !text.contains("brief answers") && !text.contains("detailed"),
        "contested facet left out: {text}"
    );
    // One more answer for "brief" that settles it: the split is no longer even enough.
    records.push(length(20, "brief", "chatgpt", T0 + 5 * DAY));
    records.push(length(21, "brief", "chatgpt", T0 + 6 * DAY));
    records.push(length(22, "brief", "chatgpt", T0 + 7 * DAY));
    let settled = KnowledgeGraph::build(lib, &records, T0 + 7 * DAY);
    assert!(
        settled.reask_facets().is_empty(),
        "{:?}",
        settled.contradictions()
    );
}

#[test]
fn history_as_of_a_date_excludes_later_answers() {
    let lib = builtin();
    let records = vec![
        length(1, "brief", "chatgpt", T0),
        length(2, "detailed", "claude", T0 + 10 * DAY),
        length(3, "detailed", "claude", T0 + 11 * DAY),
    ];
    let then = KnowledgeGraph::build_as_of(lib, &records, T0 + DAY);
    assert_eq!(then.stats().after_as_of, 2);
    assert_eq!(then.as_of_ms(), T0 + DAY);
    assert!(then.has_evidence_from(&RecordId::from_bytes([1; 16])));
    assert!(!then.has_evidence_from(&RecordId::from_bytes([2; 16])));
    assert_eq!(
        then.node("style.length=detailed").unwrap().metrics.supports,
        0
    );
    assert_eq!(then.agents(), ["chatgpt"]);
    let now = KnowledgeGraph::build(lib, &records, T0 + 12 * DAY);
    assert!(strength(&now, "style.length=detailed") > strength(&now, "style.length=brief"));
    // What changed between the two moments: the leading value of answer length.
    let changes = now.changes_since(lib, &then);
    let lc = changes
        .leader_changes
        .iter()
        .find(|c| c.facet == "style.length")
        .unwrap();
    assert_eq!(lc.from.as_deref(), Some("Answer length: Brief"));
    assert_eq!(lc.to.as_deref(), Some("Answer length: Detailed"));
    assert_eq!(changes.new_answers, 2);
    assert!(changes
        .new_nodes
        .iter()
        .any(|n| n.id == "style.length=detailed"));
}

#[test]
fn alignment_differs_by_agent_and_tracks_staleness() {
    let lib = builtin();
    let mut records = Vec::new();
    let push =
        |records: &mut Vec<AnswerRecord>, card: &str, answer: Answer, agent: &str, day: u64| {
            let n = records.len() as u8 + 1;
            records.push(rec(n, card, answer, agent, T0 + day * DAY));
        };
    for d in 0..3 {
        push(
            &mut records,
            "style.length.quick-question",
            Answer::Choice {
                option: "brief".into(),
            },
            "claude",
            d,
        );
        push(
            &mut records,
            "agent.role.play",
            Answer::Choice {
                option: "coach".into(),
            },
            "chatgpt",
            d,
        );
        push(
            &mut records,
            "agent.role.play",
            Answer::Choice {
                option: "partner".into(),
            },
            "claude",
            d,
        );
    }
    push(
        &mut records,
        "agent.change.what",
        Answer::ShortText {
            text: "Fewer caveats, please".into(),
        },
        "chatgpt",
        1,
    );
    let now = T0 + 3 * DAY;
    let kg = KnowledgeGraph::build(lib, &records, now);
    // Per-agent facets stay per agent: coach for one, partner for the other, no conflict.
    assert!(
        kg.node("agent.role=coach@chatgpt")
            .unwrap()
            .metrics
            .strength
            > 0.5
    );
    assert!(
        kg.node("agent.role=partner@claude")
            .unwrap()
            .metrics
            .strength
            > 0.5
    );
    assert!(kg.contradictions().is_empty());
    let chatgpt_instr = instructions::for_agent(&kg, lib, "chatgpt").unwrap();
    let snapshot = chatgpt_instr.snapshot();
    assert!(snapshot.strengths.contains_key("agent.role=coach@chatgpt"));
    assert!(!snapshot.strengths.contains_key("agent.role=partner@claude"));
    let all = kg.alignment(lib, std::slice::from_ref(&snapshot));
    let get = |agent: &str| all.iter().find(|a| a.agent == agent).unwrap();
    let (c, k) = (get("chatgpt"), get("claude"));
    assert_eq!((c.answers, k.answers), (4, 6));
    // Both know the shared answer length; each knows only its own role; chatgpt also has
    // its free-text wish.
    assert!(c.coverage > 0.0 && k.coverage > 0.0);
    assert_ne!(c.coverage, k.coverage);
    assert_ne!(c.knowledge, k.knowledge);
    let wishes = |a: &vault_core::graph::AgentAlignment| {
        a.by_dimension
            .iter()
            .find(|d| d.dimension == "agent_wishes")
            .unwrap()
            .known
    };
    assert_eq!((wishes(c), wishes(k)), (2, 1));
    // chatgpt was just given its instructions: nothing stale. claude never was.
    assert!(c.staleness.abs() < 1e-12, "{}", c.staleness);
    assert_eq!(k.staleness, 1.0);
    assert_eq!(k.alignment, 0.0);
    // Just given all of its instructions: aligned, whatever it could not know yet.
    assert!((c.alignment - 1.0).abs() < 1e-9, "{}", c.alignment);
    assert!(c.knowledge < 1.0);
    assert_eq!((c.deliveries, k.deliveries), (1, 0));
    // New answers after the export make chatgpt's instructions stale.
    for d in 4..7 {
        push(
            &mut records,
            "style.tone.which-tone",
            Answer::Choice {
                option: "formal".into(),
            },
            "chatgpt",
            d,
        );
    }
    let later = KnowledgeGraph::build(lib, &records, T0 + 7 * DAY);
    let c2 = later.agent_alignment(lib, "chatgpt", std::slice::from_ref(&snapshot));
    assert!(
        c2.staleness > 0.05 && c2.staleness < 1.0,
        "{}",
        c2.staleness
    );
    // New facts it was never given lower its alignment.
    assert!(c2.alignment < c.alignment - 0.05, "{}", c2.alignment);
    assert!(c2
        .stale_nodes
        .iter()
        .any(|s| s.node == "style.tone=formal" && s.exported == 0.0));
    // History stays truthful: as of before the export, the snapshot does not count.
    let before = KnowledgeGraph::build_as_of(lib, &records, T0 + DAY);
    assert_eq!(
        before
            .agent_alignment(lib, "chatgpt", std::slice::from_ref(&snapshot))
            .last_export_ms,
        None
    );
    // An agent seen only in a snapshot still gets figures.
    let gem = InstructionSnapshot {
        agent: "gemini".into(),
        exported_at_ms: T0,
        strengths: BTreeMap::new(),
        method: None,
    };
    assert!(kg
        .alignment(lib, &[gem])
        .iter()
        .any(|a| a.agent == "gemini" && a.answers == 0));
}

#[test]
fn deleting_a_record_removes_its_evidence() {
    let lib = builtin();
    let mut vault = common::device();
    let records = vec![
        length(1, "brief", "chatgpt", T0),
        length(2, "detailed", "chatgpt", T0 + DAY),
    ];
    for r in &records {
        block_on(vault.insert(r)).unwrap();
    }
    let listed = block_on(vault.list()).unwrap().records;
    let kg = KnowledgeGraph::build(lib, &listed, T0 + 2 * DAY);
    let gone = RecordId::from_bytes([2; 16]);
    assert!(kg.has_evidence_from(&gone));
    let ev = kg.evidence("style.length=detailed");
    assert_eq!(
        ev.len(),
        2,
        "one answer supports it, the other speaks against it"
    );
    assert!(ev.iter().any(|e| e.record == gone && e.polarity == 1));
    block_on(vault.delete(&gone)).unwrap();
    let listed = block_on(vault.list()).unwrap().records;
    assert_eq!(listed.len(), 1);
    let kg = KnowledgeGraph::build(lib, &listed, T0 + 2 * DAY);
    assert!(!kg.has_evidence_from(&gone));
    assert!(kg
        .evidence("style.length=detailed")
        .iter()
        .all(|e| e.record != gone));
    assert_eq!(
        kg.node("style.length=detailed").unwrap().metrics.supports,
        0
    );
    assert!(kg.node("style.length=brief").unwrap().metrics.supports == 1);
}

fn demo_graph() -> (KnowledgeGraph, Vec<AnswerRecord>) {
    let lib = builtin();
    let records = synthetic::answers(lib, 3_000, T0, 7);
    let now = records.last().unwrap().captured_at_ms + DAY;
    (KnowledgeGraph::build(lib, &records, now), records)
}

#[test]
fn graphml_is_well_formed_and_complete() {
    let (kg, _) = demo_graph();
    let xml = graphml::graphml(&kg);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut nodes, mut edges, mut depth) = (BTreeSet::new(), 0usize, 0i32);
    let mut keys = BTreeSet::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                if e.name().as_ref() == b"node" {
                    let id = e.try_get_attribute("id").unwrap().unwrap();
                    nodes.insert(id.unescape_value().unwrap().into_owned());
                }
                if e.name().as_ref() == b"edge" {
                    edges += 1;
                }
            }
            Ok(Event::Empty(e)) if e.name().as_ref() == b"key" => {
                let name = e.try_get_attribute("attr.name").unwrap().unwrap();
                keys.insert(name.unescape_value().unwrap().into_owned());
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Text(t)) => {
                t.decode().unwrap();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at {}: {e}", reader.buffer_position()),
        }
    }
    assert_eq!(depth, 0, "every element closed");
    assert_eq!(nodes.len(), kg.node_count());
    assert_eq!(edges, kg.edge_count());
    for k in ["label", "kind", "dimension", "strength", "weight"] {
        assert!(keys.contains(k), "{k}");
    }
}

#[test]
fn graphml_escapes_user_text() {
    let lib = builtin();
    let evil = "<script>&\"'\u{1}]]>";
    let records = vec![rec(
        1,
        "agent.change.what",
        Answer::ShortText { text: evil.into() },
        "chatgpt",
        T0,
    )];
    let kg = KnowledgeGraph::build(lib, &records, T0);
    let xml = graphml::graphml(&kg);
    assert!(!xml.contains("<script>"));
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut labels = Vec::new();
    let mut label = String::new();
    let mut in_label = false;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                in_label = e
                    .try_get_attribute("key")
                    .unwrap()
                    .is_some_and(|a| a.value.as_ref() == b"d_label");
            }
            Event::Text(t) if in_label => label.push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) if in_label => {
                let name = r.decode().unwrap();
                label.push_str(quick_xml::escape::resolve_predefined_entity(&name).unwrap());
            }
            Event::End(_) => {
                if in_label {
                    labels.push(std::mem::take(&mut label));
                }
                in_label = false;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(
        labels.iter().any(|l| l == "<script>&\"']]> (chatgpt)"),
        "{labels:?}"
    );
}

#[test]
fn jgf_is_valid_json_with_every_node_and_edge() {
    let (kg, _) = demo_graph();
    let text = jgf::jgf_string(&kg);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let g = &v["graph"];
    assert_eq!(g["directed"], false);
    let nodes = g["nodes"].as_object().unwrap();
    assert_eq!(nodes.len(), kg.node_count());
    for n in kg.nodes() {
        let j = &nodes[&n.id];
        assert_eq!(j["label"], n.label.as_str());
        assert_eq!(j["metadata"]["kind"], n.kind.as_str());
    }
    let edges = g["edges"].as_array().unwrap();
    assert_eq!(edges.len(), kg.edge_count());
    for e in edges {
        assert!(nodes.contains_key(e["source"].as_str().unwrap()));
        assert!(nodes.contains_key(e["target"].as_str().unwrap()));
        assert!(["in_dimension", "co_occurs"].contains(&e["relation"].as_str().unwrap()));
    }
}

#[test]
fn instructions_fit_every_agent_and_put_strongest_first() {
    let lib = builtin();
    // A heavy user: far more known facts than any field holds.
    let records = synthetic::answers(lib, 20_000, T0, 11);
    let now = records.last().unwrap().captured_at_ms + DAY;
    let kg = KnowledgeGraph::build(lib, &records, now);
    let all = instructions::for_all(&kg, lib);
    let names: Vec<&str> = all.iter().map(|a| a.agent.as_str()).collect();
    assert_eq!(names, ["chatgpt", "claude", "gemini", "perplexity"]);
    for a in &all {
        let spec = agents::profile(&a.agent);
        assert_eq!(a.fields.len(), spec.fields.len());
        for (f, s) in a.fields.iter().zip(spec.fields) {
            assert!(
                f.length <= s.limit,
                "{}: {} > {}",
                a.agent,
                f.length,
                s.limit
            );
            assert_eq!(f.length, agents::field_len(&f.text));
            assert!(!f.text.is_empty(), "{}: {}", a.agent, f.title);
            // Whole sentences only: every line ends a sentence or is a heading.
            for line in f.text.lines().filter(|l| !l.is_empty()) {
                assert!(
                    line.ends_with('.')
                        || line.ends_with(':')
                        || line.ends_with('!')
                        || line.ends_with('?'),
                    "{line}"
                );
            }
        }
        assert!(
            !a.left_out.is_empty(),
            "{}: the fields should be full for this user",
            a.agent
        );
        // Greedy, strongest first: whatever was left out does not fit any field that takes
        // it, even now (fields only grow while packing).
        for id in &a.left_out {
            let sentence = instructions::sentence_for(&kg, lib, id).unwrap();
            let section = instructions::section_for(&kg, id).unwrap();
            for (f, s) in a.fields.iter().zip(spec.fields) {
                if s.section == agents::Section::Both || s.section == section {
                    assert!(
                        f.length + agents::field_len(&sentence) + 3 > f.limit,
                        "{}: `{sentence}` would still fit `{}`",
                        a.agent,
                        f.title
                    );
                }
            }
        }
        // Within a field's section, included sentences appear strongest and most relevant
        // first (strength × dimension priority).
        for f in &a.fields {
            let mut positions: Vec<(usize, f64)> = a
                .included
                .iter()
                .filter_map(|(id, s)| {
                    let sentence = instructions::sentence_for(&kg, lib, id)?;
                    let priority = lib.facet(kg.node(id)?.facet.as_deref()?)?.priority;
                    let (at, _) = f
                        .text
                        .match_indices(sentence.as_str())
                        .find(|(i, _)| *i == 0 || f.text.as_bytes()[i - 1] == b'\n')?;
                    Some((at, s * priority))
                })
                .collect();
            positions.sort_by_key(|p| p.0);
            assert!(positions.len() > 3, "{}", f.text);
            let headings: Vec<usize> = f.text.match_indices(":\n").map(|m| m.0).collect();
            let section_of = |pos: usize| headings.iter().filter(|&&h| h < pos).count();
            for w in positions.windows(2) {
                if section_of(w[0].0) == section_of(w[1].0) {
                    assert!(w[0].1 >= w[1].1 - 1e-12, "{}: {:?}", a.agent, w);
                }
            }
        }
    }
    // ChatGPT's first field holds facts about the user, the second how to answer.
    let chatgpt = &all[0];
    assert!(
        chatgpt.fields[1].text.contains(" answers") || chatgpt.fields[1].text.contains(" tone")
    );
    assert!(!chatgpt.fields[0].text.contains("I prefer "));
    let text = instructions::to_text(&all);
    assert!(text.contains("# ChatGPT: custom instructions") && text.contains("# Claude"));
    assert!(instructions::for_agent(&kg, lib, "Not An Agent!").is_err());
    // Any site namespace gets the default single field, and no settings link.
    let other = instructions::for_agent(&kg, lib, "site:example.org").unwrap();
    assert_eq!(other.fields.len(), 1);
    assert!(other.fields[0].length <= agents::DEFAULT_PROFILE.fields[0].limit);
    assert_eq!(other.settings_url, None);
    // Every table agent links its settings over HTTPS on its own site.
    for a in &all {
        let url = a.settings_url.as_deref().unwrap();
        let site = match a.agent.as_str() {
            "chatgpt" => "https://chatgpt.com/",
            "claude" => "https://claude.ai/",
            "gemini" => "https://gemini.google.com/",
            _ => "https://www.perplexity.ai/",
        };
        assert!(url.starts_with(site), "{}: {url}", a.agent);
    }
    // The fields split what is included between them: each node in exactly one field.
    for a in &all {
        let mut union = BTreeMap::new();
        for f in &a.fields {
            for (id, s) in &f.nodes {
                assert!(union.insert(id.clone(), *s).is_none(), "{id} in two fields");
            }
        }
        assert_eq!(union, a.included, "{}", a.agent);
    }
    // One field's delivery carries that field's text and nodes only, and names the field.
    let second = &chatgpt.fields[1];
    let d = chatgpt
        .field_delivery(&second.title, vault_core::delivery::DeliveryMethod::Copied)
        .unwrap();
    assert_eq!(d.field.as_deref(), Some(second.title.as_str()));
    assert_eq!(d.nodes, second.nodes);
    assert_eq!(d.chars as usize, second.length);
    assert_eq!(d.digest, vault_core::delivery::digest(&second.text));
    assert!(chatgpt
        .field_delivery(
            "No such field",
            vault_core::delivery::DeliveryMethod::Copied
        )
        .is_err());
    // The popup receives instructions as JSON from the background: texts, titles, limits,
    // link and nodes survive (strengths to within JSON's float parsing, a last-digit drift).
    let json = serde_json::to_string(chatgpt).unwrap();
    let back: instructions::AgentInstructions = serde_json::from_str(&json).unwrap();
    assert_eq!(back.settings_url, chatgpt.settings_url);
    for (b, f) in back.fields.iter().zip(&chatgpt.fields) {
        assert_eq!(
            (&b.title, &b.text, b.limit, b.length),
            (&f.title, &f.text, f.limit, f.length)
        );
        assert!(b.nodes.keys().eq(f.nodes.keys()));
        assert!(b
            .nodes
            .values()
            .zip(f.nodes.values())
            .all(|(x, y)| (x - y).abs() < 1e-12));
    }
}

#[test]
fn markdown_vault_links_resolve_and_zip_round_trips() {
    let (kg, _) = demo_graph();
    let files = markdown::markdown_vault(&kg);
    assert_eq!(files[0].0, "index.md");
    let names: BTreeSet<String> = files
        .iter()
        .map(|(p, _)| {
            p.rsplit('/')
                .next()
                .unwrap()
                .trim_end_matches(".md")
                .to_owned()
        })
        .collect();
    assert_eq!(names.len(), files.len(), "note names are unique");
    let with_evidence = kg.nodes().filter(|n| n.evidence_count() > 0).count();
    let dims = kg.nodes().filter(|n| n.is_dimension()).count();
    assert_eq!(files.len(), 1 + with_evidence + dims);
    let mut links = 0;
    for (path, text) in &files {
        let mut rest = text.as_str();
        while let Some(start) = rest.find("[[") {
            let end = rest[start..].find("]]").unwrap() + start;
            let target = rest[start + 2..end].split('|').next().unwrap();
            assert!(names.contains(target), "{path}: [[{target}]] resolves");
            links += 1;
            rest = &rest[end + 2..];
        }
    }
    assert!(links > files.len(), "notes are linked");
    // Co-occurrence links exist in the notes when the graph has such edges.
    assert!(kg.edges().any(|e| e.2.kind == EdgeKind::CoOccurs));
    assert!(files.iter().any(|(_, t)| t.contains("## Linked")));
    let z = zip::zip_store(&files, kg.as_of_ms()).unwrap();
    let back = zip::read_stored(&z).unwrap();
    assert_eq!(back.len(), files.len());
    assert_eq!(back[3].1, files[3].1.as_bytes());
}

#[test]
fn overview_counts_days_and_streaks() {
    let lib = builtin();
    // Answers on days 0,1,2 then 5,6 (today = 6), and a skip on day 3.
    let mut records: Vec<AnswerRecord> = [0u64, 1, 2, 5, 6]
        .iter()
        .enumerate()
        .map(|(i, &d)| length(i as u8, "brief", "chatgpt", T0 + d * DAY))
        .collect();
    records.push(rec(
        50,
        "style.length.quick-question",
        Answer::Skipped,
        "chatgpt",
        T0 + 3 * DAY,
    ));
    let kg = KnowledgeGraph::build(lib, &records, T0 + 6 * DAY + 1000);
    let o = kg.overview(5);
    assert_eq!((o.answered, o.skipped), (5, 1));
    assert_eq!(o.per_day.len(), 7);
    assert_eq!(o.current_streak_days, 2);
    assert_eq!(o.longest_streak_days, 3);
    assert_eq!(o.most_certain[0].id, "style.length=brief");
    // Tomorrow without an answer yet: the streak still stands; the day after, it is gone.
    assert_eq!(
        KnowledgeGraph::build(lib, &records, T0 + 7 * DAY + 1000)
            .overview(5)
            .current_streak_days,
        2
    );
    assert_eq!(
        KnowledgeGraph::build(lib, &records, T0 + 8 * DAY + 1000)
            .overview(5)
            .current_streak_days,
        0
    );
    let json = serde_json::to_value(&o).unwrap();
    assert!(json["per_day"].as_array().unwrap().len() == 7);
    let view = serde_json::to_value(kg.view()).unwrap();
    assert_eq!(view["nodes"].as_array().unwrap().len(), kg.node_count());
}

/// The overview's two lists hold facts, not every value with support: a value the user's
/// answers put second is in neither, and with few facts the lists split them, never showing
/// one twice.
#[test]
fn most_and_least_certain_list_leading_values_once() {
    let lib = builtin();
    let mut records: Vec<AnswerRecord> = ["brief", "brief", "brief", "detailed"]
        .iter()
        .enumerate()
        .map(|(i, v)| length(i as u8, v, "chatgpt", T0 + i as u64 * DAY))
        .collect();
    for i in 0..2u8 {
        records.push(rec(
            10 + i,
            "style.tone.which-tone",
            Answer::Choice {
                option: "neutral".into(),
            },
            "chatgpt",
            T0 + u64::from(i) * DAY,
        ));
    }
    let kg = KnowledgeGraph::build(lib, &records, T0 + 4 * DAY);
    assert!(kg.node("style.length=detailed").unwrap().metrics.supports > 0);
    let o = kg.overview(5);
    let most: Vec<&str> = o.most_certain.iter().map(|n| n.id.as_str()).collect();
    let least: Vec<&str> = o.least_certain.iter().map(|n| n.id.as_str()).collect();
    assert!(
        !most.is_empty() && !least.is_empty(),
        "{most:?} / {least:?}"
    );
    assert!(
        most.iter().all(|m| !least.contains(m)),
        "one node in both lists: {most:?} / {least:?}"
    );
    for id in most.iter().chain(&least) {
        assert!(
            !id.contains("=detailed"),
            "a turned-down value is listed: {id}"
        );
    }
    assert!(
        most.contains(&"style.length=brief") || least.contains(&"style.length=brief"),
        "the leading value is listed: {most:?} / {least:?}"
    );
    let strength =
        |l: &[vault_core::graph::NodeSummary]| l.iter().map(|n| n.strength).collect::<Vec<_>>();
    assert!(
        strength(&o.most_certain)
            .iter()
            .all(|m| strength(&o.least_certain).iter().all(|l| m >= l)),
        "the more certain half comes first"
    );
}

#[test]
fn an_empty_vault_gives_an_empty_but_valid_profile() {
    let lib = builtin();
    let kg = KnowledgeGraph::build(lib, &[], T0);
    assert_eq!(kg.stats().with_evidence, 0);
    assert!(kg.nodes().all(|n| n.metrics.strength == 0.0));
    assert!(kg.contradictions().is_empty());
    let o = kg.overview(5);
    assert!(o.per_day.is_empty() && o.current_streak_days == 0 && o.most_certain.is_empty());
    assert!(o.least_certain.is_empty());
    for a in instructions::for_all(&kg, lib) {
        assert!(a.included.is_empty());
        assert!(a.to_text().contains("nothing known yet"));
    }
    assert!(
        kg.alignment(lib, &[]).is_empty(),
        "no agent seen, no snapshot"
    );
    let gpt = kg.agent_alignment(lib, "chatgpt", &[]);
    assert_eq!(
        (gpt.coverage, gpt.staleness, gpt.alignment),
        (0.0, 0.0, 0.0)
    );
    let v: serde_json::Value = serde_json::from_str(&jgf::jgf_string(&kg)).unwrap();
    assert_eq!(
        v["graph"]["nodes"].as_object().unwrap().len(),
        kg.node_count()
    );
    assert!(graphml::graphml(&kg).ends_with("</graphml>\n"));
    assert_eq!(
        markdown::markdown_vault(&kg).len(),
        1 + lib.dimensions.len()
    );
    // Records the library does not know are counted, not fatal.
    let unknown = rec(
        1,
        "no.such.card",
        Answer::Choice { option: "x".into() },
        "chatgpt",
        T0,
    );
    let kg = KnowledgeGraph::build(lib, &[unknown], T0);
    assert_eq!(kg.stats().unusable, 1);
    assert_eq!(kg.stats().with_evidence, 0);
}

/// The scheduler's belief model and the graph call the same facets contradicted (one rule,
/// `cards::contradiction`): the facets the graph re-asks are the ones the scheduler favours.
#[test]
fn the_scheduler_and_the_graph_agree_on_contradictions() {
    use vault_core::cards::belief::Belief;
    let lib = builtin();
    let records = synthetic::answers(lib, 3_000, T0, 7);
    let (mut checked, mut contested) = (0, 0);
    for n in [200, 1_000, 3_000] {
        let now = records[n - 1].captured_at_ms + DAY;
        let kg = KnowledgeGraph::build(lib, &records[..n], now);
        let belief = Belief::from_history(lib, &records[..n], now);
        for ((pos, agent), b) in &belief.facets {
            let facet = &lib.facets[*pos];
            if facet.open {
                continue;
            }
            assert_eq!(
                b.contradicted(),
                kg.is_contested(&facet.id, agent.as_deref()),
                "{} for {agent:?} after {n} answers",
                facet.id
            );
            checked += 1;
            contested += usize::from(b.contradicted());
        }
    }
    assert!(
        contested > 0 && contested < checked,
        "{contested} of {checked} contradicted: both cases are checked"
    );
}

/// Cards removed from the library by the issue 21 review (time zone, operating system, units,
/// office apps, working hours...): users' old answers to them stay in the records, the graph
/// ignores them (counted as unusable, no evidence, no node) and the CSV export still lists them.
#[test]
fn an_answer_to_a_removed_card_is_ignored_by_the_graph_but_still_listed() {
    let lib = builtin();
    let removed = [
        ("constraints.timezone.region", "europe-africa"),
        ("constraints.system.which", "linux"),
        ("work.tools.most", "google"),
    ];
    let records: Vec<_> = removed
        .iter()
        .enumerate()
        .map(|(i, (card, option))| {
            assert!(
                lib.card(card).is_none(),
                "{card} is no longer in the library"
            );
            rec(
                i as u8 + 1,
                card,
                Answer::Choice {
                    option: (*option).into(),
                },
                "chatgpt",
                T0 + i as u64,
            )
        })
        .collect();
    let kg = KnowledgeGraph::build(lib, &records, T0 + 10);
    assert_eq!(kg.stats().unusable, removed.len());
    assert_eq!(kg.stats().with_evidence, 0);
    let csv = vault_core::backup::csv(&records);
    for (card, option) in removed {
        assert!(
            csv.contains(&format!(",{card},")) && csv.contains(option),
            "{card} listed"
        );
    }
}
