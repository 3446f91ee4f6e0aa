//! Storage: a small trait that moves opaque bytes, with one module per backend.
//!
//! Backends know nothing of records or keys: they store encoded entries under string keys in
//! three collections (`records`, `pending`, `meta`) and apply a [`Batch`] atomically. The
//! encoding and all corruption handling live here, once, so every backend reports a damaged
//! entry the same way and a damaged entry never hides the others.

#[cfg(target_arch = "wasm32")]
pub mod indexeddb;
pub mod memory;

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::hlc::Hlc;
use crate::record::{Namespace, RecordId};

pub use memory::{block_on, MemoryStore};

/// Collections (IndexedDB object stores) a vault uses.
pub const COLLECTIONS: [&str; 4] = ["records", "pending", "meta", "conflicts"];

/// Meta key of the vault header.
pub const META_HEADER: &str = "header";
/// Meta key of the last hybrid-logical-clock timestamp issued on this device.
pub const META_CLOCK: &str = "clock";
/// Meta key of this device's clock node id.
pub const META_DEVICE: &str = "device";

/// Writes applied all together or not at all.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Batch {
    pub records: Vec<(String, Vec<u8>)>,
    pub pending: Vec<(String, Vec<u8>)>,
    pub meta: Vec<(String, Vec<u8>)>,
    /// Losing versions of concurrently edited records, kept for the user to resolve.
    pub conflicts: Vec<(String, Vec<u8>)>,
    /// Pending changes to remove (applied after the writes above).
    pub delete_pending: Vec<String>,
    /// Conflicts to remove (resolved).
    pub delete_conflicts: Vec<String>,
    /// The `records` entries are new: if one exists already, the whole batch fails with
    /// [`StoreError::Exists`] (IndexedDB `add` instead of `put`: no read needed first).
    pub insert_only: bool,
}

/// What [`VaultStore::update_record`] read, inside its transaction.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Current {
    pub record: Option<Vec<u8>>,
    pub pending: Option<Vec<u8>>,
}

/// A storage backend. Futures are not `Send`: in the browser everything runs on one thread.
#[allow(async_fn_in_trait)]
pub trait VaultStore {
    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    async fn get_record(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    async fn scan_records(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    async fn scan_pending(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    async fn scan_conflicts(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// Applies every write of `batch` atomically.
    async fn write(&self, batch: Batch) -> Result<(), StoreError>;
    /// Atomically reads the record entry `key` (and its pending change) and applies the batch
    /// `f` makes of them, in one
    /// transaction. `f` is synchronous on purpose: sealing is synchronous Rust, and nothing
    /// may be awaited inside an IndexedDB transaction. If `f` fails, nothing is written.
    async fn update_record<T, E, F>(&self, key: &str, f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(Current) -> Result<(Batch, T), E>;
    /// Removes each pending entry whose stored bytes still equal the given bytes (a change
    /// queued again after being pushed stays queued). Atomic.
    async fn ack_pending(&self, acks: &[(String, Vec<u8>)]) -> Result<(), StoreError>;
    /// Deletes everything: records, pending changes and meta (the vault header too).
    async fn clear(&self) -> Result<(), StoreError>;
}

/// The largest record version: 2^53 - 1, the largest integer a JavaScript number (and many
/// JSON readers) hold exactly. A version above it is refused when an entry is read.
pub const MAX_VERSION: u64 = (1 << 53) - 1;

/// A record as stored: identity, clock and envelope in the clear, answer sealed. A tombstone
/// (a deleted record, kept so the delete syncs) carries a sealed empty envelope in format 2
/// and `None` in format 1 (docs/FORMAT.md §4).
///
/// Every way in (the store, a backup, a pull, a push on the server) deserializes through
/// [`StoredRecordFields`]' check, so an entry whose `deleted` flag and envelope disagree, or
/// whose version is out of range, is refused where it is read, with a message naming the
/// field: a live entry without an envelope, or a format-1 envelope marked deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredRecordFields")]
pub struct StoredRecord {
    pub id: RecordId,
    pub namespace: Namespace,
    pub version: u64,
    pub hlc: Hlc,
    pub deleted: bool,
    #[serde(with = "crate::codec::b64_opt")]
    pub envelope: Option<Vec<u8>>,
}

/// [`StoredRecord`]'s fields as they arrive, before [`StoredRecord::check`].
#[derive(Deserialize)]
#[doc(hidden)]
pub struct StoredRecordFields {
    id: RecordId,
    namespace: Namespace,
    version: u64,
    hlc: Hlc,
    deleted: bool,
    #[serde(with = "crate::codec::b64_opt")]
    envelope: Option<Vec<u8>>,
}

impl TryFrom<StoredRecordFields> for StoredRecord {
    type Error = String;

    fn try_from(f: StoredRecordFields) -> Result<Self, String> {
        let entry = StoredRecord {
            id: f.id,
            namespace: f.namespace,
            version: f.version,
            hlc: f.hlc,
            deleted: f.deleted,
            envelope: f.envelope,
        };
        entry.check()?;
        Ok(entry)
    }
}

/// One entry of the pending-changes queue: the latest local change to a record, not yet
/// acknowledged by the sync server. Keyed by record id, so repeated edits coalesce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingChange {
    pub id: RecordId,
    pub namespace: Namespace,
    pub version: u64,
    pub hlc: Hlc,
    pub deleted: bool,
    /// The version of the last state this device had from sync (or 0) when the change was
    /// made: a remote version above it is a concurrent edit, at or below it an ancestor.
    #[serde(default)]
    pub base_version: u64,
}

impl StoredRecord {
    pub fn key(&self) -> String {
        self.id.to_string()
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("StoredRecord always serializes")
    }

    /// Decodes one stored entry; a damaged one is [`StoreError::Corrupt`] naming its key.
    pub fn decode(key: &str, bytes: &[u8]) -> Result<Self, StoreError> {
        let rec: StoredRecord = decode_entry(key, bytes)?;
        if rec.key() != key {
            return Err(corrupt(key, format!("entry claims id {}", rec.id)));
        }
        Ok(rec)
    }

    /// The structural rules every entry keeps, whatever its source (docs/FORMAT.md §4):
    /// version 1 to [`MAX_VERSION`]; a live entry has an envelope; a tombstone has a format-2
    /// envelope, or none (format 1). Whether the envelope opens is checked later, with the key.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_VERSION).contains(&self.version) {
            return Err(format!(
                "version {} is out of range (1 to 2^53 - 1)",
                self.version
            ));
        }
        match (self.deleted, self.envelope.as_deref().map(|e| e.first())) {
            (false, None) => Err("`deleted` is false but there is no envelope: \
                 a live record needs its sealed answer"
                .into()),
            (true, Some(Some(&crate::crypto::envelope::VERSION))) => {
                Err("`deleted` is true but the envelope is a format-1 record: \
                 tombstone flag and envelope disagree"
                    .into())
            }
            _ => Ok(()),
        }
    }

    /// A format-1 tombstone: `deleted` with no envelope. Nothing in it proves the delete was
    /// made with the vault key, so one from outside is never applied (docs/SYNC.md).
    pub fn is_legacy_tombstone(&self) -> bool {
        self.deleted && self.envelope.is_none()
    }

    /// Whether the entry's clock and state are authenticated: a format-2 envelope.
    pub fn is_authenticated_format(&self) -> bool {
        self.envelope.as_deref().and_then(|e| e.first()).copied()
            == Some(crate::crypto::envelope::RECORD_VERSION)
    }

    /// The pending change that records this entry, made on top of `base_version`.
    pub fn change(&self, base_version: u64) -> PendingChange {
        PendingChange {
            id: self.id,
            namespace: self.namespace.clone(),
            version: self.version,
            hlc: self.hlc,
            deleted: self.deleted,
            base_version,
        }
    }
}

impl PendingChange {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("PendingChange always serializes")
    }

    pub fn decode(key: &str, bytes: &[u8]) -> Result<Self, StoreError> {
        let change: PendingChange = decode_entry(key, bytes)?;
        if change.id.to_string() != key {
            return Err(corrupt(key, format!("entry claims id {}", change.id)));
        }
        Ok(change)
    }
}

fn decode_entry<T: for<'de> Deserialize<'de>>(key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| corrupt(key, e.to_string()))
}

fn corrupt(key: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        key: key.to_owned(),
        reason: reason.into(),
    }
}
