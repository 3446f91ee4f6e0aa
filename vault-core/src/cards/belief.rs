//! The belief state: for each facet (per agent where the facet says so), how much decayed
//! evidence supports each value. Evidence fades along FSRS's forgetting curve
//! `R(t) = (1 + t / (9 S))^-1` with the facet's stability `S` in days, so an old answer still
//! counts but a re-confirmation becomes worth more as it ages.

use std::collections::BTreeMap;

use super::contradiction;
use super::library::{Card, CardKind, Facet, Library};
use crate::record::{Answer, AnswerRecord};

/// Probability that an answer is noise (a slip, a mood) rather than the user's true value.
pub const NOISE: f64 = 0.15;
const DAY_MS: f64 = 86_400_000.0;

/// Which facet, and for which agent if the facet is kept per agent.
pub type FacetKey = (usize, Option<String>);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FacetBelief {
    /// Decayed count of answers per value (same order as the facet's values).
    pub weights: Vec<f64>,
    /// Decayed log-likelihood of all answers under each value: `Σ R(age) · ln P(answer | v)`,
    /// with the noisy-answer model of [`likelihood`]. The posterior is its softmax.
    pub log_likelihood: Vec<f64>,
    /// Answers seen (undecayed).
    pub answers: u32,
    pub last_answer_ms: u64,
    /// The newest answers for a value, `(time, value index)`, newest first, at most
    /// [`contradiction::RECENT_ANSWERS`]: what the contradiction rule reads.
    pub recent: Vec<(u64, usize)>,
    /// The facet's stability, for the contradiction rule's window and weights.
    pub stability_days: f64,
    /// The moment the evidence is decayed to.
    pub as_of_ms: u64,
    /// Labels given to an open facet (short text answers), newest last.
    pub texts: Vec<String>,
}

/// FSRS retrievability after `age_days` at stability `stability_days`.
pub fn retrievability(age_days: f64, stability_days: f64) -> f64 {
    (1.0 + age_days.max(0.0) / (9.0 * stability_days)).recip()
}

impl FacetBelief {
    /// Posterior probability of each value (uniform prior, tempered by decay).
    pub fn posterior(&self, n_values: usize) -> Vec<f64> {
        let ll: Vec<f64> = (0..n_values)
            .map(|i| self.log_likelihood.get(i).copied().unwrap_or(0.0))
            .collect();
        let max = ll.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = ll.iter().map(|l| (l - max).exp()).collect();
        let total: f64 = exp.iter().sum();
        exp.iter().map(|e| e / total).collect()
    }

    /// The recent answers split between values, by the rule the knowledge graph uses too
    /// ([`contradiction`]).
    pub fn contradicted(&self) -> bool {
        contradiction::split(
            &self.recent,
            self.weights.len(),
            self.as_of_ms,
            self.stability_days,
        )
        .is_some()
    }
}

/// The answers a card allows, as `likelihood[answer][v] = P(answer | true value v)`: the
/// answer(s) nearest the true value (exact, else nearest when ordinal, else any) share the
/// signal `1 - NOISE`, and every answer shares the noise. Answers are ordered as the card's
/// options, or as its scale points from `min` to `max`.
pub fn likelihood(card: &Card, facet: &Facet) -> Vec<Vec<f64>> {
    let n = facet.values.len();
    let answer_values: Vec<usize> = match card.kind {
        CardKind::Scale => match &card.scale {
            Some(s) => (s.min..=s.max)
                .filter_map(|p| scale_value(card, facet, p))
                .collect(),
            None => Vec::new(),
        },
        _ => card
            .options
            .iter()
            .filter_map(|o| facet.values.iter().position(|v| v.id == o.value))
            .collect(),
    };
    let k = answer_values.len();
    let mut lik = vec![vec![0.0; n]; k];
    for v in 0..n {
        let dist = |a: usize| {
            if facet.ordinal {
                a.abs_diff(v)
            } else {
                usize::from(a != v)
            }
        };
        let best = answer_values.iter().map(|&a| dist(a)).min().unwrap_or(0);
        let matching: Vec<usize> = (0..k).filter(|&o| dist(answer_values[o]) == best).collect();
        for (o, row) in lik.iter_mut().enumerate() {
            row[v] = NOISE / k as f64
                + if matching.contains(&o) {
                    (1.0 - NOISE) / matching.len() as f64
                } else {
                    0.0
                };
        }
    }
    lik
}

/// Which of the card's answers (an index into [`likelihood`]) the user gave, if any.
pub fn answer_index(card: &Card, answer: &Answer) -> Option<usize> {
    let by_value = |id: &str| card.options.iter().position(|o| o.value == id);
    match (card.kind, answer) {
        (CardKind::Choice, Answer::Choice { option }) => by_value(option),
        (CardKind::Pairwise, Answer::Pairwise { picked, .. }) => by_value(picked),
        (CardKind::YesNo, Answer::YesNo { value }) => Some(if *value { 0 } else { 1 }),
        (CardKind::Scale, Answer::Scale { value, .. }) => {
            let s = card.scale.as_ref()?;
            (s.min..=s.max)
                .contains(value)
                .then(|| (value - s.min) as usize)
        }
        _ => None,
    }
}

/// Which value of the card's facet an answer means, if any.
pub fn answered_value(card: &Card, facet: &Facet, answer: &Answer) -> Option<usize> {
    let index_of = |id: &str| facet.values.iter().position(|v| v.id == id);
    match (card.kind, answer) {
        (CardKind::Choice, Answer::Choice { option }) => index_of(option),
        (CardKind::Pairwise, Answer::Pairwise { picked, .. }) => index_of(picked),
        (CardKind::YesNo, Answer::YesNo { value }) => {
            index_of(&card.options.get(if *value { 0 } else { 1 })?.value)
        }
        (CardKind::Scale, Answer::Scale { value, .. }) => scale_value(card, facet, *value),
        _ => None,
    }
}

/// Maps a scale point to a value index (assets/cards/SCHEMA.md).
pub fn scale_value(card: &Card, facet: &Facet, point: i32) -> Option<usize> {
    let s = card.scale.as_ref()?;
    if !(s.min..=s.max).contains(&point) || facet.values.is_empty() {
        return None;
    }
    let frac = f64::from(point - s.min) / f64::from(s.max - s.min);
    Some((frac * (facet.values.len() - 1) as f64).round() as usize)
}

/// Everything the history says, at time `now_ms`.
#[derive(Debug, Clone, Default)]
pub struct Belief {
    pub facets: BTreeMap<FacetKey, FacetBelief>,
}

impl Belief {
    pub fn from_history(lib: &Library, history: &[AnswerRecord], now_ms: u64) -> Self {
        let mut belief = Belief::default();
        for rec in history {
            belief.observe(lib, rec, now_ms);
        }
        belief
    }

    pub fn key(lib: &Library, facet_pos: usize, agent: &str) -> FacetKey {
        let per_agent = lib.facets[facet_pos].per_agent;
        (facet_pos, per_agent.then(|| agent.to_owned()))
    }

    /// Adds one answer's evidence, decayed to `now_ms`. Unknown cards, skips and dismissals
    /// carry no evidence about the profile.
    pub fn observe(&mut self, lib: &Library, rec: &AnswerRecord, now_ms: u64) {
        let Some(card) = lib.card(&rec.prompt_id) else {
            return;
        };
        let Some(pos) = lib.facet_position(&card.facet) else {
            return;
        };
        let facet = &lib.facets[pos];
        let key = Self::key(lib, pos, rec.namespace.as_str());
        let entry = self.facets.entry(key).or_insert_with(|| FacetBelief {
            weights: vec![0.0; facet.values.len()],
            log_likelihood: vec![0.0; facet.values.len()],
            stability_days: facet.stability_days,
            ..FacetBelief::default()
        });
        entry.as_of_ms = entry.as_of_ms.max(now_ms);
        let age_days = now_ms.saturating_sub(rec.captured_at_ms) as f64 / DAY_MS;
        let weight = retrievability(age_days, facet.stability_days);
        if let (true, Answer::ShortText { text }) = (facet.open, &rec.answer) {
            entry.texts.push(text.clone());
        } else if let (Some(v), Some(o)) = (
            answered_value(card, facet, &rec.answer),
            answer_index(card, &rec.answer),
        ) {
            entry.weights[v] += weight;
            entry.recent.push((rec.captured_at_ms, v));
            contradiction::keep_recent(&mut entry.recent);
            if let Some(row) = likelihood(card, facet).get(o) {
                for (ll, p) in entry.log_likelihood.iter_mut().zip(row) {
                    *ll += weight * p.ln();
                }
            }
        } else {
            return;
        }
        entry.answers += 1;
        entry.last_answer_ms = entry.last_answer_ms.max(rec.captured_at_ms);
    }

    pub fn get(&self, key: &FacetKey) -> Option<&FacetBelief> {
        self.facets.get(key)
    }

    /// The most likely value of a closed facet, if any answer supports one.
    pub fn best_value(&self, lib: &Library, key: &FacetKey) -> Option<(usize, f64)> {
        let n = lib.facets[key.0].values.len();
        let b = self.facets.get(key)?;
        let post = b.posterior(n);
        post.iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
    }
}
