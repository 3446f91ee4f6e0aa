//! Painting a [`Scene`] on the canvas: the backing store matched to the canvas's size, one
//! drawing (edges, nodes, rings, labels), and the animation loop that runs the layout within
//! a time budget and redraws when anything moved.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use crate::drawing::colour;
use crate::scene::{layout_budget, Scene};
use crate::web::browser;

pub(super) fn context2d(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

/// Matches the canvas's backing store to its CSS size and the device pixel ratio.
pub(super) fn resize(scene: &mut Scene, canvas: &HtmlCanvasElement) {
    let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
    let (w, h) = (
        f64::from(canvas.client_width()),
        f64::from(canvas.client_height()),
    );
    if scene.resize(w, h, dpr) {
        canvas.set_width((w * dpr) as u32);
        canvas.set_height((h * dpr) as u32);
    }
}

/// Draws the scene; `fast` leaves out the faint co-occurrence edges (declared edges and the
/// selection's stay).
pub(super) fn draw(s: &Scene, canvas: &HtmlCanvasElement, dark: bool, fast: bool) {
    let Some(g) = context2d(canvas) else { return };
    let (w, h, dpr) = s.size;
    let _ = g.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    g.clear_rect(0.0, 0.0, w, h);
    let (x, y) = (&s.layout.x, &s.layout.y);
    let at = |i: usize| s.view.to_screen(x[i], y[i]);
    let focus = s.selected.is_some();
    // Edges: co-occurrence faint, declared a little stronger; edges of the selection bold.
    for declared in [false, true] {
        if fast && !declared {
            continue;
        }
        g.begin_path();
        for &(a, b, _, d) in &s.drawing.edges {
            if d != declared || !(s.visible[a] && s.visible[b]) {
                continue;
            }
            let ((ax, ay), (bx, by)) = (at(a), at(b));
            g.move_to(ax, ay);
            g.line_to(bx, by);
        }
        let alpha = match (declared, focus) {
            (false, false) => 0.10,
            (true, false) => 0.22,
            (false, true) => 0.05,
            (true, true) => 0.12,
        };
        g.set_stroke_style_str(&if dark {
            format!("rgba(220,225,235,{alpha})")
        } else {
            format!("rgba(40,50,70,{alpha})")
        });
        g.set_line_width(if declared { 1.0 } else { 0.7 });
        g.stroke();
    }
    if let Some(sel) = s.selected {
        g.begin_path();
        for &(a, b, _, _) in &s.drawing.edges {
            if (a == sel || b == sel) && s.visible[a] && s.visible[b] {
                let ((ax, ay), (bx, by)) = (at(a), at(b));
                g.move_to(ax, ay);
                g.line_to(bx, by);
            }
        }
        g.set_stroke_style_str(if dark {
            "rgba(255,255,255,0.7)"
        } else {
            "rgba(20,30,50,0.6)"
        });
        g.set_line_width(1.5);
        g.stroke();
    }
    // Nodes, one path per dimension colour.
    let zoom_r = s.view.node_zoom();
    for d in 0..s.drawing.dimensions.len().max(1) {
        g.begin_path();
        for (i, n) in s.drawing.nodes.iter().enumerate() {
            if n.dimension != d || !s.visible[i] {
                continue;
            }
            let r = f64::from(n.radius) * zoom_r;
            let (px, py) = at(i);
            g.move_to(px + r, py);
            let _ = g.arc(px, py, r, 0.0, std::f64::consts::TAU);
        }
        g.set_fill_style_str(colour(d));
        g.set_global_alpha(if focus { 0.55 } else { 1.0 });
        g.fill();
    }
    g.set_global_alpha(1.0);
    // Rings: contested (dashed red), search hits, the selection and its neighbours.
    for (i, n) in s.drawing.nodes.iter().enumerate() {
        if !s.visible[i] {
            continue;
        }
        let ring = if Some(i) == s.selected {
            Some((if dark { "#ffffff" } else { "#111111" }, 3.0))
        } else if s.hits[i] {
            Some(("#ff3b7f", 2.5))
        } else if s.near_selected[i] {
            Some((colour(n.dimension), 2.0))
        } else if n.contested {
            Some(("#e03131", 1.5))
        } else {
            None
        };
        if let Some((c, wdt)) = ring {
            let r = f64::from(n.radius) * zoom_r + 2.0;
            let (px, py) = at(i);
            g.begin_path();
            let _ = g.arc(px, py, r, 0.0, std::f64::consts::TAU);
            g.set_stroke_style_str(c);
            g.set_line_width(wdt);
            g.stroke();
            if s.near_selected[i] || Some(i) == s.selected {
                g.set_fill_style_str(colour(n.dimension));
                g.fill();
            }
        }
    }
    // Labels: hubs, the strongest values, the selection, its neighbours, hits, the hovered
    // node, and big nodes once zoomed in.
    g.set_font("12px system-ui, sans-serif");
    g.set_text_baseline("middle");
    for (i, n) in s.drawing.nodes.iter().enumerate() {
        if !s.visible[i] {
            continue;
        }
        let show = n.hub
            || n.labelled
            || Some(i) == s.selected
            || Some(i) == s.hover
            || s.near_selected[i]
            || s.hits[i]
            || f64::from(n.radius) * s.view.scale > 9.0;
        if !show {
            continue;
        }
        let r = f64::from(n.radius) * zoom_r;
        let (px, py) = at(i);
        let (lx, ly) = (px + r + 4.0, py);
        if lx > w || ly < 0.0 || ly > h || lx < -200.0 {
            continue;
        }
        g.set_font(if n.hub {
            "600 13px system-ui, sans-serif"
        } else {
            "12px system-ui, sans-serif"
        });
        g.set_line_width(3.0);
        g.set_stroke_style_str(if dark {
            "rgba(18,20,26,0.85)"
        } else {
            "rgba(255,255,255,0.9)"
        });
        let _ = g.stroke_text(&n.label, lx, ly);
        g.set_fill_style_str(if dark { "#e8eaf0" } else { "#1c2230" });
        let _ = g.fill_text(&n.label, lx, ly);
    }
    let shown = s.visible.iter().filter(|v| **v).count();
    let _ = canvas.set_attribute("data-nodes", &shown.to_string());
    let _ = canvas.set_attribute("data-edges", &s.drawing.edges.len().to_string());
    let _ = canvas.set_attribute(
        "data-settled",
        if s.layout.settled() { "true" } else { "false" },
    );
}

/// The animation loop, one call per animation frame until `alive` is false: layout ticks
/// within the budget, then a redraw when anything moved.
pub(super) fn frame(
    scene: StoredValue<Scene, LocalStorage>,
    canvas: HtmlCanvasElement,
    alive: Arc<AtomicBool>,
    dark: bool,
) {
    if !alive.load(Ordering::Relaxed) {
        return;
    }
    let t0 = browser::perf_now();
    scene.update_value(|s| {
        if let Some(starts) = &mut s.frames.starts {
            starts.push(t0);
        }
        resize(s, &canvas);
        if !s.layout.settled() {
            s.layout
                .run(layout_budget(s.frames.last_draw_ms), browser::perf_now);
            if s.auto_fit {
                s.fit();
            }
            s.dirty = true;
        }
        let now = browser::perf_now();
        let fast = s.draw_fast(now);
        // Once still, the picture is drawn again with every edge.
        if s.needs_drawing(fast) {
            draw(s, &canvas, dark, fast);
            s.frames.drawn_fast = fast;
            s.dirty = false;
            s.frames.last_draw_ms = browser::perf_now() - now;
        }
        s.frames.record(browser::perf_now() - t0);
        if s.frames.count % 30 == 0 {
            let _ = canvas.set_attribute("data-frame-max-ms", &format!("{:.1}", s.frames.max_ms));
        }
    });
    request_animation_frame(move || frame(scene, canvas, alive, dark));
}
