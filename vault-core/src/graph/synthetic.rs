//! A deterministic answer generator for the graph benchmark (native and wasm) and tests: a
//! synthetic user with a hidden profile (one value per facet, per agent where the facet is
//! per agent), answering 85% in line with it, skipping 5%, changing their mind about a facet
//! now and then, in sessions of one to six cards a few minutes apart, hours between
//! sessions, on three agents. Same seed, same records (ids included).

use crate::cards::library::{CardKind, Library};
use crate::cards::scheduler::splitmix;
use crate::record::{Answer, AnswerRecord, Namespace, RecordFlags, RecordId};

const AGENTS: [&str; 3] = ["chatgpt", "claude", "gemini"];
const TEXTS: &[&str] = &[
    "Rust and WebAssembly",
    "ship the sync feature this week",
    "plain words, no hype",
    "examples before theory",
    "data engineering",
    "keep answers under a page",
    "Python for quick scripts",
    "learn some French",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = splitmix(self.0);
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn percent(&mut self) -> usize {
        self.below(100)
    }
}

/// `n` answers starting at `start_ms`, in time order.
pub fn answers(lib: &Library, n: usize, start_ms: u64, seed: u64) -> Vec<AnswerRecord> {
    let mut rng = Rng(seed ^ 0x5e1f_0500_0000_0000);
    let agents: Vec<Namespace> = AGENTS
        .iter()
        .filter_map(|a| Namespace::new(*a).ok())
        .collect();
    // Hidden profile: [facet][agent] -> preferred value index.
    let mut truth: Vec<[usize; 3]> = lib
        .facets
        .iter()
        .map(|f| {
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
    let mut out = Vec::with_capacity(n);
    let mut t = start_ms;
    while out.len() < n && !lib.cards.is_empty() {
        // A session: one agent, one to six cards, one to four minutes apart.
        let ai = match rng.percent() {
            0..=49 => 0,
            50..=79 => 1,
            _ => 2,
        }
        .min(agents.len().saturating_sub(1));
        for _ in 0..1 + rng.below(6) {
            if out.len() >= n {
                break;
            }
            t += 60_000 + rng.below(180_000) as u64;
            let ci = rng.below(lib.cards.len());
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
            let pick = |rng: &mut Rng| {
                card.options
                    .iter()
                    .find(|o| o.value == want_id)
                    .or_else(|| card.options.get(rng.below(card.options.len())))
                    .map(|o| o.value.clone())
                    .unwrap_or_default()
            };
            let answer = if rng.percent() < 5 {
                Answer::Skipped
            } else {
                match card.kind {
                    CardKind::Choice => Answer::Choice {
                        option: pick(&mut rng),
                    },
                    CardKind::Pairwise => {
                        let picked = pick(&mut rng);
                        let over = card
                            .options
                            .iter()
                            .find(|o| o.value != picked)
                            .map(|o| o.value.clone())
                            .unwrap_or_default();
                        Answer::Pairwise { picked, over }
                    }
                    CardKind::YesNo => Answer::YesNo {
                        value: card.options.first().is_some_and(|o| o.value == want_id),
                    },
                    CardKind::Scale => {
                        let Some(s) = &card.scale else { continue };
                        let steps = facet.values.len().saturating_sub(1).max(1) as f64;
                        let value =
                            s.min + (want as f64 * f64::from(s.max - s.min) / steps).round() as i32;
                        Answer::Scale {
                            value: value.clamp(s.min, s.max),
                            min: s.min,
                            max: s.max,
                        }
                    }
                    CardKind::ShortText => Answer::ShortText {
                        text: TEXTS[rng.below(TEXTS.len())].into(),
                    },
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
        // Forty minutes to eight hours until the next session.
        t += 40 * 60_000 + rng.below(440 * 60_000) as u64;
    }
    out
}
