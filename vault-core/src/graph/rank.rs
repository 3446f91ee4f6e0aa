//! Weighted PageRank and weighted degree: which nodes sit at the centre of the profile.
//!
//! The same computation as `networkx.pagerank(G, alpha=0.85, tol=1e-6, max_iter=100,
//! weight="weight")` on an undirected graph (each edge walks both ways), so the benchmark
//! compares like with like and the test below checks the figures against networkx's.
//! Written here rather than taken from petgraph, whose `page_rank` ignores edge weights and
//! is quadratic in the node count.

use super::model::KnowledgeGraph;
use petgraph::visit::EdgeRef;

pub const DAMPING: f64 = 0.85;
pub const TOLERANCE: f64 = 1e-6;
pub const MAX_ITERATIONS: usize = 100;

/// PageRank of an undirected weighted graph given as `(a, b, weight)` edges over `n` nodes.
/// Nodes without edges ("dangling") hand their rank to every node evenly. Stops when the
/// L1 change falls below `n × TOLERANCE`, or after `MAX_ITERATIONS`.
pub fn weighted_pagerank(n: usize, edges: &[(usize, usize, f64)]) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    // Compressed adjacency: both directions of every edge.
    let mut degree = vec![0usize; n + 1];
    let mut out_weight = vec![0.0f64; n];
    for &(a, b, w) in edges {
        degree[a] += 1;
        degree[b] += 1;
        out_weight[a] += w;
        out_weight[b] += w;
    }
    let mut start = vec![0usize; n + 1];
    for i in 0..n {
        start[i + 1] = start[i] + degree[i];
    }
    let mut fill = start.clone();
    let mut targets = vec![0usize; start[n]];
    let mut weights = vec![0.0f64; start[n]];
    for &(a, b, w) in edges {
        targets[fill[a]] = b;
        weights[fill[a]] = w;
        fill[a] += 1;
        targets[fill[b]] = a;
        weights[fill[b]] = w;
        fill[b] += 1;
    }
    let nf = n as f64;
    let mut x = vec![1.0 / nf; n];
    let mut next = vec![0.0f64; n];
    for _ in 0..MAX_ITERATIONS {
        let dangling: f64 = (0..n).filter(|&u| out_weight[u] <= 0.0).map(|u| x[u]).sum();
        let base = (DAMPING * dangling + (1.0 - DAMPING)) / nf;
        next.iter_mut().for_each(|v| *v = base);
        for u in 0..n {
            if out_weight[u] > 0.0 {
                let share = DAMPING * x[u] / out_weight[u];
                for k in start[u]..start[u + 1] {
                    next[targets[k]] += share * weights[k];
                }
            }
        }
        let err: f64 = x.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut x, &mut next);
        if err < nf * TOLERANCE {
            break;
        }
    }
    x
}

pub(crate) fn compute(kg: &mut KnowledgeGraph) {
    let n = kg.graph.node_count();
    let edges: Vec<(usize, usize, f64)> = kg
        .graph
        .edge_references()
        .map(|e| (e.source().index(), e.target().index(), e.weight().weight))
        .collect();
    let pr = weighted_pagerank(n, &edges);
    let mut degree = vec![0.0f64; n];
    for &(a, b, w) in &edges {
        degree[a] += w;
        degree[b] += w;
    }
    for (i, node) in kg.graph.node_weights_mut().enumerate() {
        node.metrics.pagerank = pr[i];
        node.metrics.weighted_degree = degree[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_networkx() {
        // networkx 3.6: G = Graph(); add_nodes_from(range(5));
        // add_weighted_edges_from([(0,1,1),(1,2,3),(2,0,1),(2,3,2)]); pagerank(G)
        let expected = [
            0.14946944331938897,
            0.268485210945391,
            0.39721209195775964,
            0.1486886754642074,
            0.03614457831325302,
        ];
        let pr = weighted_pagerank(5, &[(0, 1, 1.0), (1, 2, 3.0), (2, 0, 1.0), (2, 3, 2.0)]);
        for (a, b) in pr.iter().zip(expected) {
            assert!((a - b).abs() < 1e-6, "{pr:?}");
        }
        assert!((pr.iter().sum::<f64>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn empty_and_edgeless_graphs() {
        assert!(weighted_pagerank(0, &[]).is_empty());
        let pr = weighted_pagerank(4, &[]);
        assert!(pr.iter().all(|&p| (p - 0.25).abs() < 1e-12));
    }
}
