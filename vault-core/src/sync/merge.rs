//! The half of sync that needs no network: what to push, and how to apply what was pulled.
//! This is the part every device must get exactly right, so it is tested by simulation
//! (`tests/sync_model.rs`).
//!
//! Rules (per record, as atuin and the design ask):
//! - Changes are whole sealed entries ([`StoredRecord`]); the server only ever sees those.
//! - The entry with the larger hybrid-logical-clock timestamp wins (last writer wins; the
//!   device id breaks ties, so every device picks the same winner).
//! - When a remote change beats a local change that was never pushed, or a remote change
//!   loses to one, the losing version is kept as a conflict the user can resolve.
//! - Deletes are tombstones and win or lose like any other change.
//! - A remote entry that does not open under this vault's key is refused: a corrupted or
//!   hostile server cannot overwrite a good local record.

use std::collections::BTreeMap;

use crate::error::VaultError;
use crate::record::AnswerRecord;
use crate::store::{Batch, PendingChange, StoredRecord, VaultStore};
use crate::time::now_ms;
use crate::vault::{RecordFailure, Vault};

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
    pub async fn outgoing(&self) -> Result<(Vec<StoredRecord>, Vec<PendingChange>), VaultError> {
        let mut entries = Vec::new();
        let mut changes = Vec::new();
        for change in self.pending_changes().await? {
            let key = change.id.to_string();
            if let Some(bytes) = self.store().get_record(&key).await? {
                let entry = StoredRecord::decode(&key, &bytes)?;
                // Push what is stored now; acknowledge only the change that produced it.
                if entry.hlc == change.hlc {
                    entries.push(entry);
                    changes.push(change);
                }
            }
        }
        Ok((entries, changes))
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
            crate::sort::sort_by_key(&mut entries, |e| e.hlc);
            for entry in entries {
                if let Err(error) = self.open(&entry) {
                    report.refused.push(RecordFailure {
                        key: entry.key(),
                        error,
                    });
                    continue;
                }
                if let Err(error) = self.observe_clock(entry.hlc, now_ms()).await {
                    report.refused.push(RecordFailure {
                        key: entry.key(),
                        error,
                    });
                    continue;
                }
                let key = entry.key();
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
    if remote.hlc == current.hlc {
        // Known already; if it is our own pushed change coming back, it is acknowledged.
        if pending.is_some_and(|p| p.hlc == remote.hlc) {
            batch.delete_pending.push(key);
        }
        return (batch, Outcome::Ignored { conflict: false });
    }
    if remote.hlc > current.hlc {
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
