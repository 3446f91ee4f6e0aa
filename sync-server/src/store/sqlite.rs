//! The embedded backend: one SQLite file in WAL mode in the data folder.
//!
//! - One writer connection (SQLite takes one writer at a time anyway) and a few reader
//!   connections: WAL lets readers run beside the writer, so pulls and session checks do not
//!   queue behind a push.
//! - `synchronous = FULL`: a push is acknowledged only once its commit is on disk. With
//!   `NORMAL` a power loss (not a process crash) could drop the last commits of the WAL after
//!   their pushes were acknowledged, and a device that already marked them synced would never
//!   push them again. Cost: measured by `sync_ingest_vs_raw_sqlite_ratio` (docs/SYNC.md).
//! - `secure_delete = ON`: deleted rows are overwritten with zeros, and the WAL is truncated
//!   after an account deletion, so a deleted account leaves no ciphertext in the files.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use vault_core::sync::wire::Device;

use super::{
    fresh_secret, session_public_id, Account, Change, NewAccount, NewChange, NewSession,
    PushOutcome, ServerStore, SessionRef, StoreError, StoreResult, LAST_SEEN_GRANULARITY_MS,
};

pub struct SqliteStore {
    conn: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: std::sync::atomic::AtomicUsize,
}

/// Reader connections beside the writer.
pub const READERS: usize = 4;

/// Settings every connection gets. `busy_timeout`: a reader that meets a checkpoint waits
/// instead of failing.
const PRAGMAS: &str = "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
    PRAGMA secure_delete = ON; PRAGMA busy_timeout = 5000;";

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
    // 3: the device list: a public session id and when the session was last seen.
    "ALTER TABLE sessions ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
     ALTER TABLE sessions ADD COLUMN last_seen_ms INTEGER NOT NULL DEFAULT 0;
     UPDATE sessions SET public_id = lower(hex(substr(token_hash, 1, 8))), last_seen_ms = created_ms;
     CREATE INDEX sessions_by_account ON sessions (account_id, public_id);",
    // 4: bytes of sealed entries each account stores, for its quota.
    "ALTER TABLE accounts ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
     UPDATE accounts SET stored_bytes =
        (SELECT COALESCE(SUM(length(CAST(entry AS BLOB))), 0) FROM changes WHERE changes.account_id = accounts.id);",
];

impl SqliteStore {
    /// Opens (creating and migrating) `dir/selfos.sqlite3`.
    pub fn open(dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::DataFolder {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join("selfos.sqlite3");
        let mut conn = Connection::open(&path)?;
        conn.execute_batch("PRAGMA journal_mode = WAL;")?;
        conn.execute_batch(PRAGMAS)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
        let readers = (0..READERS)
            .map(|_| {
                let r = Connection::open_with_flags(
                    &path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                r.execute_batch(PRAGMAS)?;
                Ok(Mutex::new(r))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            readers,
            next_reader: Default::default(),
        })
    }

    /// A reader connection: a free one if any, else the next in turn.
    fn reader(&self) -> StoreResult<std::sync::MutexGuard<'_, Connection>> {
        for r in &self.readers {
            if let Ok(guard) = r.try_lock() {
                return Ok(guard);
            }
        }
        let i = self
            .next_reader
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % self.readers.len().max(1);
        match self.readers.get(i) {
            Some(r) => r.lock().map_err(|_| StoreError::Poisoned),
            None => self.conn(),
        }
    }

    fn account_where(
        &self,
        condition: &str,
        value: &dyn rusqlite::ToSql,
    ) -> StoreResult<Option<Account>> {
        Ok(self
            .reader()?
            .query_row(
                &format!("SELECT id, credential_hash, header FROM accounts WHERE {condition}"),
                [value],
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

    fn conn(&self) -> StoreResult<std::sync::MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }
}

impl ServerStore for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn ping(&self) -> StoreResult<()> {
        self.reader()?.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    fn server_secret(&self) -> StoreResult<Vec<u8>> {
        let conn = self.conn()?;
        let fresh = fresh_secret()?;
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

    fn create_account(&self, a: &NewAccount<'_>) -> StoreResult<()> {
        let inserted = self.conn()?.execute(
            "INSERT OR IGNORE INTO accounts (username, credential_hash, header, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![a.username, a.credential_hash, a.header, a.created_ms],
        )?;
        if inserted == 0 {
            return Err(StoreError::UsernameTaken(a.username.to_owned()));
        }
        Ok(())
    }

    fn account(&self, username: &str) -> StoreResult<Option<Account>> {
        self.account_where("username = ?1", &username)
    }

    fn account_by_id(&self, account: i64) -> StoreResult<Option<Account>> {
        self.account_where("id = ?1", &account)
    }

    fn create_session(&self, s: &NewSession<'_>) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO sessions (token_hash, account_id, device, created_ms, expires_ms, public_id, last_seen_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?4)",
            params![s.token_hash, s.account, s.device, s.created_ms, s.expires_ms, session_public_id(s.token_hash)],
        )?;
        Ok(())
    }

    fn session(&self, token_hash: &[u8], now_ms: i64) -> StoreResult<Option<SessionRef>> {
        let found: Option<(i64, i64)> = self
            .reader()?
            .query_row(
                "SELECT account_id, last_seen_ms FROM sessions WHERE token_hash = ?1 AND expires_ms > ?2",
                params![token_hash, now_ms],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((account, last_seen)) = found else {
            return Ok(None);
        };
        if now_ms - last_seen >= LAST_SEEN_GRANULARITY_MS {
            self.conn()?.execute(
                "UPDATE sessions SET last_seen_ms = ?2 WHERE token_hash = ?1",
                params![token_hash, now_ms],
            )?;
        }
        Ok(Some(SessionRef { account }))
    }

    fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        self.conn()?.execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            params![token_hash],
        )?;
        Ok(())
    }

    fn update_account(
        &self,
        account: i64,
        credential_hash: &str,
        header: &str,
        keep: &[u8],
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE accounts SET credential_hash = ?2, header = ?3 WHERE id = ?1",
            params![account, credential_hash, header],
        )?;
        tx.execute(
            "DELETE FROM sessions WHERE account_id = ?1 AND token_hash <> ?2",
            params![account, keep],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn delete_account(&self, account: i64) -> StoreResult<()> {
        let conn = self.conn()?;
        // Foreign keys cascade to sessions, changes and idempotency keys; secure_delete
        // zeroes the freed content.
        conn.execute("DELETE FROM accounts WHERE id = ?1", params![account])?;
        // The WAL still holds the pages as they were written; copy the zeroed pages into the
        // database file and empty the WAL. Best effort: a reader in the middle of a query
        // can keep part of it until the next checkpoint.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    fn sessions(&self, account: i64, now_ms: i64) -> StoreResult<Vec<Device>> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(
            "SELECT public_id, device, created_ms, last_seen_ms, expires_ms FROM sessions
             WHERE account_id = ?1 AND expires_ms > ?2 ORDER BY created_ms DESC",
        )?;
        let rows = stmt.query_map(params![account, now_ms], |r| {
            Ok(Device {
                id: r.get(0)?,
                device: r.get(1)?,
                created_ms: r.get(2)?,
                last_seen_ms: r.get(3)?,
                expires_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn revoke_session(&self, account: i64, session_id: &str) -> StoreResult<bool> {
        let n = self.conn()?.execute(
            "DELETE FROM sessions WHERE account_id = ?1 AND public_id = ?2",
            params![account, session_id],
        )?;
        Ok(n > 0)
    }

    fn push(
        &self,
        account: i64,
        idempotency_key: &str,
        changes: &[NewChange],
        quota_bytes: u64,
    ) -> StoreResult<PushOutcome> {
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
        let (mut next, used): (i64, i64) = tx.query_row(
            "SELECT next_seq, stored_bytes FROM accounts WHERE id = ?1",
            params![account],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (mut accepted, mut duplicates, mut adding) = (0, 0, 0u64);
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO changes (account_id, seq, record_id, hlc, entry) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for c in changes {
                if insert.execute(params![account, next, c.record_id, c.hlc, c.entry])? == 1 {
                    next += 1;
                    accepted += 1;
                    adding += c.entry.len() as u64;
                } else {
                    duplicates += 1;
                }
            }
        }
        let used = used.max(0) as u64;
        if adding > 0 && used + adding > quota_bytes {
            // Dropping the transaction rolls the inserts back.
            return Err(StoreError::QuotaExceeded {
                used,
                adding,
                quota: quota_bytes,
            });
        }
        tx.execute(
            "UPDATE accounts SET next_seq = ?1, stored_bytes = stored_bytes + ?3 WHERE id = ?2",
            params![next, account, adding as i64],
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

    fn pull(&self, account: i64, since: i64, limit: usize) -> StoreResult<Vec<Change>> {
        let conn = self.reader()?;
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
