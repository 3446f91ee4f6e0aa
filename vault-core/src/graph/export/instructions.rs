//! Custom instructions per agent: the profile packed into the agent's fields
//! ([`super::agents`]) by the one context writer ([`crate::graph::context`]): plain sentences,
//! strongest and most relevant first, never a cut sentence. What does not fit is listed, not
//! truncated. Contested facets, meta facets and values that say nothing usable are left out
//! (the writer's rules).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::agents::{field_len, profile, Section};
use crate::agents::display_name;
use crate::cards::library::Library;
use crate::graph::alignment::InstructionSnapshot;
use crate::graph::context::{self, ContextError};
use crate::graph::model::KnowledgeGraph;
use crate::graph::GraphError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstructionField {
    pub title: String,
    /// Maximum length (UTF-16 code units).
    pub limit: usize,
    pub text: String,
    /// The text's length in the same units; never above `limit`.
    pub length: usize,
    /// Node id -> strength of the nodes this field's text carries: what the agent is told
    /// when the user copies or fills this one field (a per-field delivery).
    #[serde(default)]
    pub nodes: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentInstructions {
    pub agent: String,
    pub name: String,
    /// Where to paste the fields.
    pub settings: String,
    /// The address that opens the agent's settings, when known (see
    /// [`super::agents::AgentProfile::settings_url`]).
    #[serde(default)]
    pub settings_url: Option<String>,
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
            method: Some(crate::delivery::DeliveryMethod::Downloaded),
        }
    }

    /// The delivery record of handing these instructions over (`method`: downloaded,
    /// copied or filled into the settings), to be kept with [`crate::Vault::record_delivery`].
    pub fn delivery(
        &self,
        method: crate::delivery::DeliveryMethod,
    ) -> Result<crate::delivery::DeliveryRecord, crate::VaultError> {
        crate::delivery::DeliveryRecord::of_text(
            &self.agent,
            &self.to_text(),
            self.included.clone(),
            method,
            self.generated_at_ms,
            None,
        )
    }

    /// The delivery record of handing over one field (its title, as the settings name it):
    /// only that field's text and nodes, so copying the second field alone does not count as
    /// delivering the first. An unknown title is an error, not an empty delivery.
    pub fn field_delivery(
        &self,
        title: &str,
        method: crate::delivery::DeliveryMethod,
    ) -> Result<crate::delivery::DeliveryRecord, crate::VaultError> {
        let field = self
            .fields
            .iter()
            .find(|f| f.title == title)
            .ok_or_else(|| {
                crate::VaultError::invalid(
                    "delivery field",
                    format!("{} has no settings field `{title}`", self.name),
                )
            })?;
        crate::delivery::DeliveryRecord::of_text(
            &self.agent,
            &field.text,
            field.nodes.clone(),
            method,
            self.generated_at_ms,
            Some(field.title.clone()),
        )
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

/// The sentence a node becomes in instructions (`None` for dimension nodes, nodes never
/// told and unknown ids).
pub fn sentence_for(kg: &KnowledgeGraph, lib: &Library, id: &str) -> Option<String> {
    context::sentence_for(kg, lib, id)
}

/// The section a node's sentence goes to (`None` for unknown ids).
pub fn section_for(kg: &KnowledgeGraph, id: &str) -> Option<Section> {
    kg.node(id).map(|n| context::section_of(n.kind))
}

/// Instructions for one agent (any valid namespace; agents outside the table get one
/// conservative field).
pub fn for_agent(
    kg: &KnowledgeGraph,
    lib: &Library,
    agent: &str,
) -> Result<AgentInstructions, GraphError> {
    let facts = context::facts(kg, lib, agent).map_err(|e| match e {
        ContextError::BadAgent(a) => GraphError::BadAgent(a),
        _ => GraphError::BadAgent(agent.to_owned()),
    })?;
    let p = profile(agent);
    let mut placed = vec![false; facts.len()];
    let mut included = BTreeMap::new();
    let fields = p
        .fields
        .iter()
        .map(|spec| {
            let (text, taken) = context::pack(&facts, spec.limit, spec.section, None, &mut placed);
            let nodes: BTreeMap<String, f64> = taken
                .into_iter()
                .map(|i| (facts[i].node.clone(), facts[i].strength))
                .collect();
            included.extend(nodes.clone());
            InstructionField {
                title: spec.title.to_owned(),
                limit: spec.limit,
                length: field_len(&text),
                text,
                nodes,
            }
        })
        .collect();
    let left_out = facts
        .iter()
        .zip(&placed)
        .filter(|(_, &p)| !p)
        .map(|(f, _)| f.node.clone())
        .collect();
    Ok(AgentInstructions {
        agent: agent.to_owned(),
        name: display_name(agent),
        settings: p.settings.to_owned(),
        settings_url: p.settings_url.map(str::to_owned),
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
