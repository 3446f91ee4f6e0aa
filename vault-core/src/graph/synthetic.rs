//! The one generator of made-up answers, for the graph benchmark (native and wasm), tests and
//! `selfos demo`: a synthetic user with a hidden profile (one value per facet, per agent
//! where the facet is per agent), answering 85% in line with it, skipping 5%, changing their
//! mind about a facet now and then, in sessions of a few cards minutes apart, on three
//! agents. A [`Pace`] says how often they answer. Same seed, same records (ids included).

use crate::cards::answer::{from_pick, CardShape, Pick};
use crate::cards::library::{CardContext, CardKind, Library};
use crate::cards::scheduler::splitmix;
use crate::record::{Answer, AnswerRecord, Namespace, RecordFlags, RecordId};

const AGENTS: [&str; 3] = ["chatgpt", "claude", "gemini"];
/// Free-text answers, per open facet: what this person would write to that very question
/// (a demo's instructions read like a person, not "Never do: Python for quick scripts").
/// One entry where a person has one answer (their first language).
const TEXTS: &[(&str, &[&str])] = &[
    (
        "goals.this-week",
        &[
            "ship the sync feature",
            "a talk for the team offsite",
            "moving our reports to Rust",
        ],
    ),
    (
        "goals.skill-to-grow",
        &[
            "Rust and WebAssembly",
            "data engineering",
            "public speaking",
        ],
    ),
    (
        "agent.change",
        &[
            "keep answers under a page",
            "fewer caveats",
            "ask before writing long answers",
        ],
    ),
    (
        "values.never",
        &[
            "make up sources",
            "send anything in my name without asking",
            "pad answers with flattery",
        ],
    ),
    ("constraints.first-language", &["Dutch"]),
    (
        "work.learned",
        &[
            "prefers examples before theory",
            "likes plain words, no hype",
        ],
    ),
];

/// The free-text answers the synthetic user gives to a question on `facet` (empty: none,
/// the question is skipped).
pub fn texts_for(facet: &str) -> &'static [&'static str] {
    TEXTS
        .iter()
        .find(|(f, _)| *f == facet)
        .map_or(&[], |(_, texts)| *texts)
}
const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 24 * 60 * MINUTE_MS;

/// How often the synthetic user answers: sessions of one to `max_session_cards` cards, each
/// gap `min + [0, spread)` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub max_session_cards: usize,
    /// Between two cards of a session.
    pub card_gap_ms: (u64, u64),
    /// From the last card of a session to the first of the next.
    pub session_gap_ms: (u64, u64),
}

impl Pace {
    /// A heavy user (the benchmark's): one to six cards a few minutes apart, forty minutes
    /// to eight hours between sessions (about 17 answers a day).
    pub const HEAVY: Pace = Pace {
        max_session_cards: 6,
        card_gap_ms: (MINUTE_MS, 3 * MINUTE_MS),
        session_gap_ms: (40 * MINUTE_MS, 440 * MINUTE_MS),
    };
    /// An everyday user (the demo account's): about one session of one to five cards a day.
    pub const DAILY: Pace = Pace {
        max_session_cards: 5,
        card_gap_ms: (MINUTE_MS, 3 * MINUTE_MS),
        session_gap_ms: (16 * 60 * MINUTE_MS, 16 * 60 * MINUTE_MS),
    };
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = splitmix(self.0);
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn below_ms(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn percent(&mut self) -> usize {
        self.below(100)
    }
}

/// `n` answers of a heavy user ([`Pace::HEAVY`]) starting at `start_ms`, in time order.
pub fn answers(lib: &Library, n: usize, start_ms: u64, seed: u64) -> Vec<AnswerRecord> {
    generate(lib, seed, start_ms, &Pace::HEAVY, |count, _| count < n)
}

/// `n` answers of a heavy user, moved in time so the newest is a minute before `now_ms` (a
/// heavy user's vault today, for the web app's benchmark).
pub fn answers_until(lib: &Library, n: usize, now_ms: u64, seed: u64) -> Vec<AnswerRecord> {
    ending_at(answers(lib, n, 0, seed), now_ms)
}

/// The answers a user at `pace` gave over `days` days, moved in time so the newest is a
/// minute before `now_ms` (so the user answered today or yesterday: a live streak).
pub fn days_until(
    lib: &Library,
    days: u64,
    now_ms: u64,
    pace: &Pace,
    seed: u64,
) -> Vec<AnswerRecord> {
    let span = days.saturating_mul(DAY_MS);
    let records = generate(lib, seed, 0, pace, |_, at| at <= span);
    ending_at(records, now_ms)
}

/// `records` moved later so the newest is a minute before `now_ms`.
fn ending_at(mut records: Vec<AnswerRecord>, now_ms: u64) -> Vec<AnswerRecord> {
    let newest = records.iter().map(|r| r.captured_at_ms).max().unwrap_or(0);
    let shift = now_ms.saturating_sub(MINUTE_MS).saturating_sub(newest);
    for r in &mut records {
        r.captured_at_ms += shift;
    }
    records
}

/// The generator: answers from `start_ms` while `more(answers so far, time of the next)`.
fn generate(
    lib: &Library,
    seed: u64,
    start_ms: u64,
    pace: &Pace,
    mut more: impl FnMut(usize, u64) -> bool,
) -> Vec<AnswerRecord> {
    let mut rng = Rng(seed ^ 0x5e1f_0500_0000_0000);
    let agents: Vec<Namespace> = AGENTS
        .iter()
        .filter_map(|a| Namespace::new(*a).ok())
        .collect();
    // The cards a user is asked (a proposal card files accepted proposals, never asked), and
    // their facets.
    let askable: Vec<usize> = (0..lib.cards.len())
        .filter(|&i| lib.cards[i].context != Some(CardContext::Proposal))
        .collect();
    let askable_facet: std::collections::BTreeSet<usize> = askable
        .iter()
        .filter_map(|&i| lib.facet_position(&lib.cards[i].facet))
        .collect();
    // Hidden profile: [facet][agent] -> preferred value index.
    let mut truth: Vec<[usize; 3]> = lib
        .facets
        .iter()
        .enumerate()
        .map(|(fi, f)| {
            if !askable_facet.contains(&fi) {
                // Never asked (a facet only accepted proposals fill): no hidden value.
                return [0; 3];
            }
            let v = rng.below(f.values.len());
            if f.per_agent {
                [v, rng.below(f.values.len()), rng.below(f.values.len())]
            } else {
                [v; 3]
            }
        })
        .collect();
    let card_facet: Vec<Option<usize>> = lib
        .cards
        .iter()
        .map(|c| lib.facet_position(&c.facet))
        .collect();
    let mut out = Vec::new();
    let mut t = start_ms;
    'sessions: while !askable.is_empty() && !agents.is_empty() {
        // A session: one agent, a few cards a few minutes apart.
        let ai = match rng.percent() {
            0..=49 => 0,
            50..=79 => 1,
            _ => 2,
        }
        .min(agents.len() - 1);
        for _ in 0..1 + rng.below(pace.max_session_cards) {
            let at = t + pace.card_gap_ms.0 + rng.below_ms(pace.card_gap_ms.1);
            if !more(out.len(), at) {
                break 'sessions;
            }
            t = at;
            let ci = askable[rng.below(askable.len())];
            let card = &lib.cards[ci];
            let Some(fi) = card_facet[ci] else { continue };
            let facet = &lib.facets[fi];
            if !facet.values.is_empty() && rng.below(2_000) == 0 {
                truth[fi][ai] = rng.below(facet.values.len());
            }
            let want = if rng.percent() < 85 {
                truth[fi][ai]
            } else {
                rng.below(facet.values.len())
            };
            let want_id = facet.values.get(want).map(|v| v.id.as_str()).unwrap_or("");
            let answer = if rng.percent() < 5 {
                Answer::Skipped
            } else {
                // The option meaning the wanted value, else any option.
                let option = |rng: &mut Rng| {
                    card.options
                        .iter()
                        .position(|o| o.value == want_id)
                        .unwrap_or_else(|| rng.below(card.options.len()))
                };
                let pick = match card.kind {
                    CardKind::Choice | CardKind::Pairwise => Pick::Nth(option(&mut rng)),
                    CardKind::YesNo => Pick::Nth(usize::from(
                        card.options.first().is_none_or(|o| o.value != want_id),
                    )),
                    CardKind::Scale => {
                        let Some(s) = &card.scale else { continue };
                        // The wanted value's place along the scale.
                        let steps = facet.values.len().saturating_sub(1).max(1) as f64;
                        let point = (want as f64 * f64::from(s.max - s.min) / steps).round();
                        Pick::Nth((point as usize).min((s.max - s.min) as usize))
                    }
                    CardKind::ShortText => {
                        let texts = texts_for(&facet.id);
                        let Some(text) = texts.get(rng.below(texts.len())) else {
                            continue;
                        };
                        Pick::Value(text)
                    }
                };
                match from_pick(CardShape::from(card), pick) {
                    Ok(answer) => answer,
                    Err(_) => continue,
                }
            };
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&rng.next().to_le_bytes());
            id[8..].copy_from_slice(&rng.next().to_le_bytes());
            out.push(AnswerRecord {
                id: RecordId::from_bytes(id),
                prompt_id: card.id.clone(),
                prompt_version: card.version,
                card_type: card.kind.into(),
                answer,
                namespace: agents[ai].clone(),
                origin: None,
                page_context: None,
                captured_at_ms: t,
                answer_latency_ms: 1_500 + rng.below(4_000) as u32,
                wait_duration_ms: 4_000 + rng.below(20_000) as u32,
                flags: RecordFlags::default(),
            });
        }
        t += pace.session_gap_ms.0 + rng.below_ms(pace.session_gap_ms.1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cards::builtin;

    const NOW: u64 = 1_800_000_000_000;

    /// The demo account's user: a few cards on most days across the span, the newest a
    /// minute old.
    #[test]
    fn a_daily_user_answers_a_few_cards_a_day_up_to_now() {
        let lib = builtin();
        let records = days_until(lib, 90, NOW, &Pace::DAILY, 5);
        assert_eq!(records, days_until(lib, 90, NOW, &Pace::DAILY, 5), "seeded");
        assert!(
            (90..=540).contains(&records.len()),
            "{} answers in 90 days",
            records.len()
        );
        assert!(records
            .windows(2)
            .all(|w| w[0].captured_at_ms <= w[1].captured_at_ms));
        let first = records.first().map_or(NOW, |r| r.captured_at_ms);
        let last = records.last().map_or(0, |r| r.captured_at_ms);
        assert_eq!(last, NOW - MINUTE_MS);
        assert!(first < NOW - 88 * DAY_MS, "spans the days asked for");
        let days: std::collections::BTreeSet<u64> =
            records.iter().map(|r| r.captured_at_ms / DAY_MS).collect();
        assert!(days.len() >= 60, "answers on {} of 90 days", days.len());
        for r in &records {
            r.validate().unwrap();
        }
    }

    /// Free text is drawn per question: every free-text answer is one of that question's
    /// own answers (one shared list gave "Never do: Python for quick scripts"), and every
    /// open facet a user is asked has some.
    #[test]
    fn free_text_answers_fit_their_question() {
        let lib = builtin();
        for f in lib
            .facets
            .iter()
            .filter(|f| f.open && !lib.is_proposal_facet(&f.id))
        {
            assert!(
                !texts_for(&f.id).is_empty(),
                "no free-text answers for {}",
                f.id
            );
        }
        let records = answers_until(lib, 3_000, NOW, 3);
        let mut texts = 0;
        for r in &records {
            if let Answer::ShortText { text } = &r.answer {
                let facet = lib
                    .card(&r.prompt_id)
                    .map(|c| c.facet.as_str())
                    .unwrap_or("");
                assert!(
                    texts_for(facet).contains(&text.as_str()),
                    "{text:?} answers {}",
                    r.prompt_id
                );
                texts += 1;
            }
        }
        assert!(texts > 0, "some free-text answers");
    }

    #[test]
    fn a_heavy_users_vault_ends_a_minute_ago() {
        let records = answers_until(builtin(), 500, NOW, 9);
        assert_eq!(records.len(), 500);
        assert_eq!(
            records.iter().map(|r| r.captured_at_ms).max(),
            Some(NOW - MINUTE_MS)
        );
    }
}
