//! Everything that needs a browser: the vault session over IndexedDB and fetch, and the
//! Leptos views. `static/boot.js` loads the module and calls [`start`].

mod app;
mod browser;
mod charts;
mod ctx;
mod data_view;
mod export_view;
mod graph;
mod lazy;
mod overview;
mod proposals_view;
mod session;
mod settings_view;
mod shell;
mod timeline;
mod unlock;

use wasm_bindgen::prelude::*;

/// Entry point, called once by `boot.js`.
#[wasm_bindgen]
pub fn start() {
    browser::register_offline_cache();
    leptos::mount::mount_to_body(app::App);
}

/// Benchmark hook (`tests/webapp/e2e.mjs --bench`): mean milliseconds per layout tick, in
/// this browser, for a profile-shaped graph of `n` nodes (after 20 warm-up ticks).
#[wasm_bindgen]
pub async fn layout_tick_ms(n: usize) -> Result<f64, JsError> {
    lazy::layout_tick_ms(n).await.map_err(not_loaded)
}

/// Benchmark hook (`tests/webapp/e2e.mjs --bench`): mean milliseconds to draw one frame of
/// the graph view with `n` nodes on a 1280×800 canvas, as while it moves (`fast`) or still
/// (see `graph::bench::draw_ms`).
#[wasm_bindgen]
pub async fn graph_draw_ms(n: usize, fast: bool) -> Result<f64, JsError> {
    lazy::graph_draw_ms(n, fast).await.map_err(not_loaded)
}

/// Benchmark hook: the slowest kind of animation frame, given what a moving drawing cost
/// (`graph_draw_ms(n, true)`): that drawing plus the layout budget it leaves.
#[wasm_bindgen]
pub fn graph_frame_ms(draw_ms: f64) -> f64 {
    crate::scene::frame_ms(draw_ms)
}

/// Benchmark hook: the real animation loop on a fresh layout of `n` nodes for `ms`
/// milliseconds; resolves to the sorted intervals between frames (see `graph::bench::animate`).
#[wasm_bindgen]
pub async fn graph_animation_gaps(n: usize, ms: i32) -> Result<Vec<f64>, JsError> {
    Ok(lazy::graph_animation(n, ms)
        .await
        .map_err(not_loaded)?
        .await)
}

fn not_loaded(_: lazy::LoadFailed) -> JsError {
    JsError::new("the views' module could not be loaded")
}
