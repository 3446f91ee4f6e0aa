//! The one table of the AI agents SelfOS knows: the namespace their answers are filed under
//! and the name every front end shows (the extension's card and popup, the web app, the
//! exports), plus the site adapter (`assets/sites/<id>.json`) that finds each agent's pages.
//!
//! Names live here only: the adapters carry selectors, not names, so the card cannot say
//! "Le Chat" while the web app says "mistral". An agent outside the table (a site the user
//! added) is shown by its namespace.

/// One agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agent {
    /// The namespace records use (`chatgpt`); also the site adapter's id.
    pub id: &'static str,
    /// What the user calls it.
    pub name: &'static str,
}

/// Every built-in agent, in the order front ends list them.
pub const AGENTS: &[Agent] = &[
    Agent {
        id: "chatgpt",
        name: "ChatGPT",
    },
    Agent {
        id: "claude",
        name: "Claude",
    },
    Agent {
        id: "gemini",
        name: "Gemini",
    },
    Agent {
        id: "perplexity",
        name: "Perplexity",
    },
    Agent {
        id: "copilot",
        name: "Microsoft Copilot",
    },
    Agent {
        id: "mistral",
        name: "Le Chat",
    },
    Agent {
        id: "deepseek",
        name: "DeepSeek",
    },
    Agent {
        id: "poe",
        name: "Poe",
    },
];

/// The site adapter of each agent in [`AGENTS`], same order: `(agent id, adapter JSON)`.
/// Kept beside the table rather than in it, so a front end that only shows names (the web
/// app) does not carry the selectors. The extension parses them (`selfos_extension::sites`)
/// and `cargo xtask dist` reads the same files for the manifests' match patterns.
pub const SITE_ADAPTERS: &[(&str, &str)] = &[
    ("chatgpt", include_str!("../../assets/sites/chatgpt.json")),
    ("claude", include_str!("../../assets/sites/claude.json")),
    ("gemini", include_str!("../../assets/sites/gemini.json")),
    (
        "perplexity",
        include_str!("../../assets/sites/perplexity.json"),
    ),
    ("copilot", include_str!("../../assets/sites/copilot.json")),
    ("mistral", include_str!("../../assets/sites/mistral.json")),
    ("deepseek", include_str!("../../assets/sites/deepseek.json")),
    ("poe", include_str!("../../assets/sites/poe.json")),
];

/// The built-in agent with this namespace.
pub fn agent(id: &str) -> Option<&'static Agent> {
    AGENTS.iter().find(|a| a.id == id)
}

/// The name to show for an agent namespace: the table's, else the namespace itself.
pub fn display_name(id: &str) -> String {
    agent(id).map_or_else(|| id.to_owned(), |a| a.name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every file in `assets/sites/` is one agent's adapter, every agent has one, the
    /// adapter's id is the agent's, and no adapter names its agent (the table does).
    #[test]
    fn every_site_adapter_has_an_agent_and_every_agent_an_adapter() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/sites");
        let files: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        let expected: BTreeSet<String> = AGENTS.iter().map(|a| format!("{}.json", a.id)).collect();
        assert_eq!(files, expected, "assets/sites/ against the agents table");
        assert_eq!(
            SITE_ADAPTERS.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            AGENTS.iter().map(|a| a.id).collect::<Vec<_>>(),
            "one adapter per agent, in the table's order"
        );
        for (id, json) in SITE_ADAPTERS {
            let on_disk = std::fs::read_to_string(dir.join(format!("{id}.json"))).unwrap();
            assert_eq!(*json, on_disk, "{id}: embedded from its own file");
            let adapter: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(adapter["id"], *id, "{id}.json names another agent");
            assert!(
                adapter.get("name").is_none(),
                "{id}.json names the agent; names live in the agents table"
            );
        }
        let ids: BTreeSet<_> = AGENTS.iter().map(|a| a.id).collect();
        assert_eq!(ids.len(), AGENTS.len(), "agent ids are unique");
        for a in AGENTS {
            crate::Namespace::new(a.id).unwrap();
            assert!(!a.name.trim().is_empty());
        }
        for p in crate::graph::export::AGENT_PROFILES {
            assert!(
                agent(p.agent).is_some(),
                "export profile for unknown agent {}",
                p.agent
            );
        }
    }

    #[test]
    fn names_come_from_the_table_else_the_namespace() {
        assert_eq!(display_name("mistral"), "Le Chat");
        assert_eq!(display_name("chatgpt"), "ChatGPT");
        assert_eq!(
            display_name("site:chat.example.org"),
            "site:chat.example.org"
        );
    }
}
