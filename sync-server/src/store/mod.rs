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

use crate::error::ApiResult;

pub struct Account {
    pub id: i64,
    pub credential_hash: String,
    pub header: String,
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

/// A live session as the account's owner sees it in the device list. `id` is public (a
/// prefix of the token's hash): it names the session without granting it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub id: String,
    pub device: String,
    pub created_ms: i64,
    pub last_seen_ms: i64,
    pub expires_ms: i64,
}

/// The session a token belongs to.
#[derive(Debug, Clone, Copy)]
pub struct SessionRef {
    pub account: i64,
}

/// A change as the push handler hands it to storage: record id, clock, entry JSON.
pub type NewChange = (String, String, String);

/// Sessions count as seen again at most this often (one write per minute per session).
pub const LAST_SEEN_GRANULARITY_MS: i64 = 60_000;

pub trait ServerStore: Send + Sync + 'static {
    /// Which backend, for logs and metrics.
    fn kind(&self) -> &'static str;
    fn ping(&self) -> ApiResult<()>;
    /// A random 32-byte secret made once per database and kept there.
    fn server_secret(&self) -> ApiResult<Vec<u8>>;
    /// Errors with `Conflict` when the username is taken.
    fn create_account(
        &self,
        username: &str,
        credential_hash: &str,
        header: &str,
        now_ms: i64,
    ) -> ApiResult<()>;
    fn account(&self, username: &str) -> ApiResult<Option<Account>>;
    fn account_by_id(&self, account: i64) -> ApiResult<Option<Account>>;
    /// Replaces the stored vault header (after a passphrase change re-wrapped the key) and,
    /// with it, the credential hash; other sessions stay valid.
    fn update_account(&self, account: i64, credential_hash: &str, header: &str) -> ApiResult<()>;
    /// Deletes the account, its sessions and every change it pushed.
    fn delete_account(&self, account: i64) -> ApiResult<()>;
    fn create_session(
        &self,
        token_hash: &[u8],
        account: i64,
        device: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> ApiResult<()>;
    /// The live session a token belongs to; refreshes its last-seen time.
    fn session(&self, token_hash: &[u8], now_ms: i64) -> ApiResult<Option<SessionRef>>;
    fn delete_session(&self, token_hash: &[u8]) -> ApiResult<()>;
    /// The account's live sessions, newest first.
    fn sessions(&self, account: i64, now_ms: i64) -> ApiResult<Vec<SessionInfo>>;
    /// Ends one of the account's sessions by its public id; false when there is none.
    fn revoke_session(&self, account: i64, session_id: &str) -> ApiResult<bool>;
    /// Appends changes to the account's log. A change already stored (same record and clock)
    /// is a duplicate and changes nothing. With an idempotency key seen before, returns the
    /// first outcome and writes nothing.
    fn push(
        &self,
        account: i64,
        idempotency_key: &str,
        changes: &[NewChange],
    ) -> ApiResult<PushOutcome>;
    fn pull(&self, account: i64, since: i64, limit: usize) -> ApiResult<Vec<Change>>;
}

/// The public id of a session: hex of the first 8 bytes of its token hash.
pub fn session_public_id(token_hash: &[u8]) -> String {
    hex::encode(&token_hash[..token_hash.len().min(8)])
}
