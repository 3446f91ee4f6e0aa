//! Proposal records: something an AI agent learned about the user and proposes to add to the
//! profile (`selfos mcp`'s `propose_fact`). A proposal never changes the profile by itself:
//! the user accepts, edits or rejects it, and only an accepted one becomes an answer.
//!
//! It is sealed under the vault key like an answer but is a kind of its own, exactly like a
//! delivery ([`crate::delivery`]): it lives in the reserved namespace
//! [`Namespace::proposals`] and its envelope's purpose label is `selfos/v2/proposal`
//! (docs/FORMAT.md §4.4), so it can never be opened as an answer or a delivery, nor they as
//! a proposal. It syncs like answers. The agent and the statement are inside the sealed
//! plaintext; the server sees only that the entry is a proposal.

use serde::{Deserialize, Serialize};

use crate::error::VaultError;
use crate::record::{EntryKind, Namespace, RecordId};

/// The plaintext schema proposals are written in.
pub const PROPOSAL_SCHEMA: u16 = 1;

/// The longest statement, in characters: a fact is a sentence or two; a longer text is a
/// document, not a fact, and bounds what an agent can make the user read.
pub const MAX_STATEMENT_CHARS: usize = 1_000;
/// The longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 1_000;
/// The longest dimension name, in characters.
pub const MAX_DIMENSION_CHARS: usize = 64;

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Waiting for the user.
    Pending,
    /// The user accepted it (it became an answer).
    Accepted,
    /// The user rejected it; kept so the same proposal is not asked again.
    Rejected,
}

/// One proposal, as the user's devices see it after decryption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposalRecord {
    pub id: RecordId,
    /// The agent namespace that proposed it (`claude`, `mcp`).
    pub agent: Namespace,
    /// The fact, in the user's first person.
    pub statement: String,
    /// The profile dimension the agent filed it under, if it named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<String>,
    /// Why the agent thinks so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Unix time in milliseconds.
    pub proposed_at_ms: u64,
    pub status: ProposalStatus,
}

impl ProposalRecord {
    /// A new pending proposal from `agent`, checked.
    pub fn new(
        agent: &str,
        statement: &str,
        dimension: Option<String>,
        reason: Option<String>,
        proposed_at_ms: u64,
    ) -> Result<Self, VaultError> {
        let record = ProposalRecord {
            id: RecordId::generate()?,
            agent: Namespace::new(agent)?,
            statement: statement.trim().to_owned(),
            dimension: dimension
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty()),
            reason: reason
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty()),
            proposed_at_ms,
            status: ProposalStatus::Pending,
        };
        record.validate()?;
        Ok(record)
    }

    /// Invariants the types do not hold: an agent namespace (not a reserved one), a
    /// statement of 1 to [`MAX_STATEMENT_CHARS`] characters, bounded dimension and reason.
    pub fn validate(&self) -> Result<(), VaultError> {
        if self.agent.kind() != EntryKind::Answer {
            return Err(VaultError::invalid(
                "proposal agent",
                format!("`{}` is reserved for SelfOS itself", self.agent),
            ));
        }
        let len = self.statement.chars().count();
        if self.statement.trim().is_empty() || len > MAX_STATEMENT_CHARS {
            return Err(VaultError::invalid(
                "proposal statement",
                format!("{len} characters; give 1 to {MAX_STATEMENT_CHARS}"),
            ));
        }
        if self
            .dimension
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DIMENSION_CHARS)
        {
            return Err(VaultError::invalid(
                "proposal dimension",
                format!("longer than {MAX_DIMENSION_CHARS} characters"),
            ));
        }
        if self
            .reason
            .as_ref()
            .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
        {
            return Err(VaultError::invalid(
                "proposal reason",
                format!("longer than {MAX_REASON_CHARS} characters"),
            ));
        }
        Ok(())
    }
}

/// The plaintext that gets sealed: JSON with `schema` and `kind: "proposal"`.
pub fn encode_proposal(record: &ProposalRecord) -> Vec<u8> {
    crate::own_kind::encode("proposal", PROPOSAL_SCHEMA, record)
}

/// Decodes a proposal's plaintext; refuses another kind, a newer schema or a broken one.
pub fn decode_proposal(bytes: &[u8]) -> Result<ProposalRecord, VaultError> {
    let record: ProposalRecord = crate::own_kind::decode(bytes, "proposal", PROPOSAL_SCHEMA)?;
    record.validate()?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn sample() -> ProposalRecord {
        ProposalRecord::new(
            "claude",
            "I write Rust for embedded devices.",
            Some("work".into()),
            Some("The user said so while debugging.".into()),
            1_700_000_000_000,
        )
        .unwrap()
    }

    #[test]
    fn round_trips_and_names_its_kind() {
        let p = sample();
        let bytes = encode_proposal(&p);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["kind"], "proposal");
        assert_eq!(v["schema"], 1);
        assert_eq!(v["status"], "pending");
        assert_eq!(decode_proposal(&bytes).unwrap(), p);
    }

    #[test]
    fn a_delivery_plaintext_is_not_a_proposal() {
        let err = decode_proposal(br#"{"schema":1,"kind":"delivery"}"#).unwrap_err();
        assert!(err.to_string().contains("not a proposal"), "{err}");
    }

    #[test]
    fn refuses_bad_fields() {
        let long = "x".repeat(MAX_STATEMENT_CHARS + 1);
        assert!(ProposalRecord::new("claude", &long, None, None, 1).is_err());
        assert!(ProposalRecord::new("claude", "  ", None, None, 1).is_err());
        assert!(ProposalRecord::new("selfos.proposal", "I am.", None, None, 1).is_err());
        let fits = "é".repeat(MAX_STATEMENT_CHARS);
        assert!(ProposalRecord::new("claude", &fits, None, None, 1).is_ok());
        let mut bytes: Value = serde_json::from_slice(&encode_proposal(&sample())).unwrap();
        bytes["schema"] = 9.into();
        let err = decode_proposal(&serde_json::to_vec(&bytes).unwrap()).unwrap_err();
        assert!(matches!(err, VaultError::UnknownSchemaVersion { .. }));
        bytes["schema"] = 1.into();
        bytes["extra"] = 1.into();
        assert!(decode_proposal(&serde_json::to_vec(&bytes).unwrap()).is_err());
    }
}
