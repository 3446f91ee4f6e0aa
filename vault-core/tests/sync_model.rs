//! Several devices write, edit and delete while partitioned, sync through an append-only
//! server log with reordered and duplicated deliveries, and must converge without losing any
//! acknowledged write.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use vault_core::store::block_on as run;
use vault_core::sync::Keep;
use vault_core::{Answer, MemoryStore, RecordId, StoredRecord, Vault};

use common::device;

struct Device {
    vault: Vault<MemoryStore>,
    cursor: usize,
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
}

fn op(devices: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..devices).prop_map(|dev| Op::Insert { dev }),
        3 => (0..devices, any::<prop::sample::Index>()).prop_map(|(dev, pick)| Op::Edit { dev, pick }),
        1 => (0..devices, any::<prop::sample::Index>()).prop_map(|(dev, pick)| Op::Delete { dev, pick }),
        3 => (0..devices, any::<u64>(), any::<bool>(), any::<bool>())
            .prop_map(|(dev, shuffle, duplicate, push_twice)| Op::Sync { dev, shuffle, duplicate, push_twice }),
    ]
}

/// Pull everything new (reordered, maybe duplicated), then push and acknowledge.
fn sync(
    d: &mut Device,
    log: &mut Vec<StoredRecord>,
    acked: &mut Vec<StoredRecord>,
    shuffle: u64,
    duplicate: bool,
    push_twice: bool,
) {
    let mut batch: Vec<StoredRecord> = log[d.cursor..].to_vec();
    if duplicate {
        batch.extend(log[d.cursor..].iter().take(3).cloned());
    }
    // A deterministic shuffle from the seed.
    let mut x = shuffle | 1;
    for i in (1..batch.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        batch.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let report = run(d.vault.apply_remote(batch)).unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    d.cursor = log.len();
    let (entries, changes) = run(d.vault.outgoing()).unwrap();
    log.extend(entries.iter().cloned());
    if push_twice {
        log.extend(entries.iter().cloned());
    }
    run(d.vault.ack_changes(&changes)).unwrap();
    acked.extend(entries);
}

fn entries(v: &Vault<MemoryStore>) -> BTreeMap<RecordId, StoredRecord> {
    let (e, failures) = run(v.stored_entries()).unwrap();
    assert!(failures.is_empty());
    e.into_iter().map(|e| (e.id, e)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn devices_converge_and_keep_every_acknowledged_write(ops in proptest::collection::vec(op(3), 1..60)) {
        let mut devices: Vec<Device> = (0..3).map(|_| Device { vault: device(), cursor: 0 }).collect();
        let mut log: Vec<StoredRecord> = Vec::new();
        let mut acked: Vec<StoredRecord> = Vec::new();
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
                        rec.answer = Answer::Choice { option: format!("edit-{n}-{dev}") };
                        n += 1;
                        run(devices[dev].vault.put(&rec)).unwrap();
                    } else {
                        run(devices[dev].vault.delete(&rec.id)).unwrap();
                    }
                }
                Op::Sync { dev, shuffle, duplicate, push_twice } => {
                    sync(&mut devices[dev], &mut log, &mut acked, shuffle, duplicate, push_twice);
                }
            }
        }
        // Heal the partition: everyone syncs, then everyone pulls what the others pushed.
        for round in 0..2 {
            for d in devices.iter_mut() {
                sync(d, &mut log, &mut acked, round, false, false);
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
        }
        // No acknowledged write is lost: each record ends at that write or a later one.
        for w in &acked {
            prop_assert!(first[&w.id].hlc >= w.hlc, "{:?} lost", w);
        }
        // And the final state is exactly the newest write of each record.
        let mut newest: BTreeMap<RecordId, &StoredRecord> = BTreeMap::new();
        for w in &acked {
            let e = newest.entry(w.id).or_insert(w);
            if w.hlc > e.hlc {
                *e = w;
            }
        }
        for (id, w) in newest {
            prop_assert_eq!(&first[&id], w);
        }
    }
}

/// Two devices edit one record offline; after syncing, the loser is kept as a conflict on
/// the device whose edit lost, and resolving it in favour of the loser wins everywhere.
#[test]
fn concurrent_edits_keep_the_loser_as_a_conflict() {
    let mut a = Device {
        vault: device(),
        cursor: 0,
    };
    let mut b = Device {
        vault: device(),
        cursor: 0,
    };
    let (mut log, mut acked) = (Vec::new(), Vec::new());
    let rec = common::sample_record(1);
    run(a.vault.insert(&rec)).unwrap();
    sync(&mut a, &mut log, &mut acked, 1, false, false);
    sync(&mut b, &mut log, &mut acked, 1, false, false);
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
    sync(&mut a, &mut log, &mut acked, 1, false, false);
    sync(&mut b, &mut log, &mut acked, 1, false, false);
    sync(&mut a, &mut log, &mut acked, 1, false, false);
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
    sync(&mut b, &mut log, &mut acked, 1, false, false);
    sync(&mut a, &mut log, &mut acked, 1, false, false);
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
