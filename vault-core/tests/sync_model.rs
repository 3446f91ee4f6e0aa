//! Several devices write, edit and delete while partitioned, sync through an append-only
//! server log with reordered and duplicated deliveries, and must converge without losing any
//! acknowledged write, while the server is an adversary: it replays any entry it has seen,
//! re-stamps its clock, turns it into a delete, forges format-1 tombstones, and moves entries
//! to other versions or records. The vault starts as a format-1 vault (the published
//! `backup-v1.json`, whose entries start the log, as pushed by devices before format 2), so
//! old and new entries sync together.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use proptest::prelude::*;
use vault_core::store::{block_on as run, META_HEADER};
use vault_core::sync::{precedence, Keep};
use vault_core::{
    Answer, Hlc, ListingBuilder, MemoryStore, RecordId, StoredRecord, Vault, VaultError,
    VaultHeader, VaultKey,
};

/// The published format-1 backup: its header, its vault key (the vectors' fixed key,
/// docs/FORMAT.md) and its three format-1 entries.
fn legacy_vault() -> &'static (Vec<u8>, [u8; 32], Vec<StoredRecord>) {
    static FIXTURE: OnceLock<(Vec<u8>, [u8; 32], Vec<StoredRecord>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/backup-v1.json");
        let backup: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let header = VaultHeader::from_json(backup["header"].clone()).unwrap();
        let entries: Vec<StoredRecord> = serde_json::from_value(backup["records"].clone()).unwrap();
        assert!(entries.iter().all(|e| !e.is_authenticated_format()));
        let key = std::array::from_fn(|i| 0x40 + i as u8);
        (header.encode(), key, entries)
    })
}

/// A fresh device of the format-1 vault (empty store, header, key held for the session).
fn device() -> Vault<MemoryStore> {
    let (header, key, _) = legacy_vault();
    let store = MemoryStore::new();
    store.put_raw_meta(META_HEADER, header.clone());
    run(Vault::resume(
        store,
        VaultKey::from_dangerous_bytes(key).unwrap(),
    ))
    .unwrap()
}

struct Device {
    vault: Vault<MemoryStore>,
    cursor: usize,
}

impl Device {
    fn new() -> Self {
        Device {
            vault: device(),
            cursor: 0,
        }
    }
}

/// What the server does to an entry it has seen before handing it out again.
#[derive(Debug, Clone)]
enum Tamper {
    /// Hands it out again, unchanged (authentic: must change nothing).
    Replay,
    /// A fresh, later clock: makes an old version look like the newest change.
    Restamp { ahead_ms: u64, counter: u32 },
    /// A format-1 tombstone (no envelope) one version above: the forged delete.
    ForgeDelete { ahead_ms: u64 },
    /// Flips `deleted` on the same envelope.
    FlipDeleted,
    /// Claims another version.
    OtherVersion { up: bool },
    /// Claims another record's id.
    OtherRecord { pick: prop::sample::Index },
}

#[derive(Debug, Clone)]
enum Op {
    Insert {
        dev: usize,
    },
    Edit {
        dev: usize,
        pick: prop::sample::Index,
    },
    Delete {
        dev: usize,
        pick: prop::sample::Index,
    },
    Sync {
        dev: usize,
        shuffle: u64,
        duplicate: bool,
        push_twice: bool,
    },
    /// The server appends a tampered copy of an entry from its log.
    Inject {
        pick: prop::sample::Index,
        tamper: Tamper,
    },
}

fn tamper() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        Just(Tamper::Replay),
        (1u64..100_000, any::<u32>())
            .prop_map(|(ahead_ms, counter)| Tamper::Restamp { ahead_ms, counter }),
        (1u64..100_000).prop_map(|ahead_ms| Tamper::ForgeDelete { ahead_ms }),
        Just(Tamper::FlipDeleted),
        any::<bool>().prop_map(|up| Tamper::OtherVersion { up }),
        any::<prop::sample::Index>().prop_map(|pick| Tamper::OtherRecord { pick }),
    ]
}

fn op(devices: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..devices).prop_map(|dev| Op::Insert { dev }),
        3 => (0..devices, any::<prop::sample::Index>()).prop_map(|(dev, pick)| Op::Edit { dev, pick }),
        1 => (0..devices, any::<prop::sample::Index>()).prop_map(|(dev, pick)| Op::Delete { dev, pick }),
        3 => (0..devices, any::<u64>(), any::<bool>(), any::<bool>())
            .prop_map(|(dev, shuffle, duplicate, push_twice)| Op::Sync { dev, shuffle, duplicate, push_twice }),
        2 => (any::<prop::sample::Index>(), tamper()).prop_map(|(pick, tamper)| Op::Inject { pick, tamper }),
    ]
}

/// The server's log, what devices acknowledged, and what the server forged.
#[derive(Default)]
struct Server {
    log: Vec<StoredRecord>,
    /// Entries pushed by devices (and the format-1 entries the log started with).
    acked: Vec<StoredRecord>,
    /// Tampered entries that do not open for what they claim: every device must refuse them.
    forged: Vec<StoredRecord>,
}

impl Server {
    fn new() -> Self {
        let (_, _, entries) = legacy_vault();
        Server {
            log: entries.clone(),
            acked: entries.clone(),
            forged: Vec::new(),
        }
    }

    /// Appends a tampered copy of a logged entry; remembers it as forged unless it is
    /// authentic (a replay, or a re-stamped format-1 entry: its clock is not sealed).
    fn inject(&mut self, pick: prop::sample::Index, tamper: Tamper) {
        let mut e = self.log[pick.index(self.log.len())].clone();
        match tamper {
            Tamper::Replay => {}
            Tamper::Restamp { ahead_ms, counter } => {
                e.hlc = Hlc {
                    wall_ms: now_ms() + ahead_ms,
                    counter,
                    node: e.hlc.node,
                };
            }
            Tamper::ForgeDelete { ahead_ms } => {
                e.version += 1;
                e.hlc.wall_ms = now_ms() + ahead_ms;
                e.deleted = true;
                e.envelope = None;
            }
            Tamper::FlipDeleted => e.deleted = !e.deleted,
            Tamper::OtherVersion { up } if up || e.version > 1 => {
                e.version = if up { e.version + 1 } else { e.version - 1 };
            }
            Tamper::OtherVersion { .. } => e.version += 2,
            Tamper::OtherRecord { pick } => {
                let other = self.log[pick.index(self.log.len())].id;
                if other == e.id {
                    return;
                }
                e.id = other;
            }
        }
        // Authentic: an entry a device pushed, or a re-stamped copy of a format-1 one (its
        // clock is not sealed). The original may itself be forged: tampering can undo it.
        let authentic = self.acked.iter().any(|a| {
            a == &e || (!a.is_authenticated_format() && content(a) == content(&e) && a.id == e.id)
        });
        if !authentic {
            self.forged.push(e.clone());
        }
        self.log.push(e);
    }
}

fn now_ms() -> u64 {
    vault_core::time::now_ms()
}

/// Pull everything new (reordered, maybe duplicated), then push and acknowledge. Every forged
/// entry pulled is refused, and no record goes back to a lower version.
fn sync(d: &mut Device, server: &mut Server, shuffle: u64, duplicate: bool, push_twice: bool) {
    let mut batch: Vec<StoredRecord> = server.log[d.cursor..].to_vec();
    if duplicate {
        batch.extend(server.log[d.cursor..].iter().take(3).cloned());
    }
    // A deterministic shuffle from the seed.
    let mut x = shuffle | 1;
    for i in (1..batch.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        batch.swap(i, (x % (i as u64 + 1)) as usize);
    }
    // Pages of 1 to 5 entries, from the seed (a real pull's are up to 500).
    let page_size = 1 + (shuffle % 5) as usize;
    let expected_refusals = batch.iter().filter(|e| server.forged.contains(e)).count();
    let before = entries(&d.vault);
    let mut followed = run(d.vault.list()).unwrap();
    let mut built = ListingBuilder::from(run(d.vault.list()).unwrap());
    // Applied in pages, as a pull does.
    let mut refused = Vec::new();
    for page in batch.chunks(page_size) {
        let mut report = run(d.vault.apply_remote(page.to_vec())).unwrap();
        // What each page reports as changed keeps an in-memory listing equal to a fresh one
        // (`selfos mcp` follows its pulls this way instead of decrypting the vault again),
        // whether it is sorted after every page or once at the end.
        let changed = std::mem::take(&mut report.changed);
        built.apply(changed.clone());
        followed.apply(changed);
        refused.extend(report.refused);
    }
    let fresh = run(d.vault.list()).unwrap();
    let built = built.finish();
    for listing in [&followed, &built] {
        assert_eq!(listing.records, fresh.records, "followed listing differs");
        assert_eq!(listing.deliveries, fresh.deliveries);
        assert_eq!(listing.proposals, fresh.proposals);
    }
    assert_eq!(refused.len(), expected_refusals, "refused: {refused:?}");
    for f in &refused {
        assert!(
            matches!(
                f.error,
                VaultError::Crypto(_) | VaultError::Store(_) | VaultError::UnauthenticatedDelete(_)
            ),
            "{:?}",
            f.error
        );
    }
    let after = entries(&d.vault);
    for (id, old) in &before {
        // Never a lower version than one held (docs/SYNC.md), whatever the clocks say.
        assert!(
            after[id].version >= old.version,
            "record {id} went back from version {} to {}",
            old.version,
            after[id].version
        );
        assert!(
            precedence(&after[id]) >= precedence(old),
            "record {id} went back from {old:?} to {:?}",
            after[id]
        );
    }
    d.cursor = server.log.len();
    let (pushed, changes) = run(d.vault.outgoing()).unwrap();
    server.log.extend(pushed.iter().cloned());
    if push_twice {
        server.log.extend(pushed.iter().cloned());
    }
    run(d.vault.ack_changes(&changes)).unwrap();
    server.acked.extend(pushed);
}

fn entries(v: &Vault<MemoryStore>) -> BTreeMap<RecordId, StoredRecord> {
    let (e, failures) = run(v.stored_entries()).unwrap();
    assert!(failures.is_empty());
    e.into_iter().map(|e| (e.id, e)).collect()
}

/// What decides an entry's content: the same for an entry and a re-stamped copy of it.
fn content(e: &StoredRecord) -> (u64, bool, Option<&[u8]>) {
    (e.version, e.deleted, e.envelope.as_deref())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn devices_converge_and_keep_every_acknowledged_write(ops in proptest::collection::vec(op(3), 1..60)) {
        let mut devices: Vec<Device> = (0..3).map(|_| Device::new()).collect();
        let mut server = Server::new();
        let mut n = 0;
        for op in ops {
            match op {
                Op::Insert { dev } => {
                    n += 1;
                    run(devices[dev].vault.insert(&common::sample_record(n))).unwrap();
                }
                Op::Edit { dev, pick } | Op::Delete { dev, pick } => {
                    let live = run(devices[dev].vault.list()).unwrap().records;
                    if live.is_empty() {
                        continue;
                    }
                    let mut rec = live[pick.index(live.len())].clone();
                    if matches!(op, Op::Edit { .. }) {
                        // Valid for every card type (the format-1 records include scales and text).
                        rec.answer_latency_ms = 10_000 + n;
                        n += 1;
                        run(devices[dev].vault.put(&rec)).unwrap();
                    } else {
                        run(devices[dev].vault.delete(&rec.id)).unwrap();
                    }
                }
                Op::Sync { dev, shuffle, duplicate, push_twice } => {
                    sync(&mut devices[dev], &mut server, shuffle, duplicate, push_twice);
                }
                Op::Inject { pick, tamper } => server.inject(pick, tamper),
            }
        }
        // Heal the partition: everyone syncs, then everyone pulls what the others pushed.
        for round in 0..2 {
            for d in devices.iter_mut() {
                sync(d, &mut server, round, false, false);
            }
        }
        let first = entries(&devices[0].vault);
        for d in &devices[1..] {
            prop_assert_eq!(&entries(&d.vault), &first);
        }
        for d in &devices {
            prop_assert!(run(d.vault.pending_changes()).unwrap().is_empty());
            let (_, failures) = run(d.vault.conflicts()).unwrap();
            prop_assert!(failures.is_empty());
            prop_assert!(run(d.vault.list()).unwrap().failures.is_empty());
        }
        // No acknowledged write is lost: each record ends at that write or one that outranks it.
        for w in &server.acked {
            prop_assert!(precedence(&first[&w.id]) >= precedence(w), "{:?} lost", w);
        }
        // And the final state is exactly the highest-ranked write devices made of each record:
        // nothing the server forged, re-stamped or replayed decided any record's content.
        let mut newest: BTreeMap<RecordId, &StoredRecord> = BTreeMap::new();
        for w in &server.acked {
            let e = newest.entry(w.id).or_insert(w);
            if precedence(w) > precedence(e) {
                *e = w;
            }
        }
        prop_assert_eq!(newest.len(), first.len());
        for (id, w) in newest {
            prop_assert_eq!(content(&first[&id]), content(w));
        }
    }
}

/// Two devices edit one record offline; after syncing, the loser is kept as a conflict on
/// the device whose edit lost, and resolving it in favour of the loser wins everywhere.
#[test]
fn concurrent_edits_keep_the_loser_as_a_conflict() {
    let mut a = Device::new();
    let mut b = Device::new();
    let mut server = Server::default();
    let rec = common::sample_record(1);
    run(a.vault.insert(&rec)).unwrap();
    sync(&mut a, &mut server, 1, false, false);
    sync(&mut b, &mut server, 1, false, false);
    let mut from_a = rec.clone();
    from_a.answer = Answer::Choice {
        option: "from-a".into(),
    };
    let mut from_b = rec.clone();
    from_b.answer = Answer::Choice {
        option: "from-b".into(),
    };
    run(a.vault.put(&from_a)).unwrap();
    // Two writes in the same millisecond tie on the hybrid clock and break on the devices'
    // random node ids, so let the wall clock move on: b's edit is then strictly later and wins.
    std::thread::sleep(std::time::Duration::from_millis(3));
    run(b.vault.put(&from_b)).unwrap();
    sync(&mut a, &mut server, 1, false, false);
    sync(&mut b, &mut server, 1, false, false);
    sync(&mut a, &mut server, 1, false, false);
    assert_eq!(run(a.vault.get(&rec.id)).unwrap(), Some(from_b.clone()));
    assert_eq!(run(b.vault.get(&rec.id)).unwrap(), Some(from_b.clone()));
    // b pulled a's edit while its own was unpushed and newer: b keeps a's as the conflict.
    let (conflicts, _) = run(b.vault.conflicts()).unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].losing, Some(from_a.clone()));
    assert_eq!(conflicts[0].current, Some(from_b));
    run(b
        .vault
        .resolve_conflict(&conflicts[0].key.clone(), Keep::Losing))
    .unwrap();
    assert!(run(b.vault.conflicts()).unwrap().0.is_empty());
    sync(&mut b, &mut server, 1, false, false);
    sync(&mut a, &mut server, 1, false, false);
    assert_eq!(run(a.vault.get(&rec.id)).unwrap(), Some(from_a.clone()));
    assert_eq!(run(b.vault.get(&rec.id)).unwrap(), Some(from_a));
}

/// A remote entry that does not open (tampered by a server) never replaces a good record.
#[test]
fn tampered_remote_entries_are_refused() {
    let mut a = device();
    let rec = common::sample_record(1);
    run(a.insert(&rec)).unwrap();
    let (mut entries, _) = run(a.outgoing()).unwrap();
    let mut evil = entries.remove(0);
    evil.hlc.wall_ms += 1;
    evil.version += 1; // replayed under a newer version: the AAD no longer matches
    let report = run(a.apply_remote(vec![evil])).unwrap();
    assert_eq!(report.refused.len(), 1);
    assert_eq!(run(a.get(&rec.id)).unwrap(), Some(rec));
}

/// Device `b` holds what `a` wrote: the record, then whatever `a` changes and pushes.
fn two_devices_sharing(rec: &vault_core::AnswerRecord) -> (Device, Device, Server) {
    let (mut a, mut b, mut server) = (Device::new(), Device::new(), Server::default());
    run(a.vault.insert(rec)).unwrap();
    sync(&mut a, &mut server, 1, false, false);
    sync(&mut b, &mut server, 1, false, false);
    assert_eq!(run(b.vault.get(&rec.id)).unwrap().as_ref(), Some(rec));
    (a, b, server)
}

/// Issue 17, item 1: a delete pushed by anyone with a session (or injected by the server)
/// without the vault key — a format-1 tombstone, `deleted: true` and no envelope — deletes
/// nothing; before format 2 it deleted the record on every device.
#[test]
fn a_forged_delete_is_refused() {
    let rec = common::sample_record(1);
    let (a, mut b, server) = two_devices_sharing(&rec);
    let mut forged = server.log[0].clone();
    forged.version += 1;
    forged.hlc.wall_ms += 60_000;
    forged.deleted = true;
    forged.envelope = None;
    let report = run(b.vault.apply_remote(vec![forged])).unwrap();
    assert_eq!(report.applied, 0);
    assert!(matches!(
        report.refused[0].error,
        VaultError::UnauthenticatedDelete(_)
    ));
    assert_eq!(run(b.vault.get(&rec.id)).unwrap(), Some(rec.clone()));
    drop(a);
}

/// A tombstone is bound to its record, version, clock and state: a real delete of one record
/// moved to another record, to another version or clock, or a live envelope marked deleted,
/// is refused; the real delete itself applies.
#[test]
fn a_mismatched_tombstone_is_refused() {
    let rec = common::sample_record(1);
    let other = common::sample_record(2);
    let (mut a, mut b, mut server) = two_devices_sharing(&rec);
    run(a.vault.insert(&other)).unwrap();
    run(a.vault.delete(&rec.id)).unwrap();
    sync(&mut a, &mut server, 1, false, false);
    let tomb = server
        .log
        .iter()
        .find(|e| e.deleted)
        .cloned()
        .expect("a pushed its delete");
    assert!(tomb.is_authenticated_format());
    let live_other = server
        .log
        .iter()
        .find(|e| e.id == other.id)
        .cloned()
        .unwrap();
    let mut moved = tomb.clone();
    moved.id = other.id;
    moved.namespace = other.namespace.clone();
    moved.version = 2;
    let mut restamped = tomb.clone();
    restamped.hlc.wall_ms += 1;
    let mut other_version = tomb.clone();
    other_version.version += 1;
    let mut live_as_delete = live_other.clone();
    live_as_delete.version = 2;
    let mut flagged = live_other.clone();
    flagged.deleted = true;
    let report = run(b.vault.apply_remote(vec![
        live_other.clone(),
        moved,
        restamped,
        other_version,
        live_as_delete,
        flagged,
    ]))
    .unwrap();
    assert_eq!((report.applied, report.refused.len()), (1, 5));
    assert_eq!(run(b.vault.get(&other.id)).unwrap(), Some(other.clone()));
    assert_eq!(run(b.vault.get(&rec.id)).unwrap(), Some(rec.clone()));
    // The real one deletes.
    let report = run(b.vault.apply_remote(vec![tomb])).unwrap();
    assert_eq!((report.applied, report.refused.len()), (1, 0));
    assert_eq!(run(b.vault.get(&rec.id)).unwrap(), None);
}

/// Issue 17, item 2: an authentic older version (1), pushed again with a fresh clock, never
/// rolls back a later edit (2): re-stamped, it does not open; as it was, it is older.
#[test]
fn a_replayed_old_version_never_rolls_back_an_edit() {
    let rec = common::sample_record(1);
    let (mut a, mut b, mut server) = two_devices_sharing(&rec);
    let v1 = server.log[0].clone();
    let mut edited = rec.clone();
    edited.answer = Answer::Choice {
        option: "edited".into(),
    };
    run(a.vault.put(&edited)).unwrap();
    sync(&mut a, &mut server, 1, false, false);
    sync(&mut b, &mut server, 1, false, false);
    assert_eq!(run(b.vault.get(&rec.id)).unwrap(), Some(edited.clone()));

    let mut restamped = v1.clone();
    restamped.hlc = Hlc {
        wall_ms: now_ms() + 60_000,
        counter: 0,
        node: v1.hlc.node,
    };
    let report = run(b.vault.apply_remote(vec![restamped, v1.clone()])).unwrap();
    assert_eq!(report.applied, 0);
    assert_eq!(report.refused.len(), 1, "the re-stamped copy does not open");
    assert_eq!(report.ignored, 1, "the authentic old version is older");
    assert_eq!(run(b.vault.get(&rec.id)).unwrap(), Some(edited.clone()));
    // The same on a device that never saw version 1: version 2 first, then the replay.
    let mut c = Device::new();
    let v2 = server.log.last().cloned().unwrap();
    run(c.vault.apply_remote(vec![v2])).unwrap();
    run(c.vault.apply_remote(vec![v1])).unwrap();
    assert_eq!(run(c.vault.get(&rec.id)).unwrap(), Some(edited));
    drop(a);
}

/// A format-1 entry's clock is not sealed, so a server can re-stamp it: it may still never
/// replace a later version, nor decide between versions by its clock.
#[test]
fn a_restamped_format1_entry_never_beats_a_later_version() {
    let (_, _, legacy) = legacy_vault();
    let mut d = Device::new();
    run(d.vault.apply_remote(legacy.clone())).unwrap();
    let first = legacy[0].clone();
    let id = first.id;
    let before = run(d.vault.get(&id)).unwrap().unwrap();
    let mut edited = before.clone();
    edited.answer = Answer::Choice {
        option: "edited after the update".into(),
    };
    run(d.vault.put(&edited)).unwrap();
    let mut restamped = first.clone();
    restamped.hlc.wall_ms = now_ms() + 60_000;
    let report = run(d.vault.apply_remote(vec![restamped])).unwrap();
    assert_eq!((report.applied, report.ignored), (0, 1));
    assert_eq!(run(d.vault.get(&id)).unwrap(), Some(edited));
}
