//! Load benchmark for `cargo xtask bench` (prints one `BENCH_JSON` line): 500 concurrent
//! clients, each on its own keep-alive connection over loopback, alternately pushing a small
//! batch and pulling since their cursor, with a think time of 0.5–1.5 s between requests (an
//! open, realistic load of ~500 requests/s, not a closed loop measuring only queueing). Runs a
//! fixed time (default 30 s, `SELFOS_LOAD_SECONDS`) and stops by itself.
//!
//! The server is the real router on a real TCP listener (SQLite in a temp folder), on its own
//! runtime; accounts and sessions are created through the store to skip 500 Argon2 hashes.

use std::time::{Duration, Instant};

mod shared;
use shared::{entry, request};

use serde_json::json;
use sha2::{Digest, Sha256};
use sync_server::store::{NewAccount, NewSession, ServerStore, SqliteStore};
use sync_server::{app, AppState, Limits};
use tokio::io::BufReader;
use tokio::net::TcpStream;
use vault_core::StoredRecord;

const CLIENTS: usize = 500;
const BATCH: usize = 5;

fn main() {
    let seconds: u64 = std::env::var("SELFOS_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let dir = std::env::temp_dir().join(format!("selfos-bench-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = SqliteStore::open(&dir).expect("open");
    let mut tokens = Vec::new();
    for c in 0..CLIENTS {
        let name = format!("user{c:03}");
        store
            .create_account(&NewAccount {
                username: &name,
                credential_hash: "unused",
                header: "{}",
                created_ms: 0,
            })
            .expect("account");
        let id = store.account(&name).expect("query").expect("exists").id;
        let token = format!("bench-token-{c}");
        let th = Sha256::digest(token.as_bytes()).to_vec();
        store
            .create_session(&NewSession {
                token_hash: &th,
                account: id,
                device: "bench",
                created_ms: 0,
                expires_ms: i64::MAX,
            })
            .expect("session");
        tokens.push(token);
    }
    let limits = Limits {
        account_per_s: 1_000.0,
        address_per_min: 1_000_000.0,
    };
    let router = app(AppState::with_limits(store, limits));

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    server_rt.spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let results: Vec<(Vec<f64>, usize)> = client_rt.block_on(async move {
        let mut tasks = Vec::new();
        for (c, token) in tokens.into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                let Ok(stream) = TcpStream::connect(addr).await else {
                    return (latencies, 1);
                };
                let _ = stream.set_nodelay(true);
                let mut conn = BufReader::new(stream);
                let (mut n, mut cursor) = (0usize, 0i64);
                // Deterministic per-client jitter (xorshift), spreading the clients out.
                let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ (c as u64 + 1);
                let mut think = || {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    Duration::from_millis(500 + rng % 1000)
                };
                tokio::time::sleep(think()).await;
                while Instant::now() < deadline {
                    let batch: Vec<StoredRecord> = (n..n + BATCH).map(|i| entry(c, i)).collect();
                    n += BATCH;
                    let body = serde_json::to_vec(
                        &json!({ "idempotency_key": format!("k{n}"), "changes": batch }),
                    )
                    .expect("json");
                    let t = Instant::now();
                    match request(&mut conn, "POST", "/api/v1/push", &token, Some(&body)).await {
                        Ok((200, _)) => latencies.push(t.elapsed().as_secs_f64() * 1000.0),
                        _ => errors += 1,
                    }
                    tokio::time::sleep(think()).await;
                    let t = Instant::now();
                    let path = format!("/api/v1/pull?since={cursor}&limit=100");
                    match request(&mut conn, "GET", &path, &token, None).await {
                        Ok((200, body)) => {
                            latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                            cursor = serde_json::from_slice::<serde_json::Value>(&body)
                                .ok()
                                .and_then(|v| v["cursor"].as_i64())
                                .unwrap_or(cursor);
                        }
                        _ => errors += 1,
                    }
                    tokio::time::sleep(think()).await;
                }
                (latencies, errors)
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap_or((Vec::new(), 1)));
        }
        out
    });
    let errors: usize = results.iter().map(|r| r.1).sum();
    let mut all: Vec<f64> = results.into_iter().flat_map(|r| r.0).collect();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "BENCH_JSON {{\"load_clients\": {CLIENTS}, \"load_seconds\": {seconds}, \"load_requests\": {}, \"load_rps\": {:.1}, \"load_p50_ms\": {:.3}, \"load_p99_ms\": {:.3}, \"load_errors\": {errors}}}",
        all.len(),
        all.len() as f64 / seconds as f64,
        pct(0.50),
        pct(0.99)
    );
    drop(server_rt);
    let _ = std::fs::remove_dir_all(&dir);
}
