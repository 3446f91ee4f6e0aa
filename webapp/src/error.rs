//! Everything that can go wrong, worded for the person at the keyboard.

use thiserror::Error;
use vault_core::crypto::PassphraseTooWeak;
use vault_core::sync::{AccountError, SyncError};
use vault_core::{CryptoError, StoreError, VaultError};

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AppError {
    #[error("Wrong passphrase for this vault. Check it (it is case-sensitive) and try again.")]
    WrongPassphrase,
    #[error("Wrong username or passphrase. Check both and try again.")]
    BadCredentials,
    #[error("Cannot reach the sync server ({0}). The first sign-in on a device needs it; once this browser holds your vault, unlocking works offline.")]
    OfflineFirstSignIn(String),
    #[error("Sync failed: cannot reach the server ({0}). Your data stays here and syncs when it is back.")]
    Offline(String),
    #[error("Your session has expired or was revoked. Unlock again to sign in.")]
    SessionExpired,
    #[error("This browser holds the vault of `{local}`. Lock and use that account, or delete this browser's copy in Settings first.")]
    OtherAccount { local: String },
    #[error("Enter {0}.")]
    Missing(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("The vault is locked. Unlock it first.")]
    Locked,
    #[error("Browser storage failed: {0}. Private windows and full disks can block IndexedDB.")]
    Storage(String),
    #[error("Sync failed: {0}")]
    Sync(String),
    #[error("The server no longer accepts this browser's sign-in: the passphrase was changed, or the vault key rotated, on another device. Enter your current passphrase under Settings → Account to sign in again; nothing here is lost.")]
    CredentialsChanged,
    #[error("{0}")]
    Vault(String),
    #[error("The browser refused: {0}")]
    Browser(String),
    #[error("Part of SelfOS could not be downloaded from the server. Check the connection and try again (reload the page if SelfOS was just updated); your data is safe.")]
    NotDownloaded,
}

impl From<VaultError> for AppError {
    fn from(e: VaultError) -> Self {
        match e {
            VaultError::Crypto(CryptoError::WrongPassphrase) => AppError::WrongPassphrase,
            VaultError::Store(s) => AppError::Storage(s.to_string()),
            other => AppError::Vault(other.to_string()),
        }
    }
}

/// vault-core's one passphrase policy, with its message.
impl From<PassphraseTooWeak> for AppError {
    fn from(e: PassphraseTooWeak) -> Self {
        AppError::Invalid(e.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::Storage(e.to_string())
    }
}

impl From<SyncError> for AppError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::BadCredentials => AppError::BadCredentials,
            SyncError::Unauthorized => AppError::SessionExpired,
            SyncError::Offline(why) => AppError::Offline(why),
            SyncError::Vault(v) => v.into(),
            other => AppError::Sync(other.to_string()),
        }
    }
}

impl From<AccountError> for AppError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Sync(s) => s.into(),
            AccountError::SignedOut | AccountError::SessionRejected => AppError::SessionExpired,
            AccountError::CredentialsChanged => AppError::CredentialsChanged,
            other => AppError::Sync(other.to_string()),
        }
    }
}

impl AppError {
    /// A stable short code for tests and styling.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::WrongPassphrase => "wrong_passphrase",
            AppError::BadCredentials => "bad_credentials",
            AppError::OfflineFirstSignIn(_) | AppError::Offline(_) => "offline",
            AppError::SessionExpired => "session_expired",
            AppError::OtherAccount { .. } => "other_account",
            AppError::Missing(_) | AppError::Invalid(_) => "invalid",
            AppError::Locked => "locked",
            AppError::Storage(_) => "storage",
            AppError::Sync(_) => "sync",
            AppError::CredentialsChanged => "credentials_changed",
            AppError::Vault(_) => "vault",
            AppError::Browser(_) => "browser",
            AppError::NotDownloaded => "not_downloaded",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_passphrase_is_recognised() {
        let e: AppError = VaultError::Crypto(CryptoError::WrongPassphrase).into();
        assert_eq!(e, AppError::WrongPassphrase);
        assert!(e.to_string().contains("Wrong passphrase"));
        let e: AppError = SyncError::BadCredentials.into();
        assert_eq!(e.code(), "bad_credentials");
    }

    #[test]
    fn account_errors_keep_their_meaning() {
        let e: AppError = AccountError::SessionRejected.into();
        assert_eq!(e, AppError::SessionExpired);
        let e: AppError = AccountError::Sync(SyncError::Vault(VaultError::Crypto(
            CryptoError::WrongPassphrase,
        )))
        .into();
        assert_eq!(e, AppError::WrongPassphrase);
        let e: AppError = AccountError::CredentialsChanged.into();
        assert!(e.to_string().contains("no longer accepts"), "{e}");
        assert_eq!(e.code(), "credentials_changed");
        let e: AppError =
            AccountError::PassphraseNotChanged(SyncError::Offline("refused".into())).into();
        assert!(e.to_string().contains("not changed"), "{e}");
    }
}
