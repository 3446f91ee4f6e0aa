//! The one table of where each agent takes custom instructions and how long they may be.
//!
//! Limits are counted in UTF-16 code units (what a browser text field counts), which is never
//! fewer than characters, so text that fits here fits the field. Each entry cites the public
//! page its field names, limits and settings address come from (researched 2026-12-04); an
//! agent with no account-wide personalization field found in a public source (Microsoft
//! Copilot's consumer site, Le Chat, DeepSeek, Poe) is left out and gets [`DEFAULT_PROFILE`]:
//! one conservative field and no settings link, rather than a link that may lead nowhere.
//! Where no vendor publishes a number, the limit is the lowest figure public guides report,
//! so the text fits whatever the real limit is above it (`documented: false`).
//! Change them here only: the exporter, the tests, both front ends and `docs/METRICS.md` read
//! this table.

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
    /// Where the user pastes the text, as the settings menus name it.
    pub settings: &'static str,
    /// The address that opens those settings (both front ends link it), when a public source
    /// gives one; `None` shows only [`AgentProfile::settings`].
    pub settings_url: Option<&'static str>,
    /// True when the limit is the vendor's published one; false for a conservative choice.
    pub documented: bool,
    pub fields: &'static [FieldSpec],
}

pub const AGENT_PROFILES: &[AgentProfile] = &[
    // Source: https://help.openai.com/en/articles/8096356-custom-instructions-for-chatgpt
    // (Settings > Personalization > Custom instructions, both fields); 1,500 characters per
    // field: https://candova.ai/blog/customize-chatgpt and
    // https://findskill.ai/courses/custom-instructions/lesson-2-how-they-work ("1,500 chars x 2
    // fields"). Settings address as other extensions open it (`#settings/Personalization`).
    AgentProfile {
        agent: "chatgpt",
        settings: "Settings > Personalization > Custom instructions",
        settings_url: Some("https://chatgpt.com/#settings/Personalization"),
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
    // Source: https://support.claude.com/en/articles/10185728-understanding-claude-s-personalization-features
    // (one account-wide preferences field in Settings); its label and a 1,500-character limit:
    // https://unabyss.com/blog/how-to-save-context-in-claude and
    // https://toolstackhub.in/blog/claude-memory-preferences-guide ("~1,500 characters");
    // Anthropic publishes no number. Profile settings at /settings/general:
    // https://www.weloveclaude.com/features/settings
    AgentProfile {
        agent: "claude",
        settings:
            "Settings > Profile > What personal preferences should Claude consider in responses?",
        settings_url: Some("https://claude.ai/settings/general"),
        documented: false,
        fields: &[FieldSpec {
            title: "What personal preferences should Claude consider in responses?",
            limit: 1_500,
            section: Section::Both,
        }],
    },
    // Source: https://umatechnology.org/?p=852140 ("Saved info") and
    // https://xtrace.ai/blog/how-to-manage-gemini-memory (standing instructions under Settings
    // > Personal context); Google publishes no limit. Address: gemini.google.com/saved-info.
    AgentProfile {
        agent: "gemini",
        settings: "Settings > Saved info",
        settings_url: Some("https://gemini.google.com/saved-info"),
        documented: false,
        fields: &[FieldSpec {
            title: "Saved info",
            limit: 1_500,
            section: Section::Both,
        }],
    },
    // Source: https://aiuxplayground.com/gallery/perplexity-personalization (Account >
    // Personalization: occupation, company, custom instructions) and
    // https://perplexity-help-center.pages.dev/en/articles/10968016-memory.html (the
    // Personalize section); no published limit. Address: perplexity.ai/account/personalize.
    AgentProfile {
        agent: "perplexity",
        settings: "Settings > Personalize > Custom instructions",
        settings_url: Some("https://www.perplexity.ai/account/personalize"),
        documented: false,
        fields: &[FieldSpec {
            title: "Custom instructions",
            limit: 1_500,
            section: Section::Both,
        }],
    },
];

/// Any other agent or site: one field, conservatively short.
pub const DEFAULT_PROFILE: AgentProfile = AgentProfile {
    agent: "",
    settings: "the agent's custom-instructions or system-prompt field",
    settings_url: None,
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
