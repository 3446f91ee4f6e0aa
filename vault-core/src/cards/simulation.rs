//! Synthetic users for judging the scheduler (`cargo xtask bench`, and a smaller test).
//!
//! Each user has a hidden true value for every closed facet, answers the card shown with
//! noise (a random answer 15% of the time, a skip 5%), and now and then changes their mind
//! about one facet. We count answers until the inferred profile (the most likely value of
//! each facet) matches the truth on at least 90% of the target facets.

use super::answer::{from_pick, CardShape, Pick};
use super::belief::{scale_value, Belief};
use super::library::{CardContext, CardKind, Library};
use super::scheduler::{splitmix, Decision, Limits, Moment, Scheduler, Strategy, WaitHistory};
use crate::record::{Answer, AnswerRecord, Namespace, RecordFlags, RecordId};

pub struct SimConfig {
    pub noise: f64,
    pub skip: f64,
    pub change_of_mind: f64,
    pub target_accuracy: f64,
    pub max_answers: usize,
    /// Minutes between two generations the user waits through.
    pub step_minutes: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            noise: 0.15,
            skip: 0.05,
            change_of_mind: 0.01,
            target_accuracy: 0.9,
            max_answers: 1500,
            step_minutes: 45,
        }
    }
}

/// Which facets the accuracy is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Closed facets of the top dimensions (priority >= 2): what the issue measures.
    TopDimensions,
    /// Every closed facet.
    AllFacets,
}

/// The facets the accuracy is measured on: closed facets that need no page context.
pub fn target_facets(lib: &Library, target: Target) -> Vec<usize> {
    (0..lib.facets.len())
        .filter(|&i| {
            let f = &lib.facets[i];
            !f.open
                && (target == Target::AllFacets || f.priority >= super::library::TOP_PRIORITY)
                && lib
                    .cards
                    .iter()
                    .any(|c| c.facet == f.id && c.context != Some(CardContext::Topic))
        })
        .collect()
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = splitmix(self.0);
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Answers needed to reach the target accuracy (`None` if not reached within the limit).
pub fn answers_to_target(
    lib: &Library,
    strategy: Strategy,
    target: Target,
    user_seed: u64,
    cfg: &SimConfig,
) -> Option<usize> {
    let targets = target_facets(lib, target);
    simulate(lib, strategy, user_seed, cfg, |_, history, truth| {
        let belief =
            Belief::from_history(lib, history, history.last().map_or(0, |r| r.captured_at_ms));
        let correct = targets
            .iter()
            .filter(|&&f| {
                let key = Belief::key(lib, f, "chatgpt");
                belief.get(&key).is_some_and(|b| b.answers > 0)
                    && belief.best_value(lib, &key).map(|(i, _)| i) == Some(truth[f])
            })
            .count();
        correct as f64 >= cfg.target_accuracy * targets.len() as f64
    })
}

/// The dimensions of the first `n` cards a new user is shown (what the cold start asks first).
pub fn first_dimensions(
    lib: &Library,
    strategy: Strategy,
    user_seed: u64,
    cfg: &SimConfig,
    n: usize,
) -> Vec<String> {
    let mut dims = Vec::new();
    simulate(lib, strategy, user_seed, cfg, |card, _, _| {
        if let Some(pos) = lib.facet_position(&card.facet) {
            dims.push(lib.facets[pos].dimension.clone());
        }
        dims.len() >= n
    });
    dims
}

/// One synthetic user answering the cards the scheduler shows, until `done(card, history,
/// truth)` says so after an answer; returns the answers given then (`None`: never done
/// within the limit).
fn simulate(
    lib: &Library,
    strategy: Strategy,
    user_seed: u64,
    cfg: &SimConfig,
    mut done: impl FnMut(&super::library::Card, &[AnswerRecord], &[usize]) -> bool,
) -> Option<usize> {
    let mut rng = Rng(user_seed);
    let all = target_facets(lib, Target::AllFacets);
    let mut truth: Vec<usize> = lib
        .facets
        .iter()
        .map(|f| rng.below(f.values.len().max(1)))
        .collect();
    let limits = Limits {
        daily_cap: 1_000,
        ..Limits::default()
    };
    let waits = WaitHistory::default();
    let agent_name = crate::agents::display_name("chatgpt");
    let ns = Namespace::new("chatgpt").expect("valid");
    let mut history: Vec<AnswerRecord> = Vec::new();
    let mut now = 1_763_800_000_000u64;
    let mut answers = 0;
    let mut steps = 0;
    while answers < cfg.max_answers && steps < cfg.max_answers * 4 {
        steps += 1;
        now += cfg.step_minutes * 60_000;
        let belief = Belief::from_history(lib, &history, now);
        let sched = Scheduler {
            lib,
            history: &history,
            belief: &belief,
            limits: &limits,
            waits: &waits,
        };
        let moment = Moment {
            now_ms: now,
            agent: "chatgpt",
            agent_name: &agent_name,
            elapsed_ms: 3_000,
            topic: None,
        };
        let Decision::Show(choice) = sched.next_card(&moment, strategy, rng.next()) else {
            continue;
        };
        let card = lib
            .card(&choice.card_id)
            .expect("scheduler picks library cards");
        let pos = lib.facet_position(&card.facet).expect("valid library");
        let facet = &lib.facets[pos];
        if rng.unit() < cfg.change_of_mind && facet.values.len() > 1 {
            let f = all[rng.below(all.len())];
            truth[f] = (truth[f] + 1 + rng.below(lib.facets[f].values.len() - 1))
                % lib.facets[f].values.len();
        }
        let v = truth[pos];
        let answer = if rng.unit() < cfg.skip {
            Answer::Skipped
        } else {
            answer_for(card, facet, v, cfg.noise, &mut rng)
        };
        answers += 1;
        history.push(AnswerRecord {
            id: RecordId::from_bytes(
                rng.next()
                    .to_le_bytes()
                    .repeat(2)
                    .try_into()
                    .expect("16 bytes"),
            ),
            prompt_id: card.id.clone(),
            prompt_version: card.version,
            card_type: card.kind.into(),
            answer,
            namespace: ns.clone(),
            origin: None,
            page_context: None,
            captured_at_ms: now,
            answer_latency_ms: 3_000,
            wait_duration_ms: 3_000,
            flags: RecordFlags::default(),
        });
        if done(card, &history, &truth) {
            return Some(answers);
        }
    }
    None
}

/// What a user whose true value is `v` answers, with noise.
fn answer_for(
    card: &super::library::Card,
    facet: &super::library::Facet,
    v: usize,
    noise: f64,
    rng: &mut Rng,
) -> Answer {
    if card.kind == CardKind::ShortText {
        return from_pick(CardShape::from(card), Pick::Value("a project"))
            .expect("a few words answer a short-text card");
    }
    let lik = super::belief::likelihood(card, facet);
    // Sample an answer from P(answer | v) with the simulation's own noise level.
    let k = lik.len();
    let signal: Vec<usize> = (0..k)
        .filter(|&o| lik[o][v] > super::belief::NOISE / k as f64 + 1e-12)
        .collect();
    let o = if rng.unit() < noise || signal.is_empty() {
        rng.below(k)
    } else {
        signal[rng.below(signal.len())]
    };
    let pick = match (card.kind, &card.scale) {
        // Scale answers are the points that mean a value, in order.
        (CardKind::Scale, Some(s)) => Pick::Nth(
            (s.min..=s.max)
                .filter(|&p| scale_value(card, facet, p).is_some())
                .nth(o)
                .map_or(0, |p| (p - s.min) as usize),
        ),
        _ => Pick::Nth(o),
    };
    from_pick(CardShape::from(card), pick).expect("the validated library answers every pick")
}
