//! In-browser vault benchmarks for `cargo xtask bench` (built only with `--features
//! browser-bench`). Prints one `BENCH_JSON` line; baselines run in the same page, same run:
//! - a vault write (seal + IndexedDB commit of a ~300-byte answer) against a bare IndexedDB
//!   put of the same stored bytes, written in plain JavaScript;
//! - unlock at 600,000 iterations against WebCrypto's own `deriveBits` at the same cost.
//!
//! A second test prints `graph_build_wasm_ms`: the knowledge-graph workload of
//! `examples/bench_graph.rs` (100,000 answers) in the browser.
#![cfg(target_arch = "wasm32")]

mod common;

use js_sys::{Promise, Uint8Array};
use vault_core::crypto::hazmat::{derive_master_key_rust, webcrypto_pbkdf2_sha256};
use vault_core::crypto::kdf::DEFAULT_ITERATIONS;
use vault_core::store::indexeddb::IndexedDbStore;
use vault_core::{KdfParams, Passphrase, RecordId, Vault, VaultStore};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function bare_open(name) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => req.result.createObjectStore("kv");
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
export function bare_put(db, key, bytes) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction("kv", "readwrite");
    tx.objectStore("kv").put(bytes, key);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}
export function now() { return performance.now(); }
"#)]
extern "C" {
    fn bare_open(name: &str) -> Promise;
    fn bare_put(db: &JsValue, key: &str, bytes: &Uint8Array) -> Promise;
    fn now() -> f64;
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx]
}

const WRITES: usize = 1000;
const UNLOCKS: usize = 5;

#[wasm_bindgen_test]
async fn vault_benchmarks() {
    let pass = Passphrase::new(common::PASSPHRASE);
    let db_name = format!("selfos-bench-{}", RecordId::generate().unwrap());
    let store = IndexedDbStore::open(&db_name).await.unwrap();
    let (mut vault, _) = Vault::create(store, &pass, KdfParams::generate().unwrap())
        .await
        .unwrap();
    let bare_db = JsFuture::from(bare_open(&format!("{db_name}-bare")))
        .await
        .unwrap();

    // Interleave the two writes so both see the same browser state; warm up first.
    let records: Vec<_> = (0..WRITES as u32 + 20).map(common::sample_record).collect();
    let (mut vault_ms, mut bare_ms) = (Vec::new(), Vec::new());
    let mut plaintext_len = 0;
    for (i, rec) in records.iter().enumerate() {
        let t = now();
        vault.insert(rec).await.unwrap();
        let dt_vault = now() - t;
        // The bare put stores the very bytes the vault stored for this record.
        let key = rec.id.to_string();
        let stored = vault.store().get_record(&key).await.unwrap().unwrap();
        plaintext_len = vault_core::record::encode_record(rec).len();
        let bytes = Uint8Array::from(stored.as_slice());
        let t = now();
        JsFuture::from(bare_put(&bare_db, &key, &bytes))
            .await
            .unwrap();
        let dt_bare = now() - t;
        if i >= 20 {
            vault_ms.push(dt_vault);
            bare_ms.push(dt_bare);
        }
    }
    // Edits: read the current version, seal and write, in one transaction.
    let mut update_ms = Vec::new();
    for rec in records.iter().take(100) {
        let mut edited = rec.clone();
        edited.answer_latency_ms += 1;
        let t = now();
        vault.put(&edited).await.unwrap();
        update_ms.push(now() - t);
    }
    let update_p95 = percentile(&mut update_ms, 0.95);
    let write_p50 = percentile(&mut vault_ms, 0.5);
    let write_p95 = percentile(&mut vault_ms, 0.95);
    let bare_p50 = percentile(&mut bare_ms, 0.5);
    let bare_p95 = percentile(&mut bare_ms, 0.95);

    // Unlock (header read + WebCrypto PBKDF2 + HKDF + unwrap) against deriveBits alone.
    let salt = vault.header().kdf().salt().to_vec();
    let store = vault.lock();
    let (mut unlock_ms, mut webcrypto_ms) = (Vec::new(), Vec::new());
    let mut store = Some(store);
    for _ in 0..UNLOCKS {
        let t = now();
        let (v, _) = Vault::unlock(store.take().unwrap(), &pass).await.unwrap();
        unlock_ms.push(now() - t);
        store = Some(v.lock());
        let t = now();
        webcrypto_pbkdf2_sha256(common::PASSPHRASE.as_bytes(), &salt, DEFAULT_ITERATIONS)
            .await
            .unwrap();
        webcrypto_ms.push(now() - t);
    }
    let unlock = percentile(&mut unlock_ms, 0.5);
    let webcrypto_kdf = percentile(&mut webcrypto_ms, 0.5);

    // The pure-Rust fallback, for the record (used only where WebCrypto is missing).
    let params = KdfParams::generate().unwrap();
    let t = now();
    derive_master_key_rust(&pass, &params).unwrap();
    let rust_kdf = now() - t;

    console_log!(
        "BENCH_JSON {{\"vault_write_p50_ms\": {write_p50:.3}, \"vault_write_p95_ms\": {write_p95:.3}, \
         \"bare_put_p50_ms\": {bare_p50:.3}, \"bare_put_p95_ms\": {bare_p95:.3}, \
         \"vault_write_vs_bare_put_ratio\": {:.3}, \"vault_write_vs_bare_put_p50_ratio\": {:.3}, \"unlock_ms\": {unlock:.1}, \
         \"webcrypto_derivebits_ms\": {webcrypto_kdf:.1}, \"unlock_vs_webcrypto_ratio\": {:.3}, \
         \"unlock_rust_fallback_wasm_ms\": {rust_kdf:.1}, \"vault_update_p95_ms\": {update_p95:.3}, \"bench_record_plaintext_bytes\": {plaintext_len}}}",
        write_p95 / bare_p95,
        write_p50 / bare_p50,
        unlock / webcrypto_kdf,
    );
    drop(store);
    IndexedDbStore::delete(&db_name).await.unwrap();
}

/// The knowledge graph in the browser: the native benchmark's workload (`examples/
/// bench_graph.rs`: 100,000 synthetic answers; build, alignment, overview, changes over 30
/// days), median of 5 runs, as the web app would run it.
#[wasm_bindgen_test]
fn graph_benchmark() {
    use vault_core::graph::{synthetic, KnowledgeGraph};
    const DAY_MS: u64 = 86_400_000;
    let lib = vault_core::cards::builtin();
    let records = synthetic::answers(lib, 100_000, 1_500_000_000_000, 42);
    let at = records.last().map_or(0, |r| r.captured_at_ms) + DAY_MS;
    let mut runs = Vec::new();
    let (mut nodes, mut edges) = (0, 0);
    for _ in 0..6 {
        let t = now();
        let kg = KnowledgeGraph::build(lib, &records, at);
        let alignment = kg.alignment(lib, &[]);
        let overview = kg.overview(10);
        let changes = kg.changes_since_time(lib, &records, at - 30 * DAY_MS);
        runs.push(now() - t);
        std::hint::black_box((alignment, overview, changes));
        (nodes, edges) = (kg.node_count(), kg.edge_count());
    }
    runs.remove(0); // warm-up
    let median = percentile(&mut runs, 0.5);
    console_log!(
        "BENCH_JSON {{\"graph_build_wasm_ms\": {median:.3}, \"graph_wasm_nodes\": {nodes}, \"graph_wasm_edges\": {edges}}}"
    );
}
