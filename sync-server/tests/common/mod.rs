//! Test backends: every server test runs on SQLite and on PostgreSQL.
//!
//! PostgreSQL comes from `SELFOS_TEST_POSTGRES` (an admin URL such as
//! `postgres://postgres@127.0.0.1:5433/postgres`), which `cargo xtask test` sets after starting
//! a throwaway cluster. Each test gets a fresh database of its own. Without the variable the
//! PostgreSQL half is skipped with a notice, unless `SELFOS_REQUIRE_POSTGRES=1` (set by xtask,
//! so CI cannot silently skip it).
#![allow(dead_code)]

use std::path::PathBuf;

pub enum Backend {
    Sqlite(PathBuf),
    Postgres { admin: String, name: String },
}

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("selfos_t_{name}_{}_{nanos}", std::process::id())
}

impl Backend {
    pub fn sqlite(name: &str) -> Backend {
        let dir = std::env::temp_dir().join(unique(name));
        let _ = std::fs::remove_dir_all(&dir);
        Backend::Sqlite(dir)
    }

    /// A fresh, empty database, or `None` (skip) when no PostgreSQL is configured.
    pub fn postgres(name: &str) -> Option<Backend> {
        let Ok(admin) = std::env::var("SELFOS_TEST_POSTGRES") else {
            assert!(
                std::env::var("SELFOS_REQUIRE_POSTGRES").is_err(),
                "SELFOS_REQUIRE_POSTGRES is set but SELFOS_TEST_POSTGRES is not"
            );
            eprintln!("note: PostgreSQL half of `{name}` skipped (SELFOS_TEST_POSTGRES unset; `cargo xtask test` sets it)");
            return None;
        };
        let name = unique(name).to_lowercase();
        let mut client = postgres::Client::connect(&admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("connecting to SELFOS_TEST_POSTGRES: {e}"));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        Some(Backend::Postgres { admin, name })
    }

    /// The URL or folder a server process would be given.
    pub fn env(&self) -> (&'static str, String) {
        match self {
            Backend::Sqlite(dir) => ("SELFOS_DATA", dir.display().to_string()),
            Backend::Postgres { .. } => ("DATABASE_URL", self.url()),
        }
    }

    pub fn url(&self) -> String {
        match self {
            Backend::Sqlite(dir) => dir.display().to_string(),
            Backend::Postgres { admin, name } => match admin.rfind('/') {
                Some(i) => format!("{}/{name}", &admin[..i]),
                None => panic!("SELFOS_TEST_POSTGRES has no database path"),
            },
        }
    }

    pub fn open(&self) -> std::sync::Arc<dyn sync_server::store::ServerStore> {
        match self {
            Backend::Sqlite(dir) => {
                sync_server::open_store(&sync_server::Database::Sqlite(dir.clone())).unwrap()
            }
            Backend::Postgres { .. } => {
                sync_server::open_store(&sync_server::Database::Postgres(self.url())).unwrap()
            }
        }
    }

    /// Every byte the database holds, to search for plaintext: the SQLite files, or every
    /// row of every PostgreSQL table as text.
    pub fn raw_bytes(&self) -> Vec<u8> {
        match self {
            Backend::Sqlite(dir) => {
                let mut bytes = Vec::new();
                for f in std::fs::read_dir(dir).unwrap() {
                    bytes.extend(std::fs::read(f.unwrap().path()).unwrap());
                }
                bytes
            }
            Backend::Postgres { .. } => {
                let mut client = postgres::Client::connect(&self.url(), postgres::NoTls).unwrap();
                let mut bytes = Vec::new();
                let tables: Vec<String> = client
                    .query(
                        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
                        &[],
                    )
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                assert!(
                    tables.len() >= 5,
                    "expected the schema's tables: {tables:?}"
                );
                for t in tables {
                    for row in client
                        .query(&format!("SELECT t::text FROM {t} t"), &[])
                        .unwrap()
                    {
                        bytes.extend(row.get::<_, String>(0).into_bytes());
                    }
                }
                bytes
            }
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        match self {
            Backend::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Backend::Postgres { admin, name } => {
                if let Ok(mut c) = postgres::Client::connect(admin, postgres::NoTls) {
                    let _ =
                        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

/// Declares `#[test]`s running an async case `fn(&Backend, Arc<dyn ServerStore>)` on SQLite and on PostgreSQL.
/// The runtime is built per test and the backend is dropped outside it (the blocking
/// PostgreSQL client must not be dropped on an async thread).
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $case() {
                let backend = $crate::common::Backend::sqlite(stringify!($case));
                let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
                let store = backend.open();
                rt.block_on(super::$case(&backend, store.clone()));
                drop(rt);
                drop(store);
            })*
        }
        mod postgres {
            $(#[test]
            fn $case() {
                let Some(backend) = $crate::common::Backend::postgres(stringify!($case)) else { return };
                let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
                let store = backend.open();
                rt.block_on(super::$case(&backend, store.clone()));
                drop(rt);
                drop(store);
            })*
        }
    };
}

/// A free-text answer to one card, ready to insert: what the server tests sync.
pub fn record(text: &str) -> vault_core::AnswerRecord {
    use vault_core::{Answer, AnswerRecord, CardType, Namespace, RecordFlags, RecordId};
    AnswerRecord {
        id: RecordId::generate().unwrap(),
        prompt_id: "goals.this-week.what".into(),
        prompt_version: 1,
        card_type: CardType::ShortText,
        answer: Answer::ShortText { text: text.into() },
        namespace: Namespace::new("chatgpt").unwrap(),
        origin: None,
        page_context: None,
        captured_at_ms: 1_763_800_000_000,
        answer_latency_ms: 1_000,
        wait_duration_ms: 5_000,
        flags: RecordFlags::default(),
    }
}
