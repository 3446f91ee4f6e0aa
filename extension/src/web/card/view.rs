//! The card's markup: the question, one control per choice (numbered for the keyboard), or a
//! text field, Skip and dismiss. Labels come from [`vault_core::cards::answer::CardShape`],
//! the same order the keyboard and the answer mapping count.

use leptos::prelude::*;
use vault_core::{Answer, CardType};
use wasm_bindgen::JsCast;

use super::controller::{held_answer, hide_hint, submit};
use super::Ui;
use crate::card::answer_at;

/// Gives focus to the card's first control (the user asked for it: shortcut or click).
pub(super) fn focus_first() {
    let el = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("#card .opt, #card input").ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(el) = el {
        let _ = el.focus();
    }
}

#[component]
pub(super) fn Card(ui: Ui) -> impl IntoView {
    let text = move || ui.offer.get().map(|o| o.text).unwrap_or_default();
    view! {
        <LockedHint ui=ui/>
        <Show when=move || ui.visible.get() && ui.offer.with(Option::is_some)>
            <div
                id="card"
                role="dialog"
                aria-labelledby="q"
                on:focusin=move |_| ui.touched.set(true)
            >
                <div class="head">
                    <span class="brand">"SelfOS"</span>
                    <span class="hint" aria-hidden="true">"Alt+Shift+S · 1-9 · Enter · Esc"</span>
                    <button
                        class="x"
                        aria-label="Dismiss (Esc)"
                        on:click=move |_| submit(ui, Answer::Dismissed, false)
                    >
                        "×"
                    </button>
                </div>
                <p id="q" class="q" aria-live="polite">{text}</p>
                <Choices ui=ui/>
                <div class="foot">
                    <button class="skip" on:click=move |_| submit(ui, Answer::Skipped, false)>
                        "Skip"
                    </button>
                    <span class="err" role="alert">{move || ui.error.get()}</span>
                </div>
            </div>
        </Show>
    }
}

/// In a card's place while the vault is locked: one line, once per page.
#[component]
fn LockedHint(ui: Ui) -> impl IntoView {
    view! {
        <Show when=move || ui.locked_hint.get() && !ui.visible.get()>
            <div id="locked-hint" role="status">
                <span class="brand">"SelfOS"</span>
                <span class="msg">"is locked — unlock to keep your answers"</span>
                <button class="x" aria-label="Dismiss" on:click=move |_| hide_hint(ui)>
                    "×"
                </button>
            </div>
        </Show>
    }
}

/// The card's answer controls, by card type.
#[component]
fn Choices(ui: Ui) -> impl IntoView {
    move || {
        let offer = ui.offer.get()?;
        if offer.card_type == CardType::ShortText {
            return Some(
                view! {
                    <form
                        class="text"
                        on:submit=move |e| {
                            e.prevent_default();
                            if let Some(a) = held_answer(ui) {
                                submit(ui, a, false);
                            }
                        }
                    >
                        <input
                            type="text"
                            maxlength="200"
                            aria-label="Your answer"
                            placeholder="A few words"
                            prop:value=move || ui.text.get()
                            on:input=move |e| {
                                ui.touched.set(true);
                                ui.text.set(event_target_value(&e));
                            }
                        />
                        <button type="submit">"Save"</button>
                    </form>
                }
                .into_any(),
            );
        }
        let labels = offer.shape().choice_labels();
        let scale = offer
            .scale
            .clone()
            .filter(|_| offer.card_type == CardType::Scale);
        let class = if scale.is_some() {
            "opts scale"
        } else {
            "opts"
        };
        let buttons = labels
            .into_iter()
            .enumerate()
            .map(|(i, label)| {
                let offer = offer.clone();
                view! {
                    <button
                        class="opt"
                        aria-pressed=move || (ui.selected.get() == Some(i)).to_string()
                        on:click=move |_| {
                            ui.selected.set(Some(i));
                            if let Some(a) = answer_at(&offer, i) {
                                submit(ui, a, false);
                            }
                        }
                    >
                        <kbd>{i + 1}</kbd>
                        <span>{label}</span>
                    </button>
                }
            })
            .collect_view();
        Some(
            view! {
                <div class=class role="group" aria-labelledby="q">
                    {buttons}
                </div>
                {scale.map(|s| view! {
                    <div class="ends" aria-hidden="true">
                        <span>{s.min_label}</span>
                        <span>{s.max_label}</span>
                    </div>
                })}
            }
            .into_any(),
        )
    }
}
