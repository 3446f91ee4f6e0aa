//! The card frame: an extension page framed (hidden until needed) inside a closed shadow root
//! on each supported site. It owns the tab's [`Detector`], keeps the next card ready, shows
//! it the moment a generation starts and tells the content script to reveal or hide the
//! overlay. It never takes focus by itself: the user's shortcut or click gives it focus.
//!
//! - this module: the entry point and the frame's two pieces of state ([`Frame`], [`Ui`]);
//! - [`port`]: the private port to the content script (handshake, messages, page marks);
//! - [`controller`]: generations start and end, the card shows, hides, saves;
//! - [`keys`]: the keyboard, mapped by [`crate::card::key_action`];
//! - [`view`]: the card's markup.
//!
//! What the card decides (the answer it holds, what a key does, the save request) is plain
//! Rust in [`crate::card`], tested natively.

mod controller;
mod keys;
mod port;
mod view;

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::MessagePort;

use crate::detector::Detector;
use crate::protocol::CardOffer;

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
    /// Chats (paths) this tab already offered to start with the user's context.
    new_chats: Vec<String>,
    /// The insertion under way started a new chat by itself (standing consent).
    auto_inserting: bool,
    /// The delivery record of that insertion, deleted again if the user removes it.
    auto_delivery: Option<String>,
    /// How many of the sensor's answer selectors are the site's own (the rest are generic
    /// guesses), and which one matched last: the site's health record says whether its own
    /// still find the answers.
    own_answer_selectors: usize,
    answer_selector: Option<u32>,
    /// The vault is locked (the background said so when asked for a card, or announced it).
    locked: bool,
    /// This tab already showed the "SelfOS is locked" hint (at most once per page load).
    hinted: bool,
}

thread_local! {
    static FRAME: RefCell<Frame> = RefCell::new(Frame::default());
}

/// Reads or changes the frame's state (never across an await).
fn frame<R>(f: impl FnOnce(&mut Frame) -> R) -> R {
    FRAME.with(|frame| f(&mut frame.borrow_mut()))
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
    /// The one-line "SelfOS is locked" hint shows in place of a card.
    locked_hint: RwSignal<bool>,
}

thread_local! {
    static UI: RefCell<Option<Ui>> = const { RefCell::new(None) };
}

fn ui() -> Option<Ui> {
    UI.with(|u| *u.borrow())
}

/// The page's clock (ms since the frame loaded), the detector's time base.
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
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
        locked_hint: RwSignal::new(false),
    };
    UI.with(|u| *u.borrow_mut() = Some(ui));
    leptos::mount::mount_to_body(move || view! { <view::Card ui=ui/> });
    port::accept_port();
    keys::install_keys(ui);
    controller::follow_height(ui);
}
