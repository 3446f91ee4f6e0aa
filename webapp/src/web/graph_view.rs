//! The graph: a force-directed drawing on a canvas (layout in Rust, a time budget per
//! animation frame), node size by strength and colour by dimension; filters by dimension,
//! search, a local graph around the selected node with a depth control, the selected node's
//! evidence; zoom (wheel, buttons, +/-) and pan (drag, arrow keys).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use super::app::ctx;
use super::browser;
use crate::drawing::{colour, Drawing};
use crate::layout::Layout;
use crate::text::{agent_name, answer_text, date, end_of_date, pct, question_text};
use vault_core::graph::KnowledgeGraph;

/// Milliseconds of layout work per animation frame, at most.
const FRAME_BUDGET_MS: f64 = 7.0;
/// What a frame may cost in all (60 frames per second, with room for the browser).
const FRAME_TARGET_MS: f64 = 15.0;
/// Above this many edges, frames drawn while the picture moves (layout, pan, zoom, drag)
/// leave out the faint co-occurrence edges; the still picture has them all again.
const FAST_DRAW_EDGES: usize = 2_500;
/// How long after the last pan, zoom or drag the picture counts as still.
const STILL_AFTER_MS: f64 = 150.0;

/// Layout time for the next frame: what the last drawing leaves of [`FRAME_TARGET_MS`],
/// within 2 ms and [`FRAME_BUDGET_MS`], so a large graph keeps its frame rate and settles
/// more slowly instead.
fn layout_budget(last_draw_ms: f64) -> f64 {
    (FRAME_TARGET_MS - last_draw_ms).clamp(2.0, FRAME_BUDGET_MS)
}

enum Drag {
    Pan {
        x0: f64,
        y0: f64,
        tx0: f64,
        ty0: f64,
    },
    Node {
        index: usize,
        x0: f64,
        y0: f64,
        moved: bool,
    },
}

struct Scene {
    drawing: Drawing,
    layout: Layout,
    visible: Vec<bool>,
    hits: Vec<bool>,
    selected: Option<usize>,
    near_selected: Vec<bool>,
    hover: Option<usize>,
    scale: f64,
    tx: f64,
    ty: f64,
    auto_fit: bool,
    drag: Option<Drag>,
    dirty: bool,
    size: (f64, f64, f64),
    frames: u32,
    frame_ms_max: f64,
    /// `perf_now` of the last pan, zoom or drag.
    moved_at: f64,
    last_draw_ms: f64,
    /// The last drawing left edges out (see [`FAST_DRAW_EDGES`]).
    drawn_fast: bool,
    /// When each frame started, kept only by the animation benchmark.
    frame_starts: Option<Vec<f64>>,
}

impl Scene {
    fn new(graph: &KnowledgeGraph, all: bool, old: Option<&Scene>) -> Scene {
        Scene::from_drawing(Drawing::from_graph(graph, all), old)
    }

    fn from_drawing(drawing: Drawing, old: Option<&Scene>) -> Scene {
        let mut layout = Layout::new(drawing.nodes.len(), &drawing.links());
        if let Some(old) = old {
            // Keep known nodes where they were, so an edit does not scramble the picture.
            let prev: HashMap<&str, usize> = old
                .drawing
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.id.as_str(), i))
                .collect();
            let mut kept = 0;
            for (i, n) in drawing.nodes.iter().enumerate() {
                if let Some(&j) = prev.get(n.id.as_str()) {
                    layout.x[i] = old.layout.x[j];
                    layout.y[i] = old.layout.y[j];
                    kept += 1;
                }
            }
            if kept * 2 > drawing.nodes.len() {
                layout.alpha = 0.3;
            }
        }
        let n = drawing.nodes.len();
        Scene {
            drawing,
            layout,
            visible: vec![true; n],
            hits: vec![false; n],
            selected: None,
            near_selected: vec![false; n],
            hover: None,
            scale: 1.0,
            tx: 0.0,
            ty: 0.0,
            auto_fit: old.is_none_or(|o| o.auto_fit),
            drag: None,
            dirty: true,
            size: (0.0, 0.0, 1.0),
            frames: 0,
            frame_ms_max: 0.0,
            moved_at: 0.0,
            last_draw_ms: 0.0,
            drawn_fast: false,
            frame_starts: None,
        }
    }

    fn to_layout(&self, sx: f64, sy: f64) -> (f32, f32) {
        (
            ((sx - self.tx) / self.scale) as f32,
            ((sy - self.ty) / self.scale) as f32,
        )
    }

    fn fit(&mut self) {
        let (w, h, _) = self.size;
        let Some((x0, y0, x1, y1)) = self.layout.bounds(&self.visible) else {
            return;
        };
        let (bw, bh) = (f64::from(x1 - x0).max(1.0), f64::from(y1 - y0).max(1.0));
        // Room on the right for the labels drawn beside the nodes.
        let label_room = (w * 0.22).min(150.0);
        self.scale = ((w - 50.0 - label_room) / bw)
            .min((h - 50.0) / bh)
            .clamp(0.05, 3.0);
        self.tx = (w - label_room) / 2.0 - f64::from(x0 + x1) / 2.0 * self.scale;
        self.ty = h / 2.0 - f64::from(y0 + y1) / 2.0 * self.scale;
        self.dirty = true;
    }

    fn zoom(&mut self, factor: f64, cx: f64, cy: f64) {
        let s = (self.scale * factor).clamp(0.03, 12.0);
        let f = s / self.scale;
        self.tx = cx - (cx - self.tx) * f;
        self.ty = cy - (cy - self.ty) * f;
        self.scale = s;
        self.auto_fit = false;
        self.touch();
    }

    /// The user moved the picture: redraw, fast while it keeps moving.
    fn touch(&mut self) {
        self.dirty = true;
        self.moved_at = browser::perf_now();
    }

    /// Whether frames now may leave the faint edges out.
    fn draw_fast(&self, now: f64) -> bool {
        self.drawing.edges.len() > FAST_DRAW_EDGES
            && (!self.layout.settled() || now - self.moved_at < STILL_AFTER_MS)
    }

    fn pan(&mut self, dx: f64, dy: f64) {
        self.tx += dx;
        self.ty += dy;
        self.auto_fit = false;
        self.touch();
    }

    fn hit(&self, sx: f64, sy: f64) -> Option<usize> {
        let (lx, ly) = self.to_layout(sx, sy);
        self.layout
            .nearest(lx, ly, (14.0 / self.scale) as f32, &self.visible)
    }
}

fn context2d(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

/// Matches the canvas's backing store to its CSS size and the device pixel ratio.
fn resize(scene: &mut Scene, canvas: &HtmlCanvasElement) {
    let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
    let (w, h) = (
        f64::from(canvas.client_width()),
        f64::from(canvas.client_height()),
    );
    if (w, h, dpr) != scene.size && w > 0.0 && h > 0.0 {
        canvas.set_width((w * dpr) as u32);
        canvas.set_height((h * dpr) as u32);
        scene.size = (w, h, dpr);
        if scene.auto_fit {
            scene.fit();
        }
        scene.dirty = true;
    }
}

/// Draws the scene; `fast` leaves out the faint co-occurrence edges (declared edges and the
/// selection's stay).
fn draw(s: &Scene, canvas: &HtmlCanvasElement, dark: bool, fast: bool) {
    let Some(g) = context2d(canvas) else { return };
    let (w, h, dpr) = s.size;
    let _ = g.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    g.clear_rect(0.0, 0.0, w, h);
    let (x, y) = (&s.layout.x, &s.layout.y);
    let px = |i: usize| f64::from(x[i]) * s.scale + s.tx;
    let py = |i: usize| f64::from(y[i]) * s.scale + s.ty;
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
            g.move_to(px(a), py(a));
            g.line_to(px(b), py(b));
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
                g.move_to(px(a), py(a));
                g.line_to(px(b), py(b));
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
    let zoom_r = s.scale.sqrt().clamp(0.5, 2.5);
    for d in 0..s.drawing.dimensions.len().max(1) {
        g.begin_path();
        for (i, n) in s.drawing.nodes.iter().enumerate() {
            if n.dimension != d || !s.visible[i] {
                continue;
            }
            let r = f64::from(n.radius) * zoom_r;
            g.move_to(px(i) + r, py(i));
            let _ = g.arc(px(i), py(i), r, 0.0, std::f64::consts::TAU);
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
            g.begin_path();
            let _ = g.arc(px(i), py(i), r, 0.0, std::f64::consts::TAU);
            g.set_stroke_style_str(c);
            g.set_line_width(wdt);
            g.stroke();
            if s.near_selected[i] || Some(i) == s.selected {
                g.set_fill_style_str(colour(n.dimension));
                g.fill();
            }
        }
    }
    // Labels: hubs, the selection, its neighbours, hits, the hovered node, and big nodes
    // once zoomed in.
    g.set_font("12px system-ui, sans-serif");
    g.set_text_baseline("middle");
    for (i, n) in s.drawing.nodes.iter().enumerate() {
        if !s.visible[i] {
            continue;
        }
        let show = n.hub
            || Some(i) == s.selected
            || Some(i) == s.hover
            || s.near_selected[i]
            || s.hits[i]
            || f64::from(n.radius) * s.scale > 9.0;
        if !show {
            continue;
        }
        let r = f64::from(n.radius) * zoom_r;
        let (lx, ly) = (px(i) + r + 4.0, py(i));
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

/// Benchmark hook: mean milliseconds to draw one frame of a profile-shaped graph of `n` nodes
/// (every node visible, fitted) on a 1280×800 canvas at this device's pixel ratio, after the
/// layout has settled for 300 ticks, rasterizing included (a pixel is read back). `fast`:
/// as frames are drawn while the picture moves ([`FAST_DRAW_EDGES`]), else the still picture.
pub(super) fn draw_ms(n: usize, frames: u32, fast: bool) -> f64 {
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
        scene.pan(if i % 2 == 0 { 3.0 } else { -3.0 }, 0.0);
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

/// Benchmark hook: runs the real animation loop for `ms` on a fresh (unsettled) layout of a
/// profile-shaped graph of `n` nodes on a 1280×800 canvas, and returns the intervals between
/// frame starts, sorted (60 frames per second is 16.7 ms; a longer one is a dropped frame).
pub(super) async fn animate(n: usize, ms: i32) -> Vec<f64> {
    let Some(canvas) = bench_canvas() else {
        return Vec::new();
    };
    let mut s = Scene::from_drawing(Drawing::sample(n), None);
    s.frame_starts = Some(Vec::new());
    let scene = StoredValue::new_local(s);
    let alive = Arc::new(AtomicBool::new(true));
    frame(scene, canvas.clone(), alive.clone(), false);
    browser::sleep_ms(ms).await;
    alive.store(false, Ordering::Relaxed);
    canvas.remove();
    let starts = scene
        .try_update_value(|s| s.frame_starts.take())
        .flatten()
        .unwrap_or_default();
    scene.dispose();
    let mut gaps: Vec<f64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    vault_core::sort::sort_by(&mut gaps, f64::total_cmp);
    gaps
}

/// The cost of the slowest kind of frame, a frame while the layout moves: a moving drawing
/// that took `draw_ms` (from [`draw_ms`] with `fast`), plus the layout budget it leaves.
pub(super) fn frame_ms(draw_ms: f64) -> f64 {
    draw_ms + layout_budget(draw_ms)
}

/// The animation loop: layout ticks within the budget, then a redraw when anything moved.
fn frame(
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
        if let Some(starts) = &mut s.frame_starts {
            starts.push(t0);
        }
        resize(s, &canvas);
        if !s.layout.settled() {
            s.layout
                .run(layout_budget(s.last_draw_ms), browser::perf_now);
            if s.auto_fit {
                s.fit();
            }
            s.dirty = true;
        }
        let now = browser::perf_now();
        let fast = s.draw_fast(now);
        // Once still, the picture is drawn again with every edge.
        if s.dirty || (s.drawn_fast && !fast) {
            draw(s, &canvas, dark, fast);
            s.drawn_fast = fast;
            s.dirty = false;
            s.last_draw_ms = browser::perf_now() - now;
        }
        s.frames += 1;
        let ms = browser::perf_now() - t0;
        if s.frames > 2 {
            s.frame_ms_max = s.frame_ms_max.max(ms);
        }
        if s.frames % 30 == 0 {
            let _ = canvas.set_attribute("data-frame-max-ms", &format!("{:.1}", s.frame_ms_max));
        }
    });
    request_animation_frame(move || frame(scene, canvas, alive, dark));
}

fn pointer(e: &web_sys::MouseEvent, canvas: &HtmlCanvasElement) -> (f64, f64) {
    let r = canvas.get_bounding_client_rect();
    (
        f64::from(e.client_x()) - r.left(),
        f64::from(e.client_y()) - r.top(),
    )
}

#[component]
pub fn GraphView() -> impl IntoView {
    let ctx = ctx();
    browser::mark("view", "graph");
    let Some(first) = ctx.profile.get_untracked() else {
        return view! { <p>"Locked."</p> }.into_any();
    };
    let show_all = RwSignal::new(false);
    let scene = StoredValue::new_local(Scene::new(&first.graph, false, None));
    // Profile history: the graph rebuilt as it was at the end of a past day.
    let as_of = RwSignal::new(None::<u64>);
    let past = RwSignal::new(None::<Arc<KnowledgeGraph>>);
    let first_day = first.records.first().map(|r| date(r.captured_at_ms));
    let today = date(browser::now_ms());
    let dims: Vec<(String, String)> = scene.with_value(|s| s.drawing.dimensions.clone());
    let dim_on = RwSignal::new(vec![true; dims.len()]);
    let selected = RwSignal::new(ctx.focus.get_untracked());
    ctx.focus.set(None);
    let query = RwSignal::new(String::new());
    let local = RwSignal::new(false);
    let depth = RwSignal::new(1u32);
    let version = RwSignal::new(0u32);
    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();
    let dark = browser::prefers_dark();

    // A new profile (edit, delete, sync), the "all nodes" switch or another date: a new scene.
    Effect::new(move |prev: Option<()>| {
        let p = ctx.profile.get();
        let all = show_all.get();
        let at = as_of.get();
        if prev.is_some() {
            if let Some(p) = p {
                let then = at.map(|t| {
                    Arc::new(KnowledgeGraph::build_as_of(
                        vault_core::cards::builtin(),
                        &p.records,
                        t,
                    ))
                });
                let graph = then.as_deref().unwrap_or(&p.graph);
                scene.update_value(|s| *s = Scene::new(graph, all, Some(s)));
                past.set(then);
                version.update(|v| *v += 1);
            }
        }
    });
    let as_of_note = move || {
        let t = as_of.get()?;
        let n = ctx.profile.with(|p| {
            p.as_ref().map_or(0, |p| {
                p.records.iter().filter(|r| r.captured_at_ms <= t).count()
            })
        });
        Some(format!(
            "Your profile as it was at the end of {}: {} by then.",
            date(t),
            crate::text::counted(n, "answer", "answers")
        ))
    };
    // Filters, local graph, selection and search: what is visible and highlighted.
    Effect::new(move |_| {
        version.track();
        let on = dim_on.get();
        let sel = selected.get();
        let (loc, d) = (local.get(), depth.get());
        let q = query.get();
        scene.update_value(|s| {
            s.selected = sel.as_deref().and_then(|id| s.drawing.position(id));
            s.near_selected = match s.selected {
                Some(i) => s.drawing.neighbourhood(i, 1),
                None => vec![false; s.drawing.nodes.len()],
            };
            if let Some(i) = s.selected {
                s.near_selected[i] = false;
            }
            let local_at = s.selected.filter(|_| loc).map(|i| (i, d));
            s.visible = s.drawing.visible(&on, local_at);
            s.hits = vec![false; s.drawing.nodes.len()];
            for i in s.drawing.search(&q, 200) {
                s.hits[i] = true;
            }
            if local_at.is_some() || s.auto_fit {
                s.auto_fit = true;
                s.fit();
            }
            s.dirty = true;
        });
    });
    let alive = Arc::new(AtomicBool::new(true));
    {
        let alive = alive.clone();
        on_cleanup(move || alive.store(false, Ordering::Relaxed));
    }
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) {
            return true;
        }
        let Some(canvas) = canvas_ref.get() else {
            return false;
        };
        let canvas: HtmlCanvasElement = canvas;
        frame(scene, canvas, alive.clone(), dark);
        true
    });

    let on_down = move |e: web_sys::PointerEvent| {
        let Some(canvas) = canvas_ref.get_untracked() else {
            return;
        };
        let _ = canvas.set_pointer_capture(e.pointer_id());
        let (x, y) = pointer(&e, &canvas);
        scene.update_value(|s| {
            s.drag = Some(match s.hit(x, y) {
                Some(index) => Drag::Node {
                    index,
                    x0: x,
                    y0: y,
                    moved: false,
                },
                None => Drag::Pan {
                    x0: x,
                    y0: y,
                    tx0: s.tx,
                    ty0: s.ty,
                },
            });
        });
    };
    let on_move = move |e: web_sys::PointerEvent| {
        let Some(canvas) = canvas_ref.get_untracked() else {
            return;
        };
        let (x, y) = pointer(&e, &canvas);
        scene.update_value(|s| match s.drag {
            Some(Drag::Pan { x0, y0, tx0, ty0 }) => {
                s.tx = tx0 + x - x0;
                s.ty = ty0 + y - y0;
                s.auto_fit = false;
                s.touch();
            }
            Some(Drag::Node {
                index,
                x0,
                y0,
                ref mut moved,
            }) => {
                if (x - x0).abs() + (y - y0).abs() > 4.0 {
                    *moved = true;
                }
                if *moved {
                    let (lx, ly) = s.to_layout(x, y);
                    s.layout.x[index] = lx;
                    s.layout.y[index] = ly;
                    s.layout.pinned = Some(index);
                    s.layout.reheat(0.15);
                    s.auto_fit = false;
                    s.touch();
                }
            }
            None => {
                let h = s.hit(x, y);
                if h != s.hover {
                    s.hover = h;
                    s.dirty = true;
                    let _ = web_sys::HtmlElement::style(&canvas)
                        .set_property("cursor", if h.is_some() { "pointer" } else { "grab" });
                }
            }
        });
    };
    let on_up = move |e: web_sys::PointerEvent| {
        let Some(canvas) = canvas_ref.get_untracked() else {
            return;
        };
        let (x, y) = pointer(&e, &canvas);
        let mut pick: Option<Option<String>> = None;
        scene.update_value(|s| {
            match s.drag.take() {
                Some(Drag::Node {
                    index,
                    moved: false,
                    ..
                }) => {
                    pick = Some(Some(s.drawing.nodes[index].id.clone()));
                }
                Some(Drag::Pan { x0, y0, .. }) if (x - x0).abs() + (y - y0).abs() < 4.0 => {
                    pick = Some(None);
                }
                _ => {}
            }
            s.layout.pinned = None;
        });
        if let Some(p) = pick {
            selected.set(p);
        }
    };
    let on_wheel = move |e: web_sys::WheelEvent| {
        e.prevent_default();
        let Some(canvas) = canvas_ref.get_untracked() else {
            return;
        };
        let (x, y) = pointer(&e, &canvas);
        let f = (-e.delta_y() * 0.0015).exp();
        scene.update_value(|s| s.zoom(f, x, y));
    };
    let zoom_by = move |f: f64| {
        scene.update_value(|s| {
            let (w, h, _) = s.size;
            s.zoom(f, w / 2.0, h / 2.0);
        })
    };
    let on_key = move |e: web_sys::KeyboardEvent| {
        let step = 60.0;
        let handled = match e.key().as_str() {
            "+" | "=" => {
                zoom_by(1.25);
                true
            }
            "-" | "_" => {
                zoom_by(0.8);
                true
            }
            "ArrowLeft" => {
                scene.update_value(|s| s.pan(step, 0.0));
                true
            }
            "ArrowRight" => {
                scene.update_value(|s| s.pan(-step, 0.0));
                true
            }
            "ArrowUp" => {
                scene.update_value(|s| s.pan(0.0, step));
                true
            }
            "ArrowDown" => {
                scene.update_value(|s| s.pan(0.0, -step));
                true
            }
            "0" => {
                scene.update_value(|s| {
                    s.auto_fit = true;
                    s.fit();
                });
                true
            }
            "Escape" => {
                selected.set(None);
                true
            }
            _ => false,
        };
        if handled {
            e.prevent_default();
        }
    };

    let results = move || {
        let q = query.get();
        version.track();
        scene.with_value(|s| {
            s.drawing
                .search(&q, 12)
                .into_iter()
                .map(|i| {
                    (
                        s.drawing.nodes[i].id.clone(),
                        s.drawing.nodes[i].label.clone(),
                        s.drawing.nodes[i].dimension,
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let counts = move || {
        version.track();
        dim_on.track();
        local.track();
        selected.track();
        depth.track();
        scene.with_value(|s| {
            (
                s.visible.iter().filter(|v| **v).count(),
                s.drawing.nodes.len(),
            )
        })
    };

    view! {
        <section id="graph-view" class="view graph-layout" aria-labelledby="graph-title">
            <div class="graph-main">
                <div class="graph-toolbar">
                    <h1 id="graph-title">"Knowledge graph"</h1>
                    <span class="muted small" id="graph-count">{move || { let (v, n) = counts(); format!("{v} of {n} nodes") }}</span>
                    <span class="spacer"></span>
                    <button class="ghost" aria-label="Zoom in" title="Zoom in (+)" on:click=move |_| zoom_by(1.25)>"+"</button>
                    <button class="ghost" aria-label="Zoom out" title="Zoom out (−)" on:click=move |_| zoom_by(0.8)>"−"</button>
                    <button class="ghost" id="graph-fit" title="Fit (0)" on:click=move |_| scene.update_value(|s| { s.auto_fit = true; s.fit(); })>"Fit"</button>
                </div>
                <canvas
                    id="graph"
                    node_ref=canvas_ref
                    tabindex="0"
                    role="img"
                    aria-label="Force-directed drawing of your knowledge graph. Arrow keys pan, + and − zoom, 0 fits, Escape clears the selection; search to select a node."
                    on:pointerdown=on_down
                    on:pointermove=on_move
                    on:pointerup=on_up
                    on:wheel=on_wheel
                    on:keydown=on_key
                ></canvas>
                <ul class="legend dims" aria-label="Dimensions (filter)">
                    {dims.iter().enumerate().map(|(i, (id, label))| view! {
                        <li>
                            <label>
                                <input type="checkbox" data-dim=id.clone()
                                    prop:checked=move || dim_on.with(|v| v.get(i).copied().unwrap_or(true))
                                    on:change=move |e| { let on = event_target_checked(&e); dim_on.update(|v| if let Some(x) = v.get_mut(i) { *x = on; }); }/>
                                <span class="swatch" style=format!("background:{}", colour(i))></span>
                                {label.clone()}
                            </label>
                        </li>
                    }).collect_view()}
                </ul>
            </div>
            <aside class="graph-side panel">
                <label for="graph-search">"Search nodes"</label>
                <input id="graph-search" type="search" placeholder="e.g. tone, Rust, goal" autocomplete="off"
                    prop:value=move || query.get() on:input=move |e| query.set(event_target_value(&e))/>
                <ul class="results" id="graph-results">
                    {move || results().into_iter().map(|(id, label, d)| {
                        let pick = id.clone();
                        view! {
                            <li><button class="link" data-node=id on:click=move |_| selected.set(Some(pick.clone()))>
                                <span class="swatch" style=format!("background:{}", colour(d))></span>{label}
                            </button></li>
                        }
                    }).collect_view()}
                </ul>
                <fieldset class="local">
                    <legend>"Local graph"</legend>
                    <label><input type="checkbox" id="local-graph" prop:checked=move || local.get()
                        on:change=move |e| local.set(event_target_checked(&e))/>" Only around the selected node"</label>
                    <label for="depth">"Depth " {move || depth.get()}</label>
                    <input id="depth" type="range" min="1" max="4" prop:value=move || depth.get().to_string()
                        on:input=move |e| depth.set(event_target_value(&e).parse().unwrap_or(1))/>
                    <label><input type="checkbox" id="show-all" prop:checked=move || show_all.get()
                        on:change=move |e| show_all.set(event_target_checked(&e))/>" Include values never answered"</label>
                </fieldset>
                <fieldset class="history">
                    <legend>"History"</legend>
                    <label for="graph-as-of">"Profile as of"</label>
                    <div class="row">
                        <input id="graph-as-of" type="date" min=first_day max=today.clone()
                            prop:value=move || as_of.get().map(date).unwrap_or_default()
                            on:change=move |e| as_of.set(end_of_date(&event_target_value(&e)))/>
                        <button class="ghost small" id="graph-now" disabled=move || as_of.get().is_none()
                            on:click=move |_| as_of.set(None)>"Now"</button>
                    </div>
                    <p class="muted small" id="graph-as-of-note" aria-live="polite">{as_of_note}</p>
                </fieldset>
                {move || selected.get().map(|id| view! { <NodeDetails id=id past=past on_pick=move |n| selected.set(Some(n))/> })}
            </aside>
        </section>
    }
    .into_any()
}

#[component]
fn NodeDetails(
    id: String,
    /// The graph as of a past date, when the history control picked one.
    past: RwSignal<Option<Arc<KnowledgeGraph>>>,
    on_pick: impl Fn(String) + Copy + Send + 'static,
) -> impl IntoView {
    let ctx = ctx();
    let lib = vault_core::cards::builtin();
    move || {
        let p = ctx.profile.get()?;
        let then = past.get();
        let graph = then.as_deref().unwrap_or(&p.graph);
        let n = graph.node(&id)?;
        let m = &n.metrics;
        let dim = lib
            .dimensions
            .iter()
            .find(|d| d.id == n.dimension)
            .map_or(n.dimension.clone(), |d| d.label.clone());
        let neighbours: Vec<(String, String)> = graph
            .neighbours(&id)
            .into_iter()
            .take(8)
            .map(|(o, _)| (o.id.clone(), o.label.clone()))
            .collect();
        let evidence = graph.evidence(&id);
        let total = evidence.len();
        let items = evidence
            .into_iter()
            .take(40)
            .map(|e| {
                let (q, a) = p
                    .record(&e.record)
                    .map(|r| (question_text(lib, r), answer_text(lib, r)))
                    .unwrap_or_default();
                view! {
                    <li class={if e.polarity > 0 { "for" } else { "against" }} data-record=e.record.to_string()>
                        <span class="pol" aria-label={if e.polarity > 0 { "supports" } else { "contradicts" }}>{if e.polarity > 0 { "+" } else { "−" }}</span>
                        <span class="q">{q}</span>
                        <span class="a">{a}</span>
                        <span class="muted small">{format!("{} · {}", date(e.at_ms), agent_name(&e.agent))}</span>
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <div class="details" id="node-details" data-node=id.clone()>
                <h2>{n.label.clone()}</h2>
                <p class="muted small">{format!("{} · {}{}", n.kind.as_str(), dim, n.agent.as_ref().map(|a| format!(" · for {}", agent_name(a))).unwrap_or_default())}</p>
                <dl class="figures">
                    <dt>"Strength"</dt><dd>{pct(m.strength)}</dd>
                    <dt>"Consistency"</dt><dd>{pct(m.consistency)}</dd>
                    <dt>"Recency"</dt><dd>{pct(m.recency)}</dd>
                    <dt>"For / against"</dt><dd>{format!("{} / {}", m.supports, m.contradicts)}</dd>
                    <dt>"PageRank"</dt><dd>{format!("{:.4}", m.pagerank)}</dd>
                </dl>
                {m.contested.then(|| view! { <p class="warn">"Your recent answers disagree here; a card will ask again."</p> })}
                <h3>"Linked"</h3>
                <ul class="chips">
                    {neighbours.into_iter().map(|(nid, label)| view! {
                        <li><button class="chip" on:click=move |_| on_pick(nid.clone())>{label}</button></li>
                    }).collect_view()}
                </ul>
                <h3>{format!("Evidence ({total})")}</h3>
                <ol class="evidence" id="evidence">{items}</ol>
            </div>
        })
    }
}
