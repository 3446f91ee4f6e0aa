//! Test bodies run in headless Chromium, both in a page and in a service worker (see
//! browser_page.rs and browser_worker.rs). Nothing here may use `window`.
#![allow(dead_code)]

use js_sys::Uint8Array;
use vault_core::crypto::envelope::{self, Envelope, RecordAad, RecordState};
use vault_core::crypto::hazmat::{
    derive_master_key_rust, pbkdf2_sha256, webcrypto_aes_gcm_decrypt, webcrypto_aes_gcm_encrypt,
    webcrypto_available, webcrypto_hkdf_sha256, webcrypto_pbkdf2_sha256,
};
use vault_core::store::indexeddb::IndexedDbStore;
use vault_core::{
    CryptoError, KdfParams, Passphrase, RecordId, StoreError, Vault, VaultError, VaultKey,
};
use wasm_bindgen::JsValue;

use crate::common::{sample_record, PASSPHRASE};

/// Declares the `#[wasm_bindgen_test]` wrappers for every test body here, once, for both the
/// page and the service-worker binaries (each configures where it runs, then calls this).
#[macro_export]
macro_rules! browser_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[wasm_bindgen_test::wasm_bindgen_test]
            async fn $name() {
                browser::$name().await;
            }
        )*
    };
}

fn unique_db(prefix: &str) -> String {
    format!("{prefix}-{}", RecordId::generate().unwrap())
}

/// The IndexedDB store under the real vault: create, write, delete, reopen, unlock, read,
/// change log, and damaged entries that cost only themselves.
pub async fn indexeddb_vault_round_trip() {
    let name = unique_db("selfos-test");
    let store = IndexedDbStore::open(&name).await.unwrap();
    let (mut vault, _) = Vault::create(
        store,
        &Passphrase::new(PASSPHRASE),
        KdfParams::generate().unwrap(),
    )
    .await
    .unwrap();
    let recs: Vec<_> = (0..6).map(sample_record).collect();
    for r in &recs {
        vault.insert(r).await.unwrap();
    }
    // Inserting an existing id is refused; editing bumps the version in one transaction.
    let err = vault.insert(&recs[0]).await.err().unwrap();
    assert!(
        matches!(err, VaultError::Store(StoreError::Exists { .. })),
        "{err:?}"
    );
    let mut edited = recs[1].clone();
    edited.answer_latency_ms += 1;
    assert_eq!(vault.put(&edited).await.unwrap().version, 2);
    vault.delete(&recs[5].id).await.unwrap();
    vault.lock().close();

    // Reopen the database from scratch, as a restarted service worker would.
    let store = IndexedDbStore::open(&name).await.unwrap();
    let err = Vault::unlock(store, &Passphrase::new("not my passphrase"))
        .await
        .err()
        .unwrap();
    assert_eq!(err, VaultError::Crypto(CryptoError::WrongPassphrase));
    let store = IndexedDbStore::open(&name).await.unwrap();
    let (mut vault, _) = Vault::unlock(store, &Passphrase::new(PASSPHRASE))
        .await
        .unwrap();
    let listing = vault.list().await.unwrap();
    assert_eq!(listing.records.len(), 5);
    assert!(listing.failures.is_empty());
    assert_eq!(vault.get(&recs[0].id).await.unwrap(), Some(recs[0].clone()));
    assert_eq!(vault.get(&recs[1].id).await.unwrap(), Some(edited));
    assert_eq!(vault.get(&recs[5].id).await.unwrap(), None, "deleted");

    let pending = vault.pending_changes().await.unwrap();
    assert_eq!(pending.len(), 6);
    assert!(pending.iter().any(|c| c.deleted && c.id == recs[5].id));
    vault.ack_changes(&pending[..3]).await.unwrap();
    assert_eq!(vault.pending_changes().await.unwrap().len(), 3);

    // Damage two entries behind the vault's back: a value that is not bytes, and bytes that
    // are not an entry. The other records still open.
    let raw = vault.store();
    raw.put_raw(
        "records",
        &recs[0].id.to_string(),
        &JsValue::from_str("oops"),
    )
    .await
    .unwrap();
    raw.put_raw(
        "records",
        &recs[1].id.to_string(),
        &Uint8Array::from(&b"{garbage"[..]).into(),
    )
    .await
    .unwrap();
    let listing = vault.list().await.unwrap();
    assert_eq!(listing.records.len(), 3);
    assert_eq!(listing.failures.len(), 2);
    for f in &listing.failures {
        assert!(
            matches!(f.error, VaultError::Store(StoreError::Corrupt { .. })),
            "{:?}",
            f.error
        );
    }
    vault.destroy().await.unwrap().close();
    IndexedDbStore::delete(&name).await.unwrap();
}

/// In a browser too, a passphrase is keyed in NFC (JavaScript's normalize): typed composed
/// or decomposed, the same key (docs/FORMAT.md §1).
pub async fn passphrases_are_keyed_in_nfc() {
    let params = KdfParams::generate().unwrap();
    let key = |s: &'static str| {
        let params = params.clone();
        async move {
            vault_core::crypto::kdf::derive_master_key(&Passphrase::new(s), &params)
                .await
                .unwrap()
                .auth_secret()
                .to_credential()
        }
    };
    let composed = key("cr\u{e8}me br\u{fb}l\u{e9}e forever").await;
    assert_eq!(
        composed,
        key("cre\u{300}me bru\u{302}le\u{301}e forever").await
    );
    assert_ne!(composed, key("creme brulee forever").await);
}

/// WebCrypto's deriveBits and the pure-Rust fallback give the same master key.
pub async fn webcrypto_and_rust_kdf_agree() {
    assert!(webcrypto_available(), "crypto.subtle missing");
    // Published vector first (RFC 7914 style, c = 4096), then a full-cost derivation.
    let web = webcrypto_pbkdf2_sha256(b"password", b"salt", 4096)
        .await
        .unwrap();
    assert_eq!(web, pbkdf2_sha256(b"password", b"salt", 4096));
    let params = KdfParams::generate().unwrap();
    let pass = Passphrase::new("ünïcode passphrase ✓ with spaces");
    let a = vault_core::crypto::kdf::derive_master_key(&pass, &params)
        .await
        .unwrap();
    let b = derive_master_key_rust(&pass, &params).unwrap();
    // Compare via a derived value: master keys cannot be read out, by design.
    assert_eq!(
        a.auth_secret().to_credential(),
        b.auth_secret().to_credential()
    );
}

fn random<const N: usize>() -> [u8; N] {
    vault_core::crypto::random::bytes::<N>().unwrap()
}

/// Rust seals, WebCrypto opens (following docs/FORMAT.md), and the reverse.
pub async fn webcrypto_interop() {
    let vk = VaultKey::generate().unwrap();
    let raw_vk = vk.to_dangerous_bytes();
    let rec = sample_record(7);
    let clock = vault_core::Hlc {
        wall_ms: 1_763_800_000_000,
        counter: 1,
        node: 42,
    };
    let aad = RecordAad::new(&rec.namespace, &rec.id, 3, &clock, RecordState::Live);
    let plaintext = vault_core::record::encode_record(&rec);

    // Rust -> WebCrypto.
    let env = envelope::seal_record(&vk, &aad, &plaintext).unwrap();
    let b = env.as_bytes();
    assert_eq!(b[0], 2);
    let (salt, nonce, ct) = (&b[1..33], &b[33..45], &b[45..]);
    let ck = webcrypto_hkdf_sha256(raw_vk.as_ref(), salt, b"selfos/v2/record")
        .await
        .unwrap();
    let opened = webcrypto_aes_gcm_decrypt(&ck, nonce, aad.as_bytes(), ct)
        .await
        .unwrap();
    assert_eq!(opened, plaintext);
    // WebCrypto refuses it under another record version's associated data.
    let other = RecordAad::new(&rec.namespace, &rec.id, 4, &clock, RecordState::Live);
    assert_eq!(
        webcrypto_aes_gcm_decrypt(&ck, nonce, other.as_bytes(), ct)
            .await
            .err(),
        Some(CryptoError::Tampered)
    );

    // Content (not a record) follows FORMAT.md too: its own label and associated data.
    let kind = envelope::ContentKind::InstructionSnapshots;
    let env = envelope::seal_content(&vk, kind, b"[]").unwrap();
    let b = env.as_bytes();
    let ck = webcrypto_hkdf_sha256(raw_vk.as_ref(), &b[1..33], b"selfos/v1/content")
        .await
        .unwrap();
    let content_aad = envelope::ContentAad::new(kind);
    let opened = webcrypto_aes_gcm_decrypt(&ck, &b[33..45], content_aad.as_bytes(), &b[45..])
        .await
        .unwrap();
    assert_eq!(opened, b"[]");

    // WebCrypto -> Rust.
    let salt: [u8; 32] = random();
    let nonce: [u8; 12] = random();
    let ck = webcrypto_hkdf_sha256(raw_vk.as_ref(), &salt, b"selfos/v2/record")
        .await
        .unwrap();
    let ct = webcrypto_aes_gcm_encrypt(&ck, &nonce, aad.as_bytes(), &plaintext)
        .await
        .unwrap();
    let mut bytes = vec![2u8];
    bytes.extend_from_slice(&salt);
    bytes.extend_from_slice(&nonce);
    bytes.extend_from_slice(&ct);
    let env = Envelope::parse(bytes).unwrap();
    let opened = envelope::open_record(&vk, &aad, &env).unwrap();
    assert_eq!(&opened[..], &plaintext[..]);
    assert_eq!(vault_core::record::decode_record(&opened).unwrap(), rec);
}

/// Sync merge on IndexedDB: a second device's changes applied, a concurrent edit kept as a
/// conflict (conflicts store, pending removal in one transaction), then resolved.
pub async fn indexeddb_sync_merge() {
    use vault_core::store::{MemoryStore, VaultStore, META_HEADER};
    use vault_core::sync::Keep;
    let name = unique_db("selfos-sync");
    let store = IndexedDbStore::open(&name).await.unwrap();
    let (mut a, _) = Vault::create(
        store,
        &Passphrase::new(PASSPHRASE),
        KdfParams::generate().unwrap(),
    )
    .await
    .unwrap();
    // Device b: same vault (header and key), its own memory store.
    let b_store = MemoryStore::new();
    b_store.put_raw_meta(
        META_HEADER,
        a.store().get_meta(META_HEADER).await.unwrap().unwrap(),
    );
    let key =
        VaultKey::from_dangerous_bytes(a.session_key().to_dangerous_bytes().as_ref()).unwrap();
    let mut b = Vault::resume(b_store, key).await.unwrap();

    let rec = sample_record(1);
    b.insert(&rec).await.unwrap();
    let (entries, changes) = b.outgoing().await.unwrap();
    b.ack_changes(&changes).await.unwrap();
    let report = a.apply_remote(entries).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (1, 0));
    assert_eq!(a.get(&rec.id).await.unwrap(), Some(rec.clone()));

    // Concurrent edits; b's is later, so it wins and a keeps its own edit as the conflict.
    let mut from_a = rec.clone();
    from_a.answer = vault_core::Answer::Choice {
        option: "from-a".into(),
    };
    let mut from_b = rec.clone();
    from_b.answer = vault_core::Answer::Choice {
        option: "from-b".into(),
    };
    a.put(&from_a).await.unwrap();
    b.put(&from_b).await.unwrap();
    let (entries, _) = b.outgoing().await.unwrap();
    let report = a.apply_remote(entries).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (1, 1));
    assert_eq!(a.get(&rec.id).await.unwrap(), Some(from_b));
    assert!(
        a.pending_changes().await.unwrap().is_empty(),
        "the losing edit left the queue"
    );
    let (conflicts, _) = a.conflicts().await.unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].losing, Some(from_a.clone()));
    a.resolve_conflict(&conflicts[0].key.clone(), Keep::Losing)
        .await
        .unwrap();
    assert_eq!(a.get(&rec.id).await.unwrap(), Some(from_a));
    assert!(a.conflicts().await.unwrap().0.is_empty());
    a.destroy().await.unwrap().close();
    IndexedDbStore::delete(&name).await.unwrap();
}

/// The sync engine in the browser: `fetch` to a real `selfos serve` process (started by
/// `cargo xtask test`, address baked in at build time as `SELFOS_TEST_SERVER`). A vault on
/// IndexedDB registers, captures and syncs; a second device logs in with the passphrase
/// alone, joins, syncs and sees the same answers; a delete travels back.
pub async fn sync_through_a_real_server() {
    use vault_core::sync::transport::FetchTransport;
    use vault_core::sync::{sync, Client};
    let Some(server) = option_env!("SELFOS_TEST_SERVER") else {
        assert!(
            option_env!("SELFOS_REQUIRE_SERVER").is_none(),
            "SELFOS_REQUIRE_SERVER set without SELFOS_TEST_SERVER"
        );
        wasm_bindgen_test::console_log!(
            "sync_through_a_real_server skipped: no SELFOS_TEST_SERVER"
        );
        return;
    };
    let client = Client::new(FetchTransport::new(server).unwrap());
    let user = format!("u{}", &RecordId::generate().unwrap().to_string()[..12]);
    let pass = Passphrase::new(PASSPHRASE);
    let store = IndexedDbStore::open(&unique_db("selfos-sync"))
        .await
        .unwrap();
    let (mut a, auth) = Vault::create(store, &pass, KdfParams::generate().unwrap())
        .await
        .unwrap();
    client.register(&user, a.header(), &auth).await.unwrap();
    let (session_a, _) = client.login(&user, &auth, "browser a").await.unwrap();
    let recs: Vec<_> = (0..3).map(sample_record).collect();
    for r in &recs {
        a.insert(r).await.unwrap();
    }
    let report = sync(&mut a, &client, &session_a).await.unwrap();
    assert_eq!(report.pushed, 3);
    assert!(
        a.pending_changes().await.unwrap().is_empty(),
        "acknowledged"
    );

    // Wrong passphrase on a new device: a clear error, nothing created.
    let wrong = client
        .login_with_passphrase(&user, &Passphrase::new("not the passphrase"), "b")
        .await
        .err()
        .unwrap();
    assert!(
        matches!(wrong, vault_core::sync::SyncError::BadCredentials),
        "{wrong:?}"
    );

    let store_b = IndexedDbStore::open(&unique_db("selfos-sync-b"))
        .await
        .unwrap();
    let (session_b, header) = client
        .login_with_passphrase(&user, &pass, "browser b")
        .await
        .unwrap();
    let (mut b, _) = Vault::join(store_b, header, &pass).await.unwrap();
    let report = sync(&mut b, &client, &session_b).await.unwrap();
    assert_eq!((report.pulled, report.applied), (3, 3));
    let mut got: Vec<_> = b.list().await.unwrap().records;
    got.sort_by_key(|r| r.id.to_string());
    let mut want = recs.clone();
    want.sort_by_key(|r| r.id.to_string());
    assert_eq!(got, want);

    b.delete(&recs[0].id).await.unwrap();
    sync(&mut b, &client, &session_b).await.unwrap();
    sync(&mut a, &client, &session_a).await.unwrap();
    assert_eq!(
        a.list().await.unwrap().records.len(),
        2,
        "the delete reached device a"
    );

    // A dead server: the engine says offline (retryable) and loses nothing.
    let dead = Client::new(FetchTransport::new("http://127.0.0.1:9").unwrap());
    a.insert(&sample_record(9)).await.unwrap();
    let err = sync(&mut a, &dead, &session_a).await.err().unwrap();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(a.pending_changes().await.unwrap().len(), 1, "still queued");
}
