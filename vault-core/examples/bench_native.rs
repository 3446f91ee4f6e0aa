//! Native vault benchmarks for `cargo xtask bench` (prints one `BENCH_JSON` line).

use std::time::Instant;

use vault_core::crypto::envelope::{open_record, seal_record, RecordAad, RecordState};
use vault_core::crypto::kdf::derive_master_key;
use vault_core::record::encode_record;
use vault_core::{
    Answer, AnswerRecord, CardType, KdfParams, Namespace, Passphrase, RecordFlags, RecordId,
    VaultKey,
};

/// Calls `f` in batches of 1,000 for at least one second; returns calls per second.
fn per_second<E>(mut f: impl FnMut() -> Result<(), E>) -> Result<f64, E> {
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed().as_secs_f64() < 1.0 {
        for _ in 0..1000 {
            std::hint::black_box(f()?);
        }
        calls += 1000;
    }
    Ok(calls as f64 / start.elapsed().as_secs_f64())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let record = AnswerRecord {
        id: RecordId::generate()?,
        prompt_id: "style.length".into(),
        prompt_version: 1,
        card_type: CardType::Choice,
        answer: Answer::Choice {
            option: "short-with-details-on-request".into(),
        },
        namespace: Namespace::new("chatgpt")?,
        origin: Some(vault_core::Origin::from_url("https://chatgpt.com")?),
        page_context: None,
        captured_at_ms: 1_763_800_000_000,
        answer_latency_ms: 2_400,
        wait_duration_ms: 7_800,
        flags: RecordFlags::default(),
    };
    let plaintext = encode_record(&record);
    let key = VaultKey::generate()?;
    let clock = vault_core::Hlc {
        wall_ms: record.captured_at_ms,
        counter: 0,
        node: 1,
    };
    let aad = RecordAad::new(&record.namespace, &record.id, 1, &clock, RecordState::Live);

    let seals_per_s = per_second(|| seal_record(&key, &aad, &plaintext).map(drop))?;
    let env = seal_record(&key, &aad, &plaintext)?;
    let opens_per_s = per_second(|| open_record(&key, &aad, &env).map(drop))?;

    let params = KdfParams::generate()?;
    let pass = Passphrase::new("correct horse battery staple");
    let start = Instant::now();
    for _ in 0..3 {
        // Natively `derive_master_key` is the pure-Rust path (no WebCrypto to prefer).
        std::hint::black_box(vault_core::store::block_on(derive_master_key(
            &pass, &params,
        ))?);
    }
    let kdf_ms = start.elapsed().as_secs_f64() * 1000.0 / 3.0;

    // A key rotation over a year of answers (10,000): check the passphrase, seal the new
    // header (one key derivation each), then seal every entry again in one write.
    let lib = vault_core::cards::builtin();
    let answers = vault_core::graph::synthetic::answers(lib, 10_000, 1_700_000_000_000, 7);
    let (mut vault, _) = vault_core::store::block_on(vault_core::Vault::create(
        vault_core::MemoryStore::new(),
        &pass,
        KdfParams::generate()?,
    ))?;
    for r in &answers {
        vault_core::store::block_on(vault.insert(r))?;
    }
    let start = Instant::now();
    let (rotation, _) =
        vault_core::store::block_on(vault.rotate_key(&pass, KdfParams::generate()?))?;
    let rotate_ms = start.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(rotation.resealed, answers.len());

    println!(
        "BENCH_JSON {{\"native_seals_per_s\": {seals_per_s:.0}, \"native_opens_per_s\": {opens_per_s:.0}, \
         \"native_unlock_kdf_ms\": {kdf_ms:.1}, \"native_rotate_key_ms_10k\": {rotate_ms:.1}, \
         \"record_plaintext_bytes\": {}, \"record_envelope_bytes\": {}}}",
        plaintext.len(),
        env.as_bytes().len()
    );
    Ok(())
}
