//! The card frame: an extension page framed (hidden until needed) inside a closed shadow root
//! on each supported site. It owns the tab's [`Detector`], keeps the next card ready, shows
//! it the moment a generation starts and tells the content script to reveal or hide the
//! overlay. It never takes focus by itself: the user's shortcut or click gives it focus.

use std::cell::RefCell;

use leptos::prelude::*;
use leptos::task::spawn_local;
use vault_core::{Answer, CardType};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{KeyboardEvent, MessageEvent, MessagePort};

use super::chrome::call;
use super::ui::{now_ms, to_js};
use crate::detector::{Detector, Event, Observation, Tuning};
use crate::protocol::{
    Announcement, CardOffer, NextCard, Request, SaveAnswer, SiteConfig, ToFrame, ToPage,
};

/// The frame's non-reactive state.
#[derive(Default)]
struct Frame {
    port: Option<MessagePort>,
    detector: Option<Detector>,
    agent: String,
    origin: String,
    /// The sensor runs on this site (it is supported and not paused).
    sensing: bool,
    /// When the current generation started (page clock), while one is open.
    wait_started: Option<f64>,
    /// The card is waiting for the user's minimum wait.
    pending_show: bool,
}

thread_local! {
    static FRAME: RefCell<Frame> = RefCell::new(Frame::default());
}

/// The card's reactive state.
#[derive(Clone, Copy)]
struct Ui {
    /// The next card, fetched ahead so it shows without a round trip.
    offer: RwSignal<Option<CardOffer>>,
    visible: RwSignal<bool>,
    selected: RwSignal<Option<usize>>,
    text: RwSignal<String>,
    /// The user interacted (picked, typed, focused): the card stays open past the answer.
    touched: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    shown_at: RwSignal<f64>,
}

thread_local! {
    static UI: RefCell<Option<Ui>> = const { RefCell::new(None) };
}

fn ui() -> Option<Ui> {
    UI.with(|u| *u.borrow())
}

/// Entry point of `card.html`.
#[wasm_bindgen]
pub fn start_card() {
    let ui = Ui {
        offer: RwSignal::new(None),
        visible: RwSignal::new(false),
        selected: RwSignal::new(None),
        text: RwSignal::new(String::new()),
        touched: RwSignal::new(false),
        error: RwSignal::new(None),
        shown_at: RwSignal::new(0.0),
    };
    UI.with(|u| *u.borrow_mut() = Some(ui));
    leptos::mount::mount_to_body(move || view! { <Card ui=ui/> });
    accept_port();
    install_keys(ui);
    follow_height(ui);
    super::chrome::on_announcement(move |a| follow_vault(ui, a));
}

/// Keeps the ready card in step with the vault. Locked: the ready card is dropped, since a
/// locked vault shows no cards and could not save the answer. Unlocked: a card is fetched, so
/// a tab opened while the vault was locked gets cards without a reload. A card on screen is
/// left as it is, with whatever the user entered (saving it then says to unlock).
fn follow_vault(ui: Ui, announcement: Announcement) {
    if !FRAME.with(|f| f.borrow().sensing) || ui.visible.get_untracked() {
        return;
    }
    match announcement {
        Announcement::VaultLocked => {
            ui.offer.set(None);
            mark("no-card");
        }
        Announcement::VaultUnlocked => spawn_local(prefetch()),
    }
}

/// Keeps the overlay as tall as the card while it shows: the first measure can come before
/// fonts or a long question have wrapped, and an error line can grow it later.
fn follow_height(ui: Ui) {
    let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    else {
        return;
    };
    let on_resize = Closure::<dyn FnMut()>::new(move || {
        if ui.visible.get_untracked() {
            post_height();
        }
    });
    if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
        observer.observe(&body);
    }
    on_resize.forget();
}

/// Tells the content script the card's rendered height.
fn post_height() {
    let height = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("card"))
        .map(|c| c.scroll_height() as u32)
        .unwrap_or(180);
    post(&ToPage::Show {
        height: height + 14,
    });
}

/// The parameters the content script put in the URL fragment: `#n=<nonce>&o=<origin>`.
fn fragment() -> (String, String) {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    let mut nonce = String::new();
    let mut origin = String::new();
    for pair in hash.trim_start_matches('#').split('&') {
        match pair.split_once('=') {
            Some(("n", v)) => nonce = v.to_owned(),
            Some(("o", v)) => {
                origin = js_sys::decode_uri_component(v)
                    .ok()
                    .and_then(|s| s.as_string())
                    .unwrap_or_default()
            }
            _ => {}
        }
    }
    // Chrome tells the frame its embedder's origin itself; prefer that over the fragment.
    let ancestor = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.location(), &"ancestorOrigins".into()).ok())
        .and_then(|list| js_sys::Reflect::get(&list, &0.into()).ok())
        .and_then(|o| o.as_string());
    (nonce, ancestor.unwrap_or(origin))
}

/// Takes the private port from the content script: the first message from the parent window
/// that carries the nonce from this frame's URL. Everything else is ignored.
fn accept_port() {
    let (nonce, origin) = fragment();
    let Some(window) = web_sys::window() else {
        return;
    };
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let from_parent = web_sys::window()
            .and_then(|w| w.parent().ok().flatten())
            .zip(e.source())
            .is_some_and(|(p, s)| JsValue::from(p) == JsValue::from(s));
        let carries_nonce = js_sys::Reflect::get(&e.data(), &"selfos".into())
            .ok()
            .and_then(|v| v.as_string())
            .is_some_and(|n| !nonce.is_empty() && n == nonce);
        let port = e.ports().get(0).dyn_into::<MessagePort>().ok();
        let taken = FRAME.with(|f| f.borrow().port.is_some());
        if let (true, true, false, Some(port)) = (from_parent, carries_nonce, taken, port) {
            adopt(port, origin.clone());
        }
    });
    let _ = window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
    handler.forget();
    // Listening now: ask the content script for the port. Nothing secret in this message.
    if let Ok(Some(parent)) = window.parent() {
        let ready = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&ready, &"selfos".into(), &"ready".into());
        let _ = parent.post_message(&ready, "*");
    }
}

fn adopt(port: MessagePort, origin: String) {
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|e: MessageEvent| {
        // Anything not shaped like a `ToFrame` is not ours and is ignored.
        if let Ok(msg) = serde_wasm_bindgen::from_value::<ToFrame>(e.data()) {
            on_page_message(msg)
        }
    });
    port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    FRAME.with(|f| {
        let mut f = f.borrow_mut();
        f.port = Some(port);
        f.origin = origin.clone();
    });
    spawn_local(async move {
        let site: Option<SiteConfig> = call(&Request::Site {
            origin: origin.clone(),
        })
        .await
        .unwrap_or(None);
        let selectors = site
            .as_ref()
            .filter(|s| s.enabled)
            .map(|s| s.adapter.selectors.for_sensor());
        if let Some(site) = &site {
            FRAME.with(|f| f.borrow_mut().agent = site.adapter.id.clone());
        }
        let on = selectors.is_some();
        FRAME.with(|f| f.borrow_mut().sensing = on);
        mark(if on { "sensing" } else { "off" });
        post(&ToPage::Sense { selectors });
        if on {
            prefetch().await;
        }
    });
    // Timeouts (a control gone for good, text that stopped growing) need a clock.
    let tick = Closure::<dyn FnMut()>::new(|| {
        let event = FRAME.with(|f| {
            f.borrow_mut()
                .detector
                .as_mut()
                .filter(|d| d.is_waiting())
                .and_then(|d| d.tick(now_ms()))
        });
        if let Some(e) = event {
            on_event(e);
        }
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(
            tick.as_ref().unchecked_ref(),
            100,
        );
    }
    tick.forget();
}

fn post(msg: &ToPage) {
    FRAME.with(|f| {
        if let Some(port) = &f.borrow().port {
            let _ = port.post_message(&to_js(msg));
        }
    });
}

fn on_page_message(msg: ToFrame) {
    match msg {
        ToFrame::Obs(o) => {
            let event = FRAME.with(|f| {
                let mut f = f.borrow_mut();
                match f.detector.as_mut() {
                    Some(d) => d.observe(Observation { t: now_ms(), ..o }),
                    None => {
                        f.detector = Some(Detector::new(
                            Tuning::default(),
                            Observation { t: now_ms(), ..o },
                        ));
                        None
                    }
                }
            });
            if let Some(e) = event {
                on_event(e);
            }
        }
        ToFrame::Focus => {
            if let Some(ui) = ui().filter(|u| u.visible.get_untracked()) {
                ui.touched.set(true);
                focus_first();
            }
        }
        ToFrame::Visibility { .. } => {}
    }
}

fn on_event(e: Event) {
    let Some(ui) = ui() else { return };
    mark_attr(
        "data-wait",
        if matches!(e, Event::Started { .. }) {
            "waiting"
        } else {
            "idle"
        },
    );
    match e {
        Event::Started { .. } => {
            FRAME.with(|f| f.borrow_mut().wait_started = Some(now_ms()));
            let delay = ui.offer.get_untracked().map(|o| o.delay_ms);
            match delay {
                Some(0) => show(ui),
                Some(ms) => {
                    FRAME.with(|f| f.borrow_mut().pending_show = true);
                    let later = Closure::once_into_js(move || {
                        if FRAME.with(|f| std::mem::take(&mut f.borrow_mut().pending_show)) {
                            show(ui);
                        }
                    });
                    if let Some(w) = web_sys::window() {
                        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                            later.unchecked_ref(),
                            ms.min(60_000) as i32,
                        );
                    }
                }
                None => {}
            }
        }
        Event::Finished { generation_ms } => {
            let agent = FRAME.with(|f| {
                let mut f = f.borrow_mut();
                f.wait_started = None;
                f.pending_show = false;
                f.agent.clone()
            });
            spawn_local(async move {
                let _: Result<(), String> = call(&Request::Generated {
                    agent,
                    ms: generation_ms,
                })
                .await;
            });
            if ui.visible.get_untracked() && !ui.touched.get_untracked() {
                hide(ui);
            }
        }
        Event::Failed { .. } => {
            FRAME.with(|f| {
                let mut f = f.borrow_mut();
                f.wait_started = None;
                f.pending_show = false;
            });
            if ui.visible.get_untracked() {
                // Keep whatever the user entered, flagged so the card is offered again.
                if let Some(answer) = current_answer(ui) {
                    submit(ui, answer, true);
                } else {
                    hide(ui);
                }
            }
        }
    }
}

fn show(ui: Ui) {
    if ui.visible.get_untracked() || ui.offer.get_untracked().is_none() {
        return;
    }
    ui.selected.set(None);
    ui.text.set(String::new());
    ui.touched.set(false);
    ui.error.set(None);
    ui.shown_at.set(now_ms());
    ui.visible.set(true);
    // Reveal the overlay once the card has rendered, at its real height. A timer, not
    // `requestAnimationFrame`: browsers throttle rendering in hidden cross-origin frames.
    let reveal = Closure::once_into_js(post_height);
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(reveal.unchecked_ref(), 0);
    }
}

fn hide(ui: Ui) {
    ui.visible.set(false);
    post(&ToPage::Hide);
    spawn_local(prefetch());
}

async fn prefetch() {
    let Some(ui) = ui() else { return };
    let (agent, origin) = FRAME.with(|f| {
        let f = f.borrow();
        (f.agent.clone(), f.origin.clone())
    });
    if agent.is_empty() {
        return;
    }
    let next: Result<NextCard, String> = call(&Request::NextCard { agent, origin }).await;
    let offer = match next {
        Ok(NextCard::Card(offer)) => Some(offer),
        _ => None,
    };
    mark(if offer.is_some() { "ready" } else { "no-card" });
    ui.offer.set(offer);
}

/// Records the frame's state on its own root element (`data-state`: sensing, ready, no-card,
/// off; `data-wait`: waiting, idle), inside the extension's origin where the host page cannot
/// read it. The end-to-end tests and anyone debugging with devtools read it there.
fn mark(state: &str) {
    mark_attr("data-state", state);
}

fn mark_attr(name: &str, value: &str) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute(name, value);
    }
}

/// The answer the card holds right now, if the user entered one.
fn current_answer(ui: Ui) -> Option<Answer> {
    let offer = ui.offer.get_untracked()?;
    if offer.card_type == CardType::ShortText {
        let text = ui.text.get_untracked();
        return (!text.trim().is_empty()).then(|| Answer::ShortText {
            text: text.trim().to_owned(),
        });
    }
    answer_at(&offer, ui.selected.get_untracked()?)
}

/// The answer meaning "the user picked choice `i`" on this card.
fn answer_at(offer: &CardOffer, i: usize) -> Option<Answer> {
    match offer.card_type {
        CardType::Choice => offer.options.get(i).map(|o| Answer::Choice {
            option: o.value.clone(),
        }),
        CardType::Pairwise => {
            let picked = offer.options.get(i)?;
            let over = offer.options.iter().find(|o| o.value != picked.value)?;
            Some(Answer::Pairwise {
                picked: picked.value.clone(),
                over: over.value.clone(),
            })
        }
        CardType::YesNo => (i < 2).then_some(Answer::YesNo { value: i == 0 }),
        CardType::Scale => {
            let s = offer.scale.as_ref()?;
            let value = s.min + i as i32;
            (value <= s.max).then_some(Answer::Scale {
                value,
                min: s.min,
                max: s.max,
            })
        }
        CardType::ShortText => None,
    }
}

/// How many pickable choices the card has.
fn choice_count(offer: &CardOffer) -> usize {
    match offer.card_type {
        CardType::Choice | CardType::Pairwise => offer.options.len(),
        CardType::YesNo => 2,
        CardType::Scale => offer
            .scale
            .as_ref()
            .map(|s| (s.max - s.min + 1).max(0) as usize)
            .unwrap_or(0),
        CardType::ShortText => 0,
    }
}

fn submit(ui: Ui, answer: Answer, after_failure: bool) {
    let Some(offer) = ui.offer.get_untracked() else {
        return;
    };
    let (agent, origin, wait_started) = FRAME.with(|f| {
        let f = f.borrow();
        (f.agent.clone(), f.origin.clone(), f.wait_started)
    });
    let now = now_ms();
    let shown = ui.shown_at.get_untracked();
    let save = SaveAnswer {
        card_id: offer.id.clone(),
        card_version: offer.version,
        card_type: offer.card_type,
        answer,
        agent,
        origin,
        answer_latency_ms: (now - shown).clamp(0.0, u32::MAX as f64) as u32,
        wait_duration_ms: wait_started
            .map(|w| (shown - w).clamp(0.0, u32::MAX as f64) as u32)
            .unwrap_or(0),
        retry_after_ai_failure: after_failure,
    };
    spawn_local(async move {
        match call::<String>(&Request::Save(save)).await {
            Ok(_) => hide(ui),
            // Nothing is lost: the card stays with the input, and says what to do.
            Err(message) => ui.error.set(Some(message)),
        }
    });
}

fn focus_first() {
    let el = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("#card .opt, #card input").ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(el) = el {
        let _ = el.focus();
    }
}

/// Digits pick, Enter submits, Esc dismisses (whenever the card has focus).
fn install_keys(ui: Ui) {
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
        let key = e.key();
        let typing = offer.card_type == CardType::ShortText;
        match key.as_str() {
            "Escape" => {
                e.prevent_default();
                submit(ui, Answer::Dismissed, false);
            }
            "Enter" => {
                if let Some(answer) = current_answer(ui) {
                    e.prevent_default();
                    submit(ui, answer, false);
                }
            }
            k if !typing && k.len() == 1 => {
                if let Some(d) = k.chars().next().and_then(|c| c.to_digit(10)) {
                    let i = d as usize;
                    if (1..=choice_count(&offer)).contains(&i) {
                        ui.touched.set(true);
                        ui.selected.set(Some(i - 1));
                    }
                }
            }
            _ => {}
        }
    });
    let _ = doc.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
    on_key.forget();
}

#[component]
fn Card(ui: Ui) -> impl IntoView {
    let text = move || ui.offer.get().map(|o| o.text).unwrap_or_default();
    view! {
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
                            if let Some(a) = current_answer(ui) {
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
        let labels: Vec<String> = match offer.card_type {
            CardType::YesNo => vec!["Yes".into(), "No".into()],
            CardType::Scale => {
                let s = offer.scale.clone()?;
                (s.min..=s.max).map(|v| v.to_string()).collect()
            }
            _ => offer.options.iter().map(|o| o.label.clone()).collect(),
        };
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
