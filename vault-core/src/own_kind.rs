//! The plaintext of SelfOS's own kinds of entry (deliveries, proposals): the record's JSON
//! fields with `schema` and `kind` beside them. One encoder and one decoder, so every kind
//! refuses another kind, a newer schema and a broken body the same way.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::VaultError;

#[derive(Serialize)]
struct Versioned<'a, T> {
    schema: u16,
    kind: &'static str,
    #[serde(flatten)]
    record: &'a T,
}

/// `record`'s JSON with `schema` and `kind` added.
pub(crate) fn encode<T: Serialize>(kind: &'static str, schema: u16, record: &T) -> Vec<u8> {
    serde_json::to_vec(&Versioned {
        schema,
        kind,
        record,
    })
    .expect("a record of SelfOS's own kinds always serializes")
}

/// Decodes what [`encode`] wrote for `kind` at `schema`; refuses another kind, another schema
/// or a broken body. The caller validates the record's own fields.
pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    kind: &'static str,
    schema: u16,
) -> Result<T, VaultError> {
    let mut value: Value =
        serde_json::from_slice(bytes).map_err(|e| VaultError::MalformedRecord(e.to_string()))?;
    let obj = value
        .as_object_mut()
        .ok_or_else(|| VaultError::MalformedRecord(format!("a {kind} is a JSON object")))?;
    if obj.remove("kind").as_ref().and_then(Value::as_str) != Some(kind) {
        return Err(VaultError::MalformedRecord(format!(
            "not a {kind} (`kind` is not \"{kind}\")"
        )));
    }
    let found = obj
        .remove("schema")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| VaultError::MalformedRecord("missing `schema` number".into()))?;
    if found != u64::from(schema) {
        return Err(VaultError::UnknownSchemaVersion {
            found: u16::try_from(found).unwrap_or(u16::MAX),
            supported: schema,
        });
    }
    serde_json::from_value(value).map_err(|e| VaultError::MalformedRecord(e.to_string()))
}
