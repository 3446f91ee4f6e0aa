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
use sha2::{Digest, Sha256};

use crate::error::VaultError;
use crate::record::{Answer, AnswerRecord, CardType, EntryKind, Namespace, RecordFlags, RecordId};

/// The card an accepted proposal is filed under: a `short_text` card with the `proposal`
/// context (never shown), on the open facet `work.learned` whose sentence is the statement
/// itself, so the answer enters the graph and the context block like any free-text answer.
pub const PROPOSAL_CARD: &str = "work.learned.proposal";

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

/// What the user decided about a pending proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Add it to the profile: the agent's statement, or the user's edit of it (`Some`).
    Accept { edited: Option<String> },
    /// Keep it out of the profile; the same statement from the same agent is not asked again.
    Reject,
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

impl ProposalRecord {
    /// The id of the answer an acceptance writes: the first 16 bytes of
    /// SHA-256(`"selfos/v2/proposal-answer"` || proposal id), so two devices accepting the
    /// same proposal write one answer (two versions of it), never two, and the answer can be
    /// traced back to its proposal without a field in the proposal's plaintext.
    pub fn answer_id(&self) -> RecordId {
        let mut h = Sha256::new();
        h.update(b"selfos/v2/proposal-answer");
        h.update(self.id.as_bytes());
        let digest = h.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        RecordId::from_bytes(id)
    }

    /// The proposal as decided (`status` accepted or rejected), and for an acceptance the
    /// answer to write: the statement (or `edited`, trimmed) as a free-text answer on
    /// [`PROPOSAL_CARD`], filed under the proposing agent's namespace, captured at `now_ms`.
    /// Refuses a proposal already decided and an empty or over-long edit.
    pub fn decide(
        &self,
        decision: Decision,
        now_ms: u64,
    ) -> Result<(ProposalRecord, Option<AnswerRecord>), VaultError> {
        if self.status != ProposalStatus::Pending {
            return Err(VaultError::invalid(
                "proposal",
                format!(
                    "it was already {}; a proposal is decided once",
                    self.status.as_str()
                ),
            ));
        }
        let mut decided = self.clone();
        let answer = match decision {
            Decision::Reject => {
                decided.status = ProposalStatus::Rejected;
                None
            }
            Decision::Accept { edited } => {
                decided.status = ProposalStatus::Accepted;
                let text = edited.as_deref().unwrap_or(&self.statement).trim();
                let len = text.chars().count();
                if text.is_empty() || len > MAX_STATEMENT_CHARS {
                    return Err(VaultError::invalid(
                        "statement",
                        format!(
                            "{len} characters; write 1 to {MAX_STATEMENT_CHARS} before accepting"
                        ),
                    ));
                }
                let record = AnswerRecord {
                    id: self.answer_id(),
                    prompt_id: PROPOSAL_CARD.to_owned(),
                    prompt_version: 1,
                    card_type: CardType::ShortText,
                    answer: Answer::ShortText {
                        text: text.to_owned(),
                    },
                    namespace: self.agent.clone(),
                    origin: None,
                    page_context: None,
                    captured_at_ms: now_ms,
                    answer_latency_ms: 0,
                    wait_duration_ms: 0,
                    flags: RecordFlags::default(),
                };
                record.validate()?;
                Some(record)
            }
        };
        decided.validate()?;
        Ok((decided, answer))
    }
}

impl ProposalStatus {
    /// The word FORMAT.md uses: `pending`, `accepted`, `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalStatus::Pending => "pending",
            ProposalStatus::Accepted => "accepted",
            ProposalStatus::Rejected => "rejected",
        }
    }
}

/// A statement compared the way a person would: whitespace collapsed, case ignored.
fn same_statement(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    norm(a) == norm(b)
}

/// The proposal in `proposals` that already covers `statement` from `agent`: the same
/// statement (whitespace and case aside) from the same agent, whatever its status. An agent
/// proposing it again is told so (a rejected one is never asked again) and nothing is stored.
pub fn already_proposed<'a>(
    proposals: &'a [ProposalRecord],
    agent: &str,
    statement: &str,
) -> Option<&'a ProposalRecord> {
    proposals
        .iter()
        .find(|p| p.agent.as_str() == agent && same_statement(&p.statement, statement))
}

/// The proposals waiting for the user.
pub fn pending_count(proposals: &[ProposalRecord]) -> usize {
    proposals
        .iter()
        .filter(|p| p.status == ProposalStatus::Pending)
        .count()
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
    fn accepted_proposals_are_filed_on_a_card_that_is_never_shown() {
        let lib = crate::cards::builtin();
        let card = lib
            .card(PROPOSAL_CARD)
            .expect("the proposal card is in the library");
        assert_eq!(card.context, Some(crate::cards::CardContext::Proposal));
        assert_eq!(card.kind, crate::cards::CardKind::ShortText);
        let facet = lib.facet(&card.facet).unwrap();
        assert!(facet.open && !facet.per_agent && !facet.meta);
        assert_eq!(
            facet.says.as_deref(),
            Some("{text}"),
            "the statement is told as approved"
        );
        assert!(lib.is_proposal_facet(&facet.id));
        let (_, answer) = sample()
            .decide(Decision::Accept { edited: None }, 5)
            .unwrap();
        let answer = answer.unwrap();
        assert_eq!(answer.prompt_version, card.version);
        answer.validate().unwrap();
    }

    #[test]
    fn the_answer_id_follows_from_the_proposal_id() {
        let mut p = sample();
        p.id = RecordId::from_bytes([0x11; 16]);
        let mut h = Sha256::new();
        h.update(b"selfos/v2/proposal-answer");
        h.update([0x11; 16]);
        assert_eq!(p.answer_id().as_bytes()[..], h.finalize()[..16]);
        assert_ne!(p.answer_id(), sample().answer_id());
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
