//! Browser tests in a service worker, where there is no `window` (headless Chromium via `cargo xtask test`).
#![cfg(target_arch = "wasm32")]

mod browser;
mod common;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_service_worker);

browser_tests!(
    indexeddb_vault_round_trip,
    webcrypto_and_rust_kdf_agree,
    passphrases_are_keyed_in_nfc,
    webcrypto_interop,
    indexeddb_sync_merge,
    sync_through_a_real_server,
);

/// Proof of where these run: a service worker has `registration` and no `document`.
#[wasm_bindgen_test::wasm_bindgen_test]
fn runs_in_a_service_worker() {
    let global = js_sys::global();
    let has = |name: &str| js_sys::Reflect::has(&global, &name.into()).unwrap_or(false);
    assert!(has("registration") && !has("document") && !has("window"));
}
