//! Delivery records: what an AI agent was actually given from the profile, when and how.
//!
//! Every time SelfOS hands the profile to an agent (inserted into a chat, copied, filled into
//! the agent's settings, downloaded as instructions, served over MCP) the device writes one
//! delivery record. It is sealed under the vault key like an answer but is a kind of its own:
//! it lives in the reserved namespace [`Namespace::deliveries`] and its envelope's purpose
//! label is `selfos/v2/delivery` (docs/FORMAT.md §4.3), so it can never be opened as an answer
//! nor an answer as a delivery. It syncs like answers, so every device computes the same
//! alignment from the same deliveries (`graph::alignment`, docs/METRICS.md).
//!
//! A delivery never holds the delivered text: only a SHA-256 digest of it (to tell two
//! deliveries of the same block apart) and the graph nodes it carried with their strengths
//! then, which is what alignment compares with the profile now. The agent is inside the
//! sealed plaintext; the server sees only that the entry is a delivery.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::VaultError;
use crate::graph::context::ContextBlock;
use crate::graph::InstructionSnapshot;
use crate::record::{Namespace, RecordId};

/// The plaintext schema deliveries are written in.
pub const DELIVERY_SCHEMA: u16 = 1;

/// At most this many nodes in one delivery: far above any block a field or a chat takes
/// (a 100,000-character budget holds a few hundred facts), low enough to bound a forged one.
pub const MAX_NODES: usize = 2_000;

/// How the profile reached the agent. The method decides how long the agent keeps knowing
/// it (see [`DeliveryMethod::stability_days`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMethod {
    /// The user inserted the block into a chat's composer.
    Inserted,
    /// Inserted into a new chat by the user's standing consent for that agent.
    AutoInserted,
    /// Copied to the clipboard (for the agent's settings or a chat).
    Copied,
    /// Written into a field of the agent's own settings page ("Fill from SelfOS").
    Filled,
    /// Custom instructions downloaded from the web app's export.
    Downloaded,
    /// Served to a desktop or coding agent over the Model Context Protocol.
    Mcp,
}

impl DeliveryMethod {
    pub const ALL: [DeliveryMethod; 6] = [
        DeliveryMethod::Inserted,
        DeliveryMethod::AutoInserted,
        DeliveryMethod::Copied,
        DeliveryMethod::Filled,
        DeliveryMethod::Downloaded,
        DeliveryMethod::Mcp,
    ];

    /// The stability `S`, in days, of what the agent was told, on the forgetting curve the
    /// profile already uses for evidence (`R = (1 + t / 9S)^-1`): a block in one chat or one
    /// MCP session is known in that conversation only (S = 1 day: 90 % after a day, half after
    /// nine), text in the agent's settings stays until the profile moves on (S = 30 days).
    /// Copied and downloaded text is most often pasted into settings.
    pub fn stability_days(self) -> f64 {
        match self {
            DeliveryMethod::Inserted | DeliveryMethod::AutoInserted | DeliveryMethod::Mcp => 1.0,
            DeliveryMethod::Copied | DeliveryMethod::Filled | DeliveryMethod::Downloaded => 30.0,
        }
    }

    /// How the user reads it ("inserted into a chat").
    pub fn describe(self) -> &'static str {
        match self {
            DeliveryMethod::Inserted => "inserted into a chat",
            DeliveryMethod::AutoInserted => "started a new chat",
            DeliveryMethod::Copied => "copied",
            DeliveryMethod::Filled => "filled into its settings",
            DeliveryMethod::Downloaded => "downloaded as instructions",
            DeliveryMethod::Mcp => "served over MCP",
        }
    }
}

/// One delivery, as the user's devices see it after decryption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRecord {
    pub id: RecordId,
    /// The agent namespace the profile went to (`chatgpt`, `claude`, `site:example.org`).
    pub agent: Namespace,
    pub method: DeliveryMethod,
    /// Unix time in milliseconds.
    pub delivered_at_ms: u64,
    /// The settings field, for `filled` and `copied` from a field (its title), else none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// SHA-256 of the delivered text (UTF-8), lowercase hex.
    pub digest: String,
    /// Length of the delivered text in UTF-16 code units.
    pub chars: u32,
    /// Graph node id -> its strength when delivered: what the agent was told.
    pub nodes: BTreeMap<String, f64>,
}

impl DeliveryRecord {
    /// The record of handing `block` to its agent now.
    pub fn of_block(
        block: &ContextBlock,
        method: DeliveryMethod,
        delivered_at_ms: u64,
        field: Option<String>,
    ) -> Result<Self, VaultError> {
        let nodes = block
            .facts
            .iter()
            .map(|f| (f.node.clone(), f.strength))
            .collect();
        Self::of_text(
            &block.agent,
            &block.text,
            nodes,
            method,
            delivered_at_ms,
            field,
        )
    }

    /// The record of handing `text`, which carries `nodes`, to `agent`.
    pub fn of_text(
        agent: &str,
        text: &str,
        nodes: BTreeMap<String, f64>,
        method: DeliveryMethod,
        delivered_at_ms: u64,
        field: Option<String>,
    ) -> Result<Self, VaultError> {
        let record = DeliveryRecord {
            id: RecordId::generate()?,
            agent: Namespace::new(agent)?,
            method,
            delivered_at_ms,
            field,
            digest: digest(text),
            chars: u32::try_from(text.encode_utf16().count()).unwrap_or(u32::MAX),
            nodes,
        };
        record.validate()?;
        Ok(record)
    }

    /// Invariants the types do not hold: an agent namespace (not a reserved one), a digest
    /// in hex, bounded nodes with strengths in 0..=1.
    pub fn validate(&self) -> Result<(), VaultError> {
        if self.agent.kind() != crate::record::EntryKind::Answer {
            return Err(VaultError::invalid(
                "delivery agent",
                format!("`{}` is reserved for SelfOS itself", self.agent),
            ));
        }
        if self.digest.len() != 64
            || !self
                .digest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(VaultError::invalid(
                "delivery digest",
                "must be 64 lowercase hex digits (SHA-256)",
            ));
        }
        if self.nodes.len() > MAX_NODES {
            return Err(VaultError::invalid(
                "delivery nodes",
                format!("{} nodes; at most {MAX_NODES}", self.nodes.len()),
            ));
        }
        if let Some((node, s)) = self
            .nodes
            .iter()
            .find(|(n, s)| n.is_empty() || n.len() > 512 || !(0.0..=1.0).contains(*s))
        {
            return Err(VaultError::invalid(
                "delivery nodes",
                format!(
                    "node `{node}` has strength {s}; node ids are 1 to 512 bytes, strengths 0 to 1"
                ),
            ));
        }
        if self.field.as_ref().is_some_and(|f| f.chars().count() > 512) {
            return Err(VaultError::invalid(
                "delivery field",
                "longer than 512 characters",
            ));
        }
        Ok(())
    }

    /// What the agent was told, in the shape alignment reads.
    pub fn snapshot(&self) -> InstructionSnapshot {
        InstructionSnapshot {
            agent: self.agent.as_str().to_owned(),
            exported_at_ms: self.delivered_at_ms,
            strengths: self.nodes.clone(),
            method: Some(self.method),
        }
    }
}

/// SHA-256 of `text`, lowercase hex.
pub fn digest(text: &str) -> String {
    let d = Sha256::digest(text.as_bytes());
    let mut s = String::with_capacity(64);
    for b in d {
        s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        s.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
    s
}

/// The plaintext that gets sealed: JSON with `schema` and `kind: "delivery"`.
pub fn encode_delivery(record: &DeliveryRecord) -> Vec<u8> {
    crate::own_kind::encode("delivery", DELIVERY_SCHEMA, record)
}

/// Decodes a delivery's plaintext; refuses another kind, a newer schema or a broken one.
pub fn decode_delivery(bytes: &[u8]) -> Result<DeliveryRecord, VaultError> {
    let record: DeliveryRecord = crate::own_kind::decode(bytes, "delivery", DELIVERY_SCHEMA)?;
    record.validate()?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn sample() -> DeliveryRecord {
        DeliveryRecord::of_text(
            "chatgpt",
            "Context about me: I prefer brief answers.",
            BTreeMap::from([("style.length=brief".to_owned(), 0.8)]),
            DeliveryMethod::Inserted,
            1_700_000_000_000,
            None,
        )
        .unwrap()
    }

    #[test]
    fn round_trips_and_names_its_kind() {
        let d = sample();
        let bytes = encode_delivery(&d);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["kind"], "delivery");
        assert_eq!(v["schema"], 1);
        assert_eq!(decode_delivery(&bytes).unwrap(), d);
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sample().chars, 41);
    }

    #[test]
    fn an_answer_plaintext_is_not_a_delivery() {
        let err = decode_delivery(br#"{"schema":2,"id":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("not a delivery"), "{err}");
    }

    #[test]
    fn refuses_bad_fields() {
        let mut d = sample();
        d.nodes.insert("x".into(), 1.5);
        assert!(decode_delivery(&encode_delivery(&d)).is_err());
        let mut d = sample();
        d.digest = "zz".into();
        assert!(d.validate().is_err());
        let mut d = sample();
        d.agent = Namespace::deliveries();
        assert!(d.validate().is_err());
        let mut bytes: Value = serde_json::from_slice(&encode_delivery(&sample())).unwrap();
        bytes["schema"] = 9.into();
        let err = decode_delivery(&serde_json::to_vec(&bytes).unwrap()).unwrap_err();
        assert!(matches!(err, VaultError::UnknownSchemaVersion { .. }));
        bytes["schema"] = 1.into();
        bytes["extra"] = 1.into();
        assert!(decode_delivery(&serde_json::to_vec(&bytes).unwrap()).is_err());
    }
}
