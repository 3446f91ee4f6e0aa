//! GraphML 1.0 (http://graphml.graphdrawing.org/): one `<node>` per graph node with its
//! label, kind, dimension and figures as typed `<data>`, one `<edge>` per edge with weight
//! and relation. Undirected, like the graph. Opens in Gephi, yEd, Cytoscape and networkx
//! (`networkx.read_graphml`), which the benchmark uses.

use std::fmt::Write;

use super::xml_escape;
use crate::graph::model::KnowledgeGraph;

/// `(key id, for, attr.name, attr.type)`.
const KEYS: &[(&str, &str, &str, &str)] = &[
    ("d_label", "node", "label", "string"),
    ("d_kind", "node", "kind", "string"),
    ("d_dimension", "node", "dimension", "string"),
    ("d_facet", "node", "facet", "string"),
    ("d_agent", "node", "agent", "string"),
    ("d_strength", "node", "strength", "double"),
    ("d_consistency", "node", "consistency", "double"),
    ("d_recency", "node", "recency", "double"),
    ("d_supports", "node", "supports", "int"),
    ("d_contradicts", "node", "contradicts", "int"),
    ("d_contested", "node", "contested", "boolean"),
    ("d_pagerank", "node", "pagerank", "double"),
    ("d_degree", "node", "weighted_degree", "double"),
    ("d_weight", "edge", "weight", "double"),
    ("d_relation", "edge", "relation", "string"),
];

/// The whole graph as a GraphML document.
pub fn graphml(kg: &KnowledgeGraph) -> String {
    let mut out = String::with_capacity(256 * (kg.node_count() + kg.edge_count()));
    out.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n",
    );
    for (id, target, name, ty) in KEYS {
        let _ = writeln!(
            out,
            "  <key id=\"{id}\" for=\"{target}\" attr.name=\"{name}\" attr.type=\"{ty}\"/>"
        );
    }
    out.push_str("  <graph id=\"selfos-profile\" edgedefault=\"undirected\">\n");
    for n in kg.nodes() {
        let m = &n.metrics;
        let _ = writeln!(out, "    <node id=\"{}\">", xml_escape(&n.id));
        let mut data = |key: &str, value: &str| {
            let _ = writeln!(out, "      <data key=\"{key}\">{value}</data>");
        };
        data("d_label", &xml_escape(&n.label));
        data("d_kind", n.kind.as_str());
        data("d_dimension", &xml_escape(&n.dimension));
        if let Some(f) = &n.facet {
            data("d_facet", &xml_escape(f));
        }
        if let Some(a) = &n.agent {
            data("d_agent", &xml_escape(a));
        }
        data("d_strength", &m.strength.to_string());
        data("d_consistency", &m.consistency.to_string());
        data("d_recency", &m.recency.to_string());
        data("d_supports", &m.supports.to_string());
        data("d_contradicts", &m.contradicts.to_string());
        data("d_contested", if m.contested { "true" } else { "false" });
        data("d_pagerank", &m.pagerank.to_string());
        data("d_degree", &m.weighted_degree.to_string());
        out.push_str("    </node>\n");
    }
    for (i, (a, b, e)) in kg.edges().enumerate() {
        let _ = writeln!(
            out,
            "    <edge id=\"e{i}\" source=\"{}\" target=\"{}\">\n      <data key=\"d_weight\">{}</data>\n      <data key=\"d_relation\">{}</data>\n    </edge>",
            xml_escape(a),
            xml_escape(b),
            e.weight,
            e.kind.as_str()
        );
    }
    out.push_str("  </graph>\n</graphml>\n");
    out
}
