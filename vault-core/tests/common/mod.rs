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

/// A fresh device of one shared vault: an empty memory store holding the vault's header,
/// resumed with its key. The vault is created once per test binary, because PBKDF2 at full
/// cost is too slow to run per property-test case.
#[cfg(not(target_arch = "wasm32"))]
pub fn device() -> vault_core::Vault<vault_core::MemoryStore> {
    use std::sync::OnceLock;
    use vault_core::store::{block_on, META_HEADER};
    use vault_core::{KdfParams, MemoryStore, Passphrase, Vault, VaultKey, VaultStore};
    static FIXTURE: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    let (header, key) = FIXTURE.get_or_init(|| {
        let store = MemoryStore::new();
        let pass = Passphrase::new(PASSPHRASE);
        let (vault, _) = block_on(Vault::create(
            store.clone(),
            &pass,
            KdfParams::generate().unwrap(),
        ))
        .unwrap();
        let key = vault.session_key().to_dangerous_bytes().to_vec();
        (block_on(store.get_meta(META_HEADER)).unwrap().unwrap(), key)
    });
    let store = MemoryStore::new();
    store.put_raw_meta(META_HEADER, header.clone());
    block_on(Vault::resume(
        store,
        VaultKey::from_dangerous_bytes(key).unwrap(),
    ))
    .unwrap()
}
