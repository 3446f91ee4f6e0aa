//! Browser tests in a service worker, where there is no `window` (headless Chromium via `cargo xtask test`).
#![cfg(target_arch = "wasm32")]

mod browser;
mod common;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_service_worker);

browser_tests!(
    indexeddb_vault_round_trip,
    webcrypto_and_rust_kdf_agree,
    webcrypto_interop,
    indexeddb_sync_merge,
);
