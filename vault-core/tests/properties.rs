//! Property tests: the envelope, the clock and the change log under arbitrary inputs.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use proptest::prelude::*;
use vault_core::crypto::envelope::{open_record, seal_record, Envelope, RecordAad};
use vault_core::store::block_on as run;
use vault_core::{Answer, CryptoError, Hlc, HlcClock, Namespace, RecordId, VaultKey};

fn namespace() -> impl Strategy<Value = Namespace> {
    "[a-z0-9.:_-]{1,64}".prop_map(|s| Namespace::new(s).unwrap())
}

fn record_id() -> impl Strategy<Value = RecordId> {
    any::<[u8; 16]>().prop_map(RecordId::from_bytes)
}

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
        let aad = RecordAad::new(&ns, &id, version);
        let env = seal_record(key(), &aad, &pt).unwrap();
        prop_assert_eq!(env.as_bytes().len(), pt.len() + 61);
        let parsed = Envelope::parse(env.as_bytes().to_vec()).unwrap();
        prop_assert_eq!(&open_record(key(), &aad, &parsed).unwrap()[..], &pt[..]);
    }

    #[test]
    fn any_flipped_bit_is_detected(pt in proptest::collection::vec(any::<u8>(), 0..512),
                                   bit in any::<prop::sample::Index>()) {
        let aad = RecordAad::new(&Namespace::new("chatgpt").unwrap(), &RecordId::from_bytes([7; 16]), 1);
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
        let env = seal_record(key(), &RecordAad::new(&ns, &id, v), b"answer").unwrap();
        prop_assert_eq!(
            open_record(key(), &RecordAad::new(&ns2, &id2, v2), &env).err(),
            Some(CryptoError::Tampered)
        );
    }

    #[test]
    fn truncation_and_garbage_never_panic(pt in proptest::collection::vec(any::<u8>(), 0..256),
                                          cut in any::<prop::sample::Index>(),
                                          garbage in proptest::collection::vec(any::<u8>(), 0..128)) {
        let aad = RecordAad::new(&Namespace::new("claude").unwrap(), &RecordId::from_bytes([1; 16]), 2);
        let bytes = seal_record(key(), &aad, &pt).unwrap().into_bytes();
        let len = cut.index(bytes.len());
        let opened = Envelope::parse(bytes[..len].to_vec()).and_then(|e| open_record(key(), &aad, &e).map(|_| ()));
        prop_assert!(opened.is_err());
        if len < 61 {
            prop_assert!(matches!(opened, Err(CryptoError::Truncated { .. })), "{:?}", opened);
        }
        let _ = Envelope::parse(garbage).and_then(|e| open_record(key(), &aad, &e).map(|_| ()));
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
}

fn clock_op() -> impl Strategy<Value = ClockOp> {
    // Small wall-clock range, so equal and backwards-stepping times are common.
    prop_oneof![
        (1_000u64..1_020).prop_map(ClockOp::Tick),
        (1_000u64..1_030, 0u32..4, any::<u64>(), 1_000u64..1_020).prop_map(
            |(wall, counter, node, now)| ClockOp::Observe {
                wall,
                counter,
                node,
                now
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn clock_is_strictly_monotonic_and_follows_what_it_saw(ops in proptest::collection::vec(clock_op(), 1..64)) {
        let mut clock = HlcClock::new(42);
        let mut last = Hlc::ZERO;
        for op in ops {
            let issued = match op {
                ClockOp::Tick(now) => clock.tick(now),
                ClockOp::Observe { wall, counter, node, now } => {
                    let remote = Hlc { wall_ms: wall, counter, node };
                    let t = clock.observe(remote, now).unwrap();
                    prop_assert!((t.wall_ms, t.counter) > (remote.wall_ms, remote.counter));
                    t
                }
            };
            prop_assert!(issued > last, "{:?} after {:?}", issued, last);
            prop_assert_eq!(issued.node, 42);
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
    Insert,
    Edit(prop::sample::Index),
    Delete(prop::sample::Index),
    AckAll,
}

fn log_op() -> impl Strategy<Value = LogOp> {
    prop_oneof![
        3 => Just(LogOp::Insert),
        3 => any::<prop::sample::Index>().prop_map(LogOp::Edit),
        2 => any::<prop::sample::Index>().prop_map(LogOp::Delete),
        1 => Just(LogOp::AckAll),
    ]
}

#[derive(Debug, Clone, PartialEq)]
struct Model {
    version: u64,
    live: Option<vault_core::AnswerRecord>,
    pending: bool,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The change log against a model: after any mix of inserts, edits, deletes and acks, the
    /// queue holds exactly one latest change per record touched since the last ack, the vault
    /// lists exactly the live records, and versions grow by one per change.
    #[test]
    fn change_log_matches_the_model(ops in proptest::collection::vec(log_op(), 1..40)) {
        let mut vault = common::device();
        let mut model: BTreeMap<RecordId, Model> = BTreeMap::new();
        let mut n = 0u32;
        for op in ops {
            let ids: Vec<RecordId> = model.keys().copied().collect();
            match op {
                LogOp::Insert => {
                    n += 1;
                    let rec = common::sample_record(n);
                    let change = run(vault.insert(&rec)).unwrap();
                    prop_assert_eq!(change.version, 1);
                    model.insert(rec.id, Model { version: 1, live: Some(rec), pending: true });
                }
                LogOp::Edit(i) if !ids.is_empty() => {
                    let id = ids[i.index(ids.len())];
                    let m = model.get_mut(&id).unwrap();
                    let mut rec = match &m.live { Some(r) => r.clone(), None => continue };
                    rec.answer = Answer::Choice { option: format!("edit-{}", m.version) };
                    let change = run(vault.put(&rec)).unwrap();
                    prop_assert_eq!(change.version, m.version + 1);
                    *m = Model { version: m.version + 1, live: Some(rec), pending: true };
                }
                LogOp::Delete(i) if !ids.is_empty() => {
                    let id = ids[i.index(ids.len())];
                    let m = model.get_mut(&id).unwrap();
                    let change = run(vault.delete(&id)).unwrap();
                    prop_assert!(change.deleted);
                    if m.live.is_some() {
                        prop_assert_eq!(change.version, m.version + 1);
                        *m = Model { version: m.version + 1, live: None, pending: true };
                    } else {
                        prop_assert_eq!(change.version, m.version);
                    }
                }
                LogOp::AckAll => {
                    let pending = run(vault.pending_changes()).unwrap();
                    run(vault.ack_changes(&pending)).unwrap();
                    model.values_mut().for_each(|m| m.pending = false);
                }
                _ => {}
            }
        }
        let pending = run(vault.pending_changes()).unwrap();
        let expected: BTreeMap<RecordId, u64> =
            model.iter().filter(|(_, m)| m.pending).map(|(id, m)| (*id, m.version)).collect();
        let got: BTreeMap<RecordId, u64> = pending.iter().map(|c| (c.id, c.version)).collect();
        prop_assert_eq!(got, expected);
        for c in &pending {
            prop_assert_eq!(c.deleted, model[&c.id].live.is_none());
        }
        prop_assert!(pending.windows(2).all(|w| w[0].hlc < w[1].hlc));
        let mut live: Vec<_> = model.values().filter_map(|m| m.live.clone()).collect();
        live.sort_by(|a, b| a.captured_at_ms.cmp(&b.captured_at_ms).then(a.id.cmp(&b.id)));
        prop_assert_eq!(run(vault.list()).unwrap().records, live);
        let (entries, failures) = run(vault.stored_entries()).unwrap();
        prop_assert!(failures.is_empty());
        for e in entries {
            prop_assert_eq!(e.version, model[&e.id].version);
            prop_assert_eq!(e.deleted, e.envelope.is_none());
            prop_assert_eq!(e.deleted, model[&e.id].live.is_none());
        }
    }
}
