//! Micro-training content and the adaptive card scheduler.
//!
//! - [`library`]: the card library (`assets/cards/`), validated when the crate builds.
//! - [`answer`]: the answer a pick on a card gives (every front end builds answers here).
//! - [`contradiction`]: when a facet's recent answers split (the belief and the graph agree).
//! - [`belief`]: what the answers so far say about each facet of the profile, with
//!   confidence that decays like memory (FSRS's power forgetting curve).
//! - [`scheduler`]: picks the card with the highest expected information gain that fits the
//!   time left in the AI's generation, within the user's caps, pauses and spacing.

pub mod answer;
pub mod belief;
pub mod context;
pub mod contradiction;
pub mod graph;
pub mod library;
pub mod scheduler;
pub mod simulation;

pub use library::{Card, CardContext, CardKind, Facet, Library, NodeKind};

use crate::record::CardType;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/card_files.rs"));
}

/// The library shipped with this build (validated by the build script, so this cannot fail).
pub fn builtin() -> &'static Library {
    static LIB: std::sync::OnceLock<Library> = std::sync::OnceLock::new();
    LIB.get_or_init(|| Library::parse(embedded::FILES).expect("validated at build time"))
}

/// A record keeps the kind of card that was shown, so the graph can read an answer
/// without the library it came from.
impl From<CardKind> for CardType {
    fn from(kind: CardKind) -> Self {
        match kind {
            CardKind::Choice => CardType::Choice,
            CardKind::Scale => CardType::Scale,
            CardKind::Pairwise => CardType::Pairwise,
            CardKind::ShortText => CardType::ShortText,
            CardKind::YesNo => CardType::YesNo,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A card kind becomes the record's card type of the same name (the names are the
    /// stored format on both sides).
    #[test]
    fn card_kind_becomes_the_card_type_of_the_same_name() {
        for name in ["choice", "scale", "pairwise", "short_text", "yes_no"] {
            let kind: CardKind = serde_json::from_value(serde_json::json!(name)).unwrap();
            let card_type = CardType::from(kind);
            assert_eq!(serde_json::to_value(card_type).unwrap(), name);
        }
    }
}
