//! Browser tests in a service worker, where there is no `window` (headless Chromium via `cargo xtask test`).
#![cfg(target_arch = "wasm32")]

mod browser;
mod common;

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_service_worker);

#[wasm_bindgen_test]
async fn indexeddb_vault_round_trip() {
    browser::indexeddb_vault_round_trip().await;
}

#[wasm_bindgen_test]
async fn webcrypto_and_rust_kdf_agree() {
    browser::webcrypto_and_rust_kdf_agree().await;
}

#[wasm_bindgen_test]
async fn webcrypto_interop() {
    browser::webcrypto_interop().await;
}

#[wasm_bindgen_test]
async fn indexeddb_sync_merge() {
    browser::indexeddb_sync_merge().await;
}
