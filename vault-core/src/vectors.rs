//! Known-answer tests: published vectors for the primitives, and SelfOS's own vectors for the
//! key hierarchy, the envelope and a whole backup (`tests/vectors/`, documented in
//! docs/FORMAT.md). Set `SELFOS_REGEN_VECTORS=1` to rewrite the SelfOS files after an
//! intentional format change; normally they are compared byte for byte.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use serde_json::{json, Value};

use crate::crypto::envelope::{
    self, content_key, seal_with, ContentAad, ContentKind, LegacyRecordAad, PreviousKeyAad,
    Purpose, RecordAad, RecordState, WrapAad,
};
use crate::crypto::kdf::{pbkdf2_sha256, KdfAlgorithm, KdfParams, Passphrase};
use crate::crypto::keys::{MasterKey, VaultKey};
use crate::record::{
    encode_record, Answer, AnswerRecord, CardType, Namespace, Origin, RecordFlags, RecordId,
};
use crate::store::{block_on as run, MemoryStore, StoredRecord};
use crate::{Hlc, Vault};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test vector hex")
}

/// McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13–16 (AES-256).
#[test]
fn aes_256_gcm_nist_vectors() {
    let k16 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
    let iv = "cafebabefacedbaddecaf888";
    let p15 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
    let cases = [
        ("0".repeat(64), "0".repeat(24), String::new(), String::new(), "530f8afbc74536b9a963b4f1c4cb738b"),
        ("0".repeat(64), "0".repeat(24), "0".repeat(32), String::new(),
         "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"),
        (k16.into(), iv.into(), p15.into(), String::new(),
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015adb094dac5d93471bdec1a502270e3cc6c"),
        (k16.into(), iv.into(), p15[..120].into(), "feedfacedeadbeeffeedfacedeadbeefabaddad2".into(),
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b"),
    ];
    for (key, iv, pt, aad, ct_tag) in cases {
        let cipher = Aes256Gcm::new_from_slice(&h(&key)).unwrap();
        let (pt, aad) = (h(&pt), h(&aad));
        let out = cipher
            .encrypt(
                Nonce::from_slice(&h(&iv)),
                Payload {
                    msg: &pt,
                    aad: &aad,
                },
            )
            .unwrap();
        assert_eq!(hex::encode(&out), ct_tag);
        let back = cipher
            .decrypt(
                Nonce::from_slice(&h(&iv)),
                Payload {
                    msg: &out,
                    aad: &aad,
                },
            )
            .unwrap();
        assert_eq!(back, pt);
    }
}

/// PBKDF2-HMAC-SHA256: RFC 7914 §11 (dkLen 64) and the widely published "password"/"salt" set.
#[test]
fn pbkdf2_sha256_rfc_vectors() {
    for (c, dk) in [
        (
            1,
            "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b",
        ),
        (
            2,
            "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43",
        ),
        (
            4096,
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a",
        ),
    ] {
        assert_eq!(hex::encode(pbkdf2_sha256(b"password", b"salt", c)), dk);
    }
    let mut dk = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"passwd", b"salt", 1, &mut dk);
    assert_eq!(
        hex::encode(dk),
        "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
    );
}

/// HKDF-SHA256, RFC 5869 test case 1.
#[test]
fn hkdf_sha256_rfc_5869() {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(&h("000102030405060708090a0b0c")), &[0x0b; 22]);
    let mut okm = [0u8; 42];
    hk.expand(&h("f0f1f2f3f4f5f6f7f8f9"), &mut okm).unwrap();
    assert_eq!(
        hex::encode(okm),
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    );
}

fn pattern<const N: usize>(start: u8) -> [u8; N] {
    std::array::from_fn(|i| start.wrapping_add(i as u8))
}

const PASSPHRASE: &str = "correct horse battery staple";

fn fixed_records() -> Vec<AnswerRecord> {
    let base = |i: u8, card_type, answer, ns: &str| AnswerRecord {
        id: RecordId::from_bytes(pattern(0x10 * (i + 1))),
        prompt_id: format!("vector.{i}"),
        prompt_version: 1,
        card_type,
        answer,
        namespace: Namespace::new(ns).unwrap(),
        origin: Some(Origin::from_url("https://chatgpt.com").unwrap()),
        page_context: None,
        captured_at_ms: 1_763_800_000_000 + u64::from(i),
        answer_latency_ms: 2_000,
        wait_duration_ms: 8_000,
        flags: RecordFlags::default(),
    };
    vec![
        base(
            0,
            CardType::Choice,
            Answer::Choice {
                option: "concise".into(),
            },
            "chatgpt",
        ),
        base(
            1,
            CardType::Scale,
            Answer::Scale {
                value: 4,
                min: 1,
                max: 5,
            },
            "claude",
        ),
        base(
            2,
            CardType::ShortText,
            Answer::ShortText {
                text: "Rust ✓".into(),
            },
            "gemini",
        ),
    ]
}

/// The plaintext of the content vector: instruction snapshots as the web app seals them.
fn fixed_snapshots() -> Vec<u8> {
    let snapshots = vec![crate::graph::InstructionSnapshot {
        agent: "chatgpt".into(),
        exported_at_ms: 1_763_800_000_000,
        strengths: [("style.length=short".to_string(), 0.75)]
            .into_iter()
            .collect(),
        method: None,
    }];
    serde_json::to_vec(&snapshots).unwrap()
}

/// Builds the SelfOS vectors and the sample backup from fixed "random" bytes.
fn build_vectors() -> (Value, Value) {
    let params = KdfParams {
        algorithm: KdfAlgorithm::Pbkdf2Sha256,
        iterations: 600_000,
        salt: pattern::<16>(0).to_vec(),
    };
    let master = MasterKey::from_bytes(pbkdf2_sha256(
        PASSPHRASE.as_bytes(),
        &params.salt,
        params.iterations,
    ));
    let kek = master.key_encryption_key();
    let auth = master.auth_secret();
    let vault_id: [u8; 16] = pattern(0xa0);
    let vault_key = VaultKey::from_bytes(pattern(0x40));
    let wrap_aad = WrapAad::new(&vault_id, &params);
    let (wrap_salt, wrap_nonce) = (pattern::<32>(0x60), pattern::<12>(0x80));
    let wrapped = seal_with(
        kek.expose(),
        Purpose::VaultKeyWrap,
        wrap_aad.as_bytes(),
        vault_key.expose(),
        &wrap_salt,
        &wrap_nonce,
    );

    let mut record_vectors = Vec::new();
    let mut stored = Vec::new();
    for (i, rec) in fixed_records().into_iter().enumerate() {
        let version = i as u64 + 1;
        let aad = LegacyRecordAad::new(&rec.namespace, &rec.id, version);
        let (salt, nonce) = ([i as u8; 32], [0xc0 + i as u8; 12]);
        let plaintext = encode_record(&rec);
        let env = seal_with(
            vault_key.expose(),
            Purpose::LegacyRecord,
            aad.as_bytes(),
            &plaintext,
            &salt,
            &nonce,
        );
        record_vectors.push(json!({
            "namespace": rec.namespace.as_str(), "record_id": rec.id.to_string(), "version": version,
            "plaintext": String::from_utf8(plaintext).unwrap(),
            "key_salt": hex::encode(salt), "nonce": hex::encode(nonce),
            "content_key": hex::encode(*content_key(vault_key.expose(), &salt, Purpose::LegacyRecord)),
            "aad": hex::encode(aad.as_bytes()), "envelope": hex::encode(env.as_bytes()),
        }));
        stored.push(StoredRecord {
            id: rec.id,
            namespace: rec.namespace.clone(),
            version,
            hlc: Hlc {
                wall_ms: rec.captured_at_ms,
                counter: 0,
                node: 0xaa,
            },
            deleted: false,
            envelope: Some(env.into_bytes()),
        });
    }
    let kind = ContentKind::InstructionSnapshots;
    let content_aad = ContentAad::new(kind);
    let (content_salt, content_nonce) = (pattern::<32>(0xe0), pattern::<12>(0x50));
    let content_plain = fixed_snapshots();
    let content_env = seal_with(
        vault_key.expose(),
        Purpose::Content,
        content_aad.as_bytes(),
        &content_plain,
        &content_salt,
        &content_nonce,
    );
    let vectors = json!({
        "description": "SelfOS vault format v1 test vectors; see docs/FORMAT.md. All byte strings are hex.",
        "kdf": {
            "passphrase": PASSPHRASE, "algorithm": "pbkdf2-sha256", "salt": hex::encode(&params.salt),
            "iterations": params.iterations, "master_key": hex::encode(master.expose()),
            "kek": hex::encode(kek.expose()), "auth_secret": hex::encode(auth.expose()),
        },
        "vault_key_wrap": {
            "vault_id": hex::encode(vault_id), "vault_key": hex::encode(vault_key.expose()),
            "key_salt": hex::encode(wrap_salt), "nonce": hex::encode(wrap_nonce),
            "content_key": hex::encode(*content_key(kek.expose(), &wrap_salt, Purpose::VaultKeyWrap)),
            "aad": hex::encode(wrap_aad.as_bytes()), "envelope": hex::encode(wrapped.as_bytes()),
        },
        "records": record_vectors,
        "content": [{
            "kind": kind.name(), "plaintext": String::from_utf8(content_plain).unwrap(),
            "key_salt": hex::encode(content_salt), "nonce": hex::encode(content_nonce),
            "content_key": hex::encode(*content_key(vault_key.expose(), &content_salt, Purpose::Content)),
            "aad": hex::encode(content_aad.as_bytes()), "envelope": hex::encode(content_env.as_bytes()),
        }],
    });
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut header = json!({
        "format": "selfos-vault", "version": 1, "vault_id": hex::encode(vault_id),
        "kdf": { "algorithm": "pbkdf2-sha256", "iterations": params.iterations, "salt": b64(&params.salt) },
        "wrapped_vault_key": b64(wrapped.as_bytes()),
    });
    // The checksum as FORMAT.md §3 defines it: SHA-256 of the sorted, compact JSON.
    header["checksum"] = crate::crypto::sha256_hex(&serde_json::to_vec(&header).unwrap()).into();
    let backup = json!({
        "format": "selfos-backup", "version": 1, "exported_at_ms": 1_763_800_000_000u64,
        "header": header, "records": stored,
    });
    (vectors, backup)
}

fn check_file(name: &str, value: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var("SELFOS_REGEN_VECTORS").as_deref() == Ok("1") {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with SELFOS_REGEN_VECTORS=1 once)",
            path.display()
        )
    });
    assert_eq!(
        committed,
        text,
        "{} differs from what this build produces",
        path.display()
    );
}

#[test]
fn selfos_vectors_and_sample_backup() {
    let (vectors, backup) = build_vectors();
    check_file("selfos-v1.json", &vectors);
    check_file("backup-v1.json", &backup);

    // Each record vector opens through the public API with the vault key.
    let vk = VaultKey::from_bytes(pattern(0x40));
    for (v, rec) in vectors["records"]
        .as_array()
        .unwrap()
        .iter()
        .zip(fixed_records())
    {
        let aad = LegacyRecordAad::new(&rec.namespace, &rec.id, v["version"].as_u64().unwrap());
        let env = envelope::Envelope::parse(h(v["envelope"].as_str().unwrap())).unwrap();
        let opened = envelope::open_legacy_record(&vk, &aad, &env).unwrap();
        assert_eq!(crate::record::decode_record(&opened).unwrap(), rec);
    }
    // The content vector opens as instruction snapshots, and never as a record.
    let c = &vectors["content"][0];
    let env = envelope::Envelope::parse(h(c["envelope"].as_str().unwrap())).unwrap();
    let opened = envelope::open_content(&vk, ContentKind::InstructionSnapshots, &env).unwrap();
    assert_eq!(&opened[..], &fixed_snapshots()[..]);
    let rec = &fixed_records()[0];
    assert_eq!(
        envelope::open_legacy_record(&vk, &LegacyRecordAad::new(&rec.namespace, &rec.id, 1), &env)
            .err(),
        Some(crate::CryptoError::Tampered)
    );

    // The sample backup restores with the passphrase and yields exactly the fixed records.
    let bytes = serde_json::to_vec(&backup).unwrap();
    let (vault, report) = run(Vault::restore_backup(
        MemoryStore::new(),
        &bytes,
        &Passphrase::new(PASSPHRASE),
    ))
    .unwrap();
    assert_eq!((report.imported, report.failures.len()), (3, 0));
    assert_eq!(run(vault.list()).unwrap().records, fixed_records());
}

/// `seal_with` is the real sealing path with the randomness fixed: what it makes opens with
/// `open_record`, its content key is plain HKDF-SHA256 (computed here with the `hkdf` crate
/// directly, not through `content_key`), and the bytes after the header are plain AES-256-GCM
/// under that key.
#[test]
fn seal_with_opens_and_content_key_is_plain_hkdf() {
    let root: [u8; 32] = pattern(0x40);
    let (salt, nonce) = (pattern::<32>(0x90), pattern::<12>(0x30));
    let ns = Namespace::new("claude").unwrap();
    let id = RecordId::from_bytes(pattern(0x70));
    let clock = Hlc {
        wall_ms: 1_763_800_000_000,
        counter: 1,
        node: 7,
    };
    let aad = RecordAad::new(&ns, &id, 7, &clock, RecordState::Live);
    let plaintext = b"{\"answer\":\"independent\"}";

    let mut independent = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(&salt), &root)
        .expand(b"selfos/v2/record", &mut independent)
        .unwrap();
    assert_eq!(*content_key(&root, &salt, Purpose::Record), independent);
    // The purpose label is the HKDF info: another purpose gives another key.
    assert_ne!(
        *content_key(&root, &salt, Purpose::VaultKeyWrap),
        independent
    );
    assert_ne!(
        *content_key(&root, &salt, Purpose::LegacyRecord),
        independent
    );
    // The salt is the HKDF salt, not ignored.
    assert_ne!(
        *content_key(&root, &pattern::<32>(0x91), Purpose::Record),
        independent
    );

    let env = seal_with(
        &root,
        Purpose::Record,
        aad.as_bytes(),
        plaintext,
        &salt,
        &nonce,
    );
    let bytes = env.as_bytes();
    assert_eq!(bytes.len(), envelope::MIN_LEN + plaintext.len());
    assert_eq!(bytes[0], envelope::RECORD_VERSION);
    assert_eq!(&bytes[1..33], &salt);
    assert_eq!(&bytes[33..45], &nonce);
    let direct = Aes256Gcm::new_from_slice(&independent)
        .unwrap()
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &bytes[45..],
                aad: aad.as_bytes(),
            },
        )
        .unwrap();
    assert_eq!(direct, plaintext);

    let vk = VaultKey::from_bytes(root);
    let parsed = envelope::Envelope::parse(bytes.to_vec()).unwrap();
    assert_eq!(
        &envelope::open_record(&vk, &aad, &parsed).unwrap()[..],
        plaintext
    );
    // The same bytes refuse to open for another version of the record.
    assert_eq!(
        envelope::open_record(
            &vk,
            &RecordAad::new(&ns, &id, 8, &clock, RecordState::Live),
            &parsed
        )
        .err(),
        Some(crate::CryptoError::Tampered)
    );
}

/// The clock of the `i`-th format-2 vector entry.
fn v2_clock(i: u64) -> Hlc {
    Hlc {
        wall_ms: 1_763_900_000_000 + i,
        counter: i as u32,
        node: 0x00a1_b2c3_d4e5_f607,
    }
}

/// The id of the format-2 tombstone vector (a fourth record, deleted at version 2).
fn tombstone_id() -> RecordId {
    RecordId::from_bytes(pattern(0x50))
}

/// The delivery of the format-2 vectors: ChatGPT was given two facts by insertion.
fn fixed_delivery() -> crate::delivery::DeliveryRecord {
    let text = "Context about me, to keep in mind in this chat:\nI prefer short answers.";
    crate::delivery::DeliveryRecord {
        id: RecordId::from_bytes(pattern(0x60)),
        agent: Namespace::new("chatgpt").unwrap(),
        method: crate::delivery::DeliveryMethod::Inserted,
        delivered_at_ms: 1_763_900_000_100,
        field: None,
        digest: crate::delivery::digest(text),
        chars: text.encode_utf16().count() as u32,
        nodes: [("style.length=short".to_string(), 0.75)]
            .into_iter()
            .collect(),
    }
}

/// The proposal of the format-2 vectors: Claude proposes a fact, pending the user's decision.
fn fixed_proposal() -> crate::proposal::ProposalRecord {
    crate::proposal::ProposalRecord {
        id: RecordId::from_bytes(pattern(0x70)),
        agent: Namespace::new("claude").unwrap(),
        statement: "I write Rust for embedded devices ✓.".into(),
        dimension: Some("work".into()),
        reason: Some("Said so while debugging a driver.".into()),
        proposed_at_ms: 1_763_900_000_200,
        status: crate::proposal::ProposalStatus::Pending,
    }
}

/// Format 2: the same three records sealed with their clock and state, one tombstone, one
/// delivery record and one proposal record, under the vault of the format-1 vectors (same passphrase, header and
/// vault key).
fn build_vectors_v2() -> (Value, Value) {
    let (_, backup_v1) = build_vectors();
    let vault_key = VaultKey::from_bytes(pattern(0x40));
    let mut record_vectors = Vec::new();
    let mut stored = Vec::new();
    let mut entries: Vec<(Namespace, RecordId, u64, Vec<u8>, RecordState)> = fixed_records()
        .into_iter()
        .enumerate()
        .map(|(i, rec)| {
            let plaintext = encode_record(&rec);
            (
                rec.namespace,
                rec.id,
                i as u64 + 1,
                plaintext,
                RecordState::Live,
            )
        })
        .collect();
    entries.push((
        Namespace::new("chatgpt").unwrap(),
        tombstone_id(),
        2,
        Vec::new(),
        RecordState::Tombstone,
    ));
    let delivery = fixed_delivery();
    entries.push((
        Namespace::deliveries(),
        delivery.id,
        1,
        crate::delivery::encode_delivery(&delivery),
        RecordState::Live,
    ));
    let proposal = fixed_proposal();
    entries.push((
        Namespace::proposals(),
        proposal.id,
        1,
        crate::proposal::encode_proposal(&proposal),
        RecordState::Live,
    ));
    for (i, (ns, id, version, plaintext, state)) in entries.into_iter().enumerate() {
        let hlc = v2_clock(i as u64);
        let aad = RecordAad::new(&ns, &id, version, &hlc, state);
        let (salt, nonce) = ([0x20 + i as u8; 32], [0xd0 + i as u8; 12]);
        let env = seal_with(
            vault_key.expose(),
            aad.purpose(),
            aad.as_bytes(),
            &plaintext,
            &salt,
            &nonce,
        );
        let deleted = state == RecordState::Tombstone;
        record_vectors.push(json!({
            "namespace": ns.as_str(), "record_id": id.to_string(), "version": version,
            "hlc": hlc.to_string(), "deleted": deleted,
            "plaintext": String::from_utf8(plaintext).unwrap(),
            "key_salt": hex::encode(salt), "nonce": hex::encode(nonce),
            "purpose": String::from_utf8_lossy(aad.purpose().label()),
            "content_key": hex::encode(*content_key(vault_key.expose(), &salt, aad.purpose())),
            "aad": hex::encode(aad.as_bytes()), "envelope": hex::encode(env.as_bytes()),
        }));
        stored.push(StoredRecord {
            id,
            namespace: ns,
            version,
            hlc,
            deleted,
            envelope: Some(env.into_bytes()),
        });
    }
    // A key replaced by a rotation, kept in the header under the vault key (FORMAT.md §3).
    let vault_id: [u8; 16] = pattern(0xa0);
    let previous = VaultKey::from_bytes(pattern(0x33));
    let previous_aad = PreviousKeyAad::new(&vault_id);
    let (previous_salt, previous_nonce) = (pattern::<32>(0x70), pattern::<12>(0x90));
    let previous_env = seal_with(
        vault_key.expose(),
        Purpose::PreviousVaultKey,
        previous_aad.as_bytes(),
        previous.expose(),
        &previous_salt,
        &previous_nonce,
    );
    let opened = envelope::unwrap_previous_key(&vault_key, &previous_aad, &previous_env).unwrap();
    assert_eq!(opened.expose(), previous.expose());
    let vectors = json!({
        "description": "SelfOS vault format v2 test vectors (records, tombstones, a delivery record, a proposal record, and a vault key kept after a rotation; the key hierarchy, key wrap and content are format v1's, in selfos-v1.json); see docs/FORMAT.md. All byte strings are hex.",
        "vault_key": hex::encode(vault_key.expose()),
        "records": record_vectors,
        "previous_vault_key": {
            "vault_id": hex::encode(vault_id), "previous_key": hex::encode(previous.expose()),
            "key_salt": hex::encode(previous_salt), "nonce": hex::encode(previous_nonce),
            "content_key": hex::encode(*content_key(vault_key.expose(), &previous_salt, Purpose::PreviousVaultKey)),
            "aad": hex::encode(previous_aad.as_bytes()), "envelope": hex::encode(previous_env.as_bytes()),
        },
    });
    let backup = json!({
        "format": "selfos-backup", "version": 1, "exported_at_ms": 1_763_900_000_000u64,
        "header": backup_v1["header"], "records": stored,
    });
    (vectors, backup)
}

#[test]
fn selfos_v2_vectors_and_sample_backup() {
    let (vectors, backup) = build_vectors_v2();
    check_file("selfos-v2.json", &vectors);
    check_file("backup-v2.json", &backup);

    // The sample backup restores with the passphrase: three records, one tombstone and one
    // delivery.
    let bytes = serde_json::to_vec(&backup).unwrap();
    let (vault, report) = run(Vault::restore_backup(
        MemoryStore::new(),
        &bytes,
        &Passphrase::new(PASSPHRASE),
    ))
    .unwrap();
    assert_eq!((report.imported, report.failures.len()), (6, 0));
    let listing = run(vault.list()).unwrap();
    assert_eq!(listing.records, fixed_records());
    assert_eq!(listing.deliveries, vec![fixed_delivery()]);
    assert_eq!(listing.proposals, vec![fixed_proposal()]);
    // The delivery opens only as a delivery: moved into an answer namespace it is refused.
    let (entries, _) = run(vault.stored_entries()).unwrap();
    let d = entries
        .iter()
        .find(|e| e.id == fixed_delivery().id)
        .unwrap();
    let mut moved = d.clone();
    moved.namespace = Namespace::new("chatgpt").unwrap();
    assert_eq!(
        vault.open(&moved).err(),
        Some(crate::VaultError::Crypto(crate::CryptoError::Tampered))
    );
    assert!(vault.open(d).is_err(), "a delivery is not an answer");
    // So does the proposal: moved into the deliveries' namespace or an answer's, refused.
    let p = entries
        .iter()
        .find(|e| e.id == fixed_proposal().id)
        .unwrap();
    for ns in [Namespace::deliveries(), Namespace::new("claude").unwrap()] {
        let mut moved = p.clone();
        moved.namespace = ns;
        assert!(vault.open_entry(&moved).is_err());
    }
    assert!(vault.open(p).is_err(), "a proposal is not an answer");
    let (entries, _) = run(vault.stored_entries()).unwrap();
    let tomb = entries.iter().find(|e| e.id == tombstone_id()).unwrap();
    assert!(tomb.deleted && tomb.is_authenticated_format());
    assert_eq!(vault.open(tomb).unwrap(), None);

    // The tombstone opens only as itself: not re-stamped, not at another version, not live.
    let mut restamped = tomb.clone();
    restamped.hlc = v2_clock(9);
    let mut older = tomb.clone();
    older.version = 1;
    for bad in [restamped, older] {
        assert_eq!(
            vault.open(&bad).err(),
            Some(crate::VaultError::Crypto(crate::CryptoError::Tampered))
        );
    }
    let mut revived = tomb.clone();
    revived.deleted = false;
    assert!(vault.open(&revived).is_err());
}
