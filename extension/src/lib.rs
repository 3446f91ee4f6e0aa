//! # selfos-extension
//!
//! The browser extension, in Rust: everything but the thin host-page sensor
//! (`static/content.js`). See `extension/README.md` for where each part runs.
//!
//! - [`sites`]: site adapters (data in `assets/sites/`).
//! - [`detector`]: the wait-state machine (started / finished / failed).
//! - [`guide`]: what the popup says comes next while a new user sets up.
//! - [`health`]: per-site health (how well each adapter still reads its site), local only.
//! - [`card`]: what the card frame decides (the answer it holds, keys, the save request).
//! - [`protocol`]: every message between the parts, validated by parsing.
//! - [`settings`]: the user's caps, timing, pauses, sites and account.
//! - [`service`]: the background: vault, key custody, scheduler, sync.
//! - `web` (wasm only): the browser bindings and the Leptos pages.
#![forbid(unsafe_code)]

pub mod card;
pub mod detector;
pub mod guide;
pub mod health;
pub mod protocol;
pub mod service;
pub mod settings;
pub mod sites;

#[cfg(target_arch = "wasm32")]
mod web;
