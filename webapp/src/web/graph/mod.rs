//! The graph view: a force-directed drawing on a canvas (layout in Rust, a time budget per
//! animation frame), node size by strength and colour by dimension; filters by dimension,
//! search, a local graph around the selected node with a depth control, the selected node's
//! evidence; zoom (wheel, buttons, +/-) and pan (drag, arrow keys).
//!
//! What the view shows and how it answers input is [`crate::scene`] (with the pan and zoom
//! of [`crate::viewport`]), plain Rust tested natively. Here: the component and its controls;
//! [`paint`] draws a scene and runs the animation loop; [`input`] turns canvas events into
//! scene calls; [`details`] is the selected node's panel; [`bench`] holds the benchmark hooks.

pub mod bench;
mod details;
mod input;
mod paint;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use leptos::prelude::*;
use web_sys::HtmlCanvasElement;

use crate::drawing::colour;
use crate::scene::{Scene, ZOOM_IN, ZOOM_OUT};
use crate::text::{date, end_of_date};
use crate::web::browser;
use crate::web::ctx::ctx;
use vault_core::graph::KnowledgeGraph;

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
        let local_depth = loc.then_some(d);
        let q = query.get();
        scene.update_value(|s| s.show(&on, sel.as_deref(), local_depth, &q));
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
        paint::frame(scene, canvas, alive.clone(), dark);
        true
    });

    let zoom_by = move |f: f64| {
        let now = browser::perf_now();
        scene.update_value(|s| s.zoom_centre(f, now));
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
                    <button class="ghost" aria-label="Zoom in" title="Zoom in (+)" on:click=move |_| zoom_by(ZOOM_IN)>"+"</button>
                    <button class="ghost" aria-label="Zoom out" title="Zoom out (−)" on:click=move |_| zoom_by(ZOOM_OUT)>"−"</button>
                    <button class="ghost" id="graph-fit" title="Fit (0)" on:click=move |_| scene.update_value(Scene::refit)>"Fit"</button>
                </div>
                <canvas
                    id="graph"
                    node_ref=canvas_ref
                    tabindex="0"
                    role="img"
                    aria-label="Force-directed drawing of your knowledge graph. Arrow keys pan, + and − zoom, 0 fits, Escape clears the selection; search to select a node."
                    on:pointerdown=input::on_down(scene, canvas_ref)
                    on:pointermove=input::on_move(scene, canvas_ref)
                    on:pointerup=input::on_up(scene, canvas_ref, selected)
                    on:wheel=input::on_wheel(scene, canvas_ref)
                    on:keydown=input::on_key(scene, selected)
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
                // The selection first: what a click on the drawing is for.
                {move || selected.get().map(|id| view! { <details::NodeDetails id=id past=past on_pick=move |n| selected.set(Some(n))/> })}
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
            </aside>
        </section>
    }
    .into_any()
}
