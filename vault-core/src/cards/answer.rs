//! From what the user picked on a card to the answer stored in the record: one mapping for
//! every front end (the extension's card frame, the web app's data view, the simulation, the
//! demo and benchmark data), so a card type's answer is built the same way everywhere.
//!
//! A card is seen through its [`CardShape`] (type, options, scale), which the library's
//! [`Card`] and the extension's card offer both have. A [`Pick`] names what the user chose:
//! the n-th control as shown, or a value by its stored name. [`from_pick`] checks the pick
//! against the card and says in a [`PickError`] what was wrong, in words a user can act on.

use super::library::{Card, CardKind, CardOption, Scale};
use crate::record::{Answer, CardType};

/// What answering a card needs to know about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardShape<'a> {
    pub card_type: CardType,
    /// The options in the order shown (choice, pairwise, yes/no cards).
    pub options: &'a [CardOption],
    /// The scale of a scale card.
    pub scale: Option<&'a Scale>,
}

impl<'a> From<&'a Card> for CardShape<'a> {
    fn from(card: &'a Card) -> Self {
        CardShape {
            card_type: card.kind.into(),
            options: &card.options,
            // Only a scale card's scale counts (the library rejects a scale on any other).
            scale: card.scale.as_ref().filter(|_| card.kind == CardKind::Scale),
        }
    }
}

/// What the user chose on a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick<'a> {
    /// The n-th control, counted from 0 in the order shown: an option (choice, pairwise),
    /// Yes then No (yes/no), or a scale point counted from the scale's minimum. This is what
    /// a click or a digit key picks.
    Nth(usize),
    /// A value by its stored name: an option's value (choice, pairwise), `yes` or `no`, a
    /// scale point in digits, or the words of a short-text answer. This is what an editor
    /// or a generator holds.
    Value(&'a str),
}

/// Why a pick does not answer a card.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickError {
    #[error("choice {number} is not on this card, which has {count}")]
    NoSuchChoice { number: usize, count: usize },
    #[error("`{0}` is not one of this card's answers")]
    NotAnOption(String),
    #[error("this card has one option only")]
    NoOtherOption,
    #[error("enter a whole number from {min} to {max}")]
    OffScale { min: i32, max: i32 },
    #[error("this scale card has no scale; the card is broken, skip it")]
    NoScale,
    #[error("a short-text card is answered in words, not by picking a choice")]
    NotAChoiceCard,
    #[error("the answer is empty")]
    EmptyText,
    #[error("the answer is longer than {max} characters; shorten it")]
    TextTooLong { max: usize },
}

/// Yes/no cards show Yes then No; their stored values.
const YES_NO: [&str; 2] = ["yes", "no"];

impl CardShape<'_> {
    /// How many controls the card shows (what [`Pick::Nth`] counts): 0 for short text.
    pub fn choice_count(&self) -> usize {
        match self.card_type {
            CardType::Choice | CardType::Pairwise => self.options.len(),
            CardType::YesNo => 2,
            CardType::Scale => self
                .scale
                .map(|s| usize::try_from(s.max - s.min + 1).unwrap_or(0))
                .unwrap_or(0),
            CardType::ShortText => 0,
        }
    }

    /// The labels of the card's controls, in the order [`Pick::Nth`] counts them.
    pub fn choice_labels(&self) -> Vec<String> {
        match self.card_type {
            CardType::Choice | CardType::Pairwise => {
                self.options.iter().map(|o| o.label.clone()).collect()
            }
            CardType::YesNo => vec!["Yes".into(), "No".into()],
            CardType::Scale => self
                .scale
                .map(|s| (s.min..=s.max).map(|v| v.to_string()).collect())
                .unwrap_or_default(),
            CardType::ShortText => Vec::new(),
        }
    }

    fn option_at(&self, n: usize) -> Result<&CardOption, PickError> {
        self.options.get(n).ok_or(PickError::NoSuchChoice {
            number: n + 1,
            count: self.options.len(),
        })
    }

    fn option_named(&self, value: &str) -> Result<&CardOption, PickError> {
        self.options
            .iter()
            .find(|o| o.value == value)
            .ok_or_else(|| PickError::NotAnOption(value.to_owned()))
    }

    fn pairwise(&self, picked: &CardOption) -> Result<Answer, PickError> {
        let over = self
            .options
            .iter()
            .find(|o| o.value != picked.value)
            .ok_or(PickError::NoOtherOption)?;
        Ok(Answer::Pairwise {
            picked: picked.value.clone(),
            over: over.value.clone(),
        })
    }

    fn scale_point(&self, value: i32) -> Result<Answer, PickError> {
        let s = self.scale.ok_or(PickError::NoScale)?;
        if s.min < s.max && (s.min..=s.max).contains(&value) {
            Ok(Answer::Scale {
                value,
                min: s.min,
                max: s.max,
            })
        } else {
            Err(PickError::OffScale {
                min: s.min,
                max: s.max,
            })
        }
    }
}

/// The answer that `pick` gives on `card`.
pub fn from_pick(card: CardShape<'_>, pick: Pick<'_>) -> Result<Answer, PickError> {
    match (card.card_type, pick) {
        (CardType::ShortText, Pick::Nth(_)) => Err(PickError::NotAChoiceCard),
        (CardType::ShortText, Pick::Value(text)) => {
            let text = text.trim();
            if text.is_empty() {
                Err(PickError::EmptyText)
            } else if text.chars().count() > Answer::MAX_TEXT_LEN {
                Err(PickError::TextTooLong {
                    max: Answer::MAX_TEXT_LEN,
                })
            } else {
                Ok(Answer::ShortText {
                    text: text.to_owned(),
                })
            }
        }
        (CardType::Choice, Pick::Nth(n)) => Ok(Answer::Choice {
            option: card.option_at(n)?.value.clone(),
        }),
        (CardType::Choice, Pick::Value(v)) => Ok(Answer::Choice {
            option: card.option_named(v)?.value.clone(),
        }),
        (CardType::Pairwise, Pick::Nth(n)) => card.pairwise(card.option_at(n)?),
        (CardType::Pairwise, Pick::Value(v)) => card.pairwise(card.option_named(v)?),
        (CardType::YesNo, Pick::Nth(n)) if n < YES_NO.len() => Ok(Answer::YesNo { value: n == 0 }),
        (CardType::YesNo, Pick::Nth(n)) => Err(PickError::NoSuchChoice {
            number: n + 1,
            count: YES_NO.len(),
        }),
        (CardType::YesNo, Pick::Value(v)) => match YES_NO.iter().position(|y| *y == v) {
            Some(n) => Ok(Answer::YesNo { value: n == 0 }),
            None => Err(PickError::NotAnOption(v.to_owned())),
        },
        (CardType::Scale, Pick::Nth(n)) => {
            let min = card.scale.ok_or(PickError::NoScale)?.min;
            let count = card.choice_count();
            let value = i32::try_from(n)
                .ok()
                .filter(|_| n < count)
                .and_then(|n| min.checked_add(n))
                .ok_or(PickError::NoSuchChoice {
                    number: n.saturating_add(1),
                    count,
                })?;
            card.scale_point(value)
        }
        (CardType::Scale, Pick::Value(v)) => {
            let s = card.scale.ok_or(PickError::NoScale)?;
            let value = v.trim().parse().map_err(|_| PickError::OffScale {
                min: s.min,
                max: s.max,
            })?;
            card.scale_point(value)
        }
    }
}

/// The [`Pick::Value`] that gives `answer` back: what an editor starts from. `None` for a
/// skip or a dismissal, which picked nothing.
pub fn picked_value(answer: &Answer) -> Option<String> {
    match answer {
        Answer::Choice { option } => Some(option.clone()),
        Answer::Pairwise { picked, .. } => Some(picked.clone()),
        Answer::YesNo { value } => Some(YES_NO[usize::from(!*value)].to_owned()),
        Answer::Scale { value, .. } => Some(value.to_string()),
        Answer::ShortText { text } => Some(text.clone()),
        Answer::Skipped | Answer::Dismissed => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cards::belief::answer_index;
    use crate::cards::builtin;
    use crate::record::{AnswerRecord, Namespace, RecordFlags, RecordId};

    fn record(card: &Card, answer: Answer) -> AnswerRecord {
        AnswerRecord {
            id: RecordId::from_bytes([7; 16]),
            prompt_id: card.id.clone(),
            prompt_version: card.version,
            card_type: card.kind.into(),
            answer,
            namespace: Namespace::new("chatgpt").unwrap(),
            origin: None,
            page_context: None,
            captured_at_ms: 1_700_000_000_000,
            answer_latency_ms: 2_000,
            wait_duration_ms: 5_000,
            flags: RecordFlags::default(),
        }
    }

    /// Every control of every card in the library gives a valid record, the answer the
    /// belief model reads back as that same control, and the same answer when picked by value.
    #[test]
    fn every_library_card_maps_each_control_to_a_valid_answer() {
        let lib = builtin();
        let mut kinds = std::collections::BTreeSet::new();
        for card in &lib.cards {
            kinds.insert(format!("{:?}", card.kind));
            let shape = CardShape::from(card);
            let count = shape.choice_count();
            assert_eq!(shape.choice_labels().len(), count, "{}", card.id);
            if card.kind == CardKind::ShortText {
                assert_eq!(count, 0);
                assert_eq!(
                    from_pick(shape, Pick::Nth(0)),
                    Err(PickError::NotAChoiceCard)
                );
                let answer = from_pick(shape, Pick::Value("  rust  ")).unwrap();
                assert_eq!(
                    answer,
                    Answer::ShortText {
                        text: "rust".into()
                    }
                );
                record(card, answer).validate().unwrap();
                continue;
            }
            assert!(count >= 2, "{} shows {count} controls", card.id);
            for n in 0..count {
                let answer = from_pick(shape, Pick::Nth(n))
                    .unwrap_or_else(|e| panic!("{} control {n}: {e}", card.id));
                record(card, answer.clone())
                    .validate()
                    .unwrap_or_else(|e| panic!("{} control {n}: {e}", card.id));
                assert_eq!(answer_index(card, &answer), Some(n), "{}", card.id);
                let value = picked_value(&answer).unwrap();
                assert_eq!(from_pick(shape, Pick::Value(&value)), Ok(answer));
            }
            assert_eq!(
                from_pick(shape, Pick::Nth(count)),
                Err(PickError::NoSuchChoice {
                    number: count + 1,
                    count
                }),
                "{}: a control past the last",
                card.id
            );
        }
        assert_eq!(kinds.len(), 5, "the library has every card type: {kinds:?}");
    }

    fn option(value: &str) -> CardOption {
        CardOption {
            label: value.to_uppercase(),
            value: value.into(),
        }
    }

    #[test]
    fn invalid_picks_say_what_is_wrong() {
        let two = [option("brief"), option("detailed")];
        let choice = CardShape {
            card_type: CardType::Choice,
            options: &two,
            scale: None,
        };
        assert_eq!(
            from_pick(choice, Pick::Nth(2)),
            Err(PickError::NoSuchChoice {
                number: 3,
                count: 2
            })
        );
        assert_eq!(
            from_pick(choice, Pick::Value("long")),
            Err(PickError::NotAnOption("long".into()))
        );
        let lonely = [option("brief")];
        let pairwise = CardShape {
            card_type: CardType::Pairwise,
            options: &lonely,
            scale: None,
        };
        assert_eq!(
            from_pick(pairwise, Pick::Nth(0)),
            Err(PickError::NoOtherOption)
        );
        let yes_no = CardShape {
            card_type: CardType::YesNo,
            options: &two,
            scale: None,
        };
        assert_eq!(
            from_pick(yes_no, Pick::Value("maybe")),
            Err(PickError::NotAnOption("maybe".into()))
        );
        assert_eq!(
            from_pick(yes_no, Pick::Value("no")),
            Ok(Answer::YesNo { value: false })
        );
        let scale = Scale {
            min: 1,
            max: 5,
            min_label: "low".into(),
            max_label: "high".into(),
        };
        let on_scale = CardShape {
            card_type: CardType::Scale,
            options: &[],
            scale: Some(&scale),
        };
        for bad in ["0", "6", "three", ""] {
            assert_eq!(
                from_pick(on_scale, Pick::Value(bad)),
                Err(PickError::OffScale { min: 1, max: 5 }),
                "{bad}"
            );
        }
        assert_eq!(
            from_pick(on_scale, Pick::Nth(usize::MAX)).map_err(|e| e.to_string()),
            Err(format!(
                "choice {} is not on this card, which has 5",
                usize::MAX
            ))
        );
        assert_eq!(
            from_pick(on_scale, Pick::Value(" 4 ")),
            Ok(Answer::Scale {
                value: 4,
                min: 1,
                max: 5
            })
        );
        let no_scale = CardShape {
            scale: None,
            ..on_scale
        };
        assert_eq!(from_pick(no_scale, Pick::Nth(0)), Err(PickError::NoScale));
        assert_eq!(no_scale.choice_count(), 0);
        let text = CardShape {
            card_type: CardType::ShortText,
            options: &[],
            scale: None,
        };
        assert_eq!(
            from_pick(text, Pick::Value("  ")),
            Err(PickError::EmptyText)
        );
        let long = "x".repeat(Answer::MAX_TEXT_LEN + 1);
        assert_eq!(
            from_pick(text, Pick::Value(&long)),
            Err(PickError::TextTooLong {
                max: Answer::MAX_TEXT_LEN
            })
        );
        assert_eq!(picked_value(&Answer::Skipped), None);
        assert_eq!(
            picked_value(&Answer::YesNo { value: true }).as_deref(),
            Some("yes")
        );
    }
}
