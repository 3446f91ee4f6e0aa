//! Custom instructions per agent: the profile as short sentences, strongest evidence first,
//! packed into the agent's fields ([`super::agents`]) without ever cutting a sentence. What
//! does not fit is listed, not truncated. Contested facets are left out: telling an agent
//! something the user's recent answers dispute would do more harm than saying nothing.

use std::collections::BTreeMap;

use petgraph::graph::NodeIndex;
use serde::Serialize;

use super::agents::{field_len, profile, Section};
use crate::agents::display_name;
use crate::cards::library::Library;
use crate::graph::alignment::InstructionSnapshot;
use crate::graph::model::{GraphNodeKind, KnowledgeGraph};
use crate::graph::GraphError;
use crate::record::Namespace;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstructionField {
    pub title: String,
    /// Maximum length (UTF-16 code units).
    pub limit: usize,
    pub text: String,
    /// The text's length in the same units; never above `limit`.
    pub length: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentInstructions {
    pub agent: String,
    pub name: String,
    /// Where to paste the fields.
    pub settings: String,
    pub generated_at_ms: u64,
    pub fields: Vec<InstructionField>,
    /// Node id -> strength of every node the fields carry.
    pub included: BTreeMap<String, f64>,
    /// Known nodes that did not fit, strongest first.
    pub left_out: Vec<String>,
}

impl AgentInstructions {
    /// What the agent is told by these instructions, for staleness later.
    pub fn snapshot(&self) -> InstructionSnapshot {
        InstructionSnapshot {
            agent: self.agent.clone(),
            exported_at_ms: self.generated_at_ms,
            strengths: self.included.clone(),
        }
    }

    /// Plain text with a heading per field, as `selfos export --format instructions` writes.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "# {}: custom instructions\n\nPaste into: {}\n{} facts included{}.\n",
            self.name,
            self.settings,
            self.included.len(),
            if self.left_out.is_empty() {
                String::new()
            } else {
                format!("; {} more did not fit", self.left_out.len())
            }
        );
        for f in &self.fields {
            out.push_str(&format!(
                "\n## {} ({}/{} characters)\n\n{}\n",
                f.title,
                f.length,
                f.limit,
                if f.text.is_empty() {
                    "(nothing known yet: answer a few more cards)"
                } else {
                    &f.text
                }
            ));
        }
        out
    }
}

/// Which section a node's sentence belongs to.
fn section_of(kind: GraphNodeKind) -> Section {
    match kind {
        GraphNodeKind::Preference => Section::HowToRespond,
        _ => Section::AboutYou,
    }
}

/// One line of text: whitespace collapsed, control characters dropped.
fn one_line(s: &str) -> String {
    s.split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The sentence for a node: `Facet label: value.`
fn sentence(kg: &KnowledgeGraph, lib: &Library, n: NodeIndex) -> Option<String> {
    let node = &kg.graph[n];
    let facet = lib.facet(node.facet.as_deref()?)?;
    let value = if facet.open {
        one_line(&node.label)
    } else {
        let base = node.id.split('@').next()?;
        let value_id = base.strip_prefix(&facet.id)?.strip_prefix('=')?;
        facet
            .values
            .iter()
            .find(|v| v.id == value_id)?
            .label
            .clone()
    };
    if value.is_empty() {
        return None;
    }
    let end = if value.ends_with(['.', '!', '?']) {
        ""
    } else {
        "."
    };
    Some(format!("{}: {value}{end}", facet.label))
}

/// The sentence a node becomes in instructions (`None` for dimension nodes and unknown ids).
pub fn sentence_for(kg: &KnowledgeGraph, lib: &Library, id: &str) -> Option<String> {
    sentence(kg, lib, *kg.index.get(id)?)
}

/// The section a node's sentence goes to (`None` for unknown ids).
pub fn section_for(kg: &KnowledgeGraph, id: &str) -> Option<Section> {
    kg.node(id).map(|n| section_of(n.kind))
}

fn render(about: &[String], respond: &[String], section: Section) -> String {
    let list = |items: &[String]| {
        items
            .iter()
            .map(|s| format!("- {s}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    match section {
        Section::AboutYou => list(about),
        Section::HowToRespond => list(respond),
        Section::Both => {
            let mut parts = Vec::new();
            if !about.is_empty() {
                parts.push(format!("About me:\n{}", list(about)));
            }
            if !respond.is_empty() {
                parts.push(format!("How to respond:\n{}", list(respond)));
            }
            parts.join("\n\n")
        }
    }
}

/// Instructions for one agent (any valid namespace; agents outside the table get one
/// conservative field).
pub fn for_agent(
    kg: &KnowledgeGraph,
    lib: &Library,
    agent: &str,
) -> Result<AgentInstructions, GraphError> {
    Namespace::new(agent).map_err(|_| GraphError::BadAgent(agent.to_owned()))?;
    let p = profile(agent);
    let candidates: Vec<(NodeIndex, String, Section)> = kg
        .instruction_nodes(lib, agent)
        .into_iter()
        .filter_map(|n| Some((n, sentence(kg, lib, n)?, section_of(kg.graph[n].kind))))
        .collect();
    let mut fields = Vec::new();
    let mut included = BTreeMap::new();
    let mut placed = vec![false; candidates.len()];
    for spec in p.fields {
        let (mut about, mut respond) = (Vec::new(), Vec::new());
        for (i, (n, text, section)) in candidates.iter().enumerate() {
            if placed[i] || (spec.section != Section::Both && spec.section != *section) {
                continue;
            }
            let list = if *section == Section::AboutYou {
                &mut about
            } else {
                &mut respond
            };
            list.push(text.clone());
            if field_len(&render(&about, &respond, spec.section)) <= spec.limit {
                placed[i] = true;
                let node = &kg.graph[*n];
                included.insert(node.id.clone(), node.metrics.strength);
            } else {
                let list = if *section == Section::AboutYou {
                    &mut about
                } else {
                    &mut respond
                };
                list.pop();
            }
        }
        let text = render(&about, &respond, spec.section);
        fields.push(InstructionField {
            title: spec.title.to_owned(),
            limit: spec.limit,
            length: field_len(&text),
            text,
        });
    }
    let left_out = candidates
        .iter()
        .zip(&placed)
        .filter(|(_, &p)| !p)
        .map(|((n, _, _), _)| kg.graph[*n].id.clone())
        .collect();
    Ok(AgentInstructions {
        agent: agent.to_owned(),
        name: display_name(agent),
        settings: p.settings.to_owned(),
        generated_at_ms: kg.as_of_ms,
        fields,
        included,
        left_out,
    })
}

/// Instructions for every agent in the table and every agent seen in the records.
pub fn for_all(kg: &KnowledgeGraph, lib: &Library) -> Vec<AgentInstructions> {
    let mut agents: Vec<String> = super::agents::AGENT_PROFILES
        .iter()
        .map(|p| p.agent.to_owned())
        .collect();
    for a in kg.agents() {
        if !agents.contains(a) {
            agents.push(a.clone());
        }
    }
    agents
        .iter()
        .filter_map(|a| for_agent(kg, lib, a).ok())
        .collect()
}

/// Several agents' instructions as one plain-text document.
pub fn to_text(all: &[AgentInstructions]) -> String {
    all.iter()
        .map(AgentInstructions::to_text)
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_collapses_and_strips() {
        assert_eq!(one_line("  a\n\tb \u{7}c  "), "a b c");
    }

    #[test]
    fn both_sections_render_with_headings_only_when_present() {
        let a = vec!["X: y.".to_owned()];
        assert_eq!(render(&a, &[], Section::Both), "About me:\n- X: y.");
        assert_eq!(
            render(&a, &a, Section::Both),
            "About me:\n- X: y.\n\nHow to respond:\n- X: y."
        );
        assert_eq!(render(&a, &a, Section::HowToRespond), "- X: y.");
    }
}
