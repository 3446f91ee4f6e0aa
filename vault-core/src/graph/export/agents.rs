//! The one table of where each agent takes custom instructions and how long they may be.
//!
//! Limits are counted in UTF-16 code units (what a browser text field counts), which is never
//! fewer than characters, so text that fits here fits the field. ChatGPT's two 1,500-character
//! fields are its documented "Customize ChatGPT" limits. Claude and Gemini do not publish a
//! number for their personal-preference fields at the time of writing; the figures below are
//! deliberately conservative, so the text fits whatever the real limit is above them.
//! Change them here only: the exporter, the tests and `docs/METRICS.md` read this table.

use serde::{Deserialize, Serialize};

/// Which part of the profile a field carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Facts: traits, skills, goals, values, constraints, work context.
    AboutYou,
    /// Preferences about answers: style, format, feedback, learning, the agent's role.
    HowToRespond,
    /// One field for both, with a heading for each.
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldSpec {
    /// The field's label in the agent's settings.
    pub title: &'static str,
    /// Maximum length in UTF-16 code units.
    pub limit: usize,
    pub section: Section,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AgentProfile {
    /// The namespace records use for this agent (its name is in [`crate::agents`]).
    pub agent: &'static str,
    /// Where the user pastes the text.
    pub settings: &'static str,
    /// True when the limit is the vendor's published one; false for a conservative choice.
    pub documented: bool,
    pub fields: &'static [FieldSpec],
}

pub const AGENT_PROFILES: &[AgentProfile] = &[
    AgentProfile {
        agent: "chatgpt",
        settings: "Settings > Personalization > Custom instructions",
        documented: true,
        fields: &[
            FieldSpec {
                title: "What would you like ChatGPT to know about you to provide better responses?",
                limit: 1_500,
                section: Section::AboutYou,
            },
            FieldSpec {
                title: "How would you like ChatGPT to respond?",
                limit: 1_500,
                section: Section::HowToRespond,
            },
        ],
    },
    AgentProfile {
        agent: "claude",
        settings:
            "Settings > Profile > What personal preferences should Claude consider in responses?",
        documented: false,
        fields: &[FieldSpec {
            title: "What personal preferences should Claude consider in responses?",
            limit: 2_000,
            section: Section::Both,
        }],
    },
    AgentProfile {
        agent: "gemini",
        settings: "Settings > Saved info",
        documented: false,
        fields: &[FieldSpec {
            title: "Saved info",
            limit: 1_500,
            section: Section::Both,
        }],
    },
];

/// Any other agent or site: one field, conservatively short.
pub const DEFAULT_PROFILE: AgentProfile = AgentProfile {
    agent: "",
    settings: "the agent's custom-instructions or system-prompt field",
    documented: false,
    fields: &[FieldSpec {
        title: "Custom instructions",
        limit: 1_500,
        section: Section::Both,
    }],
};

/// The profile of an agent namespace (the default for agents not in the table).
pub fn profile(agent: &str) -> &'static AgentProfile {
    AGENT_PROFILES
        .iter()
        .find(|p| p.agent == agent)
        .unwrap_or(&DEFAULT_PROFILE)
}

/// Length as a browser text field counts it.
pub fn field_len(s: &str) -> usize {
    s.encode_utf16().count()
}
