//! The canvas's event handlers: pointer (press, move, release), wheel and keys, each turned
//! into canvas coordinates and handed to the [`Scene`], which decides what they mean.

use leptos::html::Canvas;
use leptos::prelude::*;
use web_sys::{HtmlCanvasElement, KeyboardEvent, MouseEvent, PointerEvent, WheelEvent};

use crate::scene::{KeyOutcome, Scene};
use crate::web::browser;

type SceneRef = StoredValue<Scene, LocalStorage>;

/// The event's position in the canvas's CSS pixels.
fn pointer(e: &MouseEvent, canvas: &HtmlCanvasElement) -> (f64, f64) {
    let r = canvas.get_bounding_client_rect();
    (
        f64::from(e.client_x()) - r.left(),
        f64::from(e.client_y()) - r.top(),
    )
}

/// Press: start a pan or a node drag (the canvas captures the pointer until release).
pub(super) fn on_down(scene: SceneRef, canvas: NodeRef<Canvas>) -> impl Fn(PointerEvent) {
    move |e| {
        let Some(canvas) = canvas.get_untracked() else {
            return;
        };
        let _ = canvas.set_pointer_capture(e.pointer_id());
        let (x, y) = pointer(&e, &canvas);
        scene.update_value(|s| s.pointer_down(x, y));
    }
}

/// Move: pan, drag the node, or hover (the cursor shows whether a click would select).
pub(super) fn on_move(scene: SceneRef, canvas: NodeRef<Canvas>) -> impl Fn(PointerEvent) {
    move |e| {
        let Some(canvas) = canvas.get_untracked() else {
            return;
        };
        let (x, y) = pointer(&e, &canvas);
        let now = browser::perf_now();
        if let Some(over) = scene
            .try_update_value(|s| s.pointer_move(x, y, now))
            .flatten()
        {
            let _ = web_sys::HtmlElement::style(&canvas)
                .set_property("cursor", if over { "pointer" } else { "grab" });
        }
    }
}

/// Release: a click selects the node under it, or clears the selection on empty canvas.
pub(super) fn on_up(
    scene: SceneRef,
    canvas: NodeRef<Canvas>,
    selected: RwSignal<Option<String>>,
) -> impl Fn(PointerEvent) {
    move |e| {
        let Some(canvas) = canvas.get_untracked() else {
            return;
        };
        let (x, y) = pointer(&e, &canvas);
        if let Some(pick) = scene.try_update_value(|s| s.pointer_up(x, y)).flatten() {
            selected.set(pick);
        }
    }
}

/// Wheel: zoom about the pointer.
pub(super) fn on_wheel(scene: SceneRef, canvas: NodeRef<Canvas>) -> impl Fn(WheelEvent) {
    move |e| {
        e.prevent_default();
        let Some(canvas) = canvas.get_untracked() else {
            return;
        };
        let (x, y) = pointer(&e, &canvas);
        let f = (-e.delta_y() * 0.0015).exp();
        let now = browser::perf_now();
        scene.update_value(|s| s.zoom(f, x, y, now));
    }
}

/// Keys: `+`/`-` zoom, arrows pan, `0` fits, Escape clears the selection.
pub(super) fn on_key(
    scene: SceneRef,
    selected: RwSignal<Option<String>>,
) -> impl Fn(KeyboardEvent) {
    move |e| {
        let key = e.key();
        let now = browser::perf_now();
        match scene.try_update_value(|s| s.key(&key, now)) {
            Some(KeyOutcome::Handled) => {}
            Some(KeyOutcome::ClearSelection) => selected.set(None),
            Some(KeyOutcome::Ignored) | None => return,
        }
        e.prevent_default();
    }
}
