//! Picks the next card.
//!
//! Score = expected information gain about the card's facet, as a share of the facet's whole
//! uncertainty (bits / log2 of its value count, so a facet that gains a "neither" value does
//! not outrank others for it) × the square of its dimension's priority (what shapes answers
//! most, first: 4:1 for priority 2 against 1; 2:1 let many-valued low-priority facets win at
//! 200 users) × a bonus when the
//! facet's evidence contradicts itself × how well the card fits the time left in the AI's
//! generation. Staleness needs no special case: evidence decays (see [`super::belief`]), so
//! an old answer leaves the facet uncertain again and re-confirming it gains information.
//! Deterministic given the inputs and the seed: ties are broken by a seeded hash.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::belief::{likelihood, Belief, FacetBelief};
use super::library::{Card, CardContext, Facet, Library};
use crate::record::{Answer, AnswerRecord};

const MINUTE_MS: u64 = 60_000;
/// Cards (answered, skipped or dismissed) before the cold start ends.
pub const COLD_START_CARDS: usize = 10;
/// How much more a `first` dimension's card weighs during the cold start.
const COLD_START_BOOST: f64 = 4.0;
const DAY_MS: u64 = 86_400_000;

/// The user's limits, from the extension's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Cards answered, skipped or dismissed per local day.
    pub daily_cap: u32,
    /// The AI must have been generating this long before a card shows.
    pub min_wait_ms: u64,
    /// Agents (namespaces) the user paused.
    pub paused_agents: Vec<String>,
    /// No cards until this time (a global pause).
    pub paused_until_ms: Option<u64>,
    /// Quiet hours `[start, end)` in local hours, wrapping past midnight if start > end.
    pub quiet_hours: Option<(u8, u8)>,
    /// Local time = UTC + this.
    pub utc_offset_minutes: i32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            daily_cap: 20,
            min_wait_ms: 1_500,
            paused_agents: Vec::new(),
            paused_until_ms: None,
            quiet_hours: None,
            utc_offset_minutes: 0,
        }
    }
}

/// How long each agent's generations took recently (seconds), newest last. The extension
/// records every finished generation here and stores it as it serializes: a JSON object of
/// agent -> list of seconds (the format it has always stored).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WaitHistory {
    pub per_agent: BTreeMap<String, Vec<f64>>,
}

impl WaitHistory {
    /// Generation times kept per agent; the estimate reads the newest [`Self::RECENT`].
    pub const KEPT: usize = 50;
    /// Generation times the estimate reads.
    pub const RECENT: usize = 20;
    /// The longest generation recorded: an hour (anything longer is a stuck detector).
    pub const MAX_SECONDS: f64 = 3_600.0;

    /// A generation time to expect: the median of the last [`Self::RECENT`], or 12 s with no
    /// history.
    pub fn expected_seconds(&self, agent: &str) -> f64 {
        let Some(all) = self.per_agent.get(agent).filter(|v| !v.is_empty()) else {
            return 12.0;
        };
        let mut recent: Vec<f64> = all.iter().rev().take(Self::RECENT).copied().collect();
        crate::sort::sort_by(&mut recent, f64::total_cmp);
        recent[recent.len() / 2]
    }

    /// Adds one finished generation, dropping the oldest beyond [`Self::KEPT`].
    pub fn record(&mut self, agent: &str, seconds: f64) -> Result<(), WaitError> {
        if !(0.0..=Self::MAX_SECONDS).contains(&seconds) {
            return Err(WaitError::OutOfRange(seconds));
        }
        let v = self.per_agent.entry(agent.to_owned()).or_default();
        v.push(seconds);
        if v.len() > Self::KEPT {
            v.drain(..v.len() - Self::KEPT);
        }
        Ok(())
    }
}

/// A generation time that cannot be recorded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WaitError {
    #[error("generation time {0} s is out of range (0 to an hour)")]
    OutOfRange(f64),
}

/// The moment a card could be shown.
#[derive(Debug, Clone)]
pub struct Moment<'a> {
    pub now_ms: u64,
    /// The agent namespace of the page (`chatgpt`, ...).
    pub agent: &'a str,
    /// Human name of the agent for `{agent}` cards (`ChatGPT`).
    pub agent_name: &'a str,
    /// How long the AI has been generating.
    pub elapsed_ms: u64,
    /// A keyword from the prompt just sent, only if the user opted in.
    pub topic: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Highest expected information gain (the product).
    Adaptive,
    /// Uniformly random among the eligible cards (the baseline the simulation compares to).
    Random,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub card_id: String,
    /// Text with `{topic}`/`{agent}` filled in.
    pub text: String,
    pub expected_gain_bits: f64,
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NoCard {
    Paused,
    AgentPaused,
    QuietHours,
    DailyCapReached,
    /// The generation has not run long enough yet.
    TooEarly,
    /// Not enough time left for any card.
    NoTimeLeft,
    /// Every card is inside its spacing window.
    NothingDue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Show(Choice),
    Skip(NoCard),
}

/// A card is not shown again within this window after it was answered; longer for facets
/// that change slowly.
pub fn spacing_ms(facet: &Facet) -> u64 {
    ((facet.stability_days / 8.0).clamp(1.0, 30.0) * DAY_MS as f64) as u64
}

/// After a skip or dismissal the card rests this long.
pub const SKIP_REST_MS: u64 = 3 * DAY_MS;
/// The same facet is not asked twice within this window (no back-to-back re-asks).
pub const FACET_GAP_MS: u64 = 30 * MINUTE_MS;

fn entropy(p: &[f64]) -> f64 {
    -p.iter()
        .filter(|&&x| x > 0.0)
        .map(|x| x * x.log2())
        .sum::<f64>()
}

/// Expected reduction of the facet's entropy (bits) from asking `card`.
pub fn expected_gain(card: &Card, facet: &Facet, belief: Option<&FacetBelief>) -> f64 {
    if facet.open {
        // An open facet has no distribution: worth asking when never answered or stale.
        return match belief {
            None => 1.0,
            Some(b) if b.texts.is_empty() => 1.0,
            Some(_) => 0.0,
        };
    }
    let n = facet.values.len();
    let prior = belief.map_or_else(|| vec![1.0 / n as f64; n], |b| b.posterior(n));
    let h0 = entropy(&prior);
    let mut expected_h = 0.0;
    for row in likelihood(card, facet) {
        let joint: Vec<f64> = prior.iter().zip(&row).map(|(p, l)| p * l).collect();
        let p_answer: f64 = joint.iter().sum();
        if p_answer > 0.0 {
            let post: Vec<f64> = joint.iter().map(|j| j / p_answer).collect();
            expected_h += p_answer * entropy(&post);
        }
    }
    (h0 - expected_h).max(0.0)
}

/// The gain as a share of the facet's whole uncertainty (bits / log2 of its value count): a
/// facet with more values (e.g. a pair's "neither / depends") holds more bits, and raw bits
/// would rank it above a higher-priority facet with fewer values. Open facets: as is.
fn uncertainty_share(gain: f64, facet: &Facet) -> f64 {
    let n = facet.values.len();
    if facet.open || n < 2 {
        gain
    } else {
        gain / (n as f64).log2()
    }
}

/// SplitMix64: a tiny, well-mixed deterministic hash for seeded tie-breaking.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn local_hour(now_ms: u64, offset_min: i32) -> u8 {
    let local = now_ms as i64 / MINUTE_MS as i64 + i64::from(offset_min);
    (local.rem_euclid(24 * 60) / 60) as u8
}

fn local_day(now_ms: u64, offset_min: i32) -> i64 {
    (now_ms as i64 / MINUTE_MS as i64 + i64::from(offset_min)).div_euclid(24 * 60)
}

/// What the scheduler needs to know about past cards.
struct Shown {
    /// card id -> (last time shown, was it answered with evidence)
    last: BTreeMap<String, (u64, bool)>,
    /// facet position -> last time any of its cards was shown
    facet_last: BTreeMap<usize, u64>,
    today: u32,
}

fn shown(lib: &Library, history: &[AnswerRecord], now_ms: u64, offset: i32) -> Shown {
    let today = local_day(now_ms, offset);
    let mut s = Shown {
        last: BTreeMap::new(),
        facet_last: BTreeMap::new(),
        today: 0,
    };
    for rec in history {
        if local_day(rec.captured_at_ms, offset) == today {
            s.today += 1;
        }
        let answered = !matches!(rec.answer, Answer::Skipped | Answer::Dismissed);
        let e = s.last.entry(rec.prompt_id.clone()).or_insert((0, answered));
        if rec.captured_at_ms >= e.0 {
            *e = (rec.captured_at_ms, answered);
        }
        if let Some(pos) = lib
            .card(&rec.prompt_id)
            .and_then(|c| lib.facet_position(&c.facet))
        {
            let f = s.facet_last.entry(pos).or_insert(0);
            *f = (*f).max(rec.captured_at_ms);
        }
    }
    s
}

/// Everything the scheduler decides from, besides the moment itself.
pub struct Scheduler<'a> {
    pub lib: &'a Library,
    /// Every answer so far (any order).
    pub history: &'a [AnswerRecord],
    /// `Belief::from_history(lib, history, now)`, computed once by the caller.
    pub belief: &'a Belief,
    pub limits: &'a Limits,
    pub waits: &'a WaitHistory,
}

impl Scheduler<'_> {
    /// The card to show now, or why none.
    pub fn next_card(&self, moment: &Moment<'_>, strategy: Strategy, seed: u64) -> Decision {
        next_card(self, moment, strategy, seed)
    }
}

fn next_card(ctx: &Scheduler<'_>, moment: &Moment<'_>, strategy: Strategy, seed: u64) -> Decision {
    let Scheduler {
        lib,
        history,
        belief,
        limits,
        waits,
    } = *ctx;
    let now = moment.now_ms;
    if limits.paused_until_ms.is_some_and(|t| now < t) {
        return Decision::Skip(NoCard::Paused);
    }
    if limits.paused_agents.iter().any(|a| a == moment.agent) {
        return Decision::Skip(NoCard::AgentPaused);
    }
    if let Some((start, end)) = limits.quiet_hours {
        let h = local_hour(now, limits.utc_offset_minutes);
        let quiet = if start <= end {
            (start..end).contains(&h)
        } else {
            h >= start || h < end
        };
        if quiet {
            return Decision::Skip(NoCard::QuietHours);
        }
    }
    if moment.elapsed_ms < limits.min_wait_ms {
        return Decision::Skip(NoCard::TooEarly);
    }
    let past = shown(lib, history, now, limits.utc_offset_minutes);
    if past.today >= limits.daily_cap {
        return Decision::Skip(NoCard::DailyCapReached);
    }
    let time_left = waits.expected_seconds(moment.agent) - moment.elapsed_ms as f64 / 1000.0;
    if time_left < 2.0 {
        return Decision::Skip(NoCard::NoTimeLeft);
    }

    // Cold start: a new user's first cards come from the dimensions that change the very
    // next AI answer (the library's `first` dimensions), skill ratings later.
    let cold_start = history.len() < COLD_START_CARDS;
    let mut best: Option<(f64, &Card, f64)> = None;
    for card in &lib.cards {
        let topic = match card.context {
            Some(CardContext::Topic) => match moment.topic {
                Some(t) => Some(t),
                None => continue,
            },
            // Files accepted proposals; never asked.
            Some(CardContext::Proposal) => continue,
            _ => None,
        };
        let Some(pos) = lib.facet_position(&card.facet) else {
            continue;
        };
        let facet = &lib.facets[pos];
        // Spacing: the card itself, then its facet.
        if let Some(&(at, answered)) = past.last.get(&card.id) {
            let rest = if answered {
                spacing_ms(facet)
            } else {
                SKIP_REST_MS
            };
            if now.saturating_sub(at) < rest {
                continue;
            }
        }
        if past
            .facet_last
            .get(&pos)
            .is_some_and(|&at| now.saturating_sub(at) < FACET_GAP_MS)
        {
            continue;
        }
        let key = Belief::key(lib, pos, moment.agent);
        // A topic card's facet is about that topic: evidence about another topic says nothing.
        let fb = if topic.is_some() {
            None
        } else {
            belief.get(&key)
        };
        let gain = expected_gain(card, facet, fb);
        let contradiction = if fb.is_some_and(FacetBelief::contradicted) {
            1.5
        } else {
            1.0
        };
        // Fit: full marks when the card fits the time left, fading for longer cards.
        let fit = (time_left / card.expected_seconds).min(1.0).powi(2);
        let jitter = (splitmix(seed ^ hash_str(&card.id)) >> 11) as f64 / (1u64 << 53) as f64;
        let score = match strategy {
            Strategy::Adaptive => {
                let first = if cold_start && facet.first {
                    COLD_START_BOOST
                } else {
                    1.0
                };
                uncertainty_share(gain, facet)
                    * facet.priority.powi(2)
                    * first
                    * contradiction
                    * fit
                    * (1.0 + 1e-6 * jitter)
            }
            Strategy::Random => jitter,
        };
        if strategy == Strategy::Adaptive && gain <= 1e-9 {
            continue;
        }
        if best.is_none_or(|(s, _, _)| score > s) {
            best = Some((score, card, gain));
        }
    }
    let Some((score, card, gain)) = best else {
        return Decision::Skip(NoCard::NothingDue);
    };
    let text = card
        .text
        .replace("{topic}", moment.topic.unwrap_or_default())
        .replace("{agent}", moment.agent_name);
    Decision::Show(Choice {
        card_id: card.id.clone(),
        text,
        expected_gain_bits: gain,
        score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The extension stores the history as it serializes; what it stored before the history
    /// moved here (an object of agent -> seconds) still reads, and writes back unchanged.
    #[test]
    fn wait_history_keeps_the_stored_format() {
        let stored = r#"{"chatgpt":[12.5,30.0,8.25],"mistral":[4.0]}"#;
        let waits: WaitHistory = serde_json::from_str(stored).unwrap();
        assert_eq!(waits.per_agent["chatgpt"], vec![12.5, 30.0, 8.25]);
        assert_eq!(serde_json::to_string(&waits).unwrap(), stored);
        assert_eq!(waits.expected_seconds("chatgpt"), 12.5);
        assert_eq!(waits.expected_seconds("claude"), 12.0, "no history: 12 s");
    }

    #[test]
    fn wait_history_keeps_the_newest_and_refuses_impossible_times() {
        let mut waits = WaitHistory::default();
        for i in 0..WaitHistory::KEPT + 10 {
            waits.record("chatgpt", i as f64).unwrap();
        }
        let kept = &waits.per_agent["chatgpt"];
        assert_eq!(kept.len(), WaitHistory::KEPT);
        assert_eq!(kept[0], 10.0, "the oldest went first");
        // The median of the newest 20 (40..=59).
        assert_eq!(waits.expected_seconds("chatgpt"), 50.0);
        for bad in [-1.0, WaitHistory::MAX_SECONDS + 1.0, f64::NAN] {
            assert!(waits.record("chatgpt", bad).is_err(), "{bad}");
        }
        assert_eq!(waits.per_agent["chatgpt"].len(), WaitHistory::KEPT);
    }
}
