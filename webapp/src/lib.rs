//! # selfos-webapp
//!
//! The companion dashboard, served by the sync server at `/`: sign in and unlock, then the
//! knowledge graph, alignment metrics, every answer with edit and delete, exports and
//! settings. It decrypts only in the browser, with the same passphrase as the extension.
//!
//! The modules at the top level are plain Rust (tested natively with `cargo test`); only
//! [`web`] touches the browser (Leptos components, IndexedDB, fetch, canvas).
//!
//! - [`error`]: the app's typed errors, with messages a user can act on.
//! - [`routes`]: the views and their paths.
//! - [`profile`]: records -> graph, overview, alignment and changes, in one value.
//! - [`layout`]: the force-directed layout (grid-approximated repulsion, springs, cooling).
//! - [`drawing`]: what the graph view draws: nodes, edges, colours, sizes, local graphs.
//! - [`viewport`]: the graph's pan and zoom, fitting it to the canvas, hit testing.
//! - [`scene`]: the graph view's state: visibility, selection, gestures, keys, frame pacing.
//! - [`charts`]: scales, ticks and SVG paths for the charts.
//! - [`table`]: searching and paging the answers.
//! - [`exports`]: the graph-based export files and their names and types.
//! - [`snapshots`]: what each agent was last told (for staleness), sealed under the vault key.
//! - [`text`]: formatting answers, dates, percentages.
#![forbid(unsafe_code)]

pub mod charts;
pub mod drawing;
pub mod error;
pub mod exports;
pub mod layout;
pub mod profile;
pub mod routes;
pub mod scene;
pub mod snapshots;
pub mod table;
pub mod text;
pub mod viewport;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::AppError;
