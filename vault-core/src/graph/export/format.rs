//! The export formats, once for every front end: what each file is called, its media type,
//! its label in the web app, and (for the formats made from the records and the graph) its
//! bytes. `selfos export --format <id>` and the web app's Export view both read this table,
//! so the command line and the web app write the same files.

use std::str::FromStr;

use crate::graph::{GraphError, KnowledgeGraph};
use crate::record::AnswerRecord;

use super::instructions::AgentInstructions;

/// One export format. The encrypted backup and the JSON export come from the vault itself
/// (`Vault::export_backup`, `Vault::export_json`); the others from the records and the graph
/// ([`ExportFormat::graph_file`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Backup,
    Json,
    Csv,
    Markdown,
    Graphml,
    Jgf,
    Instructions,
}

impl ExportFormat {
    /// Every format, in the order the web app lists them.
    pub const ALL: [ExportFormat; 7] = [
        ExportFormat::Backup,
        ExportFormat::Json,
        ExportFormat::Csv,
        ExportFormat::Markdown,
        ExportFormat::Graphml,
        ExportFormat::Jgf,
        ExportFormat::Instructions,
    ];

    /// The `selfos export --format` name (and the web app's `data-export` id).
    pub fn id(self) -> &'static str {
        match self {
            ExportFormat::Backup => "backup",
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Markdown => "markdown",
            ExportFormat::Graphml => "graphml",
            ExportFormat::Jgf => "jgf",
            ExportFormat::Instructions => "instructions",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ExportFormat::Backup => "Encrypted backup",
            ExportFormat::Json => "JSON",
            ExportFormat::Csv => "CSV",
            ExportFormat::Markdown => "Markdown vault (.zip)",
            ExportFormat::Graphml => "GraphML",
            ExportFormat::Jgf => "JSON Graph Format",
            ExportFormat::Instructions => "Custom instructions",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            ExportFormat::Backup => "Everything, still encrypted under your passphrase. Restore it here or with `selfos`; docs/FORMAT.md says how to decrypt it without SelfOS.",
            ExportFormat::Json => "Every answer in plain, readable JSON (selfos-export). Not encrypted.",
            ExportFormat::Csv => "One row per answer, for spreadsheets. Not encrypted.",
            ExportFormat::Markdown => "One note per node with links between them, for Obsidian-style tools.",
            ExportFormat::Graphml => "The knowledge graph for Gephi, Cytoscape, yEd or networkx.",
            ExportFormat::Jgf => "The knowledge graph as JSON Graph Format v2.",
            ExportFormat::Instructions => "Text for each assistant's custom-instruction fields, strongest facts first, within each field's limit.",
        }
    }

    /// File name for a download made on `date` (`YYYY-MM-DD`).
    pub fn file_name(self, date: &str) -> String {
        match self {
            ExportFormat::Backup => format!("selfos-{date}.selfos-backup.json"),
            ExportFormat::Json => format!("selfos-{date}.json"),
            ExportFormat::Csv => format!("selfos-{date}.csv"),
            ExportFormat::Markdown => format!("selfos-notes-{date}.zip"),
            ExportFormat::Graphml => format!("selfos-{date}.graphml"),
            ExportFormat::Jgf => format!("selfos-{date}.jgf.json"),
            ExportFormat::Instructions => format!("selfos-instructions-{date}.txt"),
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ExportFormat::Backup | ExportFormat::Json | ExportFormat::Jgf => "application/json",
            ExportFormat::Csv => "text/csv;charset=utf-8",
            ExportFormat::Markdown => "application/zip",
            ExportFormat::Graphml => "application/graphml+xml",
            ExportFormat::Instructions => "text/plain;charset=utf-8",
        }
    }

    /// Whether the vault (not the records and graph) makes this file.
    pub fn from_vault(self) -> bool {
        matches!(self, ExportFormat::Backup | ExportFormat::Json)
    }

    /// The bytes of a records- or graph-based export. `agents`: the instructions to write
    /// (every agent's for the plain instructions export). The Markdown vault comes as a
    /// store-only zip; a front end that writes a folder of notes instead calls
    /// [`super::markdown::markdown_vault`] itself.
    pub fn graph_file(
        self,
        records: &[AnswerRecord],
        kg: &KnowledgeGraph,
        agents: &[AgentInstructions],
    ) -> Result<Vec<u8>, GraphError> {
        Ok(match self {
            ExportFormat::Csv => crate::backup::csv(records).into_bytes(),
            ExportFormat::Graphml => super::graphml::graphml(kg).into_bytes(),
            ExportFormat::Jgf => super::jgf::jgf_string(kg).into_bytes(),
            ExportFormat::Markdown => {
                super::zip::zip_store(&super::markdown::markdown_vault(kg), kg.as_of_ms())?
            }
            ExportFormat::Instructions => super::instructions::to_text(agents).into_bytes(),
            ExportFormat::Backup | ExportFormat::Json => {
                return Err(GraphError::FromVault(self.id()))
            }
        })
    }
}

impl FromStr for ExportFormat {
    type Err = GraphError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.id() == s)
            .ok_or_else(|| GraphError::UnknownFormat(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cards::builtin;
    use crate::graph::synthetic;

    #[test]
    fn every_format_is_named_by_its_id() {
        for f in ExportFormat::ALL {
            assert_eq!(f.id().parse::<ExportFormat>().ok(), Some(f));
        }
        let err = "pdf".parse::<ExportFormat>().unwrap_err().to_string();
        assert!(err.contains("pdf") && err.contains("graphml"), "{err}");
        assert_eq!(
            ExportFormat::Csv.file_name("2026-01-02"),
            "selfos-2026-01-02.csv"
        );
        assert_eq!(
            ExportFormat::Backup.file_name("2026-01-02"),
            "selfos-2026-01-02.selfos-backup.json"
        );
    }

    #[test]
    fn graph_files_are_made_and_vault_files_refused() {
        let records = synthetic::answers(builtin(), 200, 1_700_000_000_000, 2);
        let now = records.last().map_or(0, |r| r.captured_at_ms);
        let kg = KnowledgeGraph::build(builtin(), &records, now);
        let agents = super::super::instructions::for_all(&kg, builtin());
        assert!(!agents.is_empty());
        for f in ExportFormat::ALL.into_iter().filter(|f| !f.from_vault()) {
            let bytes = f.graph_file(&records, &kg, &agents).unwrap();
            assert!(!bytes.is_empty(), "{f:?}");
        }
        let jgf: serde_json::Value = serde_json::from_slice(
            &ExportFormat::Jgf
                .graph_file(&records, &kg, &agents)
                .unwrap(),
        )
        .unwrap();
        let nodes = &jgf["graph"]["nodes"];
        let has_nodes = nodes.as_object().is_some_and(|n| !n.is_empty())
            || nodes.as_array().is_some_and(|n| !n.is_empty());
        assert!(has_nodes, "{nodes}");
        let zip = ExportFormat::Markdown
            .graph_file(&records, &kg, &agents)
            .unwrap();
        assert_eq!(&zip[..4], b"PK\x03\x04", "a zip archive");
        for f in [ExportFormat::Backup, ExportFormat::Json] {
            assert!(matches!(
                f.graph_file(&records, &kg, &agents),
                Err(GraphError::FromVault(_))
            ));
        }
    }
}
