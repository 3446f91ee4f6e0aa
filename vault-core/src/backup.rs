//! Whole-vault export and import.
//!
//! - The **backup** is portable and stays encrypted: the vault header (KDF parameters and the
//!   wrapped vault key) plus every stored entry exactly as sealed. It opens anywhere with the
//!   passphrase; `docs/FORMAT.md` is enough to decrypt it without SelfOS.
//! - The **JSON export** is the plaintext records in the current schema, for people and tools.
//!
//! Both round-trip losslessly: restoring a backup gives back the same ciphertexts; importing a
//! JSON export gives back the same records.

use serde::{Deserialize, Serialize};

use crate::crypto::kdf::Passphrase;
use crate::error::{StoreError, VaultError};
use crate::header::VaultHeader;
use crate::record::{AnswerRecord, RecordId, SCHEMA_VERSION};
use crate::store::{StoredRecord, VaultStore};
use crate::time::now_ms;
use crate::vault::{RecordFailure, Vault};

pub const BACKUP_FORMAT: &str = "selfos-backup";
pub const EXPORT_FORMAT: &str = "selfos-export";
pub const FILE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct BackupFile<R> {
    format: String,
    version: u32,
    exported_at_ms: u64,
    header: serde_json::Value,
    /// Written as [`StoredRecord`]s; read as JSON values, each decoded on its own, so one
    /// inconsistent entry is reported and skipped rather than failing the whole file.
    records: Vec<R>,
}

#[derive(Serialize, Deserialize)]
struct ExportFile {
    format: String,
    version: u32,
    schema: u16,
    exported_at_ms: u64,
    records: Vec<AnswerRecord>,
    /// What each agent was given (docs/FORMAT.md §4.3); absent when nothing was delivered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    deliveries: Vec<crate::delivery::DeliveryRecord>,
    /// What agents proposed (docs/FORMAT.md §4.4); absent when nothing was proposed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    proposals: Vec<crate::proposal::ProposalRecord>,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Records written.
    pub imported: usize,
    /// Records already present with identical content.
    pub unchanged: usize,
    /// Entries that could not be used, each with its reason. Nothing else was lost.
    pub failures: Vec<RecordFailure>,
}

fn check_kind(expected: &'static str, format: &str, version: u32) -> Result<(), VaultError> {
    if format != expected {
        return Err(VaultError::BadFile {
            expected,
            reason: format!("its format is `{format}`"),
        });
    }
    if version != FILE_VERSION {
        return Err(VaultError::BadFile {
            expected,
            reason: format!(
                "file version {version} is not supported (this build reads {FILE_VERSION})"
            ),
        });
    }
    Ok(())
}

impl<S: VaultStore> Vault<S> {
    /// The encrypted, portable backup of every entry (tombstones included), as JSON bytes.
    /// Entries too damaged to decode are left out and returned, so the caller can say so.
    pub async fn export_backup(&self) -> Result<(Vec<u8>, Vec<RecordFailure>), VaultError> {
        let (records, failures) = self.stored_entries().await?;
        let file = BackupFile {
            format: BACKUP_FORMAT.into(),
            version: FILE_VERSION,
            exported_at_ms: now_ms(),
            header: self.header().to_json(),
            records,
        };
        Ok((
            serde_json::to_vec(&file).expect("backup serializes"),
            failures,
        ))
    }

    /// Restores a backup into an empty store and unlocks it with `passphrase`. Every entry is
    /// checked before anything is written — its fields agree (a live entry has an envelope, a
    /// tombstone has a format-2 envelope or, in format 1, none; docs/FORMAT.md §4) and it
    /// opens under the vault key for its id, namespace, version, clock and state — and
    /// entries that fail are reported and skipped. A wrong passphrase writes nothing. The
    /// one restore path for every front end (the web app, `selfos import`).
    pub async fn restore_backup(
        store: S,
        bytes: &[u8],
        passphrase: &Passphrase,
    ) -> Result<(Self, ImportReport), VaultError> {
        let file: BackupFile<serde_json::Value> =
            serde_json::from_slice(bytes).map_err(|e| VaultError::BadFile {
                expected: BACKUP_FORMAT,
                reason: e.to_string(),
            })?;
        check_kind(BACKUP_FORMAT, &file.format, file.version)?;
        let header = VaultHeader::from_json(file.header)?;
        if store.get_meta(crate::store::META_HEADER).await?.is_some() {
            return Err(VaultError::VaultExists);
        }
        let unlocked = header.unlock(passphrase).await?;
        // The keys it kept from rotations must open before anything is written.
        header.previous_keys(&unlocked.vault_key)?;
        store
            .write(crate::store::Batch {
                meta: vec![(crate::store::META_HEADER.into(), header.encode())],
                ..Default::default()
            })
            .await?;
        let mut vault = Vault::resume(store, unlocked.vault_key).await?;
        let mut report = ImportReport::default();
        let mut good = Vec::with_capacity(file.records.len());
        for (i, value) in file.records.into_iter().enumerate() {
            let stored = match serde_json::from_value::<StoredRecord>(value) {
                Ok(stored) => stored,
                Err(e) => {
                    report.failures.push(RecordFailure {
                        key: format!("records[{i}]"),
                        error: StoreError::Corrupt {
                            key: format!("records[{i}]"),
                            reason: e.to_string(),
                        }
                        .into(),
                    });
                    continue;
                }
            };
            match vault.open_entry(&stored) {
                Ok(_) => good.push(stored),
                Err(error) => report.failures.push(RecordFailure {
                    key: stored.key(),
                    error,
                }),
            }
        }
        report.imported = good.len();
        vault.write_sealed(good).await?;
        Ok((vault, report))
    }

    /// Adds a backup's answers to this vault (the web app's Import and `selfos import`): the
    /// backup is restored into memory with `passphrase` by [`Vault::restore_backup`], so
    /// every entry passes the same checks, then each live record this vault does not hold
    /// yet (live or deleted) is inserted as a new change under this vault's key. Records
    /// already here are left alone (`unchanged`); entries that failed a check are in
    /// `failures`. A wrong passphrase changes nothing.
    pub async fn import_backup(
        &mut self,
        bytes: &[u8],
        passphrase: &Passphrase,
    ) -> Result<ImportReport, VaultError> {
        let (backup, restored) =
            Vault::restore_backup(crate::store::MemoryStore::new(), bytes, passphrase).await?;
        let listing = backup.list().await?;
        let mut report = ImportReport {
            failures: restored.failures,
            ..ImportReport::default()
        };
        report.failures.extend(listing.failures);
        for record in &listing.records {
            if self.holds(&record.id).await? {
                report.unchanged += 1;
            } else {
                self.insert(record).await?;
                report.imported += 1;
            }
        }
        // What each agent was given comes along too, so alignment stays the same after a
        // move to a new vault.
        for delivery in &listing.deliveries {
            if self.holds(&delivery.id).await? {
                report.unchanged += 1;
            } else {
                self.record_delivery(delivery).await?;
                report.imported += 1;
            }
        }
        // So are the agents' proposals, decided or not.
        for proposal in &listing.proposals {
            if self.holds(&proposal.id).await? {
                report.unchanged += 1;
            } else {
                self.record_proposal(proposal).await?;
                report.imported += 1;
            }
        }
        Ok(report)
    }

    /// Whether this vault holds an entry (live or deleted) with this id.
    async fn holds(&self, id: &RecordId) -> Result<bool, VaultError> {
        Ok(self.store().get_record(&id.to_string()).await?.is_some())
    }

    /// Every live record in plaintext JSON.
    pub async fn export_json(&self) -> Result<(Vec<u8>, Vec<RecordFailure>), VaultError> {
        let listing = self.list().await?;
        let file = ExportFile {
            format: EXPORT_FORMAT.into(),
            version: FILE_VERSION,
            schema: SCHEMA_VERSION,
            exported_at_ms: now_ms(),
            records: listing.records,
            deliveries: listing.deliveries,
            proposals: listing.proposals,
        };
        Ok((
            serde_json::to_vec_pretty(&file).expect("export serializes"),
            listing.failures,
        ))
    }

    /// Imports a JSON export: each record is validated and sealed anew. Records already
    /// present with the same content are left alone; different content replaces them.
    pub async fn import_json(&mut self, bytes: &[u8]) -> Result<ImportReport, VaultError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| VaultError::BadFile {
                expected: EXPORT_FORMAT,
                reason: e.to_string(),
            })?;
        let format = value
            .get("format")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        check_kind(EXPORT_FORMAT, format, version)?;
        let schema = value.get("schema").and_then(|v| v.as_u64()).unwrap_or(0);
        let items = value
            .get("records")
            .and_then(|v| v.as_array())
            .ok_or_else(|| VaultError::BadFile {
                expected: EXPORT_FORMAT,
                reason: "no `records` list".into(),
            })?;
        let mut report = ImportReport::default();
        for (i, item) in items.iter().enumerate() {
            // Each item goes through the same migrations as a stored record.
            let mut item = item.clone();
            if let Some(obj) = item.as_object_mut() {
                obj.insert("schema".into(), schema.into());
            }
            let decoded = serde_json::to_vec(&item)
                .map_err(|e| VaultError::MalformedRecord(e.to_string()))
                .and_then(|b| crate::record::decode_record(&b));
            let record = match decoded {
                Ok(r) => r,
                Err(error) => {
                    report.failures.push(RecordFailure {
                        key: format!("records[{i}]"),
                        error,
                    });
                    continue;
                }
            };
            if self.get(&record.id).await.ok().flatten().as_ref() == Some(&record) {
                report.unchanged += 1;
                continue;
            }
            match self.put(&record).await {
                Ok(_) => report.imported += 1,
                Err(error) => report.failures.push(RecordFailure {
                    key: record.id.to_string(),
                    error,
                }),
            }
        }
        let deliveries = value.get("deliveries").and_then(|v| v.as_array());
        for (i, item) in deliveries.into_iter().flatten().enumerate() {
            let parsed = serde_json::from_value::<crate::delivery::DeliveryRecord>(item.clone())
                .map_err(|e| VaultError::MalformedRecord(e.to_string()))
                .and_then(|d| d.validate().map(|()| d));
            let delivery = match parsed {
                Ok(d) => d,
                Err(error) => {
                    report.failures.push(RecordFailure {
                        key: format!("deliveries[{i}]"),
                        error,
                    });
                    continue;
                }
            };
            if self.holds(&delivery.id).await? {
                report.unchanged += 1;
            } else {
                self.record_delivery(&delivery).await?;
                report.imported += 1;
            }
        }
        let proposals = value.get("proposals").and_then(|v| v.as_array());
        for (i, item) in proposals.into_iter().flatten().enumerate() {
            let parsed = serde_json::from_value::<crate::proposal::ProposalRecord>(item.clone())
                .map_err(|e| VaultError::MalformedRecord(e.to_string()))
                .and_then(|p| p.validate().map(|()| p));
            let proposal = match parsed {
                Ok(p) => p,
                Err(error) => {
                    report.failures.push(RecordFailure {
                        key: format!("proposals[{i}]"),
                        error,
                    });
                    continue;
                }
            };
            if self.holds(&proposal.id).await? {
                report.unchanged += 1;
            } else {
                self.record_proposal(&proposal).await?;
                report.imported += 1;
            }
        }
        Ok(report)
    }
}

/// RFC 4180 CSV, one row per answer. Cells that a spreadsheet would run as a formula get a
/// leading apostrophe.
pub fn csv(records: &[AnswerRecord]) -> String {
    fn cell(s: &str) -> String {
        let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{s}")
        } else {
            s.to_owned()
        };
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    }
    let mut out =
        String::from("id,captured_at_ms,agent,prompt_id,prompt_version,card_type,answer\r\n");
    for r in records {
        let answer = match &r.answer {
            crate::record::Answer::Choice { option } => option.clone(),
            crate::record::Answer::Scale { value, min, max } => format!("{value} ({min}-{max})"),
            crate::record::Answer::Pairwise { picked, over } => format!("{picked} over {over}"),
            crate::record::Answer::ShortText { text } => text.clone(),
            crate::record::Answer::YesNo { value } => if *value { "yes" } else { "no" }.into(),
            crate::record::Answer::Skipped => "(skipped)".into(),
            crate::record::Answer::Dismissed => "(dismissed)".into(),
        };
        let row = [
            r.id.to_string(),
            r.captured_at_ms.to_string(),
            r.namespace.to_string(),
            r.prompt_id.clone(),
            r.prompt_version.to_string(),
            format!("{:?}", r.card_type),
            answer,
        ];
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}
