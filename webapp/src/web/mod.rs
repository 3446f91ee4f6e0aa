//! Everything that needs a browser: the vault session over IndexedDB and fetch, and the
//! Leptos views. `static/boot.js` loads the module and calls [`start`].

mod app;
mod browser;
mod charts;
mod data_view;
mod export_view;
mod graph_view;
mod overview;
mod session;
mod settings_view;
mod timeline;
mod unlock;

use wasm_bindgen::prelude::*;

/// Entry point, called once by `boot.js`.
#[wasm_bindgen]
pub fn start() {
    browser::register_offline_cache();
    leptos::mount::mount_to_body(app::App);
}
