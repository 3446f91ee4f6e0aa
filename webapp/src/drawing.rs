//! What the graph view draws, derived from the knowledge graph: which nodes (hubs, and values
//! with evidence unless asked for all), their colour (by dimension), size (by strength),
//! adjacency for local graphs, and search.

use std::collections::{HashMap, VecDeque};

use vault_core::graph::{EdgeKind, KnowledgeGraph};

/// Colour per dimension, in library order; chosen to stay distinct on light and dark
/// backgrounds (Okabe–Ito plus a few).
pub const PALETTE: [&str; 12] = [
    "#e69f00", "#56b4e9", "#009e73", "#d55e00", "#cc79a7", "#0072b2", "#b8a000", "#8c6bb1",
    "#e8684a", "#2fb5a5", "#7f8c8d", "#a6761d",
];

pub fn colour(dimension: usize) -> &'static str {
    PALETTE[dimension % PALETTE.len()]
}

/// Radius on screen (CSS px at zoom 1) of a node.
pub fn radius(strength: f64, hub: bool) -> f32 {
    if hub {
        11.0
    } else {
        3.0 + 7.0 * strength.clamp(0.0, 1.0) as f32
    }
}

#[derive(Debug, Clone)]
pub struct DrawNode {
    pub id: String,
    pub label: String,
    pub dimension: usize,
    pub strength: f64,
    pub hub: bool,
    pub contested: bool,
    pub radius: f32,
    /// One of the strongest values: its label shows at every zoom, so the drawing reads as
    /// more than dots before anything is selected.
    pub labelled: bool,
}

/// How many of the strongest value nodes are labelled at every zoom.
pub const LABELLED: usize = 12;

/// Marks the [`LABELLED`] strongest value nodes (hubs have their own labels).
fn label_strongest(nodes: &mut [DrawNode]) {
    let mut values: Vec<usize> = (0..nodes.len())
        .filter(|&i| !nodes[i].hub && nodes[i].strength > 0.0)
        .collect();
    vault_core::sort::sort_by(&mut values, |&a, &b| {
        nodes[b].strength.total_cmp(&nodes[a].strength)
    });
    for i in values.into_iter().take(LABELLED) {
        nodes[i].labelled = true;
    }
}

#[derive(Debug, Clone)]
pub struct Drawing {
    pub nodes: Vec<DrawNode>,
    /// `(a, b, weight, declared)`: declared edges join a value to its dimension.
    pub edges: Vec<(usize, usize, f64, bool)>,
    pub adjacency: Vec<Vec<u32>>,
    /// `(dimension id, label)` in library order; `DrawNode::dimension` indexes this.
    pub dimensions: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl Drawing {
    /// The drawable part of `kg`: every dimension hub, and every value node with evidence
    /// (or every node at all with `all`).
    /// Whether the graph view draws `n` by default: a dimension hub, or a value with an
    /// answer behind it. Counting these is the one node count every view shows.
    pub fn drawn(n: &vault_core::graph::Node) -> bool {
        n.is_dimension() || n.evidence_count() > 0
    }

    pub fn from_graph(kg: &KnowledgeGraph, all: bool) -> Drawing {
        let lib = vault_core::cards::builtin();
        let dimensions: Vec<(String, String)> = lib
            .dimensions
            .iter()
            .map(|d| (d.id.clone(), d.label.clone()))
            .collect();
        let dim_index: HashMap<&str, usize> = dimensions
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.as_str(), i))
            .collect();
        let mut nodes = Vec::new();
        let mut index = HashMap::new();
        for n in kg.nodes() {
            let hub = n.is_dimension();
            if !(all || Self::drawn(n)) {
                continue;
            }
            index.insert(n.id.clone(), nodes.len());
            nodes.push(DrawNode {
                id: n.id.clone(),
                label: n.label.clone(),
                dimension: dim_index.get(n.dimension.as_str()).copied().unwrap_or(0),
                strength: n.metrics.strength,
                hub,
                contested: n.metrics.contested,
                radius: radius(n.metrics.strength, hub),
                labelled: false,
            });
        }
        label_strongest(&mut nodes);
        let mut edges = Vec::new();
        let mut adjacency = vec![Vec::new(); nodes.len()];
        for (s, t, e) in kg.edges() {
            let (Some(&a), Some(&b)) = (index.get(s), index.get(t)) else {
                continue;
            };
            edges.push((a, b, e.weight, e.kind == EdgeKind::InDimension));
            adjacency[a].push(b as u32);
            adjacency[b].push(a as u32);
        }
        Drawing {
            nodes,
            edges,
            adjacency,
            dimensions,
            index,
        }
    }

    /// A profile-shaped drawing of `n` nodes for benchmarks: ten dimension hubs, every other
    /// node declared in one of them, and two random links per node (`layout::sample`).
    pub fn sample(n: usize) -> Drawing {
        let hubs = 10.min(n);
        let nodes: Vec<DrawNode> = (0..n)
            .map(|i| {
                let hub = i < hubs;
                let strength = ((i * 37) % 100) as f64 / 100.0;
                DrawNode {
                    id: format!("n{i}"),
                    label: format!("Node {i}"),
                    dimension: i % hubs.max(1),
                    strength,
                    hub,
                    contested: i % 17 == 0,
                    radius: radius(strength, hub),
                    labelled: false,
                }
            })
            .collect();
        let mut edges = Vec::new();
        let mut adjacency = vec![Vec::new(); n];
        for (k, (a, b)) in crate::layout::sample(n).into_iter().enumerate() {
            // `layout::sample` lists the n - hubs declared links first.
            edges.push((a, b, 1.0, k + hubs < n));
            adjacency[a].push(b as u32);
            adjacency[b].push(a as u32);
        }
        Drawing {
            index: nodes
                .iter()
                .enumerate()
                .map(|(i, d)| (d.id.clone(), i))
                .collect(),
            nodes,
            edges,
            adjacency,
            dimensions: (0..hubs)
                .map(|d| (format!("d{d}"), format!("Dimension {d}")))
                .collect(),
        }
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Node pairs for the layout's springs.
    pub fn links(&self) -> Vec<(usize, usize)> {
        self.edges.iter().map(|&(a, b, _, _)| (a, b)).collect()
    }

    /// Nodes at most `depth` links from `start` (breadth-first).
    pub fn neighbourhood(&self, start: usize, depth: u32) -> Vec<bool> {
        let mut seen = vec![false; self.nodes.len()];
        if start >= seen.len() {
            return seen;
        }
        let mut queue = VecDeque::from([(start, 0u32)]);
        seen[start] = true;
        while let Some((i, d)) = queue.pop_front() {
            if d == depth {
                continue;
            }
            for &j in &self.adjacency[i] {
                let j = j as usize;
                if !seen[j] {
                    seen[j] = true;
                    queue.push_back((j, d + 1));
                }
            }
        }
        seen
    }

    /// Which nodes show: in a dimension that is switched on, and inside the local graph when
    /// one is chosen.
    pub fn visible(&self, dimension_on: &[bool], local: Option<(usize, u32)>) -> Vec<bool> {
        let near = local.map(|(start, depth)| self.neighbourhood(start, depth));
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                dimension_on.get(n.dimension).copied().unwrap_or(true)
                    && near.as_ref().is_none_or(|s| s[i])
            })
            .collect()
    }

    /// Nodes whose label or id contains `query` (case-insensitive), strongest first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<usize> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| {
                let n = &self.nodes[i];
                n.label.to_lowercase().contains(&q) || n.id.to_lowercase().contains(&q)
            })
            .collect();
        vault_core::sort::sort_by(&mut hits, |&a, &b| {
            self.nodes[b]
                .strength
                .total_cmp(&self.nodes[a].strength)
                .then(a.cmp(&b))
        });
        hits.truncate(limit);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vault_core::cards::builtin;
    use vault_core::graph::synthetic;

    #[test]
    fn draws_hubs_and_evidence_only() {
        let records = synthetic::answers(builtin(), 300, 1_700_000_000_000, 3);
        let now = records.last().map_or(0, |r| r.captured_at_ms);
        let kg = KnowledgeGraph::build(builtin(), &records, now);
        let d = Drawing::from_graph(&kg, false);
        let all = Drawing::from_graph(&kg, true);
        assert!(d.nodes.len() < all.nodes.len());
        let labelled: Vec<&DrawNode> = d.nodes.iter().filter(|n| n.labelled).collect();
        assert_eq!(labelled.len(), LABELLED);
        let weakest_labelled = labelled.iter().map(|n| n.strength).fold(1.0, f64::min);
        assert!(
            d.nodes
                .iter()
                .filter(|n| !n.hub && !n.labelled)
                .all(|n| n.strength <= weakest_labelled),
            "the strongest values are the labelled ones"
        );
        assert_eq!(all.nodes.len(), kg.node_count());
        assert_eq!(
            Drawing::from_graph(&kg, false).nodes.len(),
            kg.nodes().filter(|n| Drawing::drawn(n)).count(),
            "the overview's node count is the graph view's"
        );
        assert_eq!(
            d.nodes.iter().filter(|n| n.hub).count(),
            builtin().dimensions.len()
        );
        let hub = d.nodes.iter().position(|n| n.hub).unwrap();
        let one = d.neighbourhood(hub, 1);
        let two = d.neighbourhood(hub, 2);
        assert!(one.iter().filter(|&&v| v).count() > 1);
        assert!(two.iter().filter(|&&v| v).count() >= one.iter().filter(|&&v| v).count());
        let off = vec![false; d.dimensions.len()];
        assert!(d.visible(&off, None).iter().all(|v| !v));
        let hit = d.search(&d.nodes[hub].label, 100);
        assert!(hit.contains(&hub));
    }
}
