//! Everything that only exists in the browser: bindings to the extension APIs, the background
//! entry points, and the Leptos pages (card, popup, options). JavaScript shims in `static/`
//! load this module and call one entry point each.

mod background;
mod card;
mod chrome;
mod options;
mod popup;
mod ui;

// Re-exported so the generated bindings name every entry point in one place.
#[allow(unused_imports)]
pub use background::{handle_message, on_alarm};
#[allow(unused_imports)]
pub use card::start_card;
#[allow(unused_imports)]
pub use options::start_options;
#[allow(unused_imports)]
pub use popup::start_popup;
