//! Writes an encrypted backup of a vault filled with sample answers, and the same records as
//! a plain JSON export, for the independent-decryption test (`tests/independent/`).
//!
//! usage: make_backup <backup.json> <export.json> <passphrase-file>

use vault_core::delivery::{DeliveryMethod, DeliveryRecord};
use vault_core::store::block_on as run;
use vault_core::{
    Answer, AnswerRecord, CardType, KdfParams, MemoryStore, Namespace, Origin, Passphrase,
    RecordFlags, RecordId, Vault,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [backup_path, export_path, pass_path] = args.as_slice() else {
        return Err("usage: make_backup <backup.json> <export.json> <passphrase-file>".into());
    };
    let passphrase =
        Passphrase::new(std::fs::read_to_string(pass_path)?.trim_end_matches(['\n', '\r']));
    let (mut vault, _) = run(Vault::create(
        MemoryStore::new(),
        &passphrase,
        KdfParams::generate()?,
    ))?;
    let answers = [
        (
            CardType::Choice,
            Answer::Choice {
                option: "concise".into(),
            },
            "claude",
        ),
        (
            CardType::Scale,
            Answer::Scale {
                value: 4,
                min: 1,
                max: 5,
            },
            "chatgpt",
        ),
        (
            CardType::ShortText,
            Answer::ShortText {
                text: "Rust, WebAssembly ✓".into(),
            },
            "gemini",
        ),
        (CardType::YesNo, Answer::YesNo { value: true }, "chatgpt"),
        (
            CardType::Pairwise,
            Answer::Pairwise {
                picked: "examples".into(),
                over: "theory".into(),
            },
            "claude",
        ),
    ];
    let mut ids = Vec::new();
    for (i, (card_type, answer, ns)) in answers.into_iter().enumerate() {
        let record = AnswerRecord {
            id: RecordId::generate()?,
            prompt_id: format!("sample.{i}"),
            prompt_version: 1,
            card_type,
            answer,
            namespace: Namespace::new(ns)?,
            origin: Some(Origin::from_url("https://claude.ai/chat/1")?),
            page_context: None,
            captured_at_ms: 1_763_800_000_000 + i as u64,
            answer_latency_ms: 1_500,
            wait_duration_ms: 6_000,
            flags: RecordFlags::default(),
        };
        run(vault.insert(&record))?;
        ids.push(record);
    }
    // An edit (version 2) and a delete (tombstone) so the backup carries both.
    let mut edited = ids[0].clone();
    edited.answer = Answer::Choice {
        option: "detailed".into(),
    };
    run(vault.put(&edited))?;
    run(vault.delete(&ids[1].id))?;
    // A delivery record (what an agent was given), sealed under its own label.
    let delivery = DeliveryRecord::of_text(
        "claude",
        "Prefers concise answers. Knows Rust and WebAssembly ✓.",
        [("pref.length".to_string(), 0.75)].into_iter().collect(),
        DeliveryMethod::Inserted,
        1_763_800_100_000,
        None,
    )?;
    run(vault.record_delivery(&delivery))?;
    // A proposal record (what an agent proposes), sealed under its own label.
    let proposal = vault_core::proposal::ProposalRecord::new(
        "claude",
        "I write Rust for embedded devices ✓.",
        Some("work".into()),
        Some("Said so while debugging a driver.".into()),
        1_763_800_200_000,
    )?;
    run(vault.record_proposal(&proposal))?;
    // A key rotation (FORMAT.md §3, `previous_keys`): everything above is sealed again under
    // a new key, the header keeps the replaced one, and one more answer comes after it.
    let (rotation, _) = run(vault.rotate_key(&passphrase, KdfParams::generate()?))?;
    assert_eq!(rotation.unreadable, 0);
    let mut after = ids[2].clone();
    after.id = RecordId::generate()?;
    after.prompt_id = "sample.after-rotation".into();
    after.captured_at_ms += 1_000;
    run(vault.insert(&after))?;
    let (backup, _) = run(vault.export_backup())?;
    let (export, _) = run(vault.export_json())?;
    std::fs::write(backup_path, backup)?;
    std::fs::write(export_path, export)?;
    Ok(())
}
