//! The personal knowledge graph: what the answers say about the user, as nodes with
//! evidence, strengths and links, plus the figures the dashboard shows and the exports.
//!
//! The mapping from one answer to node evidence lives beside the card library
//! ([`crate::cards::graph::evidence`]); this module only aggregates it. Everything is a pure
//! function of `(library, records, time)`: deleting a record and rebuilding removes its
//! evidence, and building "as of" a past date shows the profile as it was then.
//!
//! - [`model`]: the node, edge and evidence types, and [`KnowledgeGraph`] itself.
//! - [`build`]: records -> graph (evidence, sessions, co-occurrence edges).
//! - [`strength`]: node strength from evidence amount, consistency and recency.
//! - [`contradictions`]: facets whose recent answers disagree (re-ask candidates).
//! - [`rank`]: weighted PageRank and weighted degree.
//! - [`alignment`]: per-agent coverage, consistency, confidence, staleness, alignment.
//! - [`overview`]: answers per day, streaks, most and least certain facts, changes since a date.
//! - [`export`]: Markdown vault, GraphML, JSON Graph Format, custom instructions, zip.
//! - [`synthetic`]: the one deterministic answer generator (benchmarks, tests, `selfos demo`).
//!
//! Formulas and their rationale: `docs/METRICS.md`.

pub mod alignment;
pub mod build;
pub mod context;
pub mod contradictions;
pub mod export;
pub mod model;
pub mod overview;
pub mod rank;
pub mod strength;
pub mod synthetic;

pub use alignment::{AgentAlignment, DimensionCoverage, InstructionSnapshot, SelfRating};
pub use build::BuildOptions;
pub use contradictions::{ContestedValue, Contradiction};
pub use model::{
    BuildStats, Edge, EdgeKind, Evidence, GraphNodeKind, GraphView, KnowledgeGraph, Node,
    NodeMetrics,
};
pub use overview::{Changes, DayCount, LeaderChange, NodeChange, NodeSummary, Overview};

use thiserror::Error;

/// What can go wrong turning a graph into files. Building never fails: records the library
/// does not know (or answers that carry no evidence) are counted and skipped.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum GraphError {
    #[error("unknown agent `{0}`: use a namespace such as chatgpt, claude or gemini (lowercase letters, digits, `.:_-`)")]
    BadAgent(String),
    #[error("the archive would hold {files} files; a zip without ZIP64 holds at most 65,535")]
    TooManyFiles { files: usize },
    #[error("`{path}` is {bytes} bytes; a zip without ZIP64 holds files under 4 GiB")]
    FileTooLarge { path: String, bytes: usize },
    #[error("the archive is larger than 4 GiB; export to a directory instead")]
    ArchiveTooLarge,
    #[error("`{0}` is not a safe relative path inside an export")]
    BadPath(String),
    #[error("unknown export format `{0}`: use json, csv, markdown, graphml, jgf, instructions or backup")]
    UnknownFormat(String),
    #[error("the {0} export comes from the vault, not the graph")]
    FromVault(&'static str),
}

/// Milliseconds in a day.
pub const DAY_MS: u64 = 86_400_000;
