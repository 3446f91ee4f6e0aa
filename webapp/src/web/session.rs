//! The unlocked vault for this tab: IndexedDB store, key, sync client and session, behind
//! one async lock (every operation awaits IndexedDB or the network, and two must never
//! interleave on one vault). The key lives in this page's memory only; locking or closing
//! the tab forgets it.

use std::rc::Rc;

use futures::lock::Mutex;
use vault_core::delivery::DeliveryRecord;
use vault_core::graph::InstructionSnapshot;
use vault_core::proposal::{Decision, ProposalRecord};
use vault_core::store::indexeddb::IndexedDbStore;
use vault_core::store::META_HEADER;
use vault_core::sync::client::Device;
use vault_core::sync::transport::FetchTransport;
use vault_core::sync::{Account, AccountError, Keep, SyncError, SyncReport};
use vault_core::{AnswerRecord, KdfParams, Passphrase, RecordId, Rotation, Vault, VaultStore};

use super::browser;
use crate::snapshots;
use crate::AppError;

/// The web app's own IndexedDB database (the extension keeps its own).
pub const DB_NAME: &str = "selfos-webapp";
/// `localStorage` key of the account this browser's vault belongs to (not a secret).
const PREF_USER: &str = "selfos.username";
const DEVICE: &str = "SelfOS web app";

struct Core {
    vault: Vault<IndexedDbStore>,
    account: Account<FetchTransport>,
    /// Exports this browser remembered before delivery records existed (kept on the device).
    snapshots: Vec<InstructionSnapshot>,
    /// What each agent was given, from the vault's delivery records (synced).
    delivered: Vec<InstructionSnapshot>,
}

impl Core {
    /// Everything alignment measures against: the synced deliveries and the older local
    /// export snapshots.
    fn given(&self) -> Vec<InstructionSnapshot> {
        let mut all = self.delivered.clone();
        all.extend(self.snapshots.iter().cloned());
        all
    }

    /// Remembers the deliveries of a fresh listing.
    fn take_deliveries(&mut self, listing: &vault_core::vault::Listing) {
        self.delivered = listing.deliveries.iter().map(|d| d.snapshot()).collect();
    }
}

thread_local! {
    static CORE: Rc<Mutex<Option<Core>>> = Rc::new(Mutex::new(None));
}

fn core() -> Rc<Mutex<Option<Core>>> {
    CORE.with(Rc::clone)
}

/// The account on this page's own server (the web app is served by the sync server).
fn account(username: &str) -> Result<Account<FetchTransport>, AppError> {
    let origin = browser::origin()?;
    let net = FetchTransport::new(&origin).map_err(AppError::Invalid)?;
    Ok(Account::new(net, username, DEVICE))
}

/// What this browser holds before unlocking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalState {
    pub has_vault: bool,
    pub username: Option<String>,
}

pub async fn local_state() -> Result<LocalState, AppError> {
    let store = IndexedDbStore::open(DB_NAME).await?;
    let has_vault = store.get_meta(META_HEADER).await?.is_some();
    Ok(LocalState {
        has_vault,
        username: browser::pref(PREF_USER),
    })
}

/// What unlocking found.
pub struct Unlocked {
    pub username: String,
    pub records: Vec<AnswerRecord>,
    pub damaged: usize,
    pub snapshots: Vec<InstructionSnapshot>,
    /// What agents proposed (every status).
    pub proposals: Vec<ProposalRecord>,
    /// Whether this was the first sign-in on this browser (the vault was just pulled).
    pub joined: bool,
}

/// Unlocks this browser's vault, or on a first visit signs in and joins the account's vault.
/// A local vault unlocks without the network; syncing is a separate step ([`sync_now`]).
pub async fn unlock(username: &str, passphrase: &str) -> Result<Unlocked, AppError> {
    let username = username.trim();
    if username.is_empty() {
        return Err(AppError::Missing("your username"));
    }
    if passphrase.is_empty() {
        return Err(AppError::Missing("your passphrase"));
    }
    let pass = Passphrase::new(passphrase);
    let local = local_state().await?;
    let store = IndexedDbStore::open(DB_NAME).await?;
    let mut account = account(username)?;
    let cell = core();
    let mut guard = cell.lock().await;
    let (vault, listing) = if local.has_vault {
        if let Some(owner) = local.username.filter(|u| u != username) {
            return Err(AppError::OtherAccount { local: owner });
        }
        // The key derivation and the scan of every entry overlap.
        let (vault, auth, listing) = Vault::unlock_listing(store, &pass).await?;
        account = account.with_auth(auth);
        (vault, Some(listing))
    } else {
        let vault = account.join(store, &pass).await.map_err(|e| match e {
            AccountError::Sync(SyncError::Offline(why)) => AppError::OfflineFirstSignIn(why),
            other => other.into(),
        })?;
        browser::set_pref(PREF_USER, Some(username));
        (vault, None)
    };
    let joined = listing.is_none();
    let snapshots = snapshots::load(vault.store(), vault.session_key()).await?;
    let mut c = Core {
        vault,
        account,
        snapshots,
        delivered: Vec::new(),
    };
    if joined {
        // Nothing to show before the first pull.
        round(&mut c).await?;
    }
    let listing = match listing {
        Some(listing) => listing,
        None => c.vault.list().await?,
    };
    c.take_deliveries(&listing);
    let snapshots = c.given();
    *guard = Some(c);
    Ok(Unlocked {
        username: username.to_owned(),
        records: listing.records,
        damaged: listing.failures.len(),
        snapshots,
        proposals: listing.proposals,
        joined,
    })
}

/// One sync round (signing in first if needed; see [`Account::sync`]).
async fn round(c: &mut Core) -> Result<SyncReport, AppError> {
    Ok(c.account.sync(&mut c.vault).await?)
}

/// What a sync round changed.
pub struct Synced {
    pub report: SyncReport,
    /// The records and what each agent was given, again, when the round brought remote
    /// changes.
    pub records: Option<(Vec<AnswerRecord>, Vec<InstructionSnapshot>)>,
    /// The proposals again, when the round brought remote changes.
    pub proposals: Option<Vec<ProposalRecord>>,
    pub pending: usize,
}

async fn with_core<T>(
    f: impl AsyncFnOnce(&mut Core) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let cell = core();
    let mut guard = cell.lock().await;
    let c = guard.as_mut().ok_or(AppError::Locked)?;
    f(c).await
}

pub async fn sync_now() -> Result<Synced, AppError> {
    with_core(async |c| {
        let report = round(c).await?;
        let (records, proposals) = if report.applied > 0 || report.conflicts > 0 {
            let listing = c.vault.list().await?;
            c.take_deliveries(&listing);
            (Some((listing.records, c.given())), Some(listing.proposals))
        } else {
            (None, None)
        };
        let pending = c.vault.pending_changes().await?.len();
        Ok(Synced {
            report,
            records,
            proposals,
            pending,
        })
    })
    .await
}

pub async fn pending() -> Result<usize, AppError> {
    with_core(async |c| Ok(c.vault.pending_changes().await?.len())).await
}

pub async fn delete(id: RecordId) -> Result<(), AppError> {
    with_core(async |c| {
        c.vault.delete(&id).await?;
        Ok(())
    })
    .await
}

pub async fn put(record: AnswerRecord) -> Result<(), AppError> {
    with_core(async |c| {
        c.vault.put(&record).await?;
        Ok(())
    })
    .await
}

/// Accepts (the statement, or the user's edit of it, becomes an answer) or rejects a
/// proposal ([`Vault::decide_proposal`]); returns the answers and the proposals as they now
/// stand. The change syncs with the next round.
pub async fn decide(
    id: RecordId,
    decision: Decision,
) -> Result<(Vec<AnswerRecord>, Vec<ProposalRecord>), AppError> {
    with_core(async |c| {
        c.vault.decide_proposal(&id, decision).await?;
        let listing = c.vault.list().await?;
        Ok((listing.records, listing.proposals))
    })
    .await
}

/// A kept losing version beside the current one.
pub use vault_core::sync::Conflict;

pub async fn conflicts() -> Result<Vec<Conflict>, AppError> {
    with_core(async |c| Ok(c.vault.conflicts().await?.0)).await
}

pub async fn resolve(key: String, keep: Keep) -> Result<Vec<AnswerRecord>, AppError> {
    with_core(async |c| {
        c.vault.resolve_conflict(&key, keep).await?;
        Ok(c.vault.list().await?.records)
    })
    .await
}

pub async fn export_backup() -> Result<Vec<u8>, AppError> {
    with_core(async |c| Ok(c.vault.export_backup().await?.0)).await
}

pub async fn export_json() -> Result<Vec<u8>, AppError> {
    with_core(async |c| Ok(c.vault.export_json().await?.0)).await
}

/// What importing a backup did.
pub struct Imported {
    pub added: usize,
    pub present: usize,
    pub damaged: usize,
    pub records: Vec<AnswerRecord>,
}

/// Opens a backup with its passphrase (in memory), then adds every answer this vault does
/// not hold yet, as new changes that sync to the account ([`Vault::import_backup`], the same
/// checks as `selfos import`).
pub async fn import_backup(bytes: Vec<u8>, passphrase: &str) -> Result<Imported, AppError> {
    if passphrase.is_empty() {
        return Err(AppError::Missing("the backup's passphrase"));
    }
    let pass = Passphrase::new(passphrase);
    with_core(async |c| {
        let report = c.vault.import_backup(&bytes, &pass).await?;
        Ok(Imported {
            added: report.imported,
            present: report.unchanged,
            damaged: report.failures.len(),
            records: c.vault.list().await?.records,
        })
    })
    .await
}

/// Keeps what was just given to agents as delivery records (sealed, synced to every device
/// on the next round); returns everything alignment measures against.
pub async fn record_deliveries(
    new: Vec<DeliveryRecord>,
) -> Result<Vec<InstructionSnapshot>, AppError> {
    with_core(async |c| {
        for d in &new {
            c.vault.record_delivery(d).await?;
            c.delivered.push(d.snapshot());
        }
        Ok(c.given())
    })
    .await
}

/// The vault's key-derivation cost (PBKDF2 iterations).
pub async fn kdf_iterations() -> Result<u32, AppError> {
    with_core(async |c| Ok(c.vault.header().kdf().iterations())).await
}

/// Re-wraps the vault key under a new passphrase here and on the server; on any failure both
/// keep the current passphrase ([`Account::change_passphrase`]).
pub async fn change_passphrase(current: &str, new: &str, iterations: u32) -> Result<(), AppError> {
    let current = Passphrase::new(current);
    let new = Passphrase::new(new);
    new.check_policy()?;
    let params = KdfParams::generate_with_iterations(iterations)
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    with_core(async |c| {
        c.account
            .change_passphrase(&mut c.vault, &current, &new, params)
            .await?;
        Ok(())
    })
    .await
}

/// Rotates the vault key here and on the server ([`Account::rotate_key`]: every answer
/// sealed again under a new key, every other session ended), at the current key-derivation
/// cost, then tries to push the re-sealed answers at once. Returns what was re-sealed and
/// whether the push went through (if not, the next sync sends it).
pub async fn rotate_key(passphrase: &str) -> Result<(Rotation, bool), AppError> {
    let pass = Passphrase::new(passphrase);
    with_core(async |c| {
        let params = KdfParams::generate_with_iterations(c.vault.header().kdf().iterations())
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        let rotation = c.account.rotate_key(&mut c.vault, &pass, params).await?;
        let pushed = round(c).await.is_ok();
        Ok((rotation, pushed))
    })
    .await
}

/// Signs this browser in again after the passphrase was changed or the key rotated on
/// another device: logs in with `passphrase` and takes the account's header
/// ([`Vault::adopt_header`], which checks it keeps the key this browser holds).
pub async fn sign_in_again(passphrase: &str) -> Result<(), AppError> {
    let pass = Passphrase::new(passphrase);
    with_core(async |c| {
        let header = c.account.login_with_passphrase(&pass).await?;
        c.vault.adopt_header(header, &pass).await?;
        Ok(())
    })
    .await
}

pub async fn devices() -> Result<(Vec<Device>, Option<String>), AppError> {
    with_core(async |c| {
        let (list, this) = c.account.devices().await?;
        Ok((list, Some(this)))
    })
    .await
}

pub async fn revoke(device_id: String) -> Result<(), AppError> {
    with_core(async |c| Ok(c.account.revoke(&device_id).await?)).await
}

/// Forgets the key (the vault stays in this browser, encrypted).
pub async fn lock() {
    let cell = core();
    let mut guard = cell.lock().await;
    *guard = None;
}

/// Deletes this browser's copy; with `account`, first the account and everything the server
/// holds (after checking the passphrase).
pub async fn delete_everything(account: bool, passphrase: &str) -> Result<(), AppError> {
    let cell = core();
    let mut guard = cell.lock().await;
    if let Some(mut c) = guard.take() {
        if account {
            let pass = Passphrase::new(passphrase);
            if let Err(e) = c.account.delete_account(&c.vault, &pass).await {
                *guard = Some(c);
                return Err(e.into());
            }
        }
        let store = c.vault.destroy().await?;
        drop(store);
    }
    IndexedDbStore::delete(DB_NAME).await?;
    browser::set_pref(PREF_USER, None);
    Ok(())
}
