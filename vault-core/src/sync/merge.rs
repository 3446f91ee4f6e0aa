//! The half of sync that needs no network: what to push, and how to apply what was pulled.
//! This is the part every device must get exactly right, so it is tested by simulation
//! (`tests/sync_model.rs`).
//!
//! Rules (per record; docs/SYNC.md "What the server cannot do" states them as guarantees):
//! - Changes are whole sealed entries ([`StoredRecord`]); the server only ever sees those.
//! - The entry with the larger [`precedence`] wins: the higher version, then (at equal
//!   versions) an entry whose clock is authenticated (format 2) over one whose clock is not
//!   (format 1), then the later hybrid-logical-clock timestamp (the device id inside breaks
//!   ties), then the envelope bytes. Every device therefore picks the same winner, and since
//!   a change is made at the version it was based on + 1, a change made after seeing another
//!   always outranks it. The version comes first so that a device never goes back to a
//!   version below one it holds: a replayed old version loses, whatever clock it carries.
//! - When a remote change beats a local change that was never pushed, or a remote change
//!   loses to one, the losing version is kept as a conflict the user can resolve.
//! - Deletes are sealed tombstones and win or lose like any other change.
//! - A remote entry that does not open under this vault's key, for its id, namespace,
//!   version, clock and state, is refused: a corrupted or hostile server cannot overwrite a
//!   good local record, re-stamp an old one, or turn one into a delete. A format-1 tombstone
//!   (no envelope) from outside is refused too: nothing proves who made it.

use std::collections::BTreeMap;

use crate::error::VaultError;
use crate::hlc::Hlc;
use crate::record::{AnswerRecord, RecordId};
use crate::store::{Batch, PendingChange, StoredRecord, VaultStore};
use crate::time::now_ms;
use crate::vault::{Opened, RecordFailure, Vault};

/// What applying a pulled batch did.
#[derive(Debug, Default)]
pub struct ApplyReport {
    /// Remote entries that replaced (or created) the local one.
    pub applied: usize,
    /// Remote entries already known, or older than what this device has.
    pub ignored: usize,
    /// Concurrent edits: the losing side was kept as a conflict.
    pub conflicts: usize,
    /// Remote entries refused (they did not open); the local record is untouched.
    pub refused: Vec<RecordFailure>,
    /// What each applied entry now holds, in the order applied (a later change to the same
    /// record comes after the earlier one). It was opened anyway to verify the entry, so a
    /// caller that keeps the vault's content in memory can follow the change with
    /// [`Listing::apply`] instead of decrypting the whole vault again with [`Vault::list`].
    pub changed: Vec<Change>,
}

/// A record's new state after a pulled entry replaced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub id: RecordId,
    /// The record as it now stands; `None` when it is now deleted.
    pub now: Option<Opened>,
}

/// A kept losing version, beside the record's current state.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// Store key of the conflict entry (pass it to [`Vault::resolve_conflict`]).
    pub key: String,
    /// The losing version; `None` if it was a delete.
    pub losing: Option<AnswerRecord>,
    /// The record as it stands; `None` if it is deleted.
    pub current: Option<AnswerRecord>,
}

/// Which side the user keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    Current,
    Losing,
}

fn conflict_key(entry: &StoredRecord) -> String {
    format!("{}/{}", entry.id, entry.hlc)
}

impl<S: VaultStore> Vault<S> {
    /// The entries to push: the current stored state of every record with a pending change,
    /// with the pending changes to acknowledge once the server has them.
    ///
    /// A pending change made before format 2 (this device's own edit or delete, queued but
    /// not pushed when SelfOS was updated) is sealed again in format 2 first, with the same
    /// version and clock, and written back: other devices refuse a format-1 tombstone, so
    /// the delete would otherwise never reach them.
    pub async fn outgoing(&self) -> Result<(Vec<StoredRecord>, Vec<PendingChange>), VaultError> {
        let mut entries = Vec::new();
        let mut changes = Vec::new();
        for change in self.pending_changes().await? {
            let key = change.id.to_string();
            if let Some(bytes) = self.store().get_record(&key).await? {
                let entry = StoredRecord::decode(&key, &bytes)?;
                // Push what is stored now; acknowledge only the change that produced it.
                if entry.hlc == change.hlc {
                    let entry = self.migrate(entry).await?;
                    entries.push(entry);
                    changes.push(change);
                }
            }
        }
        Ok((entries, changes))
    }

    /// Re-seals a format-1 entry in format 2 and stores it, unless the stored entry changed
    /// meanwhile (then the stored one is left alone and the format-1 one pushed as it is).
    async fn migrate(&self, entry: StoredRecord) -> Result<StoredRecord, VaultError> {
        if entry.is_authenticated_format() {
            return Ok(entry);
        }
        let sealed = self.reseal(&entry)?;
        let key = entry.key();
        self.store()
            .update_record(&key, |now| {
                let unchanged = now.record.as_deref() == Some(&entry.encode()[..]);
                let mut batch = Batch::default();
                if unchanged {
                    batch.records.push((key.clone(), sealed.encode()));
                }
                Ok::<_, VaultError>((batch, if unchanged { sealed } else { entry }))
            })
            .await
    }

    /// Applies pulled entries (any order, duplicates allowed) by the rules above.
    pub async fn apply_remote(
        &mut self,
        remote: Vec<StoredRecord>,
    ) -> Result<ApplyReport, VaultError> {
        let mut report = ApplyReport::default();
        // Within one batch only the newest entry per record matters; older ones are still
        // compared below so their conflicts are kept.
        let mut by_id: BTreeMap<_, Vec<StoredRecord>> = BTreeMap::new();
        for entry in remote {
            by_id.entry(entry.id).or_default().push(entry);
        }
        for (_, mut entries) in by_id {
            crate::sort::sort_by(&mut entries, |a, b| precedence(a).cmp(&precedence(b)));
            for entry in entries {
                if entry.is_legacy_tombstone() {
                    report.refused.push(RecordFailure {
                        key: entry.key(),
                        error: VaultError::UnauthenticatedDelete(entry.key()),
                    });
                    continue;
                }
                let opened = match self.open_entry(&entry) {
                    Ok(opened) => opened,
                    Err(error) => {
                        report.refused.push(RecordFailure {
                            key: entry.key(),
                            error,
                        });
                        continue;
                    }
                };
                // Only a sealed clock moves this device's clock: a format-1 entry's clock is
                // whatever the server wrote, and it decides nothing here (see `precedence`).
                let observed = if entry.is_authenticated_format() {
                    self.observe_clock(entry.hlc, now_ms()).await
                } else {
                    Ok(())
                };
                if let Err(error) = observed {
                    report.refused.push(RecordFailure {
                        key: entry.key(),
                        error,
                    });
                    continue;
                }
                let key = entry.key();
                let id = entry.id;
                let outcome = self
                    .store()
                    .update_record(&key, |now| {
                        let current = now
                            .record
                            .map(|b| StoredRecord::decode(&key, &b))
                            .transpose()?;
                        let pending = now
                            .pending
                            .map(|b| PendingChange::decode(&key, &b))
                            .transpose()?;
                        Ok::<_, VaultError>(merge(current, entry, pending))
                    })
                    .await?;
                match outcome {
                    Outcome::Applied { conflict } => {
                        report.applied += 1;
                        report.conflicts += usize::from(conflict);
                        report.changed.push(Change { id, now: opened });
                    }
                    Outcome::Ignored { conflict } => {
                        report.ignored += 1;
                        report.conflicts += usize::from(conflict);
                    }
                }
            }
        }
        self.persist_clock().await?;
        Ok(report)
    }

    /// Every kept conflict, decrypted, beside the record's current state.
    pub async fn conflicts(&self) -> Result<(Vec<Conflict>, Vec<RecordFailure>), VaultError> {
        let mut out = Vec::new();
        let mut failures = Vec::new();
        for (key, bytes) in self.store().scan_conflicts().await? {
            let id_key = key.split('/').next().unwrap_or_default().to_owned();
            let opened = StoredRecord::decode(&id_key, &bytes)
                .map_err(VaultError::from)
                .and_then(|losing| self.open(&losing));
            match opened {
                Ok(losing) => {
                    let id = crate::record::RecordId::parse(&id_key)?;
                    out.push(Conflict {
                        key,
                        losing,
                        current: self.get(&id).await?,
                    });
                }
                Err(error) => failures.push(RecordFailure { key, error }),
            }
        }
        Ok((out, failures))
    }

    /// Resolves a conflict: keeping the current side just drops the losing version; keeping
    /// the losing side writes it again as a new change, which then wins on every device.
    pub async fn resolve_conflict(&mut self, key: &str, keep: Keep) -> Result<(), VaultError> {
        let conflict = self
            .conflicts()
            .await?
            .0
            .into_iter()
            .find(|c| c.key == key)
            .ok_or_else(|| VaultError::NotFound(key.to_owned()))?;
        if keep == Keep::Losing {
            match (&conflict.losing, &conflict.current) {
                (Some(losing), _) => {
                    self.put(losing).await?;
                }
                (None, Some(current)) => {
                    self.delete(&current.id).await?;
                }
                (None, None) => {}
            }
        }
        self.store()
            .write(Batch {
                delete_conflicts: vec![key.to_owned()],
                ..Batch::default()
            })
            .await?;
        Ok(())
    }
}

enum Outcome {
    Applied { conflict: bool },
    Ignored { conflict: bool },
}

/// The order in which entries of one record win, the same on every device: version, then an
/// authenticated clock (format 2) over none (format 1), then the authenticated clock, then
/// the envelope bytes, then the clock as written (which only orders copies of one format-1
/// envelope that a server re-stamped: any fixed choice keeps devices converging, and the
/// content is the same).
///
/// The version leads because a client must never go back to a version below one it holds:
/// a server replaying an authentic older version with a fresh clock cannot win (in format 2
/// the clock is sealed too, so it cannot even be re-stamped). Versions grow by one per change
/// on the version the change was made on, so a change made after seeing another always has
/// the higher version; between concurrent changes the longer line of edits wins, then the
/// later clock. A format-1 entry's clock is not authenticated, so it never decides which
/// content wins: between format-1 entries of one version the envelope bytes do.
pub fn precedence(entry: &StoredRecord) -> (u64, bool, Hlc, &[u8], Hlc) {
    let authenticated = entry.is_authenticated_format();
    (
        entry.version,
        authenticated,
        if authenticated { entry.hlc } else { Hlc::ZERO },
        entry.envelope.as_deref().unwrap_or_default(),
        entry.hlc,
    )
}

/// The merge rule for one record, as a pure function of what this device holds (the stored
/// entry and its unpushed change, if any) and one remote entry.
fn merge(
    current: Option<StoredRecord>,
    remote: StoredRecord,
    pending: Option<PendingChange>,
) -> (Batch, Outcome) {
    let key = remote.key();
    let mut batch = Batch::default();
    let Some(current) = current else {
        batch.records.push((key, remote.encode()));
        return (batch, Outcome::Applied { conflict: false });
    };
    let order = precedence(&remote).cmp(&precedence(&current));
    if order == std::cmp::Ordering::Equal {
        // Known already; if it is our own pushed change coming back, it is acknowledged.
        if pending.is_some_and(|p| p.hlc == remote.hlc) {
            batch.delete_pending.push(key);
        }
        return (batch, Outcome::Ignored { conflict: false });
    }
    if order == std::cmp::Ordering::Greater {
        // The remote wins. An unpushed local change it beats was concurrent (a change made
        // after seeing the remote would carry a later timestamp): keep it as a conflict.
        let conflict = pending.is_some();
        if conflict {
            batch
                .conflicts
                .push((conflict_key(&current), current.encode()));
            batch.delete_pending.push(key.clone());
        }
        batch.records.push((key, remote.encode()));
        return (batch, Outcome::Applied { conflict });
    }
    // The local entry wins. The remote is a concurrent loser only if it is newer than the
    // base our unpushed change was made on; otherwise it is an ancestor or a late duplicate.
    let conflict = pending.is_some_and(|p| remote.version > p.base_version);
    if conflict {
        batch
            .conflicts
            .push((conflict_key(&remote), remote.encode()));
    }
    (batch, Outcome::Ignored { conflict })
}
