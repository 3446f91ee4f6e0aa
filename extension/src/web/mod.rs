//! Everything that only exists in the browser: bindings to the extension APIs, the background
//! entry points, and the Leptos pages (card, popup, options). JavaScript shims in `static/`
//! load this module and call one entry point each.
//!
//! Two modules are built from this crate, each with its own entry points: with the feature
//! `pages` (the default) the background, popup and options; without it the card frame alone,
//! which each AI tab loads. The card has no extension APIs and speaks to the background
//! through its tab's content script, so it needs none of the vault, sync or scheduler code.

#[cfg(feature = "pages")]
mod background;
#[cfg(not(feature = "pages"))]
mod card;
#[cfg(feature = "pages")]
mod chrome;
#[cfg(feature = "pages")]
mod options;
#[cfg(feature = "pages")]
mod popup;
#[cfg(feature = "pages")]
mod ui;

// Re-exported so the generated bindings name every entry point in one place.
#[cfg(feature = "pages")]
#[allow(unused_imports)]
pub use background::{handle_message, on_alarm, on_idle_state, on_start};
#[cfg(not(feature = "pages"))]
#[allow(unused_imports)]
pub use card::start_card;
#[cfg(feature = "pages")]
#[allow(unused_imports)]
pub use options::start_options;
#[cfg(feature = "pages")]
#[allow(unused_imports)]
pub use popup::start_popup;
