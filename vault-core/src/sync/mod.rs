//! Sync: an offline-first, incremental, end-to-end encrypted engine shared by the extension,
//! the web app and the command line.
//!
//! - [`merge`]: what to push and how to apply pulled entries (last writer wins by HLC, losers
//!   kept as conflicts, tampered entries refused). No network.
//! - [`transport`]: the one HTTP call the engine needs, as a trait; `fetch` in browsers
//!   ([`transport::FetchTransport`]), any client natively.
//! - [`account`]: a device's account ([`Account`]): register, log in, join, one round with
//!   one re-login on 401, passphrase change with rollback, devices, sign-out. Every front end
//!   uses it.
//! - [`wire`]: the API's request and response bodies, error codes and paths, shared with the
//!   server (whose OpenAPI document is generated from them).
//! - [`client`]: the sync API (accounts, sessions, push, pull) and [`client::sync`], one full
//!   round: pull since the stored cursor, apply, push pending changes in batches, acknowledge.
//! - [`backoff`]: when to try again after a failure (exponential, jittered, honours
//!   `Retry-After`).
//!
//! The protocol is in docs/SYNC.md.

pub mod account;
pub mod backoff;
pub mod client;
mod merge;
pub mod transport;
pub mod wire;

pub use account::{Account, AccountError};
pub use backoff::Backoff;
pub use client::{sync, sync_observing, Client, Session, SyncError, SyncReport};
pub use merge::{precedence, ApplyReport, Change, Conflict, Keep};
pub use transport::{HttpRequest, HttpResponse, Transport};
