//! A device's account on a sync server: the one place that registers, logs in, joins an
//! existing vault, runs a sync round, changes the passphrase, lists devices and signs out.
//!
//! The extension's background, the web app and the `selfos` command line each hold an
//! [`Account`] and keep only their argument handling and UI. Before this module each of them
//! wrote its own sign-in and had its own idea of what to do when the server answered 401;
//! now there is one policy: every call that needs a session logs in (with the secret
//! remembered from unlocking) when there is none, and retries **exactly once** after a 401,
//! with a new session. A second 401 in the same call is [`AccountError::SessionRejected`].
//!
//! Generic over the store (memory, IndexedDB: any [`VaultStore`]) and the network (any
//! [`Transport`]), so it runs in a service worker, a page and natively alike.

use super::client::{sync_observing, Client, Device, Session, SyncError, SyncReport};
use super::merge::Change;
use super::transport::Transport;
use crate::crypto::kdf::derive_master_key;
use crate::crypto::MasterKey;
use crate::error::VaultError;
use crate::header::VaultHeader;
use crate::store::VaultStore;
use crate::{AuthSecret, KdfParams, Passphrase, Rotation, Vault};

/// What can go wrong with the account, beyond a single request's [`SyncError`].
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(
        "this device is not signed in to the sync server: sign in (or unlock the vault) first"
    )]
    SignedOut,
    #[error("the sync server refused this device's session again right after a new login: sign out and sign in again, and check that this device was not removed from the account's devices")]
    SessionRejected,
    #[error("the sync server no longer accepts this device's passphrase (was it changed on another device?): sign in again with the current passphrase")]
    CredentialsChanged,
    #[error("the passphrase was not changed ({0}); the current passphrase still opens the vault here and on the server")]
    PassphraseNotChanged(#[source] SyncError),
    #[error("the sync server now expects the new passphrase but this device could not save it ({local}), and putting the server back failed ({rollback}): on this device keep using the current passphrase, and sign in with the new one elsewhere")]
    PassphraseSplit {
        local: SyncError,
        rollback: SyncError,
    },
    #[error(transparent)]
    Sync(#[from] SyncError),
}

impl From<VaultError> for AccountError {
    fn from(e: VaultError) -> Self {
        AccountError::Sync(SyncError::Vault(e))
    }
}

impl AccountError {
    /// Whether trying again later can succeed without the user doing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self, AccountError::Sync(e) if e.is_retryable())
    }
}

/// One user's account on one sync server, as seen from this device.
///
/// Holds the session (a bearer token) and the server secret derived from the passphrase, so
/// it can log in again on its own. Both are secrets: a caller that persists them (the
/// extension, across service-worker restarts) keeps them where it keeps the vault key.
pub struct Account<T> {
    client: Client<T>,
    username: String,
    device: String,
    auth: Option<AuthSecret>,
    session: Option<Session>,
}

impl<T: Transport> Account<T> {
    /// An account not logged in yet. `device` names this device in the account's device list.
    pub fn new(transport: T, username: &str, device: &str) -> Self {
        Account {
            client: Client::new(transport),
            username: username.to_owned(),
            device: device.to_owned(),
            auth: None,
            session: None,
        }
    }

    /// Remembers the server secret (from unlocking the local vault), so the next call that
    /// needs a session can log in without asking for the passphrase.
    pub fn with_auth(mut self, auth: AuthSecret) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Resumes a session kept from earlier (it is checked on first use; a 401 logs in again).
    pub fn with_session(mut self, session: Option<Session>) -> Self {
        self.session = session.filter(|s| s.username == self.username);
        self
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    /// The live session, if any (to persist it; it changes after a new login).
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The remembered server secret, if any.
    pub fn auth(&self) -> Option<&AuthSecret> {
        self.auth.as_ref()
    }

    /// The account's key-derivation parameters (pre-login): what turns the passphrase into
    /// the server secret on a device that holds no vault yet.
    pub async fn prelogin(&self) -> Result<KdfParams, AccountError> {
        Ok(self.client.prelogin(&self.username).await?)
    }

    /// Creates the account on the server from this device's vault, then logs in. The server
    /// learns the username, the secret (stored hashed) and the wrapped vault key only.
    pub async fn register<S: VaultStore>(
        &mut self,
        vault: &Vault<S>,
        auth: AuthSecret,
    ) -> Result<(), AccountError> {
        self.client
            .register(&self.username, vault.header(), &auth)
            .await?;
        self.login(auth).await?;
        Ok(())
    }

    /// Logs in with the secret from unlocking the local vault; returns the account's vault
    /// header (compare it with the local one to tell another vault apart).
    pub async fn login(&mut self, auth: AuthSecret) -> Result<VaultHeader, AccountError> {
        let (session, header) = self
            .client
            .login(&self.username, &auth, &self.device)
            .await?;
        self.auth = Some(auth);
        self.session = Some(session);
        Ok(header)
    }

    /// Logs in from the passphrase alone (a device without the vault, or checking which vault
    /// the account holds): pre-login, local derivation, login. The passphrase never leaves.
    pub async fn login_with_passphrase(
        &mut self,
        passphrase: &Passphrase,
    ) -> Result<VaultHeader, AccountError> {
        Ok(self.login_deriving(passphrase).await?.0)
    }

    /// Prelogin, one key derivation, login: the header, with the parameters and the master
    /// key the derivation used (for [`Account::join`] to open the header without a second).
    async fn login_deriving(
        &mut self,
        passphrase: &Passphrase,
    ) -> Result<(VaultHeader, KdfParams, MasterKey), AccountError> {
        let kdf = self.prelogin().await?;
        let master = derive_master_key(passphrase, &kdf)
            .await
            .map_err(VaultError::from)?;
        match (
            self.login(master.auth_secret()).await,
            passphrase.as_typed(),
        ) {
            // An account made before the NFC rule with a passphrase not in NFC knows the
            // secret of its typed form (docs/FORMAT.md §1).
            (Err(AccountError::Sync(SyncError::BadCredentials)), Some(typed)) => {
                let master = derive_master_key(&typed, &kdf)
                    .await
                    .map_err(VaultError::from)?;
                let header = self.login(master.auth_secret()).await?;
                Ok((header, kdf, master))
            }
            (header, _) => Ok((header?, kdf, master)),
        }
    }

    /// Sets up this device with the account's existing vault, in the empty `store`. The
    /// records arrive with the first [`Account::sync`].
    pub async fn join<S: VaultStore>(
        &mut self,
        store: S,
        passphrase: &Passphrase,
    ) -> Result<Vault<S>, AccountError> {
        let (header, kdf, master) = self.login_deriving(passphrase).await?;
        // The key the login derived opens the header when the server's two answers agree on
        // the parameters (they do, unless it lies): one derivation, not two. Otherwise the
        // header's own parameters decide, as they always do.
        let (vault, auth) = if header.kdf() == &kdf {
            Vault::join_with(store, header, &master).await?
        } else {
            Vault::join(store, header, passphrase).await?
        };
        self.auth = Some(auth);
        Ok(vault)
    }

    /// One sync round ([`sync`]): pull and apply, push what is pending. Logs in first when
    /// there is no session; after a 401, logs in again once and runs the round again (every
    /// step of a round is safe to repeat).
    pub async fn sync<S: VaultStore>(
        &mut self,
        vault: &mut Vault<S>,
    ) -> Result<SyncReport, AccountError> {
        self.sync_observing(vault, &mut |_| {}).await
    }

    /// [`Account::sync`], handing what each pulled page changed to `observe`
    /// ([`super::sync_observing`]).
    pub async fn sync_observing<S: VaultStore>(
        &mut self,
        vault: &mut Vault<S>,
        observe: &mut impl FnMut(Vec<Change>),
    ) -> Result<SyncReport, AccountError> {
        self.authorized(async |client, session| {
            sync_observing(vault, client, session, observe).await
        })
        .await
    }

    /// Changes the passphrase here and on the server, so that both always agree: the new
    /// wrapping is sent to the server first and written locally only once the server took
    /// it; if the local write then fails, the server is put back to the current passphrase.
    /// A failure leaves the current passphrase working here and on the server.
    pub async fn change_passphrase<S: VaultStore>(
        &mut self,
        vault: &mut Vault<S>,
        current: &Passphrase,
        new: &Passphrase,
        params: KdfParams,
    ) -> Result<(), AccountError> {
        new.check_policy().map_err(VaultError::from)?;
        let old_header = vault.header().clone();
        // Checks the current passphrase before anything changes, and gives its secret.
        let old_auth = old_header.unlock(current).await?.auth_secret;
        let (new_header, new_auth) = old_header
            .rewrapped(vault.session_key(), new, params)
            .await?;
        self.switch_header(
            vault,
            old_header,
            old_auth,
            new_header,
            new_auth,
            async |v, h| v.replace_header(h).await,
        )
        .await
    }

    /// Rotates the vault key ([`Vault::rotate_key`]) here and on the server: checks the
    /// passphrase, tells the server the new header and secret (which ends every other
    /// session: other devices sign in again and adopt the new header,
    /// [`Vault::unlock_adopting`]), then seals every entry again under the new key here and
    /// queues it; the next [`Account::sync`] pushes it. Until then the server's entries still
    /// open, under the replaced key the new header keeps. A failure here puts the server
    /// back (as [`Account::change_passphrase`] does) and leaves the vault as it was.
    pub async fn rotate_key<S: VaultStore>(
        &mut self,
        vault: &mut Vault<S>,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<Rotation, AccountError> {
        let old_header = vault.header().clone();
        let (new_header, key, new_auth, old_auth) = vault.rotation(passphrase, params).await?;
        self.switch_header(
            vault,
            old_header,
            old_auth,
            new_header,
            new_auth,
            async |v, h| v.install_rotation(h, key).await,
        )
        .await
    }

    /// The server's half of a header change (passphrase change, key rotation), then the
    /// local half (`local`, which writes `new_header` here): the server first, so both
    /// always agree; if the local write fails, the server is put back to `old_header`.
    async fn switch_header<S: VaultStore, R>(
        &mut self,
        vault: &mut Vault<S>,
        old_header: VaultHeader,
        old_auth: AuthSecret,
        new_header: VaultHeader,
        new_auth: AuthSecret,
        local: impl AsyncFnOnce(&mut Vault<S>, VaultHeader) -> Result<R, VaultError>,
    ) -> Result<R, AccountError> {
        if self.auth.is_none() {
            self.auth = AuthSecret::from_credential(&old_auth.to_credential());
        }
        self.authorized(async |client, session| {
            client
                .change_passphrase(session, &old_auth, &new_auth, &new_header)
                .await
        })
        .await
        .map_err(|e| match e {
            AccountError::Sync(e) => AccountError::PassphraseNotChanged(e),
            other => other,
        })?;
        let done = match local(vault, new_header).await {
            Ok(done) => done,
            Err(local) => {
                let back = self
                    .authorized(async |client, session| {
                        client
                            .change_passphrase(session, &new_auth, &old_auth, &old_header)
                            .await
                    })
                    .await;
                return Err(match back {
                    Ok(()) => AccountError::PassphraseNotChanged(SyncError::Vault(local)),
                    Err(AccountError::Sync(rollback)) => AccountError::PassphraseSplit {
                        local: SyncError::Vault(local),
                        rollback,
                    },
                    Err(other) => AccountError::PassphraseSplit {
                        local: SyncError::Vault(local),
                        rollback: SyncError::Protocol(other.to_string()),
                    },
                });
            }
        };
        self.auth = Some(new_auth);
        Ok(done)
    }

    /// The account's devices (live sessions), and which of them is this one.
    pub async fn devices(&mut self) -> Result<(Vec<Device>, String), AccountError> {
        let list = self
            .authorized(async |client, session| client.devices(session).await)
            .await?;
        let this = self
            .session
            .as_ref()
            .map(|s| s.session_id.clone())
            .unwrap_or_default();
        Ok((list, this))
    }

    /// Ends another device's session.
    pub async fn revoke(&mut self, device_id: &str) -> Result<(), AccountError> {
        self.authorized(async |client, session| client.revoke(session, device_id).await)
            .await
    }

    /// Deletes the account and everything the server holds for it, after checking the
    /// passphrase against the local vault.
    pub async fn delete_account<S: VaultStore>(
        &mut self,
        vault: &Vault<S>,
        passphrase: &Passphrase,
    ) -> Result<(), AccountError> {
        let auth = vault.header().unlock(passphrase).await?.auth_secret;
        self.authorized(async |client, session| client.delete_account(session, &auth).await)
            .await?;
        self.session = None;
        self.auth = None;
        Ok(())
    }

    /// Signs this device out: forgets the session and the secret here (always), and ends the
    /// session on the server. An error means only that the server could not be told; the
    /// session then lapses when it expires.
    pub async fn sign_out(&mut self) -> Result<(), AccountError> {
        self.auth = None;
        match self.session.take() {
            Some(session) => match self.client.logout(&session).await {
                Ok(()) | Err(SyncError::Unauthorized) => Ok(()),
                Err(e) => Err(e.into()),
            },
            None => Ok(()),
        }
    }

    /// Logs in again with the remembered secret (a new session), e.g. right after unlocking.
    /// The secret stays remembered whatever the outcome, so an offline attempt can be
    /// repeated later.
    pub async fn login_again(&mut self) -> Result<(), AccountError> {
        let auth = self.auth.as_ref().ok_or(AccountError::SignedOut)?;
        match self.client.login(&self.username, auth, &self.device).await {
            Ok((session, _)) => {
                self.session = Some(session);
                Ok(())
            }
            Err(SyncError::BadCredentials) => Err(AccountError::CredentialsChanged),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs `op` with a session: logs in first when there is none; after a 401, drops the
    /// session, logs in once more and runs `op` again. At most one login per call.
    async fn authorized<R>(
        &mut self,
        mut op: impl AsyncFnMut(&Client<T>, &Session) -> Result<R, SyncError>,
    ) -> Result<R, AccountError> {
        let mut logged_in = false;
        loop {
            let session = match &self.session {
                Some(s) => s.clone(),
                None if logged_in => return Err(AccountError::SessionRejected),
                None => {
                    logged_in = true;
                    self.login_again().await?;
                    continue;
                }
            };
            match op(&self.client, &session).await {
                Err(SyncError::Unauthorized) => {
                    self.session = None;
                    if logged_in {
                        return Err(AccountError::SessionRejected);
                    }
                }
                other => return other.map_err(AccountError::from),
            }
        }
    }
}
