//! Server storage: a small trait, one module per backend. SQLite (WAL, in the data folder) is
//! the embedded default; PostgreSQL (`DATABASE_URL`) is planned behind the same trait.
//!
//! The server stores only what clients send: sealed entries (ciphertext plus the record id,
//! namespace, version and clock needed to order them), an Argon2id hash of each account's
//! credential, the vault header (KDF parameters and the *wrapped* vault key) and hashed
//! session tokens.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::error::{ApiError, ApiResult};

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

pub struct PushOutcome {
    pub accepted: usize,
    pub duplicates: usize,
    pub cursor: i64,
}

pub trait ServerStore: Send + Sync + 'static {
    fn ping(&self) -> ApiResult<()>;
    /// A random 32-byte secret made once per database and kept there.
    fn server_secret(&self) -> ApiResult<Vec<u8>>;
    fn create_account(
        &self,
        username: &str,
        credential_hash: &str,
        header: &str,
        now_ms: i64,
    ) -> ApiResult<()>;
    fn account(&self, username: &str) -> ApiResult<Option<Account>>;
    fn create_session(
        &self,
        token_hash: &[u8],
        account: i64,
        device: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> ApiResult<()>;
    /// The account a live session token belongs to.
    fn session_account(&self, token_hash: &[u8], now_ms: i64) -> ApiResult<Option<i64>>;
    fn delete_session(&self, token_hash: &[u8]) -> ApiResult<()>;
    /// Appends changes (each `(record id, hlc, entry JSON)`) to the account's log. A change
    /// already stored (same record and clock) is a duplicate and changes nothing. With an
    /// idempotency key seen before, returns the first outcome and writes nothing.
    fn push(
        &self,
        account: i64,
        idempotency_key: &str,
        changes: &[(String, String, String)],
    ) -> ApiResult<PushOutcome>;
    fn pull(&self, account: i64, since: i64, limit: usize) -> ApiResult<Vec<Change>>;
}

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

const MIGRATIONS: &[&str] = &[
    // 1: accounts, sessions, the change log, idempotency keys.
    "CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        credential_hash TEXT NOT NULL,
        header TEXT NOT NULL,
        next_seq INTEGER NOT NULL DEFAULT 1,
        created_ms INTEGER NOT NULL
     );
     CREATE TABLE sessions (
        token_hash BLOB PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        device TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
     );
     CREATE TABLE changes (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        record_id TEXT NOT NULL,
        hlc TEXT NOT NULL,
        entry TEXT NOT NULL,
        PRIMARY KEY (account_id, seq),
        UNIQUE (account_id, record_id, hlc)
     );
     CREATE TABLE idempotency (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        accepted INTEGER NOT NULL,
        duplicates INTEGER NOT NULL,
        cursor INTEGER NOT NULL,
        PRIMARY KEY (account_id, key)
     );",
    // 2: a per-server secret (keys the made-up pre-login answers for unknown users).
    "CREATE TABLE server_meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);",
];

impl SqliteStore {
    /// Opens (creating and migrating) `dir/selfos.sqlite3`.
    pub fn open(dir: &Path) -> ApiResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ApiError::Internal(format!("creating {}: {e}", dir.display())))?;
        let mut conn = Connection::open(dir.join("selfos.sqlite3"))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> ApiResult<std::sync::MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| ApiError::Internal("database lock poisoned".into()))
    }
}

impl ServerStore for SqliteStore {
    fn ping(&self) -> ApiResult<()> {
        self.conn()?.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    fn server_secret(&self) -> ApiResult<Vec<u8>> {
        let conn = self.conn()?;
        let mut fresh = [0u8; 32];
        getrandom::getrandom(&mut fresh).map_err(|e| ApiError::Internal(format!("rng: {e}")))?;
        conn.execute(
            "INSERT OR IGNORE INTO server_meta (key, value) VALUES ('secret', ?1)",
            params![fresh.as_slice()],
        )?;
        Ok(conn.query_row(
            "SELECT value FROM server_meta WHERE key = 'secret'",
            [],
            |r| r.get(0),
        )?)
    }

    fn create_account(
        &self,
        username: &str,
        credential_hash: &str,
        header: &str,
        now_ms: i64,
    ) -> ApiResult<()> {
        let inserted = self.conn()?.execute(
            "INSERT OR IGNORE INTO accounts (username, credential_hash, header, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![username, credential_hash, header, now_ms],
        )?;
        if inserted == 0 {
            return Err(ApiError::Conflict(format!(
                "the username `{username}` is taken"
            )));
        }
        Ok(())
    }

    fn account(&self, username: &str) -> ApiResult<Option<Account>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT id, credential_hash, header FROM accounts WHERE username = ?1",
                params![username],
                |r| {
                    Ok(Account {
                        id: r.get(0)?,
                        credential_hash: r.get(1)?,
                        header: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn create_session(
        &self,
        token_hash: &[u8],
        account: i64,
        device: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> ApiResult<()> {
        self.conn()?.execute(
            "INSERT INTO sessions (token_hash, account_id, device, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash, account, device, now_ms, expires_ms],
        )?;
        Ok(())
    }

    fn session_account(&self, token_hash: &[u8], now_ms: i64) -> ApiResult<Option<i64>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT account_id FROM sessions WHERE token_hash = ?1 AND expires_ms > ?2",
                params![token_hash, now_ms],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn delete_session(&self, token_hash: &[u8]) -> ApiResult<()> {
        self.conn()?.execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            params![token_hash],
        )?;
        Ok(())
    }

    fn push(
        &self,
        account: i64,
        idempotency_key: &str,
        changes: &[(String, String, String)],
    ) -> ApiResult<PushOutcome> {
        let mut conn = self.conn()?;
        // IMMEDIATE: take the write lock first, so sequence numbers are handed out in commit
        // order and a reader pulling "since N" can never skip a change committed later.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let seen = tx
            .query_row(
                "SELECT accepted, duplicates, cursor FROM idempotency WHERE account_id = ?1 AND key = ?2",
                params![account, idempotency_key],
                |r| Ok(PushOutcome { accepted: r.get::<_, i64>(0)? as usize, duplicates: r.get::<_, i64>(1)? as usize, cursor: r.get(2)? }),
            )
            .optional()?;
        if let Some(outcome) = seen {
            return Ok(outcome);
        }
        let mut next: i64 = tx.query_row(
            "SELECT next_seq FROM accounts WHERE id = ?1",
            params![account],
            |r| r.get(0),
        )?;
        let (mut accepted, mut duplicates) = (0, 0);
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO changes (account_id, seq, record_id, hlc, entry) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (record_id, hlc, entry) in changes {
                if insert.execute(params![account, next, record_id, hlc, entry])? == 1 {
                    next += 1;
                    accepted += 1;
                } else {
                    duplicates += 1;
                }
            }
        }
        tx.execute(
            "UPDATE accounts SET next_seq = ?1 WHERE id = ?2",
            params![next, account],
        )?;
        let cursor = next - 1;
        tx.execute(
            "INSERT INTO idempotency (account_id, key, accepted, duplicates, cursor) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![account, idempotency_key, accepted as i64, duplicates as i64, cursor],
        )?;
        tx.commit()?;
        Ok(PushOutcome {
            accepted,
            duplicates,
            cursor,
        })
    }

    fn pull(&self, account: i64, since: i64, limit: usize) -> ApiResult<Vec<Change>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT seq, entry FROM changes WHERE account_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![account, since, limit as i64], |r| {
            Ok(Change {
                seq: r.get(0)?,
                entry: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
