//! Knowledge-graph benchmark for `cargo xtask bench`: builds the graph and every metric the
//! dashboard shows from 100,000 synthetic answers, and writes the graph as GraphML so
//! networkx can time the same PageRank and weighted degree on it.
//!
//! Run both (from the repository root):
//!
//! ```text
//! cargo run --release -p vault-core --example bench_graph -- target/bench/graph.graphml
//! python3 xtask/bench/networkx_bench.py target/bench/graph.graphml --native-ms <graph_rank_native_ms>
//! ```
//!
//! The first prints `BENCH_JSON {"graph_build_native_ms": .., "graph_rank_native_ms": ..,
//! "graph_nodes": .., "graph_edges": .., ...}`; the second (needs `networkx`, `numpy`,
//! `scipy`) prints `BENCH_JSON {"networkx_ms": .., "graph_vs_networkx_speedup": ..,
//! "networkx_pagerank_max_abs_diff": ..}`, the speedup being networkx's time for PageRank +
//! weighted degree over ours for the same two computations on the same graph.
//!
//! `graph_build_native_ms` is the median of 7 runs of: build (evidence, sessions,
//! co-occurrence, strength, contradictions, PageRank, weighted degree) + per-agent
//! alignment + overview + changes over the last 30 days (a second build as of then).
//! Optional second argument: the number of answers (default 100,000).

use std::time::Instant;

use vault_core::graph::{synthetic, KnowledgeGraph};

const DAY_MS: u64 = 86_400_000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Alignment (docs/METRICS.md: the delivered share) of ChatGPT over 10,000 answers: before
/// any delivery, right after its full instructions were downloaded, and a week later with the
/// last tenth of the answers arriving after the delivery. In percent.
fn delivered_share(
    lib: &vault_core::cards::Library,
    records: &[vault_core::AnswerRecord],
) -> (f64, f64, f64) {
    let split = records.len() * 9 / 10;
    let at = records[split.saturating_sub(1)].captured_at_ms + 1;
    let kg = KnowledgeGraph::build(lib, &records[..split], at);
    let chatgpt = |kg: &KnowledgeGraph, given: &[_]| {
        kg.alignment(lib, given)
            .into_iter()
            .find(|a| a.agent == "chatgpt")
            .map_or(0.0, |a| a.alignment * 100.0)
    };
    let before = chatgpt(&kg, &[]);
    let given: Vec<_> = vault_core::graph::export::instructions::for_all(&kg, lib)
        .into_iter()
        .filter(|a| a.agent == "chatgpt")
        .map(|a| a.snapshot())
        .collect();
    let after = chatgpt(&kg, &given);
    let week = 7 * DAY_MS;
    let later_kg = KnowledgeGraph::build(
        lib,
        records,
        records
            .last()
            .map_or(at, |r| r.captured_at_ms)
            .max(at + week),
    );
    (before, after, chatgpt(&later_kg, &given))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next();
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let lib = vault_core::cards::builtin();
    let records = synthetic::answers(lib, n, 1_500_000_000_000, 42);
    let now = records.last().map_or(0, |r| r.captured_at_ms) + DAY_MS;

    let mut full = Vec::new();
    let mut build_only = Vec::new();
    let mut rank_only = Vec::new();
    let mut kg = KnowledgeGraph::build(lib, &records, now);
    for _ in 0..7 {
        let t = Instant::now();
        kg = KnowledgeGraph::build(lib, &records, now);
        let built = t.elapsed().as_secs_f64() * 1e3;
        let alignment = kg.alignment(lib, &[]);
        let overview = kg.overview(10);
        let changes = kg.changes_since_time(lib, &records, now - 30 * DAY_MS);
        let reask = kg.reask_facets();
        full.push(t.elapsed().as_secs_f64() * 1e3);
        build_only.push(built);
        std::hint::black_box((alignment, overview, changes, reask));
        // The two computations networkx is timed on, alone.
        let edges: Vec<(usize, usize, f64)> = {
            let ids: std::collections::HashMap<&str, usize> = kg
                .nodes()
                .enumerate()
                .map(|(i, n)| (n.id.as_str(), i))
                .collect();
            kg.edges()
                .map(|(a, b, e)| (ids[a], ids[b], e.weight))
                .collect()
        };
        let t = Instant::now();
        let pr = vault_core::graph::rank::weighted_pagerank(kg.node_count(), &edges);
        let mut degree = vec![0.0f64; kg.node_count()];
        for &(a, b, w) in &edges {
            degree[a] += w;
            degree[b] += w;
        }
        rank_only.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box((pr, degree));
    }
    let mut exports_ms = 0.0;
    if let Some(path) = &out {
        let t = Instant::now();
        let xml = vault_core::graph::export::graphml::graphml(&kg);
        exports_ms = t.elapsed().as_secs_f64() * 1e3;
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                if let Err(e) = std::fs::create_dir_all(dir) {
                    eprintln!("creating {}: {e}", dir.display());
                    std::process::exit(1);
                }
            }
        }
        if let Err(e) = std::fs::write(path, xml) {
            eprintln!("writing {path}: {e}");
            std::process::exit(1);
        }
    }
    let (before, after, later) = delivered_share(lib, &records[..records.len().min(10_000)]);
    println!(
        "BENCH_JSON {{\"alignment_before_delivery_pct\": {before:.2}, \
         \"alignment_after_delivery_pct\": {after:.2}, \
         \"alignment_week_later_pct\": {later:.2}}}"
    );
    let s = kg.stats();
    println!(
        "BENCH_JSON {{\"graph_build_native_ms\": {:.3}, \"graph_build_only_native_ms\": {:.3}, \
         \"graph_rank_native_ms\": {:.3}, \"graph_graphml_export_native_ms\": {exports_ms:.3}, \
         \"graph_answers\": {n}, \"graph_sessions\": {}, \"graph_nodes\": {}, \"graph_edges\": {}, \
         \"graph_contradictions\": {}}}",
        median(full),
        median(build_only),
        median(rank_only),
        s.sessions,
        kg.node_count(),
        kg.edge_count(),
        kg.contradictions().len(),
    );
}
