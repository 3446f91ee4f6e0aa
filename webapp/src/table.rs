//! The Data view's table: every answer, searchable, newest first, a page at a time (the DOM
//! never holds ten thousand rows), and editing one answer.

use vault_core::cards::answer::{from_pick, picked_value, CardShape, Pick, PickError};
use vault_core::cards::library::{CardOption, Library, Scale};
use vault_core::{Answer, AnswerRecord};

use crate::text::{answer_text, question_text};

/// Rows per page.
pub const PAGE: usize = 50;

/// Indices into `records` matching `query` in the question, the answer, the agent or the
/// record id (case-insensitive; every word must match), newest first.
pub fn search(lib: &Library, records: &[AnswerRecord], query: &str) -> Vec<usize> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut hits: Vec<usize> = (0..records.len())
        .filter(|&i| {
            if words.is_empty() {
                return true;
            }
            let r = &records[i];
            let hay = format!(
                "{} {} {} {} {}",
                question_text(lib, r),
                answer_text(lib, r),
                r.namespace,
                r.id,
                r.prompt_id
            )
            .to_lowercase();
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect();
    vault_core::sort::sort_by(&mut hits, |&a, &b| {
        records[b]
            .captured_at_ms
            .cmp(&records[a].captured_at_ms)
            .then(records[b].id.cmp(&records[a].id))
    });
    hits
}

/// The slice of `hits` on page `page` (0-based, clamped), and the page count.
pub fn page(hits: &[usize], page: usize) -> (&[usize], usize) {
    let pages = hits.len().div_ceil(PAGE).max(1);
    let p = page.min(pages - 1);
    let start = p * PAGE;
    (
        &hits[start.min(hits.len())..(start + PAGE).min(hits.len())],
        pages,
    )
}

/// The options the editor offers for an answer: its library card's, in the card's order.
pub fn edit_options(lib: &Library, r: &AnswerRecord) -> Vec<CardOption> {
    lib.card(&r.prompt_id)
        .map(|c| c.options.clone())
        .unwrap_or_default()
}

/// The value the editor starts from (what [`edited`] takes back).
pub fn edit_value(r: &AnswerRecord) -> String {
    picked_value(&r.answer).unwrap_or_default()
}

/// `r` with its answer changed to `value` (the editor's choice, number or words), built by
/// the one answer mapping ([`vault_core::cards::answer`]) on the card as the record was
/// answered: the library card's options and the record's own scale. A card no longer in the
/// library is checked against the values the record holds.
pub fn edited(lib: &Library, r: &AnswerRecord, value: &str) -> Result<AnswerRecord, String> {
    if matches!(r.answer, Answer::Skipped | Answer::Dismissed) {
        return Err("a skipped card has no answer to edit".into());
    }
    let mut options = edit_options(lib, r);
    if options.is_empty() {
        let held: &[&String] = match &r.answer {
            Answer::Choice { option } => &[option],
            Answer::Pairwise { picked, over } => &[picked, over],
            _ => &[],
        };
        options = held
            .iter()
            .map(|v| CardOption {
                label: (*v).clone(),
                value: (*v).clone(),
            })
            .collect();
    }
    let scale = match r.answer {
        Answer::Scale { min, max, .. } => Some(Scale {
            min,
            max,
            min_label: String::new(),
            max_label: String::new(),
        }),
        _ => None,
    };
    let card = CardShape {
        card_type: r.card_type,
        options: &options,
        scale: scale.as_ref(),
    };
    let answer = from_pick(card, Pick::Value(value)).map_err(|e| match e {
        PickError::EmptyText => "the answer is empty: delete it instead".to_owned(),
        e => e.to_string(),
    })?;
    Ok(AnswerRecord {
        answer,
        ..r.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vault_core::cards::builtin;
    use vault_core::graph::synthetic;

    #[test]
    fn searches_and_pages() {
        let lib = builtin();
        let records = synthetic::answers(lib, 120, 1_700_000_000_000, 1);
        let all = search(lib, &records, "");
        assert_eq!(all.len(), 120);
        assert!(records[all[0]].captured_at_ms >= records[all[1]].captured_at_ms);
        let id = records[5].id.to_string();
        assert_eq!(search(lib, &records, &id), vec![5]);
        let claude = search(lib, &records, "CLAUDE");
        assert!(!claude.is_empty() && claude.len() < 120);
        let (rows, pages) = page(&all, 2);
        assert_eq!(pages, 3);
        assert_eq!(rows.len(), 20);
        let (rows, _) = page(&all, 99);
        assert_eq!(rows.len(), 20);
    }

    #[test]
    fn edits_build_the_answer_the_card_would() {
        let lib = builtin();
        let records = synthetic::answers(lib, 400, 1_700_000_000_000, 4);
        let mut kinds = std::collections::BTreeSet::new();
        for r in &records {
            if matches!(r.answer, Answer::Skipped | Answer::Dismissed) {
                assert_eq!(
                    edited(lib, r, "x"),
                    Err("a skipped card has no answer to edit".into())
                );
                continue;
            }
            kinds.insert(format!("{:?}", r.card_type));
            // Saving the starting value gives the same record back.
            assert_eq!(edited(lib, r, &edit_value(r)).as_ref(), Ok(r));
        }
        assert_eq!(kinds.len(), 5, "every card type was edited: {kinds:?}");
        // A pair's two sides are its first two options; the third is "neither / depends".
        let sides = |r: &AnswerRecord| -> Vec<String> {
            edit_options(lib, r)
                .iter()
                .take(2)
                .map(|o| o.value.clone())
                .collect()
        };
        let pairwise = records
            .iter()
            .find(|r| match &r.answer {
                Answer::Pairwise { picked, over } => {
                    let sides = sides(r);
                    sides.contains(picked) && sides.contains(over)
                }
                _ => false,
            })
            .expect("the demo data picks a side of some pair");
        let Answer::Pairwise { picked, over } = &pairwise.answer else {
            unreachable!()
        };
        assert_eq!(
            edited(lib, pairwise, over).unwrap().answer,
            Answer::Pairwise {
                picked: over.clone(),
                over: picked.clone()
            },
            "picking the other side swaps the pair"
        );
        let neither = edit_options(lib, pairwise)[2].value.clone();
        let Answer::Pairwise {
            picked: now,
            over: not,
        } = edited(lib, pairwise, &neither).unwrap().answer
        else {
            panic!("a pair's answer stays a pair")
        };
        assert_eq!(now, neither, "picking neither / depends records it");
        assert!(sides(pairwise).contains(&not), "over one of the two sides");
        let scale = records
            .iter()
            .find(|r| matches!(r.answer, Answer::Scale { .. }))
            .unwrap();
        let Answer::Scale { min, max, .. } = scale.answer else {
            unreachable!()
        };
        assert_eq!(
            edited(lib, scale, &(max + 1).to_string()),
            Err(format!("enter a whole number from {min} to {max}"))
        );
        let text = records
            .iter()
            .find(|r| matches!(r.answer, Answer::ShortText { .. }))
            .unwrap();
        assert_eq!(
            edited(lib, text, "  "),
            Err("the answer is empty: delete it instead".into())
        );
        let choice = records
            .iter()
            .find(|r| matches!(r.answer, Answer::Choice { .. }))
            .unwrap();
        assert!(edited(lib, choice, "not-a-value").is_err());
        // A card gone from the library still takes the values the record holds.
        let orphan = AnswerRecord {
            prompt_id: "gone.card".into(),
            ..pairwise.clone()
        };
        assert!(edited(lib, &orphan, over).is_ok());
        assert!(edited(lib, &orphan, "other").is_err());
    }
}
