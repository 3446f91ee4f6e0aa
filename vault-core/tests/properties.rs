//! Property tests: the envelope, the clock and the change log under arbitrary inputs.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use proptest::prelude::*;
use vault_core::crypto::envelope::{open_record, seal_record, Envelope, RecordAad, RecordState};
use vault_core::store::block_on as run;
use vault_core::{Answer, CryptoError, Hlc, HlcClock, Namespace, RecordId, VaultKey};

fn namespace() -> impl Strategy<Value = Namespace> {
    "[a-z0-9.:_-]{1,64}".prop_map(|s| Namespace::new(s).unwrap())
}

fn record_id() -> impl Strategy<Value = RecordId> {
    any::<[u8; 16]>().prop_map(RecordId::from_bytes)
}

/// The format-2 associated data of a live record at a fixed clock.
fn live_aad(ns: &Namespace, id: &RecordId, version: u64) -> RecordAad {
    RecordAad::new(ns, id, version, &CLOCK, RecordState::Live)
}

const CLOCK: Hlc = Hlc {
    wall_ms: 1_763_800_000_000,
    counter: 3,
    node: 0xfeed,
};

/// One vault key for all envelope cases (generation is cheap, but keeps cases comparable).
fn key() -> &'static VaultKey {
    static KEY: OnceLock<VaultKey> = OnceLock::new();
    KEY.get_or_init(|| VaultKey::generate().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn envelope_round_trips(pt in proptest::collection::vec(any::<u8>(), 0..2048),
                            ns in namespace(), id in record_id(), version in any::<u64>()) {
        let aad = live_aad(&ns, &id, version);
        let env = seal_record(key(), &aad, &pt).unwrap();
        prop_assert_eq!(env.as_bytes().len(), pt.len() + 61);
        let parsed = Envelope::parse(env.as_bytes().to_vec()).unwrap();
        prop_assert_eq!(&open_record(key(), &aad, &parsed).unwrap()[..], &pt[..]);
    }

    #[test]
    fn any_flipped_bit_is_detected(pt in proptest::collection::vec(any::<u8>(), 0..512),
                                   bit in any::<prop::sample::Index>()) {
        let aad = live_aad(&Namespace::new("chatgpt").unwrap(), &RecordId::from_bytes([7; 16]), 1);
        let mut bytes = seal_record(key(), &aad, &pt).unwrap().into_bytes();
        let i = bit.index(bytes.len() * 8);
        bytes[i / 8] ^= 1 << (i % 8);
        let opened = Envelope::parse(bytes).and_then(|e| open_record(key(), &aad, &e).map(|_| ()));
        prop_assert!(matches!(
            opened,
            Err(CryptoError::Tampered | CryptoError::UnknownEnvelopeVersion(_))
        ), "{:?}", opened);
    }

    #[test]
    fn another_identity_never_opens(ns in namespace(), ns2 in namespace(), id in record_id(),
                                    id2 in record_id(), v in any::<u64>(), v2 in any::<u64>()) {
        prop_assume!((ns.clone(), id, v) != (ns2.clone(), id2, v2));
        let env = seal_record(key(), &live_aad(&ns, &id, v), b"answer").unwrap();
        prop_assert_eq!(
            open_record(key(), &live_aad(&ns2, &id2, v2), &env).err(),
            Some(CryptoError::Tampered)
        );
    }

    /// Each part of the identity is bound on its own: changing only the namespace, only the
    /// id or only the version (by one, the replay that matters) is enough to fail.
    #[test]
    fn each_identity_field_is_bound(ns in namespace(), ns2 in namespace(), id in record_id(),
                                    id2 in record_id(), v in any::<u64>(), field in 0u8..3) {
        let (other_ns, other_id, other_v) = match field {
            0 => (ns2, id, v),
            1 => (ns.clone(), id2, v),
            _ => (ns.clone(), id, v.wrapping_add(1)),
        };
        prop_assume!((ns.clone(), id, v) != (other_ns.clone(), other_id, other_v));
        let env = seal_record(key(), &live_aad(&ns, &id, v), b"answer").unwrap();
        prop_assert!(open_record(key(), &live_aad(&ns, &id, v), &env).is_ok());
        prop_assert_eq!(
            open_record(key(), &live_aad(&other_ns, &other_id, other_v), &env).err(),
            Some(CryptoError::Tampered)
        );
    }

    /// The clock a change claims and its live/deleted state are bound too: a record
    /// re-stamped with any other clock, or presented as a tombstone, does not open.
    #[test]
    fn clock_and_state_are_bound(ns in namespace(), id in record_id(), v in 1u64..1 << 53,
                                 wall in 0u64..1_000_000_000_000_000, counter in any::<u32>(),
                                 node in any::<u64>(), tombstone in any::<bool>()) {
        let state = if tombstone { RecordState::Tombstone } else { RecordState::Live };
        let clock = Hlc { wall_ms: wall, counter, node };
        prop_assume!(clock != CLOCK || state != RecordState::Live);
        let env = seal_record(key(), &live_aad(&ns, &id, v), b"answer").unwrap();
        prop_assert_eq!(
            open_record(key(), &RecordAad::new(&ns, &id, v, &clock, state), &env).err(),
            Some(CryptoError::Tampered)
        );
    }

    #[test]
    fn truncation_and_garbage_never_panic(pt in proptest::collection::vec(any::<u8>(), 0..256),
                                          cut in any::<prop::sample::Index>(),
                                          garbage in proptest::collection::vec(any::<u8>(), 0..128)) {
        let aad = live_aad(&Namespace::new("claude").unwrap(), &RecordId::from_bytes([1; 16]), 2);
        let bytes = seal_record(key(), &aad, &pt).unwrap().into_bytes();
        let len = cut.index(bytes.len());
        let opened = Envelope::parse(bytes[..len].to_vec()).and_then(|e| open_record(key(), &aad, &e).map(|_| ()));
        prop_assert!(opened.is_err());
        if len < 61 {
            prop_assert!(matches!(opened, Err(CryptoError::Truncated { .. })), "{:?}", opened);
        }
        let _ = Envelope::parse(garbage).and_then(|e| open_record(key(), &aad, &e).map(|_| ()));
    }

    /// Arbitrary bytes behind a valid version byte parse, and then fail authentication.
    #[test]
    fn forged_envelopes_are_tampered(body in proptest::collection::vec(any::<u8>(), 60..300)) {
        let aad = live_aad(&Namespace::new("gemini").unwrap(), &RecordId::from_bytes([2; 16]), 1);
        let mut bytes = vec![vault_core::crypto::envelope::RECORD_VERSION];
        bytes.extend_from_slice(&body);
        let env = Envelope::parse(bytes).unwrap();
        prop_assert_eq!(open_record(key(), &aad, &env).err(), Some(CryptoError::Tampered));
    }
}

#[derive(Debug, Clone)]
enum ClockOp {
    Tick(u64),
    Observe {
        wall: u64,
        counter: u32,
        node: u64,
        now: u64,
    },
    /// A remote `ahead` ms beyond the allowed drift: must be refused and change nothing.
    ObserveTooFar {
        ahead: u64,
        now: u64,
    },
}

fn clock_op() -> impl Strategy<Value = ClockOp> {
    // Small wall-clock range, so equal and backwards-stepping times are common; counters
    // near u32::MAX exercise the overflow into the next millisecond.
    let counter = prop_oneof![0u32..4, (u32::MAX - 2)..=u32::MAX];
    prop_oneof![
        4 => (1_000u64..1_020).prop_map(ClockOp::Tick),
        4 => (1_000u64..1_030, counter, any::<u64>(), 1_000u64..1_020).prop_map(
            |(wall, counter, node, now)| ClockOp::Observe {
                wall,
                counter,
                node,
                now
            }
        ),
        1 => (1u64..1_000, 1_000u64..1_020)
            .prop_map(|(ahead, now)| ClockOp::ObserveTooFar { ahead, now }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn clock_is_strictly_monotonic_and_follows_what_it_saw(ops in proptest::collection::vec(clock_op(), 1..64)) {
        let mut clock = HlcClock::new(42);
        let mut last = clock.last();
        // The largest remote the clock accepted: everything issued afterwards must follow it,
        // whatever the remote's node id.
        let mut seen = Hlc::ZERO;
        for op in ops {
            let issued = match op {
                ClockOp::Tick(now) => clock.tick(now),
                ClockOp::Observe { wall, counter, node, now } => {
                    let remote = Hlc { wall_ms: wall, counter, node };
                    let t = clock.observe(remote, now).unwrap();
                    prop_assert!((t.wall_ms, t.counter) > (remote.wall_ms, remote.counter));
                    seen = seen.max(Hlc { node: 0, ..remote });
                    t
                }
                ClockOp::ObserveTooFar { ahead, now } => {
                    let remote = Hlc {
                        wall_ms: now + vault_core::hlc::MAX_DRIFT_MS + ahead,
                        counter: 0,
                        node: 7,
                    };
                    let refused = clock.observe(remote, now);
                    prop_assert!(
                        matches!(refused, Err(vault_core::VaultError::ClockDrift { .. })),
                        "{:?}", refused
                    );
                    prop_assert_eq!(clock.last(), last, "a refused remote moved the clock");
                    continue;
                }
            };
            prop_assert!(issued > last, "{:?} after {:?}", issued, last);
            prop_assert!((issued.wall_ms, issued.counter) > (seen.wall_ms, seen.counter),
                         "{:?} does not follow observed {:?}", issued, seen);
            prop_assert_eq!(issued.node, 42);
            prop_assert_eq!(clock.last(), issued);
            last = issued;
        }
    }

    #[test]
    fn hlc_text_round_trips_and_sorts_like_the_clock(a in (0u64..10u64.pow(15), any::<u32>(), any::<u64>()),
                                                     b in (0u64..10u64.pow(15), any::<u32>(), any::<u64>())) {
        let (a, b) = (Hlc { wall_ms: a.0, counter: a.1, node: a.2 }, Hlc { wall_ms: b.0, counter: b.1, node: b.2 });
        prop_assert_eq!(a.to_string().parse::<Hlc>().unwrap(), a);
        prop_assert_eq!(a.to_string().cmp(&b.to_string()), a.cmp(&b));
    }
}

#[test]
fn clock_refuses_a_remote_far_in_the_future() {
    let mut clock = HlcClock::new(1);
    let now = 1_000_000;
    let remote = Hlc {
        wall_ms: now + vault_core::hlc::MAX_DRIFT_MS + 1,
        counter: 0,
        node: 2,
    };
    assert!(matches!(
        clock.observe(remote, now),
        Err(vault_core::VaultError::ClockDrift { .. })
    ));
    assert!(
        clock.tick(now) < remote,
        "the refused time did not leak into the clock"
    );
}

#[derive(Debug, Clone)]
enum LogOp {
    /// A new record through `insert` (the capture path).
    Insert,
    /// A new record through `put`.
    PutNew,
    /// `put` over an existing record; on a tombstone this brings the record back.
    Edit(prop::sample::Index),
    Delete(prop::sample::Index),
    /// Deleting an id the vault never had.
    DeleteMissing,
    /// Reads the queue now, to acknowledge it later (a push whose answer comes back late).
    Snapshot,
    /// Acknowledges the last snapshot: changes made since it must stay queued.
    AckSnapshot,
    AckAll,
}

fn log_op() -> impl Strategy<Value = LogOp> {
    prop_oneof![
        2 => Just(LogOp::Insert),
        1 => Just(LogOp::PutNew),
        3 => any::<prop::sample::Index>().prop_map(LogOp::Edit),
        2 => any::<prop::sample::Index>().prop_map(LogOp::Delete),
        1 => Just(LogOp::DeleteMissing),
        1 => Just(LogOp::Snapshot),
        1 => Just(LogOp::AckSnapshot),
        1 => Just(LogOp::AckAll),
    ]
}

#[derive(Debug, Clone, PartialEq)]
struct Model {
    version: u64,
    /// The last written content; `live` says whether it is deleted.
    record: vault_core::AnswerRecord,
    live: bool,
    pending: bool,
    /// The version the pending change was made on: the version when the record was first
    /// touched after its last ack (0 for a new record).
    base: u64,
}

impl Model {
    /// One local change: the version grows by one and the change is queued.
    fn change(&mut self, live: bool) {
        if !self.pending {
            self.base = self.version;
        }
        self.version += 1;
        self.live = live;
        self.pending = true;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The change log against a model: after any mix of inserts, puts, edits, deletes, and
    /// acks (current or stale), the queue holds exactly one latest change per record touched
    /// since its last ack, the vault lists exactly the live records, deleted records are
    /// sealed tombstones, versions grow by one per change, and every change gets
    /// a later timestamp than the one before.
    #[test]
    fn change_log_matches_the_model(ops in proptest::collection::vec(log_op(), 1..40)) {
        let mut vault = common::device();
        let mut model: BTreeMap<RecordId, Model> = BTreeMap::new();
        let mut snapshot: Vec<vault_core::PendingChange> = Vec::new();
        let mut last_hlc = Hlc::ZERO;
        let mut n = 0u32;
        for op in ops {
            let ids: Vec<RecordId> = model.keys().copied().collect();
            let change = match op {
                LogOp::Insert | LogOp::PutNew => {
                    n += 1;
                    let rec = common::sample_record(n);
                    let change = if matches!(op, LogOp::Insert) {
                        run(vault.insert(&rec)).unwrap()
                    } else {
                        run(vault.put(&rec)).unwrap()
                    };
                    let mut m = Model { version: 0, record: rec.clone(), live: true, pending: false, base: 0 };
                    m.change(true);
                    model.insert(rec.id, m);
                    change
                }
                LogOp::Edit(i) if !ids.is_empty() => {
                    let id = ids[i.index(ids.len())];
                    let m = model.get_mut(&id).unwrap();
                    m.record.answer = Answer::Choice { option: format!("edit-{}", m.version) };
                    let change = run(vault.put(&m.record)).unwrap();
                    m.change(true);
                    change
                }
                LogOp::Delete(i) if !ids.is_empty() => {
                    let id = ids[i.index(ids.len())];
                    let m = model.get_mut(&id).unwrap();
                    let change = run(vault.delete(&id)).unwrap();
                    if m.live {
                        m.change(false);
                    } else {
                        // Deleting a tombstone writes nothing and reports the entry as it is.
                        prop_assert!(change.hlc <= last_hlc);
                        prop_assert_eq!(change.base_version, if m.pending { m.base } else { m.version });
                        prop_assert!(change.deleted);
                        prop_assert_eq!(change.version, m.version);
                        continue;
                    }
                    change
                }
                LogOp::DeleteMissing => {
                    let id = RecordId::generate().unwrap();
                    let refused = run(vault.delete(&id));
                    prop_assert!(matches!(refused, Err(vault_core::VaultError::NotFound(_))), "{:?}", refused);
                    continue;
                }
                LogOp::Snapshot => {
                    snapshot = run(vault.pending_changes()).unwrap();
                    continue;
                }
                LogOp::AckSnapshot => {
                    run(vault.ack_changes(&snapshot)).unwrap();
                    for c in &snapshot {
                        // The ack removes the queued change only if it is still the one that
                        // was read: every newer change to the record has a newer version.
                        let m = model.get_mut(&c.id).unwrap();
                        if m.pending && m.version == c.version {
                            m.pending = false;
                        }
                    }
                    continue;
                }
                LogOp::AckAll => {
                    let pending = run(vault.pending_changes()).unwrap();
                    run(vault.ack_changes(&pending)).unwrap();
                    model.values_mut().for_each(|m| m.pending = false);
                    continue;
                }
                _ => continue,
            };
            let m = &model[&change.id];
            prop_assert_eq!(change.version, m.version);
            prop_assert_eq!(change.deleted, !m.live);
            prop_assert_eq!(change.base_version, m.base);
            prop_assert_eq!(&change.namespace, &m.record.namespace);
            prop_assert!(change.hlc > last_hlc, "{:?} after {:?}", change.hlc, last_hlc);
            last_hlc = change.hlc;
        }

        let pending = run(vault.pending_changes()).unwrap();
        let expected: BTreeMap<RecordId, (u64, bool, u64)> = model
            .iter()
            .filter(|(_, m)| m.pending)
            .map(|(id, m)| (*id, (m.version, !m.live, m.base)))
            .collect();
        let got: BTreeMap<RecordId, (u64, bool, u64)> =
            pending.iter().map(|c| (c.id, (c.version, c.deleted, c.base_version))).collect();
        prop_assert_eq!(pending.len(), got.len(), "one queued change per record");
        prop_assert_eq!(got, expected);
        prop_assert!(pending.windows(2).all(|w| w[0].hlc < w[1].hlc));

        let mut live: Vec<_> = model.values().filter(|m| m.live).map(|m| m.record.clone()).collect();
        live.sort_by(|a, b| a.captured_at_ms.cmp(&b.captured_at_ms).then(a.id.cmp(&b.id)));
        let listing = run(vault.list()).unwrap();
        prop_assert!(listing.failures.is_empty());
        prop_assert_eq!(listing.records, live);

        let (entries, failures) = run(vault.stored_entries()).unwrap();
        prop_assert!(failures.is_empty());
        prop_assert_eq!(entries.len(), model.len());
        for e in &entries {
            let m = &model[&e.id];
            prop_assert_eq!(e.version, m.version);
            prop_assert_eq!(e.deleted, !m.live);
            // Every entry, tombstones included, is sealed in format 2 and opens for its state.
            prop_assert!(e.is_authenticated_format());
            prop_assert_eq!(run(vault.get(&e.id)).unwrap().is_some(), !e.deleted);
            prop_assert_eq!(&e.namespace, &m.record.namespace);
            // A queued change describes exactly the stored entry it was made with.
            if let Some(c) = pending.iter().find(|c| c.id == e.id) {
                prop_assert_eq!((c.version, c.hlc, c.deleted), (e.version, e.hlc, e.deleted));
            }
        }
    }
}
