//! Scheduler simulation for `cargo xtask bench` (prints one `BENCH_JSON` line): answers
//! synthetic users need until the inferred profile matches their hidden one on 90% of the
//! facets, adaptive scheduler against random card choice, same users, same run.

use vault_core::cards::scheduler::Strategy;
use vault_core::cards::simulation::{
    answers_to_target, first_dimensions, target_facets, SimConfig, Target,
};

/// Dimensions whose answers change the very next AI answer: how long, in what tone and
/// format, and how to take feedback. A new user's first cards should come from these.
const ANSWER_SHAPING: &[&str] = &["answer_style", "feedback"];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    let lib = vault_core::cards::builtin();
    let cfg = SimConfig::default();
    let users: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let run = |strategy, target| -> (Vec<f64>, usize) {
        let mut reached = 0;
        let v = (0..users)
            .map(
                |seed| match answers_to_target(lib, strategy, target, 1_000 + seed, &cfg) {
                    Some(n) => {
                        reached += 1;
                        n as f64
                    }
                    None => cfg.max_answers as f64,
                },
            )
            .collect();
        (v, reached)
    };
    let (adaptive, reached_a) = run(Strategy::Adaptive, Target::TopDimensions);
    let (random, reached_r) = run(Strategy::Random, Target::TopDimensions);
    let (a, r) = (median(adaptive), median(random));
    let (all_a, _) = run(Strategy::Adaptive, Target::AllFacets);
    let (all_r, _) = run(Strategy::Random, Target::AllFacets);
    let (all_a, all_r) = (median(all_a), median(all_r));
    let first: Vec<String> = (0..users)
        .flat_map(|seed| first_dimensions(lib, Strategy::Adaptive, 1_000 + seed, &cfg, 10))
        .collect();
    let shaping = first
        .iter()
        .filter(|d| ANSWER_SHAPING.contains(&d.as_str()))
        .count() as f64
        / first.len().max(1) as f64;
    println!("BENCH_JSON {{\"sched_first10_answer_style_share\": {shaping:.3}}}");
    println!(
        "BENCH_JSON {{\"prompt_cards\": {}, \"prompt_dimensions\": {}, \"prompt_facets_top\": {}, \"prompt_facets_all\": {}, \
         \"sched_users\": {users}, \"sched_answers_adaptive\": {a}, \"sched_answers_random\": {r}, \
         \"sched_adaptive_vs_random_ratio\": {:.3}, \"sched_users_reached_adaptive\": {reached_a}, \
         \"sched_users_reached_random\": {reached_r}, \"sched_all_facets_answers_adaptive\": {all_a}, \
         \"sched_all_facets_answers_random\": {all_r}, \"sched_all_facets_ratio\": {:.3}}}",
        lib.cards.len(),
        lib.dimensions.len(),
        target_facets(lib, Target::TopDimensions).len(),
        target_facets(lib, Target::AllFacets).len(),
        a / r,
        all_a / all_r
    );
}
