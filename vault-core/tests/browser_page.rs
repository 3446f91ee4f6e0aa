//! Browser tests in a page (headless Chromium via `cargo xtask test`).
#![cfg(target_arch = "wasm32")]

mod browser;
mod common;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

browser_tests!(
    indexeddb_vault_round_trip,
    webcrypto_and_rust_kdf_agree,
    passphrases_are_keyed_in_nfc,
    webcrypto_interop,
    indexeddb_sync_merge,
    sync_through_a_real_server,
);

/// Proof of where these run: a page has a `document`.
#[wasm_bindgen_test::wasm_bindgen_test]
fn runs_in_a_page() {
    assert!(js_sys::Reflect::has(&js_sys::global(), &"document".into()).unwrap_or(false));
}
