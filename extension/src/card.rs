//! What the card frame decides, without the browser: which answer the card holds, what a
//! key does, and the save request with its timings. The frame's browser side
//! (`web/card/`) only wires these to the DOM, so they are tested natively here.

use vault_core::cards::answer::{from_pick, CardShape, Pick};
use vault_core::{Answer, CardType};

use crate::protocol::{CardOffer, SaveAnswer};

impl CardOffer {
    /// The card as the one answer mapping sees it ([`vault_core::cards::answer`]).
    pub fn shape(&self) -> CardShape<'_> {
        CardShape {
            card_type: self.card_type,
            options: &self.options,
            scale: self.scale.as_ref(),
        }
    }
}

/// The answer meaning "the user picked control `n`" (counted from 0, as shown).
pub fn answer_at(offer: &CardOffer, n: usize) -> Option<Answer> {
    from_pick(offer.shape(), Pick::Nth(n)).ok()
}

/// The answer the card holds right now, if the user entered one: the words typed on a
/// short-text card, else the control selected.
pub fn current_answer(offer: &CardOffer, selected: Option<usize>, text: &str) -> Option<Answer> {
    if offer.card_type == CardType::ShortText {
        return from_pick(offer.shape(), Pick::Value(text)).ok();
    }
    answer_at(offer, selected?)
}

/// What a key does on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    /// Esc: close the card, saved as dismissed.
    Dismiss,
    /// Enter: save the answer the card holds (if any).
    Submit,
    /// A digit: select control `n` (from 0).
    Select(usize),
}

/// Digits pick, Enter submits, Esc dismisses. Digits are text on a short-text card, and a
/// digit past the card's controls does nothing.
pub fn key_action(offer: &CardOffer, key: &str) -> Option<KeyAction> {
    match key {
        "Escape" => Some(KeyAction::Dismiss),
        "Enter" => Some(KeyAction::Submit),
        _ if offer.card_type == CardType::ShortText => None,
        _ => {
            let mut chars = key.chars();
            let digit = chars.next()?.to_digit(10)? as usize;
            let count = offer.shape().choice_count();
            (chars.next().is_none() && (1..=count).contains(&digit))
                .then(|| KeyAction::Select(digit - 1))
        }
    }
}

/// When the card was on screen, on the page's clock (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// The generation started (none when it is already over).
    pub wait_started: Option<f64>,
    pub shown_at: f64,
    pub now: f64,
}

/// The request that saves `answer` to `offer` on `agent`'s page at `origin`: how long the
/// user took to answer, and how long the AI had been generating when the card showed.
pub fn save_request(
    offer: &CardOffer,
    answer: Answer,
    agent: String,
    origin: String,
    timing: Timing,
    after_failure: bool,
) -> SaveAnswer {
    let ms = |d: f64| d.clamp(0.0, f64::from(u32::MAX)) as u32;
    SaveAnswer {
        card_id: offer.id.clone(),
        card_version: offer.version,
        card_type: offer.card_type,
        answer,
        agent,
        origin,
        answer_latency_ms: ms(timing.now - timing.shown_at),
        wait_duration_ms: timing.wait_started.map_or(0, |w| ms(timing.shown_at - w)),
        retry_after_ai_failure: after_failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vault_core::cards::builtin;

    /// The offers of every card in the library, as the background sends them.
    fn offers() -> Vec<CardOffer> {
        builtin()
            .cards
            .iter()
            .map(|c| CardOffer {
                id: c.id.clone(),
                version: c.version,
                card_type: c.kind.into(),
                text: c.text.clone(),
                options: c.options.clone(),
                scale: c.scale.clone(),
                delay_ms: 0,
            })
            .collect()
    }

    #[test]
    fn digits_select_the_cards_controls_and_nothing_past_them() {
        for offer in offers() {
            let count = offer.shape().choice_count();
            assert_eq!(key_action(&offer, "Escape"), Some(KeyAction::Dismiss));
            assert_eq!(key_action(&offer, "Enter"), Some(KeyAction::Submit));
            for d in 1..=9 {
                let want = (d <= count).then_some(KeyAction::Select(d - 1));
                assert_eq!(key_action(&offer, &d.to_string()), want, "{}", offer.id);
            }
            assert_eq!(key_action(&offer, "0"), None);
            assert_eq!(key_action(&offer, "a"), None);
            assert_eq!(key_action(&offer, "12"), None);
            assert_eq!(key_action(&offer, "ArrowDown"), None);
        }
    }

    #[test]
    fn the_card_holds_the_selected_control_or_the_words_typed() {
        let mut seen = std::collections::BTreeSet::new();
        for offer in offers() {
            seen.insert(format!("{:?}", offer.card_type));
            let card = builtin().card(&offer.id).unwrap();
            if offer.card_type == CardType::ShortText {
                assert_eq!(current_answer(&offer, Some(0), " "), None);
                assert_eq!(
                    current_answer(&offer, None, " a thesis "),
                    Some(Answer::ShortText {
                        text: "a thesis".into()
                    })
                );
                continue;
            }
            assert_eq!(current_answer(&offer, None, "typed"), None);
            for n in 0..offer.shape().choice_count() {
                let answer = current_answer(&offer, Some(n), "").unwrap();
                assert_eq!(
                    vault_core::cards::belief::answer_index(card, &answer),
                    Some(n),
                    "{}: control {n}",
                    offer.id
                );
            }
        }
        assert_eq!(seen.len(), 5, "every card type: {seen:?}");
    }

    #[test]
    fn save_requests_time_the_answer_and_the_wait() {
        let offer = &offers()[0];
        let timing = Timing {
            wait_started: Some(1_000.0),
            shown_at: 4_000.0,
            now: 6_500.0,
        };
        let save = save_request(
            offer,
            Answer::Skipped,
            "chatgpt".into(),
            "https://chatgpt.com".into(),
            timing,
            true,
        );
        assert_eq!(
            (save.answer_latency_ms, save.wait_duration_ms),
            (2_500, 3_000)
        );
        assert!(save.retry_after_ai_failure);
        assert_eq!(
            (save.card_id.as_str(), save.card_version, save.card_type),
            (offer.id.as_str(), offer.version, offer.card_type)
        );
        // A clock that went backwards, or no generation open: zero, never a wrap.
        let odd = Timing {
            wait_started: None,
            shown_at: 4_000.0,
            now: 3_000.0,
        };
        let save = save_request(offer, Answer::Dismissed, "a".into(), "b".into(), odd, false);
        assert_eq!((save.answer_latency_ms, save.wait_duration_ms), (0, 0));
    }
}
