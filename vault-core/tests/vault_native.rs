//! The vault end to end on the in-memory store: key hierarchy, records, change log, errors,
//! backup and export.

mod common;

use common::{sample_record, PASSPHRASE};
use vault_core::crypto::kdf::{KdfAlgorithm, DEFAULT_ITERATIONS, MIN_ITERATIONS};
use vault_core::record::{decode_record, encode_record};
use vault_core::store::{block_on as run, META_HEADER};
use vault_core::{
    Answer, CryptoError, KdfParams, MemoryStore, Namespace, Passphrase, RecordId, StoreError,
    StoredRecord, Vault, VaultError, VaultKey, VaultStore,
};

fn pass() -> Passphrase {
    Passphrase::new(PASSPHRASE)
}

fn new_vault() -> (Vault<MemoryStore>, MemoryStore) {
    let store = MemoryStore::new();
    let (vault, _) = run(Vault::create(
        store.clone(),
        &pass(),
        KdfParams::generate().unwrap(),
    ))
    .unwrap();
    (vault, store)
}

#[test]
fn create_unlock_and_read_back() {
    let (mut vault, store) = new_vault();
    let rec = sample_record(1);
    run(vault.put(&rec)).unwrap();
    let (vault2, auth2) = run(Vault::unlock(store.clone(), &pass())).unwrap();
    assert_eq!(run(vault2.get(&rec.id)).unwrap(), Some(rec.clone()));
    // The auth secret is stable across unlocks and differs from anything stored.
    let (_, auth3) = run(Vault::unlock(store, &pass())).unwrap();
    assert_eq!(auth2.to_credential(), auth3.to_credential());
    assert_eq!(vault2.header().kdf().iterations(), DEFAULT_ITERATIONS);
}

#[test]
fn unlock_listing_is_unlock_then_list() {
    let (mut vault, store) = new_vault();
    for i in 0..5 {
        run(vault.put(&sample_record(i))).unwrap();
    }
    let (plain, auth) = run(Vault::unlock(store.clone(), &pass())).unwrap();
    let want = run(plain.list()).unwrap();
    let (joined, auth2, got) = run(Vault::unlock_listing(store.clone(), &pass())).unwrap();
    assert_eq!(got.records, want.records);
    assert_eq!(got.records.len(), 5);
    assert!(got.failures.is_empty());
    assert_eq!(auth.to_credential(), auth2.to_credential());
    assert_eq!(run(joined.list()).unwrap().records, want.records);
    let err = run(Vault::unlock_listing(store, &Passphrase::new("not it")))
        .err()
        .expect("a wrong passphrase opens nothing");
    assert_eq!(err, VaultError::Crypto(CryptoError::WrongPassphrase));
}

#[test]
fn wrong_passphrase_is_reported_as_such() {
    let (_, store) = new_vault();
    let err = run(Vault::unlock(
        store,
        &Passphrase::new("correct horse battery stapler"),
    ))
    .err()
    .unwrap();
    assert_eq!(err, VaultError::Crypto(CryptoError::WrongPassphrase));
}

#[test]
fn short_passphrase_is_refused() {
    let err = run(Vault::create(
        MemoryStore::new(),
        &Passphrase::new("short"),
        KdfParams::generate().unwrap(),
    ))
    .err()
    .unwrap();
    assert_eq!(
        err,
        VaultError::WeakPassphrase(vault_core::crypto::PassphraseTooWeak)
    );
    // The one minimum (10 characters) and its message, for every front end.
    let nine = Passphrase::new("nine char");
    let err = run(Vault::create(
        MemoryStore::new(),
        &nine,
        KdfParams::generate().unwrap(),
    ))
    .err()
    .unwrap();
    assert!(err.to_string().contains("at least 10 characters"), "{err}");
    assert!(run(Vault::create(
        MemoryStore::new(),
        &Passphrase::new("ten chars!"),
        KdfParams::generate().unwrap(),
    ))
    .is_ok());
}

#[test]
fn no_vault_and_existing_vault_are_distinct_errors() {
    assert_eq!(
        run(Vault::unlock(MemoryStore::new(), &pass()))
            .err()
            .unwrap(),
        VaultError::NoVault
    );
    let (_, store) = new_vault();
    let err = run(Vault::create(
        store,
        &pass(),
        KdfParams::generate().unwrap(),
    ))
    .err()
    .unwrap();
    assert_eq!(err, VaultError::VaultExists);
}

#[test]
fn kdf_parameters_below_the_floor_are_refused() {
    let salt = KdfParams::generate().unwrap().salt().to_vec();
    assert!(matches!(
        KdfParams::new(KdfAlgorithm::Pbkdf2Sha256, MIN_ITERATIONS - 1, salt.clone()),
        Err(CryptoError::WeakKdf(_))
    ));
    // Parameters read from a header or a server are not built by `new`: the derivation
    // checks them again.
    let mut json = serde_json::to_value(KdfParams::generate().unwrap()).unwrap();
    json["iterations"] = (MIN_ITERATIONS - 1).into();
    let weak: KdfParams = serde_json::from_value(json).unwrap();
    assert_eq!(weak.iterations(), MIN_ITERATIONS - 1);
    let err = run(Vault::create(MemoryStore::new(), &pass(), weak))
        .err()
        .unwrap();
    assert!(
        matches!(err, VaultError::Crypto(CryptoError::WeakKdf(_))),
        "{err:?}"
    );
}

/// A hostile server or a corrupted file lowers the iteration count in a stored header and
/// even fixes up the checksum: unlocking refuses before deriving anything.
#[test]
fn downgraded_header_is_refused() {
    let (_, store) = new_vault();
    let bytes = run(store.get_meta(META_HEADER)).unwrap().unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["kdf"]["iterations"] = 1_000.into();
    let body = {
        let mut b = v.clone();
        b.as_object_mut().unwrap().remove("checksum");
        b
    };
    use sha2_shim::digest_hex;
    v["checksum"] = digest_hex(&serde_json::to_vec(&body).unwrap()).into();
    store.put_raw_meta(META_HEADER, serde_json::to_vec(&v).unwrap());
    let err = run(Vault::unlock(store, &pass())).err().unwrap();
    assert!(
        matches!(err, VaultError::Crypto(CryptoError::WeakKdf(_))),
        "{err:?}"
    );
}

/// A header with raised (still valid) cost but the original wrapped key no longer unwraps:
/// the parameters are bound into the wrap's associated data.
#[test]
fn altered_kdf_parameters_fail_to_unwrap() {
    let (_, store) = new_vault();
    let bytes = run(store.get_meta(META_HEADER)).unwrap().unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["kdf"]["iterations"] = (DEFAULT_ITERATIONS + 1).into();
    v.as_object_mut().unwrap().remove("checksum");
    v["checksum"] = sha2_shim::digest_hex(&serde_json::to_vec(&v).unwrap()).into();
    store.put_raw_meta(META_HEADER, serde_json::to_vec(&v).unwrap());
    let err = run(Vault::unlock(store, &pass())).err().unwrap();
    assert_eq!(err, VaultError::Crypto(CryptoError::WrongPassphrase));
}

#[test]
fn corrupted_header_is_not_reported_as_wrong_passphrase() {
    let (_, store) = new_vault();
    let mut bytes = run(store.get_meta(META_HEADER)).unwrap().unwrap();
    let pos = bytes.len() / 2;
    bytes[pos] ^= 0x01;
    store.put_raw_meta(META_HEADER, bytes);
    let err = run(Vault::unlock(store, &pass())).err().unwrap();
    assert!(matches!(err, VaultError::CorruptHeader(_)), "{err:?}");
}

#[test]
fn change_passphrase_rewraps_only_the_key() {
    let (mut vault, store) = new_vault();
    let rec = sample_record(2);
    run(vault.put(&rec)).unwrap();
    let before = run(store.get_record(&rec.id.to_string())).unwrap();
    let old_auth = run(Vault::unlock(store.clone(), &pass()))
        .unwrap()
        .1
        .to_credential();
    let new_pass = Passphrase::new("a completely different phrase");
    let new_auth = run(vault.change_passphrase(&new_pass, KdfParams::generate().unwrap())).unwrap();
    assert_ne!(old_auth, new_auth.to_credential());
    // Records untouched, byte for byte.
    assert_eq!(run(store.get_record(&rec.id.to_string())).unwrap(), before);
    let err = run(Vault::unlock(store.clone(), &pass())).err().unwrap();
    assert_eq!(err, VaultError::Crypto(CryptoError::WrongPassphrase));
    let (vault2, _) = run(Vault::unlock(store, &new_pass)).unwrap();
    assert_eq!(run(vault2.get(&rec.id)).unwrap(), Some(rec));
}

/// The rollback of a passphrase change the server refused: the previous header, byte for
/// byte, so the old passphrase opens and yields the auth secret the server still knows.
#[test]
fn restore_header_undoes_a_passphrase_change() {
    let (mut vault, store) = new_vault();
    let old_auth = run(Vault::unlock(store.clone(), &pass()))
        .unwrap()
        .1
        .to_credential();
    let previous = vault.header().clone();
    let new_pass = Passphrase::new("a completely different phrase");
    run(vault.change_passphrase(&new_pass, KdfParams::generate().unwrap())).unwrap();
    run(vault.restore_header(previous.clone())).unwrap();
    assert_eq!(vault.header(), &previous);
    assert_eq!(
        run(store.get_meta(META_HEADER)).unwrap(),
        Some(previous.encode())
    );
    let (_, auth) = run(Vault::unlock(store.clone(), &pass())).unwrap();
    assert_eq!(auth.to_credential(), old_auth);
    assert!(run(Vault::unlock(store, &new_pass)).is_err());
    // Another vault's header is refused: it would lock this vault's key away.
    let (other, _) = new_vault();
    let err = run(vault.restore_header(other.header().clone()))
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            VaultError::Invalid {
                field: "header",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(vault.header(), &previous);
}

#[test]
fn writes_and_deletes_feed_the_change_log() {
    let (mut vault, _) = new_vault();
    let a = sample_record(1);
    let mut b = sample_record(2);
    let ca = run(vault.put(&a)).unwrap();
    run(vault.put(&b)).unwrap();
    b.answer = Answer::Choice {
        option: "long".into(),
    };
    let cb2 = run(vault.put(&b)).unwrap();
    assert_eq!(cb2.version, 2);
    let pending = run(vault.pending_changes()).unwrap();
    assert_eq!(pending.len(), 2, "edits of one record coalesce");
    assert!(pending[0].hlc < pending[1].hlc);
    // Ack a; delete b after its change was pushed but before the ack: b stays pending.
    let pushed = pending.clone();
    let tomb = run(vault.delete(&b.id)).unwrap();
    assert!(tomb.deleted && tomb.version == 3 && tomb.hlc > cb2.hlc);
    run(vault.ack_changes(&pushed)).unwrap();
    let left = run(vault.pending_changes()).unwrap();
    assert_eq!(left, vec![tomb]);
    assert!(ca.hlc < left[0].hlc);
    assert_eq!(run(vault.get(&b.id)).unwrap(), None);
    assert_eq!(run(vault.list()).unwrap().records, vec![a]);
    let missing = RecordId::generate().unwrap();
    assert_eq!(
        run(vault.delete(&missing)).err().unwrap(),
        VaultError::NotFound(missing.to_string())
    );
}

#[test]
fn insert_refuses_an_existing_id_and_writes_nothing() {
    let (mut vault, _) = new_vault();
    let rec = sample_record(1);
    assert_eq!(run(vault.insert(&rec)).unwrap().version, 1);
    let err = run(vault.insert(&rec)).err().unwrap();
    assert!(
        matches!(err, VaultError::Store(StoreError::Exists { .. })),
        "{err:?}"
    );
    assert_eq!(run(vault.pending_changes()).unwrap().len(), 1);
    assert_eq!(run(vault.get(&rec.id)).unwrap(), Some(rec));
}

#[test]
fn clock_stays_monotonic_across_unlocks() {
    let (mut vault, store) = new_vault();
    let c1 = run(vault.put(&sample_record(1))).unwrap();
    drop(vault);
    let (mut vault, _) = run(Vault::unlock(store, &pass())).unwrap();
    let c2 = run(vault.put(&sample_record(2))).unwrap();
    assert!(c2.hlc > c1.hlc);
    assert_eq!(c2.hlc.node, c1.hlc.node, "the device id persists");
    // Once every change is acked, the persisted clock alone keeps it monotonic.
    let pending = run(vault.pending_changes()).unwrap();
    run(vault.ack_changes(&pending)).unwrap();
    assert!(run(vault.pending_changes()).unwrap().is_empty());
    let store = vault.lock();
    let (mut vault, _) = run(Vault::unlock(store, &pass())).unwrap();
    let c3 = run(vault.put(&sample_record(3))).unwrap();
    assert!(c3.hlc > c2.hlc);
}

fn stored(store: &MemoryStore, id: &RecordId) -> StoredRecord {
    let key = id.to_string();
    StoredRecord::decode(&key, &run(store.get_record(&key)).unwrap().unwrap()).unwrap()
}

#[test]
fn damaged_entries_cost_only_themselves() {
    let (mut vault, store) = new_vault();
    let recs: Vec<_> = (0..5).map(sample_record).collect();
    for r in &recs {
        run(vault.put(r)).unwrap();
    }
    // 0: garbage bytes; 1: one flipped ciphertext bit; 2: truncated envelope;
    // 3: moved to another namespace; 4: untouched.
    store.put_raw_record(&recs[0].id.to_string(), b"\x00not json".to_vec());
    let mut s1 = stored(&store, &recs[1].id);
    let env = s1.envelope.as_mut().unwrap();
    let last = env.len() - 1;
    env[last] ^= 0x80;
    store.put_raw_record(&s1.key(), s1.encode());
    let mut s2 = stored(&store, &recs[2].id);
    s2.envelope.as_mut().unwrap().truncate(30);
    store.put_raw_record(&s2.key(), s2.encode());
    let mut s3 = stored(&store, &recs[3].id);
    s3.namespace = Namespace::new("gemini-moved").unwrap();
    store.put_raw_record(&s3.key(), s3.encode());

    let listing = run(vault.list()).unwrap();
    assert_eq!(listing.records, vec![recs[4].clone()]);
    let err_of = |id: &RecordId| {
        listing
            .failures
            .iter()
            .find(|f| f.key == id.to_string())
            .map(|f| f.error.clone())
            .unwrap()
    };
    assert!(matches!(
        err_of(&recs[0].id),
        VaultError::Store(StoreError::Corrupt { .. })
    ));
    assert_eq!(
        err_of(&recs[1].id),
        VaultError::Crypto(CryptoError::Tampered)
    );
    assert!(matches!(
        err_of(&recs[2].id),
        VaultError::Crypto(CryptoError::Truncated { len: 30, .. })
    ));
    assert_eq!(
        err_of(&recs[3].id),
        VaultError::Crypto(CryptoError::Tampered)
    );
}

#[test]
fn replayed_older_version_fails_to_open() {
    let (mut vault, store) = new_vault();
    let mut rec = sample_record(1);
    run(vault.put(&rec)).unwrap();
    let v1 = stored(&store, &rec.id);
    rec.answer = Answer::Choice {
        option: "changed".into(),
    };
    run(vault.put(&rec)).unwrap();
    // Replay: the old ciphertext presented as the current version.
    let mut replay = v1.clone();
    replay.version = 2;
    store.put_raw_record(&replay.key(), replay.encode());
    assert_eq!(
        run(vault.get(&rec.id)).err().unwrap(),
        VaultError::Crypto(CryptoError::Tampered)
    );
    // Swap: another record's ciphertext under this id.
    let other = sample_record(3);
    run(vault.put(&other)).unwrap();
    let mut swapped = stored(&store, &other.id);
    swapped.id = rec.id;
    swapped.namespace = rec.namespace.clone();
    store.put_raw_record(&rec.id.to_string(), swapped.encode());
    assert_eq!(
        run(vault.get(&rec.id)).err().unwrap(),
        VaultError::Crypto(CryptoError::Tampered)
    );
}

#[test]
fn unknown_envelope_version_has_its_own_error() {
    let (mut vault, store) = new_vault();
    let rec = sample_record(1);
    run(vault.put(&rec)).unwrap();
    let mut s = stored(&store, &rec.id);
    s.envelope.as_mut().unwrap()[0] = 9;
    store.put_raw_record(&s.key(), s.encode());
    assert_eq!(
        run(vault.get(&rec.id)).err().unwrap(),
        VaultError::Crypto(CryptoError::UnknownEnvelopeVersion(9))
    );
}

#[test]
fn invalid_records_are_refused_before_writing() {
    let (mut vault, _) = new_vault();
    let mut rec = sample_record(1);
    rec.answer = Answer::Scale {
        value: 9,
        min: 1,
        max: 5,
    };
    rec.card_type = vault_core::CardType::Scale;
    assert!(matches!(
        run(vault.put(&rec)).err().unwrap(),
        VaultError::Invalid {
            field: "answer",
            ..
        }
    ));
    rec.answer = Answer::YesNo { value: true };
    assert!(matches!(
        run(vault.put(&rec)).err().unwrap(),
        VaultError::Invalid {
            field: "answer",
            ..
        }
    ));
    assert!(run(vault.pending_changes()).unwrap().is_empty());
}

#[test]
fn schema_1_records_migrate_and_future_schemas_are_refused() {
    let v1 = serde_json::json!({
        "schema": 1,
        "id": "00112233445566778899aabbccddeeff",
        "prompt_id": "style.tone",
        "prompt_version": 3,
        "card_type": "scale",
        "answer": {"kind": "scale", "value": 4, "min": 1, "max": 5},
        "agent": "claude",
        "page_url": "https://claude.ai/chat/5f1c?ref=x#frag",
        "captured_at_ms": 1_700_000_000_000u64,
        "latency_ms": 1800,
        "flags": ["retry"]
    });
    let rec = decode_record(&serde_json::to_vec(&v1).unwrap()).unwrap();
    assert_eq!(rec.namespace.as_str(), "claude");
    assert_eq!(rec.origin.unwrap().as_str(), "https://claude.ai");
    assert_eq!(rec.answer_latency_ms, 1800);
    assert_eq!(rec.wait_duration_ms, 0);
    assert!(rec.flags.retry_after_ai_failure && !rec.flags.dismissed);

    let mut future: serde_json::Value =
        serde_json::from_slice(&encode_record(&sample_record(1))).unwrap();
    future["schema"] = 99.into();
    let err = decode_record(&serde_json::to_vec(&future).unwrap())
        .err()
        .unwrap();
    assert_eq!(
        err,
        VaultError::UnknownSchemaVersion {
            found: 99,
            supported: 2
        }
    );
}

#[test]
fn origin_keeps_no_path() {
    use vault_core::Origin;
    assert_eq!(
        Origin::from_url("HTTPS://user:pw@Chat.OpenAI.com:8443/c/abc?q=1")
            .unwrap()
            .as_str(),
        "https://chat.openai.com:8443"
    );
    assert!(Origin::from_url("file:///etc/passwd").is_err());
    assert!(Origin::from_url("javascript:alert(1)").is_err());
    assert!(serde_json::from_str::<Origin>("\"https://a.com/path\"").is_err());
}

#[test]
fn backup_round_trip_is_lossless() {
    let (mut vault, _) = new_vault();
    let recs: Vec<_> = (0..20).map(sample_record).collect();
    for r in &recs {
        run(vault.put(r)).unwrap();
    }
    run(vault.delete(&recs[3].id)).unwrap();
    let (backup, failures) = run(vault.export_backup()).unwrap();
    assert!(failures.is_empty());
    // Wrong passphrase: refused, nothing written.
    let target = MemoryStore::new();
    let err = run(Vault::restore_backup(
        target.clone(),
        &backup,
        &Passphrase::new("not the passphrase"),
    ))
    .err()
    .unwrap();
    assert_eq!(err, VaultError::Crypto(CryptoError::WrongPassphrase));
    assert!(run(target.get_meta(META_HEADER)).unwrap().is_none());

    let (restored, report) = run(Vault::restore_backup(target.clone(), &backup, &pass())).unwrap();
    assert_eq!(report.imported, 20);
    assert!(report.failures.is_empty());
    assert_eq!(
        run(restored.list()).unwrap().records,
        run(vault.list()).unwrap().records
    );
    let (a, _) = run(vault.stored_entries()).unwrap();
    let (b, _) = run(restored.stored_entries()).unwrap();
    assert_eq!(
        a, b,
        "ciphertexts restored byte for byte, tombstone included"
    );
    // The restored vault opens with the passphrase on its own.
    let (_, _) = run(Vault::unlock(target, &pass())).unwrap();
}

#[test]
fn tampered_backup_entries_are_reported_not_fatal() {
    let (mut vault, _) = new_vault();
    for r in (0..3).map(sample_record) {
        run(vault.put(&r)).unwrap();
    }
    let (backup, _) = run(vault.export_backup()).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&backup).unwrap();
    v["records"][1]["namespace"] = "elsewhere".into();
    let (restored, report) = run(Vault::restore_backup(
        MemoryStore::new(),
        &serde_json::to_vec(&v).unwrap(),
        &pass(),
    ))
    .unwrap();
    assert_eq!(report.imported, 2);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(run(restored.list()).unwrap().records.len(), 2);
    assert!(matches!(
        run(Vault::restore_backup(
            MemoryStore::new(),
            b"{\"format\":\"zip\"}",
            &pass()
        ))
        .err()
        .unwrap(),
        VaultError::BadFile { .. }
    ));
}

#[test]
fn json_export_round_trip_is_lossless() {
    let (mut vault, _) = new_vault();
    let mut recs: Vec<_> = (0..10).map(sample_record).collect();
    recs[1].answer = Answer::ShortText {
        text: "Rust, \"quoted\", ünïcode ✓".into(),
    };
    recs[1].card_type = vault_core::CardType::ShortText;
    recs[2].page_context = Some("borrow checker lifetimes".into());
    for r in &recs {
        run(vault.put(r)).unwrap();
    }
    let (json, _) = run(vault.export_json()).unwrap();
    let (mut other, _) = new_vault();
    let report = run(other.import_json(&json)).unwrap();
    assert_eq!(
        (report.imported, report.unchanged, report.failures.len()),
        (10, 0, 0)
    );
    assert_eq!(
        run(other.list()).unwrap().records,
        run(vault.list()).unwrap().records
    );
    // Importing again changes nothing.
    let again = run(other.import_json(&json)).unwrap();
    assert_eq!((again.imported, again.unchanged), (0, 10));
    // A broken item is reported; the rest import.
    let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    v["records"][0]["namespace"] = "NOT VALID".into();
    let (mut third, _) = new_vault();
    let r3 = run(third.import_json(&serde_json::to_vec(&v).unwrap())).unwrap();
    assert_eq!((r3.imported, r3.failures.len()), (9, 1));
}

#[test]
fn keys_never_print() {
    let (vault, _) = new_vault();
    let shown = format!("{:?} {:?}", vault.session_key(), pass());
    assert_eq!(shown, "VaultKey([redacted]) Passphrase([redacted])");
}

#[test]
fn destroy_erases_everything() {
    let (mut vault, store) = new_vault();
    run(vault.put(&sample_record(1))).unwrap();
    run(vault.destroy()).unwrap();
    assert!(run(store.scan_records()).unwrap().is_empty());
    assert_eq!(
        run(Vault::unlock(store, &pass())).err().unwrap(),
        VaultError::NoVault
    );
}

mod sha2_shim {
    /// SHA-256 hex via the same crate the header uses (re-exported for tests).
    pub fn digest_hex(bytes: &[u8]) -> String {
        vault_core::crypto::sha256_hex(bytes)
    }
}

/// Issue 17 item 9, on a vault without a server: a rotation seals every entry again (records
/// and tombstones, each as its next version, queued to sync) under a new key, in one write
/// with the header; an entry sealed under the replaced key (another device's, written before
/// it learned of the rotation) still opens; a passphrase change afterwards keeps the replaced
/// key; a wrong passphrase changes nothing.
#[test]
fn rotating_the_key_reseals_everything_and_keeps_the_old_key_for_late_entries() {
    let (mut vault, store) = new_vault();
    let kept = sample_record(1);
    let gone = sample_record(2);
    run(vault.insert(&kept)).unwrap();
    run(vault.insert(&gone)).unwrap();
    run(vault.delete(&gone.id)).unwrap();
    let (before, _) = run(vault.stored_entries()).unwrap();
    let late = before.iter().find(|e| e.id == kept.id).unwrap().clone();
    let header = vault.header().clone();
    let late_key = vault.session_key().to_dangerous_bytes();
    // Content under the vault key that is not a record (the web app's snapshots).
    let kind = vault_core::crypto::ContentKind::InstructionSnapshots;
    let content = b"[{\"agent\":\"claude\"}]";
    let sealed =
        vault_core::crypto::envelope::seal_content(vault.session_key(), kind, content).unwrap();
    store.put_raw_meta(kind.meta_key(), sealed.into_bytes());

    let wrong = run(vault.rotate_key(
        &Passphrase::new("not the passphrase"),
        KdfParams::generate().unwrap(),
    ))
    .err();
    assert_eq!(
        wrong,
        Some(VaultError::Crypto(CryptoError::WrongPassphrase))
    );
    assert_eq!(vault.header(), &header);

    let (rotation, _) = run(vault.rotate_key(&pass(), KdfParams::generate().unwrap())).unwrap();
    assert_eq!((rotation.resealed, rotation.unreadable), (2, 0));
    assert_eq!(vault.header().rotations(), 1);
    assert_ne!(
        vault.header().wrapped_vault_key(),
        header.wrapped_vault_key()
    );
    let (after, _) = run(vault.stored_entries()).unwrap();
    for old in &before {
        let new = after.iter().find(|e| e.id == old.id).unwrap();
        assert_eq!(new.version, old.version + 1, "the next version");
        assert!(new.hlc > old.hlc, "a new clock");
        assert_eq!(new.deleted, old.deleted, "a tombstone stays one");
        assert_ne!(new.envelope, old.envelope);
    }
    let pending = run(vault.pending_changes()).unwrap();
    assert_eq!(pending.len(), 2, "both queued to sync");
    assert_eq!(run(vault.get(&kept.id)).unwrap(), Some(kept.clone()));
    assert_eq!(run(vault.get(&gone.id)).unwrap(), None);
    // The content moved to the new key with the records.
    let moved = run(store.get_meta(kind.meta_key())).unwrap().unwrap();
    let moved = vault_core::crypto::Envelope::parse(moved).unwrap();
    let opened =
        vault_core::crypto::envelope::open_content(vault.session_key(), kind, &moved).unwrap();
    assert_eq!(opened.as_slice(), content);
    // Under the replaced key: still opens (the header keeps it).
    assert_eq!(vault.open(&late).unwrap(), Some(kept.clone()));

    // A key held for a session from before the rotation no longer resumes: unlock again.
    let stale = VaultKey::from_dangerous_bytes(late_key.as_slice()).unwrap();
    assert_eq!(
        run(Vault::resume(store.clone(), stale)).err(),
        Some(VaultError::StaleKey)
    );
    let current =
        VaultKey::from_dangerous_bytes(vault.session_key().to_dangerous_bytes().as_slice())
            .unwrap();
    assert!(run(Vault::resume(store.clone(), current)).is_ok());
    // The store holds the rotation: unlocking again reads it, the late entry included.
    let (again, _) = run(Vault::unlock(store.clone(), &pass())).unwrap();
    assert_eq!(again.header(), vault.header());
    assert_eq!(again.open(&late).unwrap(), Some(kept.clone()));
    // A passphrase change keeps the replaced key.
    let new_pass = Passphrase::new("a completely different phrase");
    run(vault.change_passphrase(&new_pass, KdfParams::generate().unwrap())).unwrap();
    assert_eq!(vault.header().rotations(), 1);
    let (changed, _) = run(Vault::unlock(store, &new_pass)).unwrap();
    assert_eq!(changed.open(&late).unwrap(), Some(kept));
}
