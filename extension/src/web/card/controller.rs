//! The frame's controller: the sensor's settings for the site, the detector's clock, what a
//! generation's start and end do to the card, fetching the next card, saving answers.

use leptos::prelude::*;
use leptos::task::spawn_local;
use vault_core::graph::context::ContextBlock;
use vault_core::Answer;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::port::{call, post, post_height};
use super::view::focus_first;
use super::{frame, now_ms, ui, Ui};
use crate::card::{current_answer, save_request, Timing};
use crate::detector::{Detector, Event, Failure, Observation, Signal, Tuning};
use crate::health::own_answers;
use crate::protocol::{Announcement, NextCard, Request, SiteConfig, ToFrame, ToPage};

/// Starts the frame on the page at `origin`: asks the background for the site's adapter,
/// tells the sensor what to watch (nothing when the site is off), fetches a card, and runs
/// the detector's clock.
pub(super) fn start(origin: String) {
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
            frame(|f| {
                f.agent = site.adapter.id.clone();
                f.own_answer_selectors = site.adapter.selectors.answer.len();
            });
        }
        let on = selectors.is_some();
        frame(|f| f.sensing = on);
        mark(if on { "sensing" } else { "off" });
        post(&ToPage::Sense { selectors });
        if on {
            prefetch().await;
        }
    });
    // Timeouts (a control gone for good, text that stopped growing) need a clock.
    let tick = Closure::<dyn FnMut()>::new(|| {
        let event = frame(|f| {
            f.detector
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

/// Keeps the ready card in step with the vault. Locked: the ready card is dropped, since a
/// locked vault shows no cards and could not save the answer. Unlocked: a card is fetched, so
/// a tab opened while the vault was locked gets cards without a reload. A card on screen is
/// left as it is, with whatever the user entered (saving it then says to unlock).
pub(super) fn follow_vault(ui: Ui, announcement: Announcement) {
    if !frame(|f| f.sensing) {
        return;
    }
    frame(|f| f.locked = announcement == Announcement::VaultLocked);
    if announcement == Announcement::VaultUnlocked && ui.locked_hint.get_untracked() {
        hide_hint(ui);
    }
    if ui.visible.get_untracked() {
        // The card stays as it is; the insert control follows the vault all the same.
        post(&ToPage::Control {
            on: announcement == Announcement::VaultUnlocked,
        });
        return;
    }
    match announcement {
        Announcement::VaultLocked => {
            ui.offer.set(None);
            mark("no-card");
            post(&ToPage::Control { on: false });
        }
        Announcement::VaultUnlocked => spawn_local(prefetch()),
    }
}

/// Keeps the overlay as tall as the card while it shows: the first measure can come before
/// fonts or a long question have wrapped, and an error line can grow it later.
pub(super) fn follow_height(ui: Ui) {
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

pub(super) fn on_page_message(msg: ToFrame) {
    match msg {
        ToFrame::Obs(o) => {
            if o.empty && o.answers == 0 && !o.stop && !o.busy {
                new_chat(&o.path);
            }
            let event = frame(|f| {
                if o.ai.is_some() {
                    f.answer_selector = o.ai;
                }
                let o = Observation { t: now_ms(), ..o };
                match f.detector.as_mut() {
                    Some(d) => d.observe(o),
                    None => {
                        f.detector = Some(Detector::new(Tuning::default(), o));
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
        ToFrame::Insert => spawn_local(insert_context()),
        ToFrame::Inserted { copied } => spawn_local(async move {
            let (agent, auto) = frame(|f| (f.agent.clone(), std::mem::take(&mut f.auto_inserting)));
            // A failure here loses only the count, never the user's text: it is in the chat.
            let id: Result<String, String> = call(&Request::Delivered {
                agent,
                copied,
                auto,
                field: None,
            })
            .await;
            frame(|f| f.auto_delivery = id.ok().filter(|_| auto));
        }),
        ToFrame::Removed => {
            if let Some(id) = frame(|f| f.auto_delivery.take()) {
                spawn_local(async move {
                    let _: Result<u32, String> = call(&Request::Withdraw { delivery: id }).await;
                });
            }
        }
        // Taken by the port before they get here.
        ToFrame::Reply { .. } | ToFrame::Announced { .. } => {}
    }
}

/// The user asked for their context in this chat: the background writes the block for this
/// site's agent (the one writer) and the content script inserts it; when there is nothing to
/// insert, the user is told why and nothing is inserted.
async fn insert_context() {
    let agent = frame(|f| f.agent.clone());
    if agent.is_empty() {
        return;
    }
    let block: Result<ContextBlock, String> = call(&Request::Context {
        agent,
        budget: None,
    })
    .await;
    post(&match block {
        Ok(b) => ToPage::Insert {
            text: b.text,
            auto: false,
        },
        Err(message) => ToPage::Notice { message },
    });
}

/// A new chat with an empty composer: once per chat (path) in this tab, the background is
/// asked whether it starts with the user's context (standing consent for this agent, site on,
/// vault unlocked); if so, the block goes in, marked, for the user to keep or remove.
fn new_chat(path: &str) {
    let first = frame(|f| {
        let fresh = f.sensing && !f.agent.is_empty() && !f.new_chats.iter().any(|p| p == path);
        if fresh {
            f.new_chats.push(path.to_owned());
        }
        fresh
    });
    if !first {
        return;
    }
    spawn_local(async move {
        let (agent, origin) = frame(|f| (f.agent.clone(), f.origin.clone()));
        let block: Result<Option<ContextBlock>, String> =
            call(&Request::NewChatContext { agent, origin }).await;
        if let Ok(Some(b)) = block {
            frame(|f| f.auto_inserting = true);
            post(&ToPage::Insert {
                text: b.text,
                auto: true,
            });
        }
    });
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
        Event::Started { signal } => {
            mark_attr("data-signal", signal_name(signal));
            frame(|f| f.wait_started = Some(now_ms()));
            let delay = ui.offer.get_untracked().map(|o| o.delay_ms);
            match delay {
                Some(0) => show(ui),
                Some(ms) => {
                    frame(|f| f.pending_show = true);
                    let later = Closure::once_into_js(move || {
                        if frame(|f| std::mem::take(&mut f.pending_show)) {
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
                // No card because the vault is locked: say so, once per page, in the
                // card's place, so capture never stops silently.
                None => {
                    if frame(|f| f.locked && !std::mem::replace(&mut f.hinted, true)) {
                        show_hint(ui);
                    }
                }
            }
        }
        Event::Finished {
            generation_ms,
            signal,
        } => {
            // How the last generation ended and was read, for the tests and for a curious
            // user's devtools.
            mark_attr("data-ended", "finished");
            mark_attr("data-signal", signal_name(signal));
            let (agent, own_answers) = frame(|f| {
                f.wait_started = None;
                f.pending_show = false;
                let own = own_answers(f.answer_selector, f.own_answer_selectors);
                (f.agent.clone(), own)
            });
            spawn_local(async move {
                let _: Result<(), String> = call(&Request::Generated {
                    agent,
                    ms: generation_ms,
                    signal: Some(signal),
                    own_answers: Some(own_answers),
                })
                .await;
            });
            if ui.visible.get_untracked() && !ui.touched.get_untracked() {
                hide(ui);
            }
            if ui.locked_hint.get_untracked() {
                hide_hint(ui);
            }
        }
        Event::Failed { reason } => {
            mark_attr(
                "data-ended",
                match reason {
                    Failure::Error => "failed:error",
                    Failure::Retry => "failed:retry",
                    Failure::NoAnswer => "failed:no_answer",
                },
            );
            frame(|f| {
                f.wait_started = None;
                f.pending_show = false;
            });
            if ui.locked_hint.get_untracked() {
                hide_hint(ui);
            }
            if ui.visible.get_untracked() {
                // Keep whatever the user entered, flagged so the card is offered again.
                if let Some(answer) = held_answer(ui) {
                    submit(ui, answer, true);
                } else {
                    hide(ui);
                }
            }
        }
    }
}

fn signal_name(signal: Signal) -> &'static str {
    match signal {
        Signal::Control => "control",
        Signal::Growth => "growth",
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

/// Shows the one-line "SelfOS is locked" hint in the card's place (never focused, closed by
/// the generation's end, its ×, or an unlock).
fn show_hint(ui: Ui) {
    ui.locked_hint.set(true);
    mark_attr("data-hint", "locked");
    let reveal = Closure::once_into_js(post_height);
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(reveal.unchecked_ref(), 0);
    }
}

pub(super) fn hide_hint(ui: Ui) {
    ui.locked_hint.set(false);
    mark_attr("data-hint", "");
    if !ui.visible.get_untracked() {
        post(&ToPage::Hide);
    }
}

fn hide(ui: Ui) {
    ui.visible.set(false);
    post(&ToPage::Hide);
    spawn_local(prefetch());
}

async fn prefetch() {
    let Some(ui) = ui() else { return };
    let (agent, origin) = frame(|f| (f.agent.clone(), f.origin.clone()));
    if agent.is_empty() {
        return;
    }
    let next: Result<NextCard, String> = call(&Request::NextCard { agent, origin }).await;
    // The insert control shows while the vault is unlocked.
    let locked = matches!(&next, Ok(NextCard::None { reason }) if reason == "locked");
    frame(|f| f.locked = locked);
    post(&ToPage::Control { on: !locked });
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
pub(super) fn held_answer(ui: Ui) -> Option<Answer> {
    let offer = ui.offer.get_untracked()?;
    current_answer(
        &offer,
        ui.selected.get_untracked(),
        &ui.text.get_untracked(),
    )
}

/// Saves `answer` to the card on screen, then hides it; on failure the card stays, with
/// the input, and says what to do.
pub(super) fn submit(ui: Ui, answer: Answer, after_failure: bool) {
    let Some(offer) = ui.offer.get_untracked() else {
        return;
    };
    let (agent, origin, wait_started) =
        frame(|f| (f.agent.clone(), f.origin.clone(), f.wait_started));
    let timing = Timing {
        wait_started,
        shown_at: ui.shown_at.get_untracked(),
        now: now_ms(),
    };
    let save = save_request(&offer, answer, agent, origin, timing, after_failure);
    spawn_local(async move {
        match call::<String>(&Request::Save(save)).await {
            Ok(_) => hide(ui),
            // Nothing is lost: the card stays with the input, and says what to do.
            Err(message) => ui.error.set(Some(message)),
        }
    });
}
