//! Server storage: a small trait, one module per backend. SQLite (WAL, in the data folder) is
//! the embedded default; PostgreSQL (`DATABASE_URL`) serves several stateless server processes
//! sharing one database. The same test suite runs against both (`tests/api.rs`).
//!
//! The server stores only what clients send: sealed entries (ciphertext plus the record id,
//! namespace, version and clock needed to order them), an Argon2id hash of each account's
//! credential, the vault header (KDF parameters and the *wrapped* vault key) and hashed
//! session tokens.

mod postgres;
mod sqlite;

pub use self::postgres::PostgresStore;
pub use self::sqlite::SqliteStore;

use vault_core::sync::wire::Device;

/// What can go wrong in storage. The routes turn it into an HTTP answer (`error.rs`): the
/// first two are the client's to fix (409), the rest are server faults whose detail goes to
/// the log only.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the username `{0}` is taken")]
    UsernameTaken(String),
    /// Two pushes with one idempotency key ran at once (PostgreSQL); the loser may retry and
    /// will then see the winner's outcome.
    #[error("this idempotency key is being used by another request; retry")]
    IdempotencyKeyInUse,
    /// The account went away under a request (deleted by another device meanwhile).
    #[error("no such account")]
    NoSuchAccount,
    /// The push would take the account past its storage quota (nothing of it was written).
    #[error("this account's storage quota is reached: it stores {used} bytes, this push adds {adding}, the quota is {quota} (the server's SELFOS_ACCOUNT_QUOTA_MB)")]
    QuotaExceeded { used: u64, adding: u64, quota: u64 },
    #[error("creating the data folder {path}: {source}")]
    DataFolder {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to the PostgreSQL database in DATABASE_URL: {}", error_chain(.0))]
    Connect(#[source] ::postgres::Error),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("no free database connection within {0} s")]
    PoolExhausted(u64),
    #[error("database lock poisoned (an earlier request panicked holding it)")]
    Poisoned,
    #[error("random number generator: {0}")]
    Rng(getrandom::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// An error with its causes, `outer: inner: innermost` (the PostgreSQL client's "error
/// connecting to server" alone does not say *why*: refused, no such host, bad password). None
/// of them carries the connection URL, so no password.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

pub struct Account {
    pub id: i64,
    pub credential_hash: String,
    pub header: String,
}

/// A new account as the register handler hands it to storage.
pub struct NewAccount<'a> {
    pub username: &'a str,
    /// Argon2id hash (PHC string) of the client-derived credential.
    pub credential_hash: &'a str,
    /// The vault header JSON, already checked.
    pub header: &'a str,
    pub created_ms: i64,
}

/// A new session as the login handler hands it to storage.
pub struct NewSession<'a> {
    /// SHA-256 of the bearer token: the token itself is never stored.
    pub token_hash: &'a [u8],
    pub account: i64,
    /// The device's name for the device list (already cleaned of control characters).
    pub device: &'a str,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// A change as the push handler hands it to storage.
pub struct NewChange {
    /// The record id (with the clock, what makes a change a duplicate).
    pub record_id: String,
    /// The change's hybrid logical clock, as text.
    pub hlc: String,
    /// The sealed entry as JSON, stored as received and handed back by pull.
    pub entry: String,
}

/// One stored change, in the account's order.
pub struct Change {
    pub seq: i64,
    pub entry: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    pub accepted: usize,
    pub duplicates: usize,
    pub cursor: i64,
}

/// The session a token belongs to.
#[derive(Debug, Clone, Copy)]
pub struct SessionRef {
    pub account: i64,
}

/// Sessions count as seen again at most this often (one write per minute per session).
pub const LAST_SEEN_GRANULARITY_MS: i64 = 60_000;

pub trait ServerStore: Send + Sync + 'static {
    /// Which backend, for logs and metrics.
    fn kind(&self) -> &'static str;
    fn ping(&self) -> StoreResult<()>;
    /// A random 32-byte secret made once per database and kept there.
    fn server_secret(&self) -> StoreResult<Vec<u8>>;
    /// Errors with [`StoreError::UsernameTaken`] when the username is taken.
    fn create_account(&self, account: &NewAccount<'_>) -> StoreResult<()>;
    fn account(&self, username: &str) -> StoreResult<Option<Account>>;
    fn account_by_id(&self, account: i64) -> StoreResult<Option<Account>>;
    /// Replaces the stored vault header (after a passphrase change re-wrapped the key) and,
    /// with it, the credential hash, and ends every session of the account but `keep` (the
    /// token hash of the session that made the change), in one transaction.
    fn update_account(
        &self,
        account: i64,
        credential_hash: &str,
        header: &str,
        keep: &[u8],
    ) -> StoreResult<()>;
    /// Deletes the account, its sessions and every change it pushed.
    fn delete_account(&self, account: i64) -> StoreResult<()>;
    fn create_session(&self, session: &NewSession<'_>) -> StoreResult<()>;
    /// The live session a token belongs to; refreshes its last-seen time.
    fn session(&self, token_hash: &[u8], now_ms: i64) -> StoreResult<Option<SessionRef>>;
    fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()>;
    /// The account's live sessions, newest first: the device list's rows as they go on the
    /// wire (the stored columns are exactly its fields).
    fn sessions(&self, account: i64, now_ms: i64) -> StoreResult<Vec<Device>>;
    /// Ends one of the account's sessions by its public id; false when there is none.
    fn revoke_session(&self, account: i64, session_id: &str) -> StoreResult<bool>;
    /// Appends changes to the account's log. A change already stored (same record and clock)
    /// is a duplicate and changes nothing. With an idempotency key seen before, returns the
    /// first outcome and writes nothing. Errors with [`StoreError::QuotaExceeded`], writing
    /// nothing, when the accepted entries would take the account's stored bytes past
    /// `quota_bytes`.
    fn push(
        &self,
        account: i64,
        idempotency_key: &str,
        changes: &[NewChange],
        quota_bytes: u64,
    ) -> StoreResult<PushOutcome>;
    fn pull(&self, account: i64, since: i64, limit: usize) -> StoreResult<Vec<Change>>;
}

/// 32 fresh random bytes (the per-server secret's first draft).
fn fresh_secret() -> StoreResult<[u8; 32]> {
    let mut fresh = [0u8; 32];
    getrandom::getrandom(&mut fresh).map_err(StoreError::Rng)?;
    Ok(fresh)
}

/// The public id of a session: hex of the first 8 bytes of its token hash.
pub fn session_public_id(token_hash: &[u8]) -> String {
    hex::encode(&token_hash[..token_hash.len().min(8)])
}
