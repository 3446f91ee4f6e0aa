//! The keyboard, whenever the card has focus: what each key does is
//! [`crate::card::key_action`]; this only listens and acts.

use leptos::prelude::*;
use vault_core::Answer;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;

use super::controller::{held_answer, submit};
use super::Ui;
use crate::card::{key_action, KeyAction};

/// Digits pick, Enter submits, Esc dismisses.
pub(super) fn install_keys(ui: Ui) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let on_key = Closure::<dyn FnMut(KeyboardEvent)>::new(move |e: KeyboardEvent| {
        if !ui.visible.get_untracked() {
            return;
        }
        let Some(offer) = ui.offer.get_untracked() else {
            return;
        };
        match key_action(&offer, &e.key()) {
            Some(KeyAction::Dismiss) => {
                e.prevent_default();
                submit(ui, Answer::Dismissed, false);
            }
            Some(KeyAction::Submit) => {
                if let Some(answer) = held_answer(ui) {
                    e.prevent_default();
                    submit(ui, answer, false);
                }
            }
            Some(KeyAction::Select(n)) => {
                ui.touched.set(true);
                ui.selected.set(Some(n));
            }
            None => {}
        }
    });
    let _ = doc.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
    on_key.forget();
}
