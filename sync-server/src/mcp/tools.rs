//! The tools `selfos mcp` offers: names, JSON schemas, descriptions written for a model, the
//! read-only / destructive hints, and the checks on their arguments. Arguments that do not
//! fit the schema are refused as the protocol's invalid-params error (the call never ran).

use std::borrow::Cow;
use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use rmcp::ErrorData as McpError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

pub const GET_PROFILE: &str = "get_profile";
pub const SEARCH_PROFILE: &str = "search_profile";
pub const PROPOSE_FACT: &str = "propose_fact";

/// The budget `get_profile` uses when the caller gives none: room for a useful profile in a
/// model's context without crowding out the task (the in-chat insertion uses 1,200).
pub const DEFAULT_MAX_CHARS: usize = 2_000;
/// The largest budget a caller may ask for (the context writer's own ceiling).
pub const MAX_MAX_CHARS: usize = 100_000;
/// The longest query `search_profile` takes.
pub const MAX_QUERY_CHARS: usize = 200;

/// `get_profile`'s arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetProfile {
    pub agent: Option<String>,
    pub topic: Option<String>,
    pub max_chars: Option<usize>,
}

/// `search_profile`'s arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchProfile {
    pub query: String,
}

/// `propose_fact`'s arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeFact {
    pub statement: String,
    pub dimension: Option<String>,
    pub reason: Option<String>,
}

/// Decodes a call's arguments into `T`; anything else is invalid params, with serde's
/// message naming the field.
pub fn parse<T: DeserializeOwned>(tool: &str, args: Option<JsonObject>) -> Result<T, McpError> {
    let value = serde_json::Value::Object(args.unwrap_or_default());
    serde_json::from_value(value)
        .map_err(|e| McpError::invalid_params(format!("{tool}: invalid arguments: {e}"), None))
}

impl GetProfile {
    /// The budget in characters, checked.
    pub fn budget(&self) -> Result<usize, McpError> {
        match self.max_chars {
            None => Ok(DEFAULT_MAX_CHARS),
            Some(n) if (1..=MAX_MAX_CHARS).contains(&n) => Ok(n),
            Some(n) => Err(McpError::invalid_params(
                format!("get_profile: max_chars is {n}; give 1 to {MAX_MAX_CHARS}"),
                None,
            )),
        }
    }
}

impl SearchProfile {
    pub fn check(&self) -> Result<&str, McpError> {
        let q = self.query.trim();
        if q.is_empty() || q.chars().count() > MAX_QUERY_CHARS {
            return Err(McpError::invalid_params(
                format!("search_profile: query must be 1 to {MAX_QUERY_CHARS} characters"),
                None,
            ));
        }
        Ok(q)
    }
}

fn schema(value: serde_json::Value) -> Arc<JsonObject> {
    match value {
        serde_json::Value::Object(map) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    }
}

fn tool(
    name: &'static str,
    title: &str,
    description: &'static str,
    input: serde_json::Value,
    annotations: ToolAnnotations,
) -> Tool {
    let mut t = Tool::default();
    t.name = Cow::Borrowed(name);
    t.title = Some(title.to_owned());
    t.description = Some(Cow::Borrowed(description));
    t.input_schema = schema(input);
    t.annotations = Some(annotations);
    t
}

/// Every tool, in the order `tools/list` returns them.
pub fn all() -> Vec<Tool> {
    vec![
        tool(
            GET_PROFILE,
            "Get the user's profile",
            "Returns what the user has chosen to tell AI assistants about themselves: short first-person sentences about who they are, what they work on and how they like answers (length, tone, format), strongest first. Call it at the start of a task, or when a choice depends on the user's preferences, and follow it. Give `topic` (e.g. \"work\", \"style\") to get only the facts about that; `max_chars` bounds the size.",
            json!({
                "type": "object",
                "properties": {
                    "agent": {"type": "string", "description": "Which assistant the profile is for (claude, chatgpt, gemini, ...). Default: this client."},
                    "topic": {"type": "string", "description": "Only facts about this topic or dimension (case-insensitive)."},
                    "max_chars": {"type": "integer", "minimum": 1, "maximum": MAX_MAX_CHARS, "description": "At most this many characters (default 2000)."}
                },
                "additionalProperties": false
            }),
            ToolAnnotations::with_title("Get the user's profile")
                .read_only(true)
                .destructive(false)
                .idempotent(true)
                .open_world(false),
        ),
        tool(
            SEARCH_PROFILE,
            "Search the user's profile",
            "Finds facts in the user's profile whose wording, label or dimension contains the query (case-insensitive), each with its dimension, strength (0 to 1: how sure SelfOS is, from the user's own answers) and evidence count. Use it to check one thing (\"python\", \"tone\") before assuming it.",
            json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS, "description": "A word or phrase to look for."}
                },
                "required": ["query"],
                "additionalProperties": false
            }),
            ToolAnnotations::with_title("Search the user's profile")
                .read_only(true)
                .destructive(false)
                .idempotent(true)
                .open_world(false),
        ),
        tool(
            PROPOSE_FACT,
            "Propose a fact about the user",
            "Proposes something you learned about the user in this conversation (\"I write Rust for embedded devices\"), in the user's first person. It does not change the profile: it is stored encrypted as a proposal that the user accepts, edits or rejects in SelfOS. Propose only lasting, useful facts the user stated or clearly showed, one per call, with a short reason.",
            json!({
                "type": "object",
                "properties": {
                    "statement": {"type": "string", "minLength": 1, "maxLength": vault_core::proposal::MAX_STATEMENT_CHARS, "description": "The fact, in the user's first person."},
                    "dimension": {"type": "string", "description": "The profile dimension it belongs to, if you know it (e.g. work, style, goals)."},
                    "reason": {"type": "string", "maxLength": vault_core::proposal::MAX_REASON_CHARS, "description": "Why you think so, in a sentence."}
                },
                "required": ["statement"],
                "additionalProperties": false
            }),
            ToolAnnotations::with_title("Propose a fact about the user")
                .read_only(false)
                .destructive(false)
                .idempotent(false)
                .open_world(false),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: serde_json::Value) -> Option<JsonObject> {
        v.as_object().cloned()
    }

    #[test]
    fn arguments_outside_the_schema_are_invalid_params() {
        let e = parse::<GetProfile>(GET_PROFILE, args(json!({"max_chars": "lots"}))).unwrap_err();
        assert_eq!(e.code, rmcp::model::ErrorCode::INVALID_PARAMS);
        assert!(parse::<SearchProfile>(SEARCH_PROFILE, None).is_err());
        assert!(
            parse::<SearchProfile>(SEARCH_PROFILE, args(json!({"query": "x", "y": 1}))).is_err()
        );
        let ok: GetProfile = parse(GET_PROFILE, None).unwrap();
        assert_eq!(ok.budget().unwrap(), DEFAULT_MAX_CHARS);
        let big: GetProfile = parse(GET_PROFILE, args(json!({"max_chars": 100_001}))).unwrap();
        assert!(big.budget().is_err());
        let blank: SearchProfile = parse(SEARCH_PROFILE, args(json!({"query": "  "}))).unwrap();
        assert!(blank.check().is_err());
    }

    #[test]
    fn every_tool_has_an_object_schema_and_hints() {
        for t in all() {
            assert_eq!(t.input_schema["type"], "object", "{}", t.name);
            let a = t.annotations.expect("annotations");
            assert_eq!(a.read_only_hint, Some(t.name != PROPOSE_FACT));
            assert_eq!(a.destructive_hint, Some(false));
        }
    }
}
