//! JSON Graph Format v2 (https://jsongraphformat.info/, schema v2): nodes as an object keyed
//! by id, each with a label and metadata; edges as a list with source, target, relation and
//! metadata. `directed: false`, like the graph.

use serde_json::{json, Map, Value};

use crate::graph::model::KnowledgeGraph;

/// The whole graph as a JGF v2 document.
pub fn jgf(kg: &KnowledgeGraph) -> Value {
    let mut nodes = Map::with_capacity(kg.node_count());
    for n in kg.nodes() {
        let m = &n.metrics;
        nodes.insert(
            n.id.clone(),
            json!({
                "label": n.label,
                "metadata": {
                    "kind": n.kind,
                    "dimension": n.dimension,
                    "facet": n.facet,
                    "agent": n.agent,
                    "strength": m.strength,
                    "consistency": m.consistency,
                    "recency": m.recency,
                    "supports": m.supports,
                    "contradicts": m.contradicts,
                    "contested": m.contested,
                    "last_support_ms": m.last_support_ms,
                    "pagerank": m.pagerank,
                    "weighted_degree": m.weighted_degree,
                }
            }),
        );
    }
    let edges: Vec<Value> = kg
        .edges()
        .map(|(a, b, e)| {
            json!({
                "source": a,
                "target": b,
                "relation": e.kind.as_str(),
                "directed": false,
                "metadata": { "weight": e.weight },
            })
        })
        .collect();
    json!({
        "graph": {
            "id": "selfos-profile",
            "type": "selfos.knowledge-graph",
            "label": "SelfOS profile",
            "directed": false,
            "metadata": {
                "as_of_ms": kg.as_of_ms(),
                "stats": kg.stats(),
                "agents": kg.agents(),
            },
            "nodes": nodes,
            "edges": edges,
        }
    })
}

/// The JGF document as pretty-printed JSON text.
pub fn jgf_string(kg: &KnowledgeGraph) -> String {
    // A `Value` built from strings and finite numbers always serializes.
    serde_json::to_string_pretty(&jgf(kg)).unwrap_or_default()
}
