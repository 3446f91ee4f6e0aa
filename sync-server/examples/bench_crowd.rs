//! Crowd benchmark for `cargo xtask bench` (prints one `BENCH_JSON` line): the real server
//! (`sync_server::serve`, the same accept loop, limits and allocator setting as `selfos
//! serve`, SQLite in a temp folder) on loopback, then
//!
//! 1. 500 logins at once, each on its own connection (real Argon2id checks; turned-away ones
//!    retry after their `Retry-After`): `server_rss_mb_after_500_logins` is the process's
//!    resident memory once they are done, `server_peak_rss_mb_500_logins` its peak,
//!    `crowd_login_resets` the connections cut under the crowd (retried);
//! 2. a closed loop: the 500 signed-in clients push and pull back to back, no think time, for
//!    `SELFOS_LOAD_SECONDS` (default 20): `load_closed_rps`, `load_closed_p99_ms`,
//!    `load_closed_errors`.
//!
//! The clients run in the same process (one small runtime); their share of the memory is the
//! 500 connections' buffers.

use std::time::{Duration, Instant};

mod shared;
use serde_json::{json, Value};
use shared::{entry, request};
use tokio::io::BufReader;
use tokio::net::TcpStream;
use vault_core::StoredRecord;

const CLIENTS: usize = 500;
const ACCOUNTS: usize = 50;
const BATCH: usize = 5;

async fn connect(addr: &str) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let _ = stream.set_nodelay(true);
    BufReader::new(stream)
}

fn main() {
    sync_server::memory::return_freed_memory_to_the_system();
    let seconds: u64 = std::env::var("SELFOS_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let dir = std::env::temp_dir().join(format!("selfos-bench-crowd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let many = Some("1000000".to_owned());
    let config = sync_server::Config::from_args(&sync_server::config::ServeArgs {
        addr: Some(addr.clone()),
        data: Some(dir.display().to_string()),
        account_rate: many.clone(),
        address_rate: many.clone(),
        max_connections: many.clone(),
        max_connections_per_address: many,
        ..Default::default()
    })
    .expect("config");
    // As `selfos serve` builds it (main.rs), on the machine's cores.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(48)
        .build()
        .expect("runtime");
    server_rt.spawn(async move {
        if let Err(e) = sync_server::serve(config).await {
            eprintln!("server: {e}");
        }
    });
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (vault, auth) = vault_core::store::block_on(vault_core::Vault::create(
        vault_core::MemoryStore::new(),
        &vault_core::Passphrase::new("benchmark passphrase"),
        vault_core::KdfParams::generate().expect("rng"),
    ))
    .expect("vault");
    let (credential, header) = (auth.to_credential(), vault.header().to_json());

    let resets = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (rss, peak, tokens) = client_rt.block_on(async {
        let start = Instant::now();
        loop {
            if TcpStream::connect(&addr).await.is_ok() {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "server not up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for a in 0..ACCOUNTS {
            let body = json!({ "username": format!("crowd{a:03}"), "credential": credential, "header": header });
            let mut conn = connect(&addr).await;
            let body = serde_json::to_vec(&body).expect("json");
            let (st, out) = request(&mut conn, "POST", "/api/v1/accounts", "", Some(&body))
                .await
                .expect("register");
            assert_eq!(st, 201, "{}", String::from_utf8_lossy(&out));
        }
        let logins: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let resets = resets.clone();
                let addr = addr.clone();
                let credential = credential.clone();
                tokio::spawn(async move {
                    let body = serde_json::to_vec(&json!({
                        "username": format!("crowd{:03}", c % ACCOUNTS),
                        "credential": credential,
                        "device": format!("client {c}"),
                    }))
                    .expect("json");
                    loop {
                        let mut conn = connect(&addr).await;
                        match request(&mut conn, "POST", "/api/v1/sessions", "", Some(&body)).await
                        {
                            Ok((200, out)) => {
                                let v: Value = serde_json::from_slice(&out).expect("json");
                                return v["token"].as_str().expect("token").to_owned();
                            }
                            // Busy: come back as asked (Retry-After is 1 s).
                            Ok((429, _)) => tokio::time::sleep(Duration::from_secs(1)).await,
                            Ok(other) => panic!("login: {other:?}"),
                            // A connection cut under the crowd: counted, and tried again.
                            Err(_) => {
                                resets.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            }
                        }
                    }
                })
            })
            .collect();
        let mut tokens = Vec::new();
        for l in logins {
            tokens.push(l.await.expect("login task"));
        }
        // Let the freed blocks go back before reading the resident size.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (rss, peak) = sync_server::memory::rss_mb().unwrap_or((f64::NAN, f64::NAN));
        (rss, peak, tokens)
    });

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let results: Vec<(Vec<f64>, usize)> = client_rt.block_on(async {
        let tasks: Vec<_> = tokens
            .into_iter()
            .enumerate()
            .map(|(c, token)| {
                let addr = addr.clone();
                tokio::spawn(async move {
                    let (mut latencies, mut errors) = (Vec::new(), 0usize);
                    let mut conn = connect(&addr).await;
                    let (mut n, mut cursor) = (0usize, 0i64);
                    while Instant::now() < deadline {
                        let batch: Vec<StoredRecord> =
                            (n..n + BATCH).map(|i| entry(c, i)).collect();
                        n += BATCH;
                        let body = serde_json::to_vec(
                            &json!({ "idempotency_key": format!("c{c}-{n}"), "changes": batch }),
                        )
                        .expect("json");
                        let t = Instant::now();
                        match request(&mut conn, "POST", "/api/v1/push", &token, Some(&body)).await
                        {
                            Ok((200, _)) => latencies.push(t.elapsed().as_secs_f64() * 1000.0),
                            Ok(_) => errors += 1,
                            Err(_) => {
                                errors += 1;
                                conn = connect(&addr).await;
                            }
                        }
                        let t = Instant::now();
                        let path = format!("/api/v1/pull?since={cursor}&limit=100");
                        match request(&mut conn, "GET", &path, &token, None).await {
                            Ok((200, body)) => {
                                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                                cursor = serde_json::from_slice::<Value>(&body)
                                    .ok()
                                    .and_then(|v| v["cursor"].as_i64())
                                    .unwrap_or(cursor);
                            }
                            Ok(_) => errors += 1,
                            Err(_) => {
                                errors += 1;
                                conn = connect(&addr).await;
                            }
                        }
                    }
                    (latencies, errors)
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap_or((Vec::new(), 1)));
        }
        out
    });
    let errors: usize = results.iter().map(|r| r.1).sum();
    let mut all: Vec<f64> = results.into_iter().flat_map(|r| r.0).collect();
    all.sort_by(f64::total_cmp);
    let p99 = all
        .get(((all.len() as f64 * 0.99) as usize).min(all.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN);
    println!(
        "BENCH_JSON {{\"server_rss_mb_after_500_logins\": {rss:.1}, \"server_peak_rss_mb_500_logins\": {peak:.1}, \
         \"load_closed_rps\": {:.1}, \"load_closed_p99_ms\": {p99:.3}, \"load_closed_errors\": {errors}, \"crowd_login_resets\": {}}}",
        all.len() as f64 / seconds as f64,
        resets.load(std::sync::atomic::Ordering::Relaxed)
    );
    drop(server_rt);
    let _ = std::fs::remove_dir_all(&dir);
}
