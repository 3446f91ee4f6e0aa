//! Helpers shared by the native and browser test suites.
#![allow(dead_code)]

use vault_core::{Answer, AnswerRecord, CardType, Namespace, Origin, RecordFlags, RecordId};

pub const PASSPHRASE: &str = "correct horse battery staple";

/// A realistic ~300-byte answer, as the extension captures it.
pub fn sample_record(n: u32) -> AnswerRecord {
    AnswerRecord {
        id: RecordId::generate().expect("rng"),
        prompt_id: format!("style.length.{}", n % 7),
        prompt_version: 1,
        card_type: CardType::Choice,
        answer: Answer::Choice {
            option: "short-with-details-on-request".into(),
        },
        namespace: Namespace::new(["chatgpt", "claude", "gemini"][n as usize % 3]).expect("ns"),
        origin: Some(Origin::from_url("https://chatgpt.com/c/123?x=1").expect("origin")),
        page_context: None,
        captured_at_ms: 1_763_800_000_000 + u64::from(n) * 1000,
        answer_latency_ms: 2_400,
        wait_duration_ms: 7_800,
        flags: RecordFlags::default(),
    }
}
