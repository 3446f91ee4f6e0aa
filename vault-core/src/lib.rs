//! # vault-core
//!
//! The platform-neutral heart of SelfOS, shared by the extension, the web app and the sync
//! server: the record model ([`record`]), the key hierarchy and envelope ([`crypto`]), the
//! hybrid logical clock and change log ([`hlc`], [`store`]), the vault itself ([`Vault`]),
//! whole-vault backup and export ([`backup`]), and the knowledge graph with its metrics and
//! exports ([`graph`]).
//!
//! Everything compiles natively and to `wasm32-unknown-unknown`. In the browser, key
//! derivation runs on WebCrypto and storage on IndexedDB ([`store::indexeddb`]); natively,
//! on pure Rust and [`store::MemoryStore`].
#![forbid(unsafe_code)]

pub mod agents;
pub mod backup;
pub mod cards;
mod codec;
pub mod crypto;
pub mod delivery;
pub mod error;
pub mod graph;
pub mod header;
pub mod hlc;
mod join;
mod own_kind;
pub mod proposal;
pub mod record;
pub mod sort;
pub mod store;
pub mod sync;
pub mod text;
pub mod time;
pub mod vault;

#[cfg(test)]
mod vectors;

pub use crypto::kdf::{KdfParams, Passphrase};
pub use crypto::keys::{AuthSecret, VaultKey};
pub use error::{CryptoError, StoreError, VaultError};
pub use header::VaultHeader;
pub use hlc::{Hlc, HlcClock};
pub use record::{Answer, AnswerRecord, CardType, Namespace, Origin, RecordFlags, RecordId};
pub use store::{MemoryStore, PendingChange, StoredRecord, VaultStore};
pub use vault::{Listing, ListingBuilder, Opened, RecordFailure, Rotation, Vault};
