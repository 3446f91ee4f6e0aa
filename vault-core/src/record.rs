//! The record model: one captured micro-training answer.
//!
//! Records are serialized as JSON inside their envelope. The JSON carries a `schema`
//! number; [`decode_record`] migrates older schemas forward step by step, so a record
//! written by an older build always opens in a newer one.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::crypto::random;
use crate::error::{CryptoError, VaultError};

/// The schema this build writes.
pub const SCHEMA_VERSION: u16 = 2;

/// A record's stable identity: 128 random bits, shown as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId([u8; 16]);

impl RecordId {
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(RecordId(random::bytes::<16>()?))
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        RecordId(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub fn parse(s: &str) -> Result<Self, VaultError> {
        let mut out = [0u8; 16];
        hex::decode_to_slice(s, &mut out).map_err(|e| {
            VaultError::invalid("record id", format!("`{s}` is not 32 hex digits ({e})"))
        })?;
        Ok(RecordId(out))
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({self})")
    }
}

impl Serialize for RecordId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RecordId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The agent namespace a record belongs to: which AI site or agent it was captured on
/// (`chatgpt`, `claude`, `gemini`, `site:example.org`, ...). Bound into every record's
/// associated data, so a record cannot be moved to another namespace unnoticed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Namespace(String);

impl Namespace {
    pub const MAX_LEN: usize = 64;

    /// Lowercase ASCII letters, digits and `.:_-`, 1 to 64 characters.
    pub fn new(s: impl Into<String>) -> Result<Self, VaultError> {
        let s = s.into();
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".:_-".contains(c);
        if s.is_empty() || s.len() > Self::MAX_LEN || !s.chars().all(ok_char) {
            return Err(VaultError::invalid(
                "namespace",
                format!("`{s}`: use 1 to 64 lowercase letters, digits or `.:_-`"),
            ));
        }
        Ok(Namespace(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The reserved namespace of delivery records ([`crate::delivery`]).
    pub fn deliveries() -> Self {
        Namespace(DELIVERIES.to_owned())
    }

    /// The reserved namespace of proposal records ([`crate::proposal`]).
    pub fn proposals() -> Self {
        Namespace(PROPOSALS.to_owned())
    }

    /// Which kind of entry a namespace holds. Namespaces starting with `selfos.` are reserved
    /// for SelfOS's own record kinds; an answer is never filed under one
    /// ([`AnswerRecord::validate`]).
    pub fn kind(&self) -> EntryKind {
        match self.0.as_str() {
            DELIVERIES => EntryKind::Delivery,
            PROPOSALS => EntryKind::Proposal,
            s if s.starts_with(RESERVED_PREFIX) => EntryKind::Reserved,
            _ => EntryKind::Answer,
        }
    }
}

/// The prefix of namespaces reserved for SelfOS's own record kinds.
pub const RESERVED_PREFIX: &str = "selfos.";
/// The namespace delivery records are filed under.
pub const DELIVERIES: &str = "selfos.delivery";
/// The namespace proposal records are filed under.
pub const PROPOSALS: &str = "selfos.proposal";

/// The kinds of entry a vault syncs. The kind follows from the namespace, and the namespace
/// picks the envelope's purpose label (`crypto::envelope::RecordAad`), so an entry of one
/// kind never opens as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A captured answer, filed under its agent's namespace.
    Answer,
    /// What an agent was given ([`crate::delivery`]).
    Delivery,
    /// What an agent proposes to add to the profile ([`crate::proposal`]).
    Proposal,
    /// A `selfos.` namespace this build does not know (a later version's kind). Such an
    /// entry cannot be opened here; it is refused like a damaged one, never guessed at.
    Reserved,
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace({})", self.0)
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Namespace {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Namespace::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A page origin (`https://chatgpt.com`), never a full URL: paths, queries and fragments can
/// carry conversation ids and are dropped on construction.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Origin(String);

impl Origin {
    /// Reduces a URL (or an origin) to `scheme://host[:port]`. Only http and https.
    pub fn from_url(url: &str) -> Result<Self, VaultError> {
        let bad = |why: &str| VaultError::invalid("origin", format!("`{url}`: {why}"));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(bad("only http and https pages are captured"));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        // Drop any user:password@ prefix.
        let host = authority
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let valid = |c: char| c.is_ascii_alphanumeric() || ".-:[]".contains(c);
        if host.is_empty() || !host.chars().all(valid) {
            return Err(bad("no valid host"));
        }
        Ok(Origin(format!("{scheme}://{host}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({})", self.0)
    }
}

impl<'de> Deserialize<'de> for Origin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let o = Origin::from_url(&s).map_err(serde::de::Error::custom)?;
        if o.0 != s {
            return Err(serde::de::Error::custom(format!(
                "`{s}` is not a bare origin"
            )));
        }
        Ok(o)
    }
}

/// The kind of card that was shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardType {
    Choice,
    Scale,
    Pairwise,
    ShortText,
    YesNo,
}

/// What the user answered. `Skipped` and `Dismissed` are answers too: they tell the
/// scheduler something (this card did not fit now).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    Choice { option: String },
    Scale { value: i32, min: i32, max: i32 },
    Pairwise { picked: String, over: String },
    ShortText { text: String },
    YesNo { value: bool },
    Skipped,
    Dismissed,
}

impl Answer {
    /// Longest free-text answer kept; cards ask for a few words.
    pub const MAX_TEXT_LEN: usize = 2_000;

    fn check(&self, card: CardType) -> Result<(), VaultError> {
        let fits = matches!(
            (self, card),
            (Answer::Choice { .. }, CardType::Choice)
                | (Answer::Scale { .. }, CardType::Scale)
                | (Answer::Pairwise { .. }, CardType::Pairwise)
                | (Answer::ShortText { .. }, CardType::ShortText)
                | (Answer::YesNo { .. }, CardType::YesNo)
                | (Answer::Skipped | Answer::Dismissed, _)
        );
        if !fits {
            return Err(VaultError::invalid(
                "answer",
                format!("a {self:?} does not answer a {card:?} card"),
            ));
        }
        match self {
            Answer::Scale { value, min, max } if !(min < max && (min..=max).contains(&value)) => {
                Err(VaultError::invalid(
                    "answer",
                    format!("scale value {value} outside {min}..={max}"),
                ))
            }
            Answer::ShortText { text } if text.chars().count() > Self::MAX_TEXT_LEN => {
                Err(VaultError::invalid(
                    "answer",
                    format!("text longer than {} characters", Self::MAX_TEXT_LEN),
                ))
            }
            Answer::Choice { option } if option.is_empty() => {
                Err(VaultError::invalid("answer", "empty choice"))
            }
            _ => Ok(()),
        }
    }
}

/// Flags about how the answer was captured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFlags {
    /// The AI generation failed while the card was open; the partial input was kept and the
    /// card should be offered again.
    #[serde(default)]
    pub retry_after_ai_failure: bool,
    /// The user closed the card without answering.
    #[serde(default)]
    pub dismissed: bool,
}

/// One captured answer, as the user's devices see it after decryption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerRecord {
    pub id: RecordId,
    pub prompt_id: String,
    pub prompt_version: u32,
    pub card_type: CardType,
    pub answer: Answer,
    /// Which AI site or agent the card was shown on.
    pub namespace: Namespace,
    /// The page's origin only; never its path or content.
    pub origin: Option<Origin>,
    /// Page context (e.g. keywords of the prompt just sent), present only if the user opted in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_context: Option<String>,
    /// Unix time in milliseconds when the answer was captured.
    pub captured_at_ms: u64,
    /// From the card appearing to the answer being submitted.
    pub answer_latency_ms: u32,
    /// How long the AI had been generating when the card appeared.
    pub wait_duration_ms: u32,
    #[serde(default)]
    pub flags: RecordFlags,
}

impl AnswerRecord {
    /// Checks invariants the type system does not: ids, answer shape, lengths.
    pub fn validate(&self) -> Result<(), VaultError> {
        if self.namespace.kind() != EntryKind::Answer {
            return Err(VaultError::invalid(
                "namespace",
                format!(
                    "`{}`: namespaces starting with `{RESERVED_PREFIX}` are reserved for SelfOS",
                    self.namespace
                ),
            ));
        }
        if self.prompt_id.is_empty() || self.prompt_id.len() > 128 {
            return Err(VaultError::invalid(
                "prompt id",
                "must be 1 to 128 characters",
            ));
        }
        if let Some(ctx) = &self.page_context {
            if ctx.chars().count() > 4_000 {
                return Err(VaultError::invalid(
                    "page context",
                    "longer than 4,000 characters",
                ));
            }
        }
        self.answer.check(self.card_type)
    }
}

#[derive(Serialize)]
struct Versioned<'a> {
    schema: u16,
    #[serde(flatten)]
    record: &'a AnswerRecord,
}

/// Serializes a record in the current schema (the plaintext that gets sealed).
pub fn encode_record(record: &AnswerRecord) -> Vec<u8> {
    serde_json::to_vec(&Versioned {
        schema: SCHEMA_VERSION,
        record,
    })
    .expect("AnswerRecord always serializes")
}

/// Decodes a record of any known schema, migrating it to the current one.
pub fn decode_record(bytes: &[u8]) -> Result<AnswerRecord, VaultError> {
    let mut value: Value =
        serde_json::from_slice(bytes).map_err(|e| VaultError::MalformedRecord(e.to_string()))?;
    let schema = value
        .get("schema")
        .and_then(Value::as_u64)
        .ok_or_else(|| VaultError::MalformedRecord("missing `schema` number".into()))?;
    let schema = u16::try_from(schema).unwrap_or(u16::MAX);
    if schema > SCHEMA_VERSION {
        return Err(VaultError::UnknownSchemaVersion {
            found: schema,
            supported: SCHEMA_VERSION,
        });
    }
    for step in schema..SCHEMA_VERSION {
        value = migrate_step(step, value)?;
    }
    if let Some(obj) = value.as_object_mut() {
        obj.remove("schema");
    }
    let record: AnswerRecord =
        serde_json::from_value(value).map_err(|e| VaultError::MalformedRecord(e.to_string()))?;
    Ok(record)
}

/// Migrates a record from schema `from` to `from + 1`.
fn migrate_step(from: u16, value: Value) -> Result<Value, VaultError> {
    match from {
        1 => migrate_v1_to_v2(value),
        other => Err(VaultError::MalformedRecord(format!(
            "no migration from schema {other}"
        ))),
    }
}

/// Schema 1 was the capture layout of the first prototype: `agent` instead of `namespace`,
/// the full `page_url`, `latency_ms`, no wait duration, and flags as a list of strings.
/// Schema 2 keeps only the origin of the page (privacy) and names every field explicitly.
fn migrate_v1_to_v2(mut value: Value) -> Result<Value, VaultError> {
    let obj = value
        .as_object_mut()
        .ok_or_else(|| VaultError::MalformedRecord("schema 1 record is not an object".into()))?;
    if let Some(agent) = obj.remove("agent") {
        obj.insert("namespace".into(), agent);
    }
    let origin = match obj.remove("page_url") {
        Some(Value::String(url)) => Origin::from_url(&url).ok().map(|o| Value::String(o.0)),
        _ => None,
    };
    obj.insert("origin".into(), origin.unwrap_or(Value::Null));
    if let Some(latency) = obj.remove("latency_ms") {
        obj.insert("answer_latency_ms".into(), latency);
    }
    obj.entry("wait_duration_ms").or_insert(Value::from(0));
    let flags: Vec<String> = match obj.remove("flags") {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let has = |f: &str| flags.iter().any(|x| x == f);
    obj.insert(
        "flags".into(),
        serde_json::json!({ "retry_after_ai_failure": has("retry"), "dismissed": has("dismissed") }),
    );
    obj.insert("schema".into(), Value::from(2));
    Ok(value)
}
