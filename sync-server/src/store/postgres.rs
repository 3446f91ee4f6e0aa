//! The scale-out backend: PostgreSQL (`DATABASE_URL=postgres://…`), shared by any number of
//! stateless server processes.
//!
//! Ordering across processes: a push locks its account's row (`SELECT next_seq … FOR UPDATE`)
//! before it draws sequence numbers and holds the lock until commit, so one account's numbers
//! become visible in order while different accounts push in parallel (docs/SYNC.md).

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, NoTls};

use vault_core::sync::wire::Device;

use super::{
    fresh_secret, session_public_id, Account, Change, NewAccount, NewChange, NewSession,
    PushOutcome, ServerStore, SessionRef, StoreError, StoreResult, LAST_SEEN_GRANULARITY_MS,
};

/// Connections per server process. Several processes share the database's
/// `max_connections` (100 by default), so keep this modest.
pub const POOL_SIZE: usize = 16;
/// How long a request waits for a free connection before answering 503-style internal error.
const POOL_WAIT: Duration = Duration::from_secs(10);

const MIGRATIONS: &[&str] = &[
    // 1: the same tables as the SQLite backend (with its migrations 1–3 folded in).
    "CREATE TABLE accounts (
        id BIGSERIAL PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        credential_hash TEXT NOT NULL,
        header TEXT NOT NULL,
        next_seq BIGINT NOT NULL DEFAULT 1,
        created_ms BIGINT NOT NULL
     );
     CREATE TABLE sessions (
        token_hash BYTEA PRIMARY KEY,
        account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        device TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        expires_ms BIGINT NOT NULL,
        public_id TEXT NOT NULL,
        last_seen_ms BIGINT NOT NULL
     );
     CREATE INDEX sessions_by_account ON sessions (account_id, public_id);
     CREATE TABLE changes (
        account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        seq BIGINT NOT NULL,
        record_id TEXT NOT NULL,
        hlc TEXT NOT NULL,
        entry TEXT NOT NULL,
        PRIMARY KEY (account_id, seq),
        UNIQUE (account_id, record_id, hlc)
     );
     CREATE TABLE idempotency (
        account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        accepted BIGINT NOT NULL,
        duplicates BIGINT NOT NULL,
        cursor BIGINT NOT NULL,
        PRIMARY KEY (account_id, key)
     );
     CREATE TABLE server_meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);",
    // 2: bytes of sealed entries each account stores, for its quota.
    "ALTER TABLE accounts ADD COLUMN stored_bytes BIGINT NOT NULL DEFAULT 0;
     UPDATE accounts SET stored_bytes =
        (SELECT COALESCE(SUM(octet_length(entry)), 0) FROM changes WHERE changes.account_id = accounts.id);",
];

/// A fixed-size pool of blocking clients (the store runs on tokio's blocking threads).
pub struct PostgresStore {
    url: String,
    idle: Mutex<Vec<Client>>,
    open: Mutex<usize>,
    freed: Condvar,
}

/// A pooled connection; goes back to the pool on drop unless it broke.
struct Conn<'a> {
    store: &'a PostgresStore,
    client: Option<Client>,
}

impl std::ops::Deref for Conn<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("present until drop")
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("present until drop")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if client.is_closed() {
            if let Ok(mut open) = self.store.open.lock() {
                *open -= 1;
            }
        } else if let Ok(mut idle) = self.store.idle.lock() {
            idle.push(client);
        }
        self.store.freed.notify_one();
    }
}

/// The blocking client's drop runs a small runtime of its own to close the connection, which
/// panics on a thread that already drives an async runtime ("Cannot start a runtime from
/// within a runtime": `selfos serve` exited 101 on SIGTERM). The idle clients are therefore
/// closed on a plain thread whenever the store is dropped from inside a runtime.
impl Drop for PostgresStore {
    fn drop(&mut self) {
        let idle = std::mem::take(match self.idle.get_mut() {
            Ok(idle) => idle,
            Err(poisoned) => poisoned.into_inner(),
        });
        if idle.is_empty() {
            return;
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        } else {
            drop(idle);
        }
    }
}

fn lock_err<T>(_: T) -> StoreError {
    StoreError::Poisoned
}

impl PostgresStore {
    /// Connects to `url` and brings the schema up to date. Migrations run under an advisory
    /// lock, so processes starting together do not race.
    pub fn open(url: &str) -> StoreResult<Self> {
        let store = PostgresStore {
            url: url.to_owned(),
            idle: Mutex::new(Vec::new()),
            open: Mutex::new(0),
            freed: Condvar::new(),
        };
        let mut conn = store.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock(7305172)", &[])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
             INSERT INTO schema_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
        )?;
        let version: i32 = tx
            .query_one("SELECT version FROM schema_version", &[])?
            .get(0);
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            tx.batch_execute(sql)?;
            tx.execute("UPDATE schema_version SET version = $1", &[&(i as i32 + 1)])?;
        }
        tx.commit()?;
        drop(conn);
        Ok(store)
    }

    fn conn(&self) -> StoreResult<Conn<'_>> {
        let deadline = std::time::Instant::now() + POOL_WAIT;
        let mut idle = self.idle.lock().map_err(lock_err)?;
        loop {
            if let Some(client) = idle.pop() {
                return Ok(Conn {
                    store: self,
                    client: Some(client),
                });
            }
            {
                let mut open = self.open.lock().map_err(lock_err)?;
                if *open < POOL_SIZE {
                    *open += 1;
                    drop(open);
                    drop(idle);
                    return match Client::connect(&self.url, NoTls) {
                        Ok(client) => Ok(Conn {
                            store: self,
                            client: Some(client),
                        }),
                        Err(e) => {
                            if let Ok(mut open) = self.open.lock() {
                                *open -= 1;
                            }
                            Err(StoreError::Connect(e))
                        }
                    };
                }
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(StoreError::PoolExhausted(POOL_WAIT.as_secs()));
            }
            idle = self.freed.wait_timeout(idle, left).map_err(lock_err)?.0;
        }
    }
}

impl ServerStore for PostgresStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn ping(&self) -> StoreResult<()> {
        self.conn()?.query_one("SELECT 1", &[])?;
        Ok(())
    }

    fn server_secret(&self) -> StoreResult<Vec<u8>> {
        let mut conn = self.conn()?;
        let fresh = fresh_secret()?;
        conn.execute(
            "INSERT INTO server_meta (key, value) VALUES ('secret', $1) ON CONFLICT DO NOTHING",
            &[&fresh.as_slice()],
        )?;
        Ok(conn
            .query_one("SELECT value FROM server_meta WHERE key = 'secret'", &[])?
            .get(0))
    }

    fn create_account(&self, a: &NewAccount<'_>) -> StoreResult<()> {
        let inserted = self.conn()?.execute(
            "INSERT INTO accounts (username, credential_hash, header, created_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (username) DO NOTHING",
            &[&a.username, &a.credential_hash, &a.header, &a.created_ms],
        )?;
        if inserted == 0 {
            return Err(StoreError::UsernameTaken(a.username.to_owned()));
        }
        Ok(())
    }

    fn account(&self, username: &str) -> StoreResult<Option<Account>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT id, credential_hash, header FROM accounts WHERE username = $1",
                &[&username],
            )?
            .map(|r| Account {
                id: r.get(0),
                credential_hash: r.get(1),
                header: r.get(2),
            }))
    }

    fn account_by_id(&self, account: i64) -> StoreResult<Option<Account>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT id, credential_hash, header FROM accounts WHERE id = $1",
                &[&account],
            )?
            .map(|r| Account {
                id: r.get(0),
                credential_hash: r.get(1),
                header: r.get(2),
            }))
    }

    fn update_account(
        &self,
        account: i64,
        credential_hash: &str,
        header: &str,
        keep: &[u8],
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "UPDATE accounts SET credential_hash = $2, header = $3 WHERE id = $1",
            &[&account, &credential_hash, &header],
        )?;
        tx.execute(
            "DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2",
            &[&account, &keep],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn delete_account(&self, account: i64) -> StoreResult<()> {
        self.conn()?
            .execute("DELETE FROM accounts WHERE id = $1", &[&account])?;
        Ok(())
    }

    fn create_session(&self, s: &NewSession<'_>) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO sessions (token_hash, account_id, device, created_ms, expires_ms, public_id, last_seen_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $4)",
            &[&s.token_hash, &s.account, &s.device, &s.created_ms, &s.expires_ms, &session_public_id(s.token_hash)],
        )?;
        Ok(())
    }

    fn session(&self, token_hash: &[u8], now_ms: i64) -> StoreResult<Option<SessionRef>> {
        let mut conn = self.conn()?;
        let Some(row) = conn.query_opt(
            "SELECT account_id, last_seen_ms FROM sessions WHERE token_hash = $1 AND expires_ms > $2",
            &[&token_hash, &now_ms],
        )?
        else {
            return Ok(None);
        };
        let (account, last_seen): (i64, i64) = (row.get(0), row.get(1));
        if now_ms - last_seen >= LAST_SEEN_GRANULARITY_MS {
            conn.execute(
                "UPDATE sessions SET last_seen_ms = $2 WHERE token_hash = $1",
                &[&token_hash, &now_ms],
            )?;
        }
        Ok(Some(SessionRef { account }))
    }

    fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        self.conn()?
            .execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])?;
        Ok(())
    }

    fn sessions(&self, account: i64, now_ms: i64) -> StoreResult<Vec<Device>> {
        Ok(self
            .conn()?
            .query(
                "SELECT public_id, device, created_ms, last_seen_ms, expires_ms FROM sessions
                 WHERE account_id = $1 AND expires_ms > $2 ORDER BY created_ms DESC",
                &[&account, &now_ms],
            )?
            .iter()
            .map(|r| Device {
                id: r.get(0),
                device: r.get(1),
                created_ms: r.get(2),
                last_seen_ms: r.get(3),
                expires_ms: r.get(4),
            })
            .collect())
    }

    fn revoke_session(&self, account: i64, session_id: &str) -> StoreResult<bool> {
        let n = self.conn()?.execute(
            "DELETE FROM sessions WHERE account_id = $1 AND public_id = $2",
            &[&account, &session_id],
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
        let mut tx = conn.transaction()?;
        // The row lock first: it serializes this account's pushes across every process, so
        // sequence numbers commit in order and a retried key sees the first outcome.
        let Some(row) = tx.query_opt(
            "SELECT next_seq, stored_bytes FROM accounts WHERE id = $1 FOR UPDATE",
            &[&account],
        )?
        else {
            return Err(StoreError::NoSuchAccount);
        };
        let mut next: i64 = row.get(0);
        let used = row.get::<_, i64>(1).max(0) as u64;
        if let Some(r) = tx.query_opt(
            "SELECT accepted, duplicates, cursor FROM idempotency WHERE account_id = $1 AND key = $2",
            &[&account, &idempotency_key],
        )? {
            return Ok(PushOutcome {
                accepted: r.get::<_, i64>(0) as usize,
                duplicates: r.get::<_, i64>(1) as usize,
                cursor: r.get(2),
            });
        }
        let insert = tx.prepare(
            "INSERT INTO changes (account_id, seq, record_id, hlc, entry) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
        )?;
        let (mut accepted, mut duplicates, mut adding) = (0usize, 0usize, 0u64);
        for c in changes {
            if tx.execute(&insert, &[&account, &next, &c.record_id, &c.hlc, &c.entry])? == 1 {
                next += 1;
                accepted += 1;
                adding += c.entry.len() as u64;
            } else {
                duplicates += 1;
            }
        }
        if adding > 0 && used + adding > quota_bytes {
            // Dropping the transaction rolls the inserts back.
            return Err(StoreError::QuotaExceeded {
                used,
                adding,
                quota: quota_bytes,
            });
        }
        tx.execute(
            "UPDATE accounts SET next_seq = $1, stored_bytes = stored_bytes + $3 WHERE id = $2",
            &[&next, &account, &(adding as i64)],
        )?;
        let cursor = next - 1;
        let result = tx.execute(
            "INSERT INTO idempotency (account_id, key, accepted, duplicates, cursor) VALUES ($1, $2, $3, $4, $5)",
            &[&account, &idempotency_key, &(accepted as i64), &(duplicates as i64), &cursor],
        );
        if let Err(e) = &result {
            if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                return Err(StoreError::IdempotencyKeyInUse);
            }
        }
        result?;
        tx.commit()?;
        Ok(PushOutcome {
            accepted,
            duplicates,
            cursor,
        })
    }

    fn pull(&self, account: i64, since: i64, limit: usize) -> StoreResult<Vec<Change>> {
        Ok(self
            .conn()?
            .query(
                "SELECT seq, entry FROM changes WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&account, &since, &(limit as i64)],
            )?
            .iter()
            .map(|r| Change {
                seq: r.get(0),
                entry: r.get(1),
            })
            .collect())
    }
}
