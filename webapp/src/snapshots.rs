//! What each agent was last told: the instruction snapshots that alignment's staleness is
//! measured against. They name profile facts, so they are sealed under the vault key, as
//! content of kind [`ContentKind::InstructionSnapshots`] (vault-core's content purpose: its
//! own HKDF label and associated data, so a snapshot never opens as a record nor a record as
//! a snapshot; docs/FORMAT.md §2), before they go into the store's `meta` collection. They
//! stay on this device: staleness is "since this browser's last export".
//!
//! They are not a cache: the strengths an agent was told at an export cannot be rebuilt from
//! the records afterwards. So snapshots sealed by earlier builds, under a record identity
//! (namespace `selfos.webapp:snapshots`, id `ff…ff`, version 1), are still read, once, and
//! sealed again under the content purpose ([`load`]); nothing new is ever sealed that way.

use vault_core::crypto::envelope::{self, ContentKind, Envelope, LegacyRecordAad};
use vault_core::graph::InstructionSnapshot;
use vault_core::store::{Batch, VaultStore};
use vault_core::{Namespace, RecordId, VaultKey};

use crate::AppError;

/// The store `meta` key holding the sealed snapshots.
pub const META_KEY: &str = KIND.meta_key();
/// Snapshots kept per agent (newest first); staleness only needs the newest.
pub const KEEP_PER_AGENT: usize = 5;

const KIND: ContentKind = ContentKind::InstructionSnapshots;

pub fn seal(key: &VaultKey, snapshots: &[InstructionSnapshot]) -> Result<Vec<u8>, AppError> {
    let json = serde_json::to_vec(snapshots).map_err(|e| AppError::Vault(e.to_string()))?;
    let sealed =
        envelope::seal_content(key, KIND, &json).map_err(|e| AppError::Vault(e.to_string()))?;
    Ok(sealed.into_bytes())
}

/// What the stored bytes turned out to be.
#[derive(Debug, PartialEq)]
pub enum Opened {
    /// Sealed under the content purpose.
    Current(Vec<InstructionSnapshot>),
    /// Sealed by an earlier build under the record identity: to be sealed again.
    Legacy(Vec<InstructionSnapshot>),
    /// Not openable with this key, or not snapshots: shown as "never exported".
    Unreadable,
}

/// Opens what [`seal`] (or an earlier build) wrote.
pub fn open(key: &VaultKey, bytes: &[u8]) -> Opened {
    let Ok(env) = Envelope::parse(bytes.to_vec()) else {
        return Opened::Unreadable;
    };
    let decode = |plain: &[u8]| serde_json::from_slice::<Vec<InstructionSnapshot>>(plain).ok();
    if let Some(list) = envelope::open_content(key, KIND, &env)
        .ok()
        .and_then(|p| decode(&p))
    {
        return Opened::Current(list);
    }
    let legacy = legacy_aad().and_then(|aad| envelope::open_legacy_record(key, &aad, &env).ok());
    match legacy.and_then(|p| decode(&p)) {
        Some(list) => Opened::Legacy(list),
        None => Opened::Unreadable,
    }
}

/// The record identity earlier builds sealed snapshots under. Read-only: only [`open`] uses
/// it, to carry those snapshots over to the content purpose.
fn legacy_aad() -> Option<LegacyRecordAad> {
    let ns = Namespace::new("selfos.webapp:snapshots").ok()?;
    Some(LegacyRecordAad::new(
        &ns,
        &RecordId::from_bytes([0xff; 16]),
        1,
    ))
}

/// The snapshots kept in `store`, for the unlocked vault's `key`. Snapshots from an earlier
/// build are sealed again under the content purpose and written back; unreadable bytes count
/// as "never exported" and stay until the next export replaces them.
pub async fn load<S: VaultStore>(
    store: &S,
    key: &VaultKey,
) -> Result<Vec<InstructionSnapshot>, AppError> {
    let Some(bytes) = store.get_meta(META_KEY).await? else {
        return Ok(Vec::new());
    };
    Ok(match open(key, &bytes) {
        Opened::Current(list) => list,
        Opened::Legacy(list) => {
            let batch = Batch {
                meta: vec![(META_KEY.into(), seal(key, &list)?)],
                ..Batch::default()
            };
            // Best effort: if this write fails, the legacy bytes stay and the next unlock
            // tries again; the snapshots are shown either way.
            let _ = store.write(batch).await;
            list
        }
        Opened::Unreadable => Vec::new(),
    })
}

/// Adds new snapshots, keeping the newest few per agent.
pub fn merge(old: &[InstructionSnapshot], new: &[InstructionSnapshot]) -> Vec<InstructionSnapshot> {
    let mut all: Vec<InstructionSnapshot> = new.iter().chain(old).cloned().collect();
    vault_core::sort::sort_by(&mut all, |a, b| {
        a.agent
            .cmp(&b.agent)
            .then(b.exported_at_ms.cmp(&a.exported_at_ms))
    });
    let mut out: Vec<InstructionSnapshot> = Vec::new();
    for s in all {
        if out.iter().filter(|o| o.agent == s.agent).count() < KEEP_PER_AGENT {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use vault_core::store::block_on;
    use vault_core::MemoryStore;

    fn snap(agent: &str, at: u64) -> InstructionSnapshot {
        InstructionSnapshot {
            agent: agent.into(),
            exported_at_ms: at,
            strengths: [("tone=plain".to_string(), 0.7)].into_iter().collect(),
            method: None,
        }
    }

    /// What earlier builds wrote: the snapshots sealed as a record.
    fn legacy_seal(key: &VaultKey, list: &[InstructionSnapshot]) -> Vec<u8> {
        let json = serde_json::to_vec(list).unwrap();
        vault_core::crypto::hazmat::seal_legacy_record(key, &legacy_aad().unwrap(), &json)
            .unwrap()
            .into_bytes()
    }

    #[test]
    fn seals_and_merges() {
        let key = VaultKey::generate().unwrap();
        let list = vec![snap("chatgpt", 5), snap("claude", 6)];
        let bytes = seal(&key, &list).unwrap();
        assert_eq!(open(&key, &bytes), Opened::Current(list));
        let other = VaultKey::generate().unwrap();
        assert_eq!(open(&other, &bytes), Opened::Unreadable);
        let many: Vec<_> = (0..9).map(|i| snap("chatgpt", i)).collect();
        let merged = merge(&many, &[snap("gemini", 1)]);
        assert_eq!(
            merged.iter().filter(|s| s.agent == "chatgpt").count(),
            KEEP_PER_AGENT
        );
        assert_eq!(
            merged
                .iter()
                .find(|s| s.agent == "chatgpt")
                .unwrap()
                .exported_at_ms,
            8
        );
    }

    /// Sealed under the content purpose, snapshots are no record: the record identity they
    /// once used does not open them.
    #[test]
    fn a_snapshot_is_not_a_record() {
        let key = VaultKey::generate().unwrap();
        let bytes = seal(&key, &[snap("chatgpt", 5)]).unwrap();
        let env = Envelope::parse(bytes).unwrap();
        assert!(envelope::open_legacy_record(&key, &legacy_aad().unwrap(), &env).is_err());
    }

    /// A returning user's snapshots from an earlier build are shown, and sealed again under
    /// the content purpose: nothing is lost, and the legacy read happens once.
    #[test]
    fn legacy_snapshots_are_carried_over() {
        let key = VaultKey::generate().unwrap();
        let list = vec![snap("chatgpt", 5), snap("claude", 6)];
        let store = MemoryStore::new();
        store.put_raw_meta(META_KEY, legacy_seal(&key, &list));
        assert_eq!(
            open(&key, &legacy_seal(&key, &list)),
            Opened::Legacy(list.clone())
        );

        assert_eq!(block_on(load(&store, &key)).unwrap(), list);
        let now = block_on(store.get_meta(META_KEY)).unwrap().unwrap();
        assert_eq!(open(&key, &now), Opened::Current(list.clone()));
        assert_eq!(block_on(load(&store, &key)).unwrap(), list);
    }

    /// Bytes that open neither way (another vault's key, corruption) show as "never
    /// exported", and are left as they are: the next export replaces them.
    #[test]
    fn unreadable_snapshots_show_nothing_and_stay() {
        let key = VaultKey::generate().unwrap();
        let other = VaultKey::generate().unwrap();
        let store = MemoryStore::new();
        assert!(block_on(load(&store, &key)).unwrap().is_empty());
        for bytes in [
            seal(&other, &[snap("chatgpt", 5)]).unwrap(),
            legacy_seal(&other, &[snap("chatgpt", 5)]),
            b"not an envelope".to_vec(),
        ] {
            store.put_raw_meta(META_KEY, bytes.clone());
            assert!(block_on(load(&store, &key)).unwrap().is_empty());
            assert_eq!(block_on(store.get_meta(META_KEY)).unwrap(), Some(bytes));
        }
        // Sealed content that is not snapshots is unreadable too, not an error.
        let env = envelope::seal_content(&key, KIND, b"{\"not\": \"a list\"}").unwrap();
        assert_eq!(open(&key, env.as_bytes()), Opened::Unreadable);
    }
}
