//! Vault format 2 against what earlier builds wrote (format 1): the published format-1
//! backup still restores and syncs, each record moves to format 2 on its next write, a delete
//! this device queued before the update is sealed when pushed, and a backup entry whose
//! `deleted` flag and envelope disagree is refused.
#![cfg(not(target_arch = "wasm32"))]

use serde_json::{json, Value};
use vault_core::store::{block_on as run, Batch};
use vault_core::{
    MemoryStore, Passphrase, StoredRecord, Vault, VaultError, VaultHeader, VaultKey, VaultStore,
};

const PASSPHRASE: &str = "correct horse battery staple";

fn vector(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn restore(backup: &Value) -> (Vault<MemoryStore>, vault_core::backup::ImportReport) {
    run(Vault::restore_backup(
        MemoryStore::new(),
        &serde_json::to_vec(backup).unwrap(),
        &Passphrase::new(PASSPHRASE),
    ))
    .unwrap()
}

fn entries(v: &Vault<MemoryStore>) -> Vec<StoredRecord> {
    let (e, failures) = run(v.stored_entries()).unwrap();
    assert!(failures.is_empty());
    e
}

/// Another device of the vectors' vault (header of the backup, key held for the session).
fn other_device() -> Vault<MemoryStore> {
    let header = VaultHeader::from_json(vector("backup-v1.json")["header"].clone()).unwrap();
    let store = MemoryStore::new();
    store.put_raw_meta(vault_core::store::META_HEADER, header.encode());
    let key: [u8; 32] = std::array::from_fn(|i| 0x40 + i as u8);
    run(Vault::resume(
        store,
        VaultKey::from_dangerous_bytes(&key).unwrap(),
    ))
    .unwrap()
}

#[test]
fn a_format1_backup_opens_and_each_record_migrates_on_its_next_write() {
    let (mut vault, report) = restore(&vector("backup-v1.json"));
    assert_eq!((report.imported, report.failures.len()), (3, 0));
    assert!(entries(&vault).iter().all(|e| !e.is_authenticated_format()));
    let records = run(vault.list()).unwrap().records;
    assert_eq!(records.len(), 3);

    let mut edited = records[0].clone();
    edited.answer_latency_ms += 1;
    run(vault.put(&edited)).unwrap();
    run(vault.delete(&records[1].id)).unwrap();
    let after = entries(&vault);
    let find = |id| after.iter().find(|e| e.id == id).unwrap().clone();
    let (put, deleted, untouched) = (
        find(records[0].id),
        find(records[1].id),
        find(records[2].id),
    );
    assert!(put.is_authenticated_format() && !put.deleted);
    assert!(deleted.is_authenticated_format() && deleted.deleted && deleted.envelope.is_some());
    assert!(!untouched.is_authenticated_format());
    assert_eq!(
        run(vault.get(&records[0].id)).unwrap(),
        Some(edited.clone())
    );
    assert_eq!(run(vault.get(&records[1].id)).unwrap(), None);
    assert_eq!(
        run(vault.get(&records[2].id)).unwrap().as_ref(),
        Some(&records[2])
    );

    // Another device that has the format-1 entries takes the format-2 changes.
    let mut other = other_device();
    let v1: Vec<StoredRecord> =
        serde_json::from_value(vector("backup-v1.json")["records"].clone()).unwrap();
    run(other.apply_remote(v1)).unwrap();
    let report = run(other.apply_remote(vec![put, deleted])).unwrap();
    assert_eq!((report.applied, report.refused.len()), (2, 0));
    assert_eq!(run(other.get(&records[0].id)).unwrap(), Some(edited));
    assert_eq!(run(other.get(&records[1].id)).unwrap(), None);
}

/// A delete made before the update and not yet pushed sits in the queue as a format-1
/// tombstone, which other devices now refuse; it is sealed (same version and clock) when
/// pushed, so the user's delete still reaches them.
#[test]
fn a_queued_format1_delete_is_sealed_when_pushed() {
    let (vault, _) = restore(&vector("backup-v1.json"));
    let (mut other, _) = restore(&vector("backup-v1.json"));
    let live = entries(&vault)[0].clone();
    let mut tomb = live.clone();
    tomb.version += 1;
    tomb.hlc.wall_ms += 1_000;
    tomb.deleted = true;
    tomb.envelope = None;
    run(vault.store().write(Batch {
        records: vec![(tomb.key(), tomb.encode())],
        pending: vec![(tomb.key(), tomb.change(live.version).encode())],
        ..Batch::default()
    }))
    .unwrap();
    // As it is, the format-1 tombstone deletes nothing elsewhere.
    let report = run(other.apply_remote(vec![tomb.clone()])).unwrap();
    assert!(matches!(
        report.refused[0].error,
        VaultError::UnauthenticatedDelete(_)
    ));

    let (pushed, changes) = run(vault.outgoing()).unwrap();
    let sealed = pushed.iter().find(|e| e.id == tomb.id).unwrap();
    assert!(sealed.deleted && sealed.is_authenticated_format());
    assert_eq!((sealed.version, sealed.hlc), (tomb.version, tomb.hlc));
    assert!(changes.iter().any(|c| c.id == tomb.id));
    // Stored in its sealed form too, and what the other device takes.
    assert!(entries(&vault).iter().any(|e| e == sealed));
    let report = run(other.apply_remote(vec![sealed.clone()])).unwrap();
    assert_eq!((report.applied, report.refused.len()), (1, 0));
    assert_eq!(run(other.get(&tomb.id)).unwrap(), None);
}

/// Restore checks each entry on its own: flag and envelope must agree, the version must be
/// in range, and a format-2 entry must open for the state it claims. The good entries are
/// restored; each bad one is reported by position or id.
#[test]
fn restore_refuses_entries_whose_flag_and_envelope_disagree() {
    let mut backup = vector("backup-v2.json");
    let v1 = vector("backup-v1.json");
    let records = backup["records"].as_array().unwrap().clone();
    let live_v2 = records.iter().find(|r| r["deleted"] == false).unwrap();
    let tomb_v2 = records.iter().find(|r| r["deleted"] == true).unwrap();
    let live_v1 = &v1["records"][1];
    let with = |base: &Value, patch: Value| {
        let mut e = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    let bad = vec![
        with(live_v1, json!({"deleted": true})),
        with(live_v2, json!({"deleted": true})),
        with(tomb_v2, json!({"deleted": false})),
        with(live_v2, json!({"envelope": null})),
        with(live_v2, json!({"version": 1u64 << 53})),
        with(
            live_v2,
            json!({"hlc": "001763900000099-00000000-00a1b2c3d4e5f607"}),
        ),
    ];
    let n_bad = bad.len();
    backup["records"] = Value::Array(bad.into_iter().chain(records.clone()).collect());
    let (vault, report) = restore(&backup);
    assert_eq!(report.imported, records.len());
    assert_eq!(report.failures.len(), n_bad, "{:?}", report.failures);
    assert_eq!(run(vault.list()).unwrap().records.len(), 3);
}

/// A format-1 tombstone in a backup (a delete that nothing proves) is kept as it is: the
/// record stays deleted on this device, but it is not queued to be pushed as this device's
/// delete.
#[test]
fn a_format1_tombstone_in_a_backup_is_kept_but_not_pushed() {
    let mut backup = vector("backup-v1.json");
    let mut tomb = backup["records"][0].clone();
    tomb["version"] = json!(tomb["version"].as_u64().unwrap() + 1);
    tomb["deleted"] = json!(true);
    tomb["envelope"] = Value::Null;
    backup["records"][0] = tomb.clone();
    let (vault, report) = restore(&backup);
    assert_eq!((report.imported, report.failures.len()), (3, 0));
    assert_eq!(run(vault.list()).unwrap().records.len(), 2);
    let pending = run(vault.pending_changes()).unwrap();
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().all(|c| !c.deleted));
}
