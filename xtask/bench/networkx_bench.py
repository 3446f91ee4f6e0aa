#!/usr/bin/env python3
"""Baseline for the knowledge-graph benchmark: networkx on the same graph.

Loads the GraphML that `cargo run --release -p vault-core --example bench_graph -- PATH`
wrote, times `networkx.pagerank` (weighted, alpha 0.85, tol 1e-6, the defaults our Rust
implementation mirrors) plus weighted degree, and prints one line:

    BENCH_JSON {"networkx_ms": .., "networkx_pagerank_max_abs_diff": .., "graph_vs_networkx_speedup": ..}

`networkx_ms` is the median of 7 runs (loading the file is not timed). The PageRank values
the Rust side wrote into the file (`pagerank` node attribute) are compared with networkx's:
`networkx_pagerank_max_abs_diff` should stay below 1e-5. With `--native-ms X` (the
`graph_rank_native_ms` the example printed) the speedup networkx_ms / X is added.

Needs: networkx, numpy, scipy (networkx.pagerank runs on scipy).
"""

import argparse
import json
import statistics
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("graphml", help="GraphML written by the bench_graph example")
    parser.add_argument("--native-ms", type=float, help="graph_rank_native_ms from the example")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    try:
        import networkx as nx
    except ImportError:
        print("networkx is not installed: pip install networkx numpy scipy", file=sys.stderr)
        return 2

    graph = nx.read_graphml(args.graphml)
    if graph.is_directed():
        print("expected an undirected graph", file=sys.stderr)
        return 1
    times = []
    ranks = {}
    for _ in range(args.runs):
        start = time.perf_counter()
        ranks = nx.pagerank(graph, alpha=0.85, tol=1e-6, max_iter=100, weight="weight")
        degree = dict(graph.degree(weight="weight"))
        times.append((time.perf_counter() - start) * 1e3)
    assert len(degree) == graph.number_of_nodes()
    ours = nx.get_node_attributes(graph, "pagerank")
    diff = max((abs(ranks[n] - float(ours[n])) for n in ours), default=0.0)
    networkx_ms = statistics.median(times)
    out = {
        "networkx_ms": round(networkx_ms, 3),
        "networkx_pagerank_max_abs_diff": diff,
        "networkx_nodes": graph.number_of_nodes(),
        "networkx_edges": graph.number_of_edges(),
    }
    if args.native_ms:
        out["graph_vs_networkx_speedup"] = round(networkx_ms / args.native_ms, 2)
    print("BENCH_JSON " + json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
