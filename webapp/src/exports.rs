//! The export formats: what each download is called, its type, and (for the formats made
//! from the records and the graph) its bytes. The encrypted backup and the JSON export come
//! from the vault itself (`Vault::export_backup`, `Vault::export_json`); these mirror
//! `selfos export` exactly, so the command line and the web app write the same files.

use vault_core::graph::export::{self, instructions::AgentInstructions};
use vault_core::graph::KnowledgeGraph;
use vault_core::AnswerRecord;

use crate::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Backup,
    Json,
    Csv,
    Markdown,
    Graphml,
    Jgf,
    Instructions,
}

impl ExportKind {
    pub const ALL: [ExportKind; 7] = [
        ExportKind::Backup,
        ExportKind::Json,
        ExportKind::Csv,
        ExportKind::Markdown,
        ExportKind::Graphml,
        ExportKind::Jgf,
        ExportKind::Instructions,
    ];

    /// The `data-export` id (and `selfos export --format` name).
    pub fn id(self) -> &'static str {
        match self {
            ExportKind::Backup => "backup",
            ExportKind::Json => "json",
            ExportKind::Csv => "csv",
            ExportKind::Markdown => "markdown",
            ExportKind::Graphml => "graphml",
            ExportKind::Jgf => "jgf",
            ExportKind::Instructions => "instructions",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ExportKind::Backup => "Encrypted backup",
            ExportKind::Json => "JSON",
            ExportKind::Csv => "CSV",
            ExportKind::Markdown => "Markdown vault (.zip)",
            ExportKind::Graphml => "GraphML",
            ExportKind::Jgf => "JSON Graph Format",
            ExportKind::Instructions => "Custom instructions",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            ExportKind::Backup => "Everything, still encrypted under your passphrase. Restore it here or with `selfos`; docs/FORMAT.md says how to decrypt it without SelfOS.",
            ExportKind::Json => "Every answer in plain, readable JSON (selfos-export). Not encrypted.",
            ExportKind::Csv => "One row per answer, for spreadsheets. Not encrypted.",
            ExportKind::Markdown => "One note per node with links between them, for Obsidian-style tools.",
            ExportKind::Graphml => "The knowledge graph for Gephi, Cytoscape, yEd or networkx.",
            ExportKind::Jgf => "The knowledge graph as JSON Graph Format v2.",
            ExportKind::Instructions => "Text for each assistant's custom-instruction fields, strongest facts first, within each field's limit.",
        }
    }

    /// File name for a download made on `date` (`YYYY-MM-DD`).
    pub fn file_name(self, date: &str) -> String {
        let ext = match self {
            ExportKind::Backup => "selfos-backup.json",
            ExportKind::Json => "json",
            ExportKind::Csv => "csv",
            ExportKind::Markdown => "zip",
            ExportKind::Graphml => "graphml",
            ExportKind::Jgf => "jgf.json",
            ExportKind::Instructions => "txt",
        };
        match self {
            ExportKind::Backup => format!("selfos-{date}.{ext}"),
            ExportKind::Markdown => format!("selfos-notes-{date}.{ext}"),
            ExportKind::Instructions => format!("selfos-instructions-{date}.{ext}"),
            _ => format!("selfos-{date}.{ext}"),
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ExportKind::Backup | ExportKind::Json | ExportKind::Jgf => "application/json",
            ExportKind::Csv => "text/csv;charset=utf-8",
            ExportKind::Markdown => "application/zip",
            ExportKind::Graphml => "application/graphml+xml",
            ExportKind::Instructions => "text/plain;charset=utf-8",
        }
    }

    /// Whether the vault (not the records and graph) makes this file.
    pub fn from_vault(self) -> bool {
        matches!(self, ExportKind::Backup | ExportKind::Json)
    }
}

/// The bytes of a records- or graph-based export. `agents`: the instructions to write (all
/// agents' for the plain instructions export).
pub fn file(
    kind: ExportKind,
    records: &[AnswerRecord],
    kg: &KnowledgeGraph,
    agents: &[AgentInstructions],
) -> Result<Vec<u8>, AppError> {
    Ok(match kind {
        ExportKind::Csv => vault_core::backup::csv(records).into_bytes(),
        ExportKind::Graphml => export::graphml::graphml(kg).into_bytes(),
        ExportKind::Jgf => export::jgf::jgf_string(kg).into_bytes(),
        ExportKind::Markdown => {
            let files = export::markdown::markdown_vault(kg);
            export::zip::zip_store(&files, kg.as_of_ms())
                .map_err(|e| AppError::Invalid(e.to_string()))?
        }
        ExportKind::Instructions => export::instructions::to_text(agents).into_bytes(),
        ExportKind::Backup | ExportKind::Json => {
            return Err(AppError::Invalid(format!(
                "the {} export comes from the vault, not the graph",
                kind.id()
            )))
        }
    })
}

/// Every agent's instructions (the table's agents and every agent seen in the records).
pub fn instructions(kg: &KnowledgeGraph) -> Vec<AgentInstructions> {
    export::instructions::for_all(kg, vault_core::cards::builtin())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vault_core::cards::builtin;
    use vault_core::graph::synthetic;

    #[test]
    fn graph_files() {
        let records = synthetic::answers(builtin(), 200, 1_700_000_000_000, 2);
        let now = records.last().map_or(0, |r| r.captured_at_ms);
        let kg = KnowledgeGraph::build(builtin(), &records, now);
        let agents = instructions(&kg);
        assert!(!agents.is_empty());
        for a in &agents {
            for f in &a.fields {
                assert!(f.length <= f.limit);
            }
        }
        for kind in ExportKind::ALL.into_iter().filter(|k| !k.from_vault()) {
            let bytes = file(kind, &records, &kg, &agents).unwrap();
            assert!(!bytes.is_empty(), "{kind:?}");
        }
        let jgf: serde_json::Value =
            serde_json::from_slice(&file(ExportKind::Jgf, &records, &kg, &agents).unwrap())
                .unwrap();
        assert!(
            jgf["graph"]["nodes"]
                .as_object()
                .is_some_and(|n| !n.is_empty())
                || jgf["graph"]["nodes"]
                    .as_array()
                    .is_some_and(|n| !n.is_empty())
        );
        assert!(file(ExportKind::Backup, &records, &kg, &agents).is_err());
        assert_eq!(
            ExportKind::Csv.file_name("2026-01-02"),
            "selfos-2026-01-02.csv"
        );
    }
}
