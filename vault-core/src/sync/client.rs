//! The sync API as the client sees it, and one full sync round ([`sync`]).
//!
//! A round: pull every page since the stored cursor and apply it (the cursor is saved after
//! each page, so an interrupted round resumes where it stopped); then push the pending
//! changes in batches, each with an idempotency key derived from its contents (a batch
//! retried after a lost answer or a killed worker gets the same key and changes nothing);
//! acknowledge a batch only after the server confirmed it. Only changes travel, never the
//! whole vault.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::merge::Change;
use super::transport::{HttpRequest, Transport};
use super::wire::{self, path};
use crate::crypto::kdf::derive_master_key;
use crate::error::VaultError;
use crate::header::VaultHeader;
use crate::store::{Batch, StoredRecord, VaultStore};
use crate::{AuthSecret, KdfParams, Passphrase, Vault};

/// Changes per push request (the server accepts up to 1,000 and 4 MiB; a sealed answer is
/// ~0.6 KiB as JSON, so 250 stays far below both).
pub const PUSH_BATCH: usize = 250;
/// Changes per pull page.
pub const PULL_PAGE: usize = 500;
/// Where the vault keeps the last pulled sequence number.
pub const META_SYNC_CURSOR: &str = "sync_cursor";

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("cannot reach the sync server ({0}); your answers stay on this device and sync when it is back")]
    Offline(String),
    #[error("the session has expired or was revoked: log in again")]
    Unauthorized,
    #[error("wrong username or passphrase")]
    BadCredentials,
    #[error("the sync server is busy: retrying in {retry_after_s} s")]
    RateLimited { retry_after_s: u64 },
    #[error("the sync server refused the request ({status} {code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the sync server failed ({status}); retrying later")]
    Server { status: u16 },
    #[error("unexpected answer from the sync server: {0}")]
    Protocol(String),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl SyncError {
    /// Whether trying again later can succeed without the user doing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SyncError::Offline(_) | SyncError::RateLimited { .. } | SyncError::Server { .. }
        )
    }
}

/// A logged-in session. The token is a bearer secret: keep it where the vault key is kept
/// (memory / session storage), or sealed.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Session {
    pub username: String,
    pub token: String,
    pub session_id: String,
    pub expires_at_ms: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("username", &self.username)
            .field("token", &"<redacted>")
            .field("session_id", &self.session_id)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

/// What a sync round did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub pulled: usize,
    pub applied: usize,
    pub conflicts: usize,
    /// Pulled entries that did not open under this vault's key (tampered); skipped.
    pub refused: usize,
    pub pushed: usize,
    /// Pushed changes the server already had (a retried batch).
    pub duplicates: usize,
    /// The server sequence number this device has seen everything up to.
    pub cursor: i64,
}

/// A device in the account's session list (the wire type, named here for callers).
pub use super::wire::Device;

/// An answer without a body (204), or one whose body the caller does not need.
#[derive(Deserialize)]
struct Ignored {}

/// A page of pulled entries (undecodable ones already counted out).
pub struct PullPage {
    pub entries: Vec<StoredRecord>,
    pub malformed: usize,
    pub cursor: i64,
    pub more: bool,
}

/// The sync API over a [`Transport`].
pub struct Client<T> {
    transport: T,
}

impl<T: Transport> Client<T> {
    pub fn new(transport: T) -> Self {
        Client { transport }
    }

    /// One API call: `body` goes out as JSON, a 2xx answer is read as `R`, anything else
    /// becomes the [`SyncError`] that says what to do about it.
    async fn call<R: DeserializeOwned>(
        &self,
        method: &'static str,
        path: String,
        bearer: Option<&str>,
        body: Option<&impl Serialize>,
    ) -> Result<R, SyncError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| SyncError::Protocol(format!("encoding the request: {e}")))?;
        let resp = self
            .transport
            .send(HttpRequest {
                method,
                path,
                bearer: bearer.map(str::to_owned),
                body,
            })
            .await
            .map_err(SyncError::Offline)?;
        // The server's error body, or (from a proxy in front of it, say) the start of
        // whatever came instead, with no code.
        let parsed = || -> (String, String) {
            match serde_json::from_slice::<wire::ErrorBody>(&resp.body) {
                Ok(b) => (b.error.code, b.error.message),
                Err(_) => (
                    String::new(),
                    String::from_utf8_lossy(&resp.body)
                        .chars()
                        .take(200)
                        .collect(),
                ),
            }
        };
        match resp.status {
            200..=299 => {
                // 204 has no body: read it as an empty object, which `Ignored` accepts.
                let body = if resp.body.is_empty() {
                    b"{}".as_slice()
                } else {
                    &resp.body
                };
                serde_json::from_slice(body).map_err(|e| SyncError::Protocol(e.to_string()))
            }
            401 => match parsed().0.as_str() {
                wire::code::BAD_CREDENTIALS => Err(SyncError::BadCredentials),
                _ => Err(SyncError::Unauthorized),
            },
            429 => Err(SyncError::RateLimited {
                retry_after_s: resp.retry_after_s.unwrap_or(30),
            }),
            status @ 400..=499 => {
                let (code, message) = parsed();
                Err(SyncError::Rejected {
                    status,
                    code,
                    message,
                })
            }
            status => Err(SyncError::Server { status }),
        }
    }

    /// Creates the account: the server learns the username, the auth secret (stored as an
    /// Argon2id hash) and the header with the *wrapped* vault key. Nothing that decrypts.
    pub async fn register(
        &self,
        username: &str,
        header: &VaultHeader,
        auth: &AuthSecret,
    ) -> Result<(), SyncError> {
        let _: wire::Registered = self
            .call(
                "POST",
                path::ACCOUNTS.into(),
                None,
                Some(&wire::RegisterRequest {
                    username: username.to_owned(),
                    credential: auth.to_credential(),
                    header: header.to_json(),
                }),
            )
            .await?;
        Ok(())
    }

    /// Logs in with an auth secret already at hand (from unlocking the local vault).
    pub async fn login(
        &self,
        username: &str,
        auth: &AuthSecret,
        device: &str,
    ) -> Result<(Session, VaultHeader), SyncError> {
        let a: wire::LoginResponse = self
            .call(
                "POST",
                path::SESSIONS.into(),
                None,
                Some(&wire::LoginRequest {
                    username: username.to_owned(),
                    credential: auth.to_credential(),
                    device: device.to_owned(),
                }),
            )
            .await?;
        let header = VaultHeader::from_json(a.header)
            .map_err(|e| SyncError::Protocol(format!("vault header: {e}")))?;
        Ok((
            Session {
                username: username.to_owned(),
                token: a.token,
                session_id: a.session_id,
                expires_at_ms: a.expires_at_ms,
            },
            header,
        ))
    }

    /// The account's key-derivation parameters (pre-login), for a device that holds no vault
    /// yet: it derives the server secret from the passphrase with them. The server answers
    /// for unknown names too (with made-up parameters), so this reveals no account.
    pub async fn prelogin(&self, username: &str) -> Result<KdfParams, SyncError> {
        let pre: wire::PreLogin = self
            .call("GET", path::prelogin(username), None, None::<&()>)
            .await?;
        serde_json::from_value(pre.kdf)
            .map_err(|e| SyncError::Protocol(format!("KDF parameters: {e}")))
    }

    /// Logs in on a new device from the passphrase alone: fetches the KDF parameters,
    /// derives the auth secret locally, logs in, and returns the vault header to unlock.
    pub async fn login_with_passphrase(
        &self,
        username: &str,
        passphrase: &Passphrase,
        device: &str,
    ) -> Result<(Session, VaultHeader), SyncError> {
        let kdf = self.prelogin(username).await?;
        let master = derive_master_key(passphrase, &kdf)
            .await
            .map_err(VaultError::from)?;
        self.login(username, &master.auth_secret(), device).await
    }

    pub async fn logout(&self, session: &Session) -> Result<(), SyncError> {
        let _: Ignored = self
            .call(
                "DELETE",
                path::SESSION_CURRENT.into(),
                Some(&session.token),
                None::<&()>,
            )
            .await?;
        Ok(())
    }

    /// The account's devices (live sessions).
    pub async fn devices(&self, session: &Session) -> Result<Vec<Device>, SyncError> {
        let a: wire::DeviceList = self
            .call(
                "GET",
                path::SESSIONS.into(),
                Some(&session.token),
                None::<&()>,
            )
            .await?;
        Ok(a.sessions)
    }

    pub async fn revoke(&self, session: &Session, device_id: &str) -> Result<(), SyncError> {
        let _: Ignored = self
            .call(
                "DELETE",
                path::session(device_id),
                Some(&session.token),
                None::<&()>,
            )
            .await?;
        Ok(())
    }

    /// Tells the server about a passphrase change ([`Vault::change_passphrase`]).
    pub async fn change_passphrase(
        &self,
        session: &Session,
        old: &AuthSecret,
        new: &AuthSecret,
        header: &VaultHeader,
    ) -> Result<(), SyncError> {
        let _: Ignored = self
            .call(
                "PUT",
                path::ACCOUNT_CURRENT.into(),
                Some(&session.token),
                Some(&wire::ChangeRequest {
                    current_credential: old.to_credential(),
                    credential: new.to_credential(),
                    header: header.to_json(),
                }),
            )
            .await?;
        Ok(())
    }

    /// Deletes the account and everything the server holds for it.
    pub async fn delete_account(
        &self,
        session: &Session,
        auth: &AuthSecret,
    ) -> Result<(), SyncError> {
        let _: Ignored = self
            .call(
                "DELETE",
                path::ACCOUNT_CURRENT.into(),
                Some(&session.token),
                Some(&wire::DeleteRequest {
                    credential: auth.to_credential(),
                }),
            )
            .await?;
        Ok(())
    }

    /// Pushes one batch; returns (accepted, duplicates).
    pub async fn push(
        &self,
        session: &Session,
        idempotency_key: &str,
        entries: &[StoredRecord],
    ) -> Result<(usize, usize), SyncError> {
        let a: wire::PushResponse = self
            .call(
                "POST",
                path::PUSH.into(),
                Some(&session.token),
                Some(&wire::PushRequest {
                    idempotency_key: idempotency_key.to_owned(),
                    changes: entries.to_vec(),
                }),
            )
            .await?;
        Ok((a.accepted, a.duplicates))
    }

    /// One page of changes after `since`.
    pub async fn pull(
        &self,
        session: &Session,
        since: i64,
        limit: usize,
    ) -> Result<PullPage, SyncError> {
        let query = wire::PullQuery {
            since,
            limit: Some(limit),
        };
        let a: wire::PullResponse = self
            .call("GET", path::pull(&query), Some(&session.token), None::<&()>)
            .await?;
        if a.cursor < since {
            return Err(SyncError::Protocol(format!(
                "the server's cursor went back from {since} to {}",
                a.cursor
            )));
        }
        let mut entries = Vec::with_capacity(a.changes.len());
        let mut malformed = 0;
        for c in a.changes {
            match serde_json::from_value::<StoredRecord>(c.entry) {
                Ok(e) => entries.push(e),
                Err(_) => malformed += 1,
            }
        }
        Ok(PullPage {
            entries,
            malformed,
            cursor: a.cursor,
            more: a.more,
        })
    }
}

/// The idempotency key of a batch: a hash of what it carries (record ids and clocks), so a
/// retry of the same batch, even from a restarted worker, reuses the key.
pub fn batch_key(entries: &[StoredRecord]) -> String {
    let mut h = Sha256::new();
    h.update(b"selfos-push/1");
    for e in entries {
        h.update(e.id.to_string().as_bytes());
        h.update(b"@");
        h.update(e.hlc.to_string().as_bytes());
        h.update(b";");
    }
    hex::encode(&h.finalize()[..16])
}

impl<S: VaultStore> Vault<S> {
    /// The server sequence number this vault has pulled up to (0 before the first sync).
    pub async fn sync_cursor(&self) -> Result<i64, VaultError> {
        Ok(self
            .store()
            .get_meta(META_SYNC_CURSOR)
            .await?
            .and_then(|b| std::str::from_utf8(&b).ok()?.parse().ok())
            .unwrap_or(0))
    }

    async fn set_sync_cursor(&self, cursor: i64) -> Result<(), VaultError> {
        Ok(self
            .store()
            .write(Batch {
                meta: vec![(META_SYNC_CURSOR.into(), cursor.to_string().into_bytes())],
                ..Batch::default()
            })
            .await?)
    }
}

/// One sync round: pull and apply everything new, then push what is pending.
pub async fn sync<S: VaultStore, T: Transport>(
    vault: &mut Vault<S>,
    client: &Client<T>,
    session: &Session,
) -> Result<SyncReport, SyncError> {
    sync_observing(vault, client, session, &mut |_| {}).await
}

/// [`sync`], handing each pulled page's [`Change`]s to `observe` once they are stored: a
/// caller that keeps the vault's content in memory ([`crate::Listing::apply`]) follows the
/// round without listing the vault again.
pub async fn sync_observing<S: VaultStore, T: Transport>(
    vault: &mut Vault<S>,
    client: &Client<T>,
    session: &Session,
    observe: &mut impl FnMut(Vec<Change>),
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport {
        cursor: vault.sync_cursor().await?,
        ..SyncReport::default()
    };
    loop {
        let page = client.pull(session, report.cursor, PULL_PAGE).await?;
        report.pulled += page.entries.len();
        report.refused += page.malformed;
        let applied = vault.apply_remote(page.entries).await?;
        report.applied += applied.applied;
        report.conflicts += applied.conflicts;
        report.refused += applied.refused.len();
        observe(applied.changed);
        // Saved after applying: a round cut short here re-pulls at most this page, and
        // applying an entry twice changes nothing.
        vault.set_sync_cursor(page.cursor).await?;
        report.cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    let (entries, changes) = vault.outgoing().await?;
    for (batch, acks) in entries.chunks(PUSH_BATCH).zip(changes.chunks(PUSH_BATCH)) {
        let (accepted, duplicates) = client.push(session, &batch_key(batch), batch).await?;
        report.pushed += accepted;
        report.duplicates += duplicates;
        vault.ack_changes(acks).await?;
    }
    Ok(report)
}
