//! Sync ingest benchmark for `cargo xtask bench` (prints one `BENCH_JSON` line): records per
//! second pushed through the HTTP API (JSON parsing, validation, idempotency bookkeeping,
//! the SQLite write) against a raw batched SQLite insert of the same rows, same run.

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use rusqlite::{params, Connection};
use serde_json::{json, Value};
use sync_server::store::{NewAccount, NewChange, ServerStore, SqliteStore};
use sync_server::{app, AppState};
use tower::ServiceExt;
use vault_core::{Hlc, Namespace, RecordId, StoredRecord};

const RECORDS: usize = 20_000;
const BATCH: usize = 500;

fn entry(i: usize) -> StoredRecord {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&(i as u64).to_le_bytes());
    id[8..].copy_from_slice(&0x5e1f_u64.wrapping_mul(i as u64 + 1).to_le_bytes());
    StoredRecord {
        id: RecordId::from_bytes(id),
        namespace: Namespace::new("chatgpt").expect("valid"),
        version: 1,
        hlc: Hlc {
            wall_ms: 1_763_800_000_000 + i as u64,
            counter: 0,
            node: 7,
        },
        deleted: false,
        // A typical sealed answer is ~440 bytes; its content does not matter to the server.
        envelope: Some((0..440).map(|b| (b * 31 + i) as u8).collect()),
    }
}

async fn call(router: &axum::Router, req: Request<Body>) -> Value {
    let resp = router.clone().oneshot(req).await.expect("infallible");
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

fn post(uri: &str, token: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut r = Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    r.body(Body::from(body)).expect("request")
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("selfos-bench-ingest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let router = app(AppState::new(SqliteStore::open(&dir).expect("open")));
    let (vault, auth) = vault_core::store::block_on(vault_core::Vault::create(
        vault_core::MemoryStore::new(),
        &vault_core::Passphrase::new("benchmark passphrase"),
        vault_core::KdfParams::generate().expect("rng"),
    ))
    .expect("vault");
    let (credential, header) = (auth.to_credential(), vault.header().to_json());
    let reg = json!({ "username": "bench", "credential": credential, "header": header });
    call(
        &router,
        post(
            "/api/v1/accounts",
            None,
            serde_json::to_vec(&reg).expect("json"),
        ),
    )
    .await;
    let login = json!({ "username": "bench", "credential": credential });
    let token = call(
        &router,
        post(
            "/api/v1/sessions",
            None,
            serde_json::to_vec(&login).expect("json"),
        ),
    )
    .await["token"]
        .as_str()
        .expect("token")
        .to_owned();

    let entries: Vec<StoredRecord> = (0..RECORDS).map(entry).collect();
    let bodies: Vec<Vec<u8>> = entries
        .chunks(BATCH)
        .enumerate()
        .map(|(i, c)| {
            serde_json::to_vec(&json!({ "idempotency_key": format!("b{i}"), "changes": c }))
                .expect("json")
        })
        .collect();
    let t = Instant::now();
    for body in bodies {
        let out = call(&router, post("/api/v1/push", Some(&token), body)).await;
        assert_eq!(out["accepted"].as_u64(), Some(BATCH as u64), "{out}");
    }
    let api_per_s = RECORDS as f64 / t.elapsed().as_secs_f64();

    // Raw baseline: the same rows, same table shape and pragmas, batched in transactions, and
    // durable the same way as the server (synchronous = FULL: each commit synced before it
    // counts), so the ratio measures the API's overhead, not a durability difference.
    let raw_dir = dir.join("raw");
    std::fs::create_dir_all(&raw_dir).expect("dir");
    let mut conn = Connection::open(raw_dir.join("raw.sqlite3")).expect("open");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE changes (account_id INTEGER NOT NULL, seq INTEGER NOT NULL, record_id TEXT NOT NULL,
           hlc TEXT NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (account_id, seq), UNIQUE (account_id, record_id, hlc));",
    )
    .expect("schema");
    let rows: Vec<(String, String, String)> = entries
        .iter()
        .map(|e| {
            (
                e.id.to_string(),
                e.hlc.to_string(),
                String::from_utf8(e.encode()).expect("utf8"),
            )
        })
        .collect();
    let t = Instant::now();
    for (b, chunk) in rows.chunks(BATCH).enumerate() {
        let tx = conn.transaction().expect("tx");
        {
            let mut stmt = tx
                .prepare_cached("INSERT INTO changes (account_id, seq, record_id, hlc, entry) VALUES (1, ?1, ?2, ?3, ?4)")
                .expect("prepare");
            for (i, (id, hlc, e)) in chunk.iter().enumerate() {
                stmt.execute(params![(b * BATCH + i) as i64, id, hlc, e])
                    .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    let raw_per_s = RECORDS as f64 / t.elapsed().as_secs_f64();

    // Pull latency at 1,000,000 records: fill one account through the store (batches of
    // 1,000), then time server-side pulls of 100 changes at spread-out cursors.
    let big = SqliteStore::open(&dir.join("big")).expect("open");
    big.create_account(&NewAccount {
        username: "big",
        credential_hash: "x",
        header: "{}",
        created_ms: 0,
    })
    .expect("account");
    let account = big.account("big").expect("query").expect("exists").id;
    let template = String::from_utf8(entries[0].encode()).expect("utf8");
    let total = 1_000_000usize;
    for b in 0..total / 1_000 {
        let rows: Vec<NewChange> = (0..1_000)
            .map(|i| NewChange {
                record_id: format!("{:032x}", b * 1_000 + i),
                hlc: format!("{:015}-00000000-0000000000000007", b * 1_000 + i),
                entry: template.clone(),
            })
            .collect();
        big.push(account, &format!("fill{b}"), &rows, u64::MAX)
            .expect("push");
    }
    let mut pull_ms = Vec::new();
    for i in 0..200u64 {
        let since = ((i * 7_919) % (total as u64 - 200)) as i64;
        let t = Instant::now();
        let page = big.pull(account, since, 100).expect("pull");
        pull_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(page.len(), 100);
    }
    pull_ms.sort_by(f64::total_cmp);
    let pull_p95 = pull_ms[(pull_ms.len() as f64 * 0.95) as usize - 1];
    println!(
        "BENCH_JSON {{\"sync_ingest_records_per_s\": {api_per_s:.0}, \"sync_raw_sqlite_records_per_s\": {raw_per_s:.0}, \
         \"sync_ingest_vs_raw_sqlite_ratio\": {:.3}, \"sync_pull_p95_ms_at_1m\": {pull_p95:.3}}}",
        api_per_s / raw_per_s
    );
    let _ = std::fs::remove_dir_all(&dir);
}
