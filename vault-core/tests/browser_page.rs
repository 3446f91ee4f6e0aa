//! Browser tests in a page (headless Chromium via `cargo xtask test`).
#![cfg(target_arch = "wasm32")]

mod browser;
mod common;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

browser_tests!(
    indexeddb_vault_round_trip,
    webcrypto_and_rust_kdf_agree,
    webcrypto_interop,
    indexeddb_sync_merge,
);
