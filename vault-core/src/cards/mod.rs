//! Micro-training content and the adaptive card scheduler.
//!
//! - [`library`]: the card library (`assets/cards/`), validated when the crate builds.
//! - [`belief`]: what the answers so far say about each facet of the profile, with
//!   confidence that decays like memory (FSRS's power forgetting curve).
//! - [`scheduler`]: picks the card with the highest expected information gain that fits the
//!   time left in the AI's generation, within the user's caps, pauses and spacing.

pub mod belief;
pub mod context;
pub mod graph;
pub mod library;
pub mod scheduler;
pub mod simulation;

pub use library::{Card, CardContext, CardKind, Facet, Library, NodeKind};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/card_files.rs"));
}

/// The library shipped with this build (validated by the build script, so this cannot fail).
pub fn builtin() -> &'static Library {
    static LIB: std::sync::OnceLock<Library> = std::sync::OnceLock::new();
    LIB.get_or_init(|| Library::parse(embedded::FILES).expect("validated at build time"))
}
