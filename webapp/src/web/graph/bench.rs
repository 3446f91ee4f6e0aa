//! Benchmark hooks for the graph view (`tests/webapp/e2e.mjs --bench`, through the split
//! points in `lazy`): drawing cost and the real animation loop on a profile-shaped sample.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;

use super::paint::{context2d, draw, frame, resize};
use crate::drawing::Drawing;
use crate::scene::{Scene, FAST_DRAW_EDGES};
use crate::web::browser;

/// A 1280×800 canvas attached to the page for the benchmark hooks (they remove it).
fn bench_canvas() -> Option<HtmlCanvasElement> {
    let document = web_sys::window()?.document()?;
    let canvas: HtmlCanvasElement = document.create_element("canvas").ok()?.dyn_into().ok()?;
    let _ = canvas.set_attribute(
        "style",
        "width:1280px;height:800px;position:fixed;left:0;top:0",
    );
    document.body()?.append_child(&canvas).ok()?;
    Some(canvas)
}

/// Mean milliseconds to draw one frame of a profile-shaped graph of `n` nodes (every node
/// visible, fitted) on a 1280×800 canvas at this device's pixel ratio, after the layout has
/// settled for 300 ticks, rasterizing included (a pixel is read back). `fast`: as frames are
/// drawn while the picture moves ([`FAST_DRAW_EDGES`]), else the still picture.
pub fn draw_ms(n: usize, frames: u32, fast: bool) -> f64 {
    let Some(canvas) = bench_canvas() else {
        return f64::NAN;
    };
    let mut scene = Scene::from_drawing(Drawing::sample(n), None);
    for _ in 0..300 {
        scene.layout.tick();
    }
    resize(&mut scene, &canvas);
    scene.fit();
    let fast = fast && scene.drawing.edges.len() > FAST_DRAW_EDGES;
    draw(&scene, &canvas, false, fast);
    let t = browser::perf_now();
    for i in 0..frames {
        // A pan each frame, as a drag would: every frame draws the whole picture anew.
        scene.pan(
            if i % 2 == 0 { 3.0 } else { -3.0 },
            0.0,
            browser::perf_now(),
        );
        draw(&scene, &canvas, false, fast);
        // Reading a pixel back makes the canvas rasterize now, so the figure includes it.
        if let Some(g) = context2d(&canvas) {
            let _ = g.get_image_data(0.0, 0.0, 1.0, 1.0);
        }
    }
    let ms = (browser::perf_now() - t) / f64::from(frames.max(1));
    canvas.remove();
    ms
}

/// Runs the real animation loop for `ms` on a fresh (unsettled) layout of a profile-shaped
/// graph of `n` nodes on a 1280×800 canvas, and returns the intervals between frame starts,
/// sorted (60 frames per second is 16.7 ms; a longer one is a dropped frame).
pub async fn animate(n: usize, ms: i32) -> Vec<f64> {
    let Some(canvas) = bench_canvas() else {
        return Vec::new();
    };
    let mut s = Scene::from_drawing(Drawing::sample(n), None);
    s.frames.starts = Some(Vec::new());
    let scene = StoredValue::new_local(s);
    let alive = Arc::new(AtomicBool::new(true));
    frame(scene, canvas.clone(), alive.clone(), false);
    browser::sleep_ms(u32::try_from(ms).unwrap_or(0)).await;
    alive.store(false, Ordering::Relaxed);
    canvas.remove();
    let starts = scene
        .try_update_value(|s| s.frames.starts.take())
        .flatten()
        .unwrap_or_default();
    scene.dispose();
    let mut gaps: Vec<f64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    vault_core::sort::sort_by(&mut gaps, f64::total_cmp);
    gaps
}
