//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations and the
//! request/response types, so it cannot drift from the code.

use serde_json::{json, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use vault_core::crypto::kdf::{MAX_ITERATIONS, MAX_SALT_LEN, MIN_ITERATIONS, SALT_LEN};
use vault_core::header::{HEADER_FORMAT, HEADER_VERSION};
use vault_core::record::Namespace;
use vault_core::store::MAX_VERSION;
use vault_core::sync::wire::path;

use crate::routes::{self, accounts, sessions, sync};
use crate::{MAX_BATCH, MAX_PAGE};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SelfOS sync API",
        description = "Stores only ciphertext: sealed vault entries, an Argon2id hash of the client-derived credential, the wrapped vault header and hashed session tokens. Errors are JSON `{\"error\": {\"code\", \"message\"}}`."
    ),
    paths(
        routes::healthz,
        routes::readyz,
        routes::metrics,
        routes::openapi,
        accounts::register,
        accounts::prelogin,
        accounts::change,
        accounts::delete,
        sessions::login,
        sessions::logout,
        sessions::list,
        sessions::revoke,
        sync::push,
        sync::pull,
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as served: what utoipa generates from the annotations, made exact by
/// [`exact`] where a wire type is checked by more than its Rust type says.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes");
    exact(&mut doc);
    doc
}

/// Canonical standard base64 with padding (what the server's decoder accepts: no whitespace,
/// `=` only as padding, the unused bits of the last character zero).
const BASE64: &str =
    "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$";

/// The 32-byte credential (auth secret) in base64url without padding: 43 characters, the last
/// one with its two unused bits zero.
const CREDENTIAL: &str = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$";

/// A KDF salt of `SALT_LEN` (16) to `MAX_SALT_LEN` (64) bytes in canonical base64.
const SALT: &str = "^(?:(?:[A-Za-z0-9+/]{4}){5,20}(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=|[A-Za-z0-9+/][AQgw]==)|(?:[A-Za-z0-9+/]{4}){21}[A-Za-z0-9+/][AQgw]==)$";

/// The wrapped vault key: a version-1 envelope (first byte 1) of 93 bytes, in base64.
const WRAPPED_KEY: &str = "^A[Q-Za-f][A-Za-z0-9+/]{122}$";

/// Replaces the generated schemas of what utoipa cannot say (patterns, ranges, the vault
/// header's and a sealed entry's structure, which the Rust types carry as JSON values checked
/// by vault-core) with exact ones. Each constraint is the check a handler or vault-core
/// makes; sync-server/tests/api.rs and the api suite of `cargo xtask test` (schemathesis)
/// hold the two together.
fn exact(doc: &mut Value) {
    let username = json!({
        "type": "string", "minLength": 3, "maxLength": 64, "pattern": "^[a-z0-9._@-]{3,64}$",
        "description": "3 to 64 of a-z 0-9 . _ - @"
    });
    let credential = json!({
        "type": "string", "pattern": CREDENTIAL,
        "description": "the 32-byte auth secret derived on the client, base64url without padding (never the passphrase)"
    });
    let hex = |n: usize| json!({ "type": "string", "pattern": format!("^[0-9a-f]{{{n}}}$") });
    let schemas = &mut doc["components"]["schemas"];
    schemas["Username"] = username;
    schemas["Credential"] = credential;
    schemas["KdfParams"] = json!({
        "type": "object",
        "description": "docs/FORMAT.md §3",
        "required": ["algorithm", "iterations", "salt"],
        "additionalProperties": false,
        "properties": {
            "algorithm": { "type": "string", "enum": ["pbkdf2-sha256"] },
            "iterations": { "type": "integer", "minimum": MIN_ITERATIONS, "maximum": MAX_ITERATIONS },
            "salt": { "type": "string", "pattern": SALT, "description": format!("{SALT_LEN} to {MAX_SALT_LEN} bytes, base64") }
        }
    });
    schemas["VaultHeader"] = json!({
        "type": "object",
        "description": "The vault header exactly as vault-core writes it (docs/FORMAT.md §3): no other field. `checksum` is the SHA-256 of the other five fields' canonical JSON, and a header whose checksum does not match is refused (400).",
        "required": ["format", "version", "vault_id", "kdf", "wrapped_vault_key", "checksum"],
        "additionalProperties": false,
        "properties": {
            "format": { "type": "string", "enum": [HEADER_FORMAT] },
            "version": { "type": "integer", "enum": [HEADER_VERSION] },
            "vault_id": hex(32),
            "kdf": { "$ref": "#/components/schemas/KdfParams" },
            "wrapped_vault_key": { "type": "string", "pattern": WRAPPED_KEY, "description": "the vault key in a version-1 envelope (docs/FORMAT.md §2), 93 bytes, base64" },
            "checksum": hex(64)
        }
    });
    let entry_fields = |deleted: bool, envelope: Value| {
        json!({
            "type": "object",
            "required": ["id", "namespace", "version", "hlc", "deleted", "envelope"],
            "properties": {
                "id": { "type": "string", "pattern": "^[0-9a-fA-F]{32}$", "description": "the record id, 32 hex digits" },
                "namespace": { "type": "string", "pattern": format!("^[a-z0-9.:_-]{{1,{}}}$", Namespace::MAX_LEN) },
                "version": { "type": "integer", "minimum": 1, "maximum": MAX_VERSION },
                "hlc": { "type": "string", "pattern": "^[0-9]{15}-[0-9a-fA-F]{8}-[0-9a-fA-F]{16}$", "description": "hybrid logical clock: wall milliseconds (15 digits), counter (8 hex), node (16 hex)" },
                "deleted": { "type": "boolean", "enum": [deleted] },
                "envelope": envelope
            }
        })
    };
    schemas["StoredEntry"] = json!({
        "description": "A sealed entry (docs/FORMAT.md §4): a live record with its envelope, or a tombstone whose envelope is its sealed tombstone (never a format-1 record, whose first byte is 1) or, in format-1 tombstones only, null. The server cannot open the seal; devices do. Fields other than these are ignored and not stored.",
        "oneOf": [
            entry_fields(false, json!({ "type": "string", "pattern": BASE64 })),
            entry_fields(true, json!({ "anyOf": [
                { "type": "null" },
                { "type": "string", "pattern": BASE64, "not": { "pattern": "^A[Q-Za-f]" } }
            ] })),
        ]
    });
    let props = |schemas: &mut Value, name: &str, fields: Value| {
        let target = &mut schemas[name];
        for (k, v) in fields.as_object().expect("an object of fields") {
            target["properties"][k] = v.clone();
        }
    };
    let reference = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    props(
        schemas,
        "RegisterRequest",
        json!({
            "username": reference("Username"), "credential": reference("Credential"), "header": reference("VaultHeader")
        }),
    );
    props(
        schemas,
        "ChangeRequest",
        json!({
            "current_credential": reference("Credential"), "credential": reference("Credential"), "header": reference("VaultHeader")
        }),
    );
    props(
        schemas,
        "DeleteRequest",
        json!({ "credential": reference("Credential") }),
    );
    props(
        schemas,
        "LoginRequest",
        json!({
            "username": reference("Username"), "credential": reference("Credential"),
            "device": { "type": "string", "description": "a name for the device list; control characters are dropped and it is cut at 100 characters" }
        }),
    );
    props(
        schemas,
        "LoginResponse",
        json!({
            "token": { "type": "string", "pattern": "^[A-Za-z0-9_-]{43}$" },
            "session_id": hex(16),
            "header": reference("VaultHeader")
        }),
    );
    props(
        schemas,
        "PreLogin",
        json!({ "kdf": reference("KdfParams") }),
    );
    props(
        schemas,
        "PushRequest",
        json!({
            "idempotency_key": { "type": "string", "minLength": 1, "maxLength": 128, "description": "1 to 128 characters, fresh per batch; a retried batch reuses it and changes nothing" },
            "changes": { "type": "array", "maxItems": MAX_BATCH, "items": reference("StoredEntry") }
        }),
    );
    props(
        schemas,
        "PulledChange",
        json!({
            "seq": { "type": "integer", "minimum": 1 },
            "entry": reference("StoredEntry")
        }),
    );
    props(schemas, "Device", json!({ "id": hex(16) }));
    props(schemas, "DeviceList", json!({ "current": hex(16) }));
    for name in [
        "RegisterRequest",
        "ChangeRequest",
        "DeleteRequest",
        "LoginRequest",
        "PushRequest",
    ] {
        // `deny_unknown_fields`: an unknown field is a 400.
        schemas[name]["additionalProperties"] = false.into();
    }
    // Path and query parameters.
    let paths = &mut doc["paths"];
    set_param(
        paths,
        path::PRELOGIN_TEMPLATE,
        "get",
        "username",
        json!({ "$ref": "#/components/schemas/Username" }),
    );
    set_param(
        paths,
        path::SESSION_TEMPLATE,
        "delete",
        "id",
        json!({ "type": "string", "pattern": "^[0-9a-fA-F]{16}$" }),
    );
    set_param(
        paths,
        path::PULL,
        "get",
        "since",
        json!({ "type": "integer", "minimum": 0, "maximum": i64::MAX }),
    );
    set_param(
        paths,
        path::PULL,
        "get",
        "limit",
        json!({ "type": "integer", "minimum": 1, "maximum": MAX_PAGE }),
    );
}

fn set_param(paths: &mut Value, path: &str, method: &str, name: &str, schema: Value) {
    let params = paths[path][method]["parameters"]
        .as_array_mut()
        .unwrap_or_else(|| panic!("{method} {path} has parameters"));
    let param = params
        .iter_mut()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{method} {path} has a parameter {name}"));
    param["schema"] = schema;
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::path;

    /// The document describes exactly the routes the wire module names (the handlers'
    /// `#[utoipa::path]` attributes need literal paths, so this is what ties them together).
    #[test]
    fn documents_every_wire_path() {
        let doc = super::document();
        let documented: BTreeSet<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let wire: BTreeSet<&str> = [
            path::HEALTHZ,
            path::READYZ,
            path::METRICS,
            path::OPENAPI,
            path::ACCOUNTS,
            path::ACCOUNT_CURRENT,
            path::PRELOGIN_TEMPLATE,
            path::SESSIONS,
            path::SESSION_CURRENT,
            path::SESSION_TEMPLATE,
            path::PUSH,
            path::PULL,
        ]
        .into();
        assert_eq!(documented, wire);
    }

    /// `since` and `limit` are optional query parameters with their ranges (they were once
    /// generated as required path parameters).
    #[test]
    fn pull_takes_optional_query_parameters() {
        let doc = super::document();
        let params = doc["paths"][path::PULL]["get"]["parameters"]
            .as_array()
            .unwrap();
        let by_name = |n: &str| params.iter().find(|p| p["name"] == n).unwrap().clone();
        for (name, min, max) in [("since", 0, i64::MAX), ("limit", 1, crate::MAX_PAGE as i64)] {
            let p = by_name(name);
            assert_eq!(
                (p["in"].as_str(), p["required"].as_bool()),
                (Some("query"), Some(false))
            );
            assert_eq!(p["schema"]["minimum"], min, "{name}");
            assert_eq!(p["schema"]["maximum"], max, "{name}");
        }
    }

    /// Every `$ref` in the document names a schema it defines, and the request bodies take the
    /// exact schemas (no bare objects where vault-core checks a structure).
    #[test]
    fn references_resolve_and_bodies_are_exact() {
        let doc = super::document();
        fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                        out.push(r.to_owned());
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        for r in &all {
            let name = r.strip_prefix("#/components/schemas/").unwrap();
            assert!(doc["components"]["schemas"][name].is_object(), "{r}");
        }
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["RegisterRequest"]["properties"]["header"]["$ref"],
            "#/components/schemas/VaultHeader"
        );
        assert_eq!(
            schemas["PushRequest"]["properties"]["changes"]["items"]["$ref"],
            "#/components/schemas/StoredEntry"
        );
        assert_eq!(
            schemas["PushRequest"]["properties"]["changes"]["maxItems"],
            1000
        );
        assert_eq!(schemas["VaultHeader"]["additionalProperties"], false);
    }

    /// Each body's schema is the wire type's: its properties are the names the type puts on
    /// the wire (pinned in vault-core/tests/wire.rs).
    #[test]
    fn schemas_are_the_wire_types() {
        let doc = super::document();
        let schemas = &doc["components"]["schemas"];
        for (name, fields) in [
            ("ErrorBody", &["error"][..]),
            ("ErrorDetail", &["code", "message"]),
            ("RegisterRequest", &["username", "credential", "header"]),
            ("Registered", &["username"]),
            ("PreLogin", &["kdf"]),
            (
                "ChangeRequest",
                &["current_credential", "credential", "header"],
            ),
            ("DeleteRequest", &["credential"]),
            ("LoginRequest", &["username", "credential", "device"]),
            (
                "LoginResponse",
                &["token", "session_id", "expires_at_ms", "header"],
            ),
            ("DeviceList", &["current", "sessions"]),
            (
                "Device",
                &["id", "device", "created_ms", "last_seen_ms", "expires_ms"],
            ),
            ("PushRequest", &["idempotency_key", "changes"]),
            ("PushResponse", &["accepted", "duplicates", "cursor"]),
            ("PullResponse", &["changes", "cursor", "more"]),
            ("PulledChange", &["seq", "entry"]),
        ] {
            let properties: BTreeSet<&str> = schemas[name]["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("no schema {name}"))
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(properties, fields.iter().copied().collect(), "{name}");
        }
    }
}
