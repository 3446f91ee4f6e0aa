//! The web app's side of the exports. The formats themselves (names, media types, the bytes
//! of each graph-based file) are `vault_core::graph::export::ExportFormat`, shared with
//! `selfos export`; the encrypted backup and the JSON export come from the vault itself.

use vault_core::graph::export::{self, instructions::AgentInstructions, ExportFormat};
use vault_core::graph::KnowledgeGraph;
use vault_core::AnswerRecord;

use crate::AppError;

/// The bytes of a records- or graph-based export, as the command line writes them.
pub fn file(
    format: ExportFormat,
    records: &[AnswerRecord],
    kg: &KnowledgeGraph,
    agents: &[AgentInstructions],
) -> Result<Vec<u8>, AppError> {
    format
        .graph_file(records, kg, agents)
        .map_err(|e| AppError::Invalid(e.to_string()))
}

/// Every agent's instructions (the table's agents and every agent seen in the records).
pub fn instructions(kg: &KnowledgeGraph) -> Vec<AgentInstructions> {
    export::instructions::for_all(kg, vault_core::cards::builtin())
}
