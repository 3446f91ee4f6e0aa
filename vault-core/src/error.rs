//! Typed errors. Every variant says what happened and, where the user can act, what to do.
//! Errors about one record never carry key material or plaintext.

use thiserror::Error;

/// Errors from the cryptographic layer: key derivation, envelopes, key wrapping.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CryptoError {
    #[error("wrong passphrase: it does not open this vault (check it and try again)")]
    WrongPassphrase,
    #[error("the record failed authentication: it was modified, truncated inside its ciphertext, or belongs to a different record, version or namespace")]
    Tampered,
    #[error("the envelope is truncated: {len} bytes, at least {min} are needed")]
    Truncated { len: usize, min: usize },
    #[error(
        "unknown envelope format version {0}: this build reads versions 1 and 2; update SelfOS to open it"
    )]
    UnknownEnvelopeVersion(u8),
    #[error("key-derivation parameters refused: {0}")]
    WeakKdf(String),
    #[error("unsupported key-derivation algorithm `{0}`")]
    UnknownKdf(String),
    #[error("the system random number generator failed: {0}")]
    Random(String),
    #[error("the browser's WebCrypto failed: {0}")]
    WebCrypto(String),
}

/// Errors from a storage backend (IndexedDB, memory).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    #[error("storage backend failed: {0}")]
    Backend(String),
    #[error("an entry `{key}` exists already")]
    Exists { key: String },
    #[error("stored entry `{key}` is corrupted and was skipped: {reason}")]
    Corrupt { key: String, reason: String },
}

/// Errors from the vault as a whole: what callers of [`crate::Vault`] handle.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VaultError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A new passphrase (vault creation, passphrase change) that the policy refuses.
    #[error(transparent)]
    WeakPassphrase(#[from] crate::crypto::passphrase::PassphraseTooWeak),
    #[error("no vault exists in this store yet: create one first")]
    NoVault,
    #[error("the sync account holds another vault than this device: export a backup here, then remove this device's copy to join the account's vault")]
    OtherVault,
    #[error("the sync server sent a vault header that does not keep this device's vault key (an older header sent again?): it was not taken, and nothing changed here")]
    HeaderDropsKey,
    #[error("the key kept for this session is not the vault's current key (the key was rotated since): unlock again with your passphrase")]
    StaleKey,
    #[error("the passphrase was changed on another device while this one was locked: unlock here once with the previous passphrase, then enter the new one when asked")]
    ChangedWhileLocked,
    #[error("a vault already exists in this store: unlock it, or restore into an empty store")]
    VaultExists,
    #[error("the vault header is corrupted ({0}); restore it from a backup")]
    CorruptHeader(String),
    #[error("record schema version {found} is newer than this build understands (up to {supported}); update SelfOS")]
    UnknownSchemaVersion { found: u16, supported: u16 },
    #[error("the record could not be decoded after decryption: {0}")]
    MalformedRecord(String),
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("record {0} not found")]
    NotFound(String),
    #[error("a remote clock is {ahead_ms} ms ahead of this device, more than the {max_ms} ms allowed: check the device's date and time")]
    ClockDrift { ahead_ms: u64, max_ms: u64 },
    /// A delete that nothing proves was made with the vault key: a format-1 tombstone (no
    /// envelope) from a server or another outside source. The record is kept.
    #[error("a delete of record {0} without proof of the vault key (a format-1 tombstone, which anyone with a session could forge) was ignored; the record is kept. Delete it again from a device with this version of SelfOS if you meant to")]
    UnauthenticatedDelete(String),
    #[error("not a SelfOS {expected} file: {reason}")]
    BadFile {
        expected: &'static str,
        reason: String,
    },
}

impl VaultError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        VaultError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

pub type Result<T, E = VaultError> = std::result::Result<T, E>;
