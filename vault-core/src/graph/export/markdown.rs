//! A Markdown vault (Obsidian, Logseq, Foam...): `index.md`, one note per dimension in
//! `dimensions/`, one note per node with evidence in `nodes/<dimension>/`. Notes link with
//! `[[note|label]]` wikilinks: each node to its dimension and to the nodes it co-occurs with,
//! each dimension to its nodes. Note names are derived from node ids (unique, file-system
//! safe on every OS); titles and aliases carry the readable labels. Nodes nobody answered
//! have no note (they are in the GraphML and JGF exports).

use std::collections::{HashMap, HashSet};

use crate::graph::model::{EdgeKind, KnowledgeGraph, Node};
use crate::graph::overview::date_of_day;
use crate::graph::DAY_MS;

/// Newest evidence items listed per note (the count of older ones is given).
pub const MAX_EVIDENCE_LISTED: usize = 50;
/// Co-occurrence links listed per note, heaviest first.
pub const MAX_LINKS: usize = 15;

/// A file-name-safe, lowercase slug: letters, digits, `.`, `_`, `-`; at most 80 characters.
fn slug(id: &str) -> String {
    let mut out = String::new();
    for c in id.chars().flat_map(char::to_lowercase) {
        let keep = c.is_alphanumeric() || c == '_' || c == '.';
        if keep {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
        if out.chars().count() >= 80 {
            break;
        }
    }
    let out = out.trim_matches(['-', '.']).to_owned();
    if out.is_empty() {
        "node".into()
    } else {
        out
    }
}

/// Escapes characters Markdown would read as markup (links, emphasis, tables, HTML).
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\`*_[]<>#|~$".contains(c) {
            out.push('\\');
        }
        if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// A YAML scalar: JSON string syntax is valid YAML and escapes everything needed.
fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn datetime(ms: u64, offset_minutes: i32) -> String {
    let local = ms as i64 + i64::from(offset_minutes) * 60_000;
    let day = local.div_euclid(DAY_MS as i64);
    let minutes = local.rem_euclid(DAY_MS as i64) / 60_000;
    format!(
        "{} {:02}:{:02}",
        date_of_day(day),
        minutes / 60,
        minutes % 60
    )
}

fn link(name: &str, label: &str) -> String {
    // `|` and `]` would end the alias early.
    let label = label.replace(['|', ']', '['], " ");
    format!("[[{name}|{}]]", label.trim())
}

/// The vault's files as `(relative path, contents)`.
pub fn markdown_vault(kg: &KnowledgeGraph) -> Vec<(String, String)> {
    let offset = kg.utc_offset_minutes;
    let with_note: Vec<&Node> = kg
        .nodes()
        .filter(|n| n.is_dimension() || n.evidence_count() > 0)
        .collect();
    // Unique note names.
    let mut used = HashSet::new();
    let mut name_of: HashMap<&str, String> = HashMap::new();
    for n in &with_note {
        let base = if n.is_dimension() {
            format!("dimension-{}", slug(&n.dimension))
        } else {
            slug(&n.id)
        };
        let mut name = base.clone();
        let mut k = 2;
        while !used.insert(name.clone()) {
            name = format!("{base}-{k}");
            k += 1;
        }
        name_of.insert(n.id.as_str(), name);
    }
    let mut files = Vec::with_capacity(with_note.len() + 1);
    for n in &with_note {
        let name = &name_of[n.id.as_str()];
        let m = &n.metrics;
        let mut note = format!(
            "---\nid: {}\nkind: {}\ndimension: {}\n",
            yaml_str(&n.id),
            n.kind.as_str(),
            yaml_str(&n.dimension)
        );
        if let Some(f) = &n.facet {
            note.push_str(&format!("facet: {}\n", yaml_str(f)));
        }
        if let Some(a) = &n.agent {
            note.push_str(&format!("agent: {}\n", yaml_str(a)));
        }
        note.push_str(&format!(
            "strength: {:.3}\naliases: [{}]\n---\n\n# {}\n\n",
            m.strength,
            yaml_str(&n.label),
            md_escape(&n.label)
        ));
        let neighbours = kg.neighbours(&n.id);
        if n.is_dimension() {
            note.push_str(&format!(
                "How well this dimension is known: **{:.2}** (mean strength of its facets' leading values).\n\n## Nodes\n\n",
                m.strength
            ));
            let mut members: Vec<&Node> = neighbours
                .iter()
                .filter(|(o, e)| {
                    e.kind == EdgeKind::InDimension && name_of.contains_key(o.id.as_str())
                })
                .map(|(o, _)| *o)
                .collect();
            crate::sort::sort_by(&mut members, |a, b| {
                b.metrics.strength.total_cmp(&a.metrics.strength)
            });
            for o in members {
                note.push_str(&format!(
                    "- {} ({:.2})\n",
                    link(&name_of[o.id.as_str()], &o.label),
                    o.metrics.strength
                ));
            }
        } else {
            note.push_str(&format!(
                "- Strength: **{:.2}** (consistency {:.2}, recency {:.2}){}\n- Evidence: {} supporting, {} contradicting{}\n- PageRank {:.4}, weighted degree {:.0}\n",
                m.strength,
                m.consistency,
                m.recency,
                if m.contested { "; **contested**: recent answers disagree" } else { "" },
                m.supports,
                m.contradicts,
                m.last_support_ms
                    .map(|t| format!("; last confirmed {}", datetime(t, offset)))
                    .unwrap_or_default(),
                m.pagerank,
                m.weighted_degree,
            ));
            if let Some(d) = kg.node(&super::super::build::dimension_node_id(&n.dimension)) {
                note.push_str(&format!(
                    "- Dimension: {}\n",
                    link(&name_of[d.id.as_str()], &d.label)
                ));
            }
            let linked: Vec<_> = neighbours
                .iter()
                .filter(|(o, e)| {
                    e.kind == EdgeKind::CoOccurs && name_of.contains_key(o.id.as_str())
                })
                .take(MAX_LINKS)
                .collect();
            if !linked.is_empty() {
                note.push_str("\n## Linked\n\nAnswered in the same sessions:\n\n");
                for (o, e) in linked {
                    note.push_str(&format!(
                        "- {} ({} sessions)\n",
                        link(&name_of[o.id.as_str()], &o.label),
                        e.weight
                    ));
                }
            }
            let evidence = kg.evidence(&n.id);
            note.push_str(
                "\n## Evidence\n\n| when | agent | answer | record |\n|---|---|---|---|\n",
            );
            for e in evidence.iter().take(MAX_EVIDENCE_LISTED) {
                note.push_str(&format!(
                    "| {} | {} | {} | `{}` |\n",
                    datetime(e.at_ms, offset),
                    md_escape(&e.agent),
                    if e.polarity > 0 {
                        "supports"
                    } else {
                        "contradicts"
                    },
                    e.record
                ));
            }
            if evidence.len() > MAX_EVIDENCE_LISTED {
                note.push_str(&format!(
                    "\n…and {} older answers.\n",
                    evidence.len() - MAX_EVIDENCE_LISTED
                ));
            }
        }
        let folder = if n.is_dimension() {
            "dimensions".to_owned()
        } else {
            format!("nodes/{}", slug(&n.dimension))
        };
        files.push((format!("{folder}/{name}.md"), note));
    }
    // The index: dimensions, strongest nodes, contradictions.
    let mut index = format!(
        "# SelfOS profile\n\nAs of {} ({} answers with evidence, {} skipped). Strength runs from 0 (unknown) to 1 (firmly established); `docs/METRICS.md` explains every figure.\n\n## Dimensions\n\n",
        datetime(kg.as_of_ms, offset),
        kg.stats.with_evidence,
        kg.stats.skipped
    );
    for &d in &kg.dimension_nodes {
        let n = &kg.graph[d];
        index.push_str(&format!(
            "- {} ({:.2})\n",
            link(&name_of[n.id.as_str()], &n.label),
            n.metrics.strength
        ));
    }
    let overview = kg.overview(10);
    if !overview.most_certain.is_empty() {
        index.push_str("\n## Most certain\n\n");
        for s in &overview.most_certain {
            if let Some(name) = name_of.get(s.id.as_str()) {
                index.push_str(&format!("- {} ({:.2})\n", link(name, &s.label), s.strength));
            }
        }
    }
    if !kg.contradictions.is_empty() {
        index.push_str("\n## Contradictions (worth re-answering)\n\n");
        for c in &kg.contradictions {
            let values: Vec<String> = c
                .values
                .iter()
                .filter_map(|v| {
                    name_of
                        .get(v.node.as_str())
                        .map(|name| link(name, &v.label))
                })
                .collect();
            index.push_str(&format!(
                "- {}: {}\n",
                md_escape(&c.facet_label),
                values.join(" vs ")
            ));
        }
    }
    files.insert(0, ("index.md".to_owned(), index));
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe() {
        assert_eq!(slug("style.length=brief"), "style.length-brief");
        assert_eq!(
            slug("agent.role=coach@site:example.org"),
            "agent.role-coach-site-example.org"
        );
        assert_eq!(
            slug("goals.this-week:Ship / the *thing*"),
            "goals.this-week-ship-the-thing"
        );
        assert_eq!(slug("../../etc"), "etc");
        assert_eq!(slug("???"), "node");
        assert!(slug(&"x".repeat(500)).len() <= 80);
    }

    #[test]
    fn markdown_escaping() {
        assert_eq!(md_escape("[[x]] *y* <b>"), "\\[\\[x\\]\\] \\*y\\* \\<b\\>");
        assert_eq!(link("n", "a|b]"), "[[n|a b]]");
    }
}
