//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations and the
//! request/response types, so it cannot drift from the code.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{self, accounts, sessions, sync};

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

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use vault_core::sync::wire::path;

    /// The document describes exactly the routes the wire module names (the handlers'
    /// `#[utoipa::path]` attributes need literal paths, so this is what ties them together).
    #[test]
    fn documents_every_wire_path() {
        let doc = serde_json::to_value(super::document()).unwrap();
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

    /// Each body's schema is the wire type's: its properties are the names the type puts on
    /// the wire (pinned in vault-core/tests/wire.rs).
    #[test]
    fn schemas_are_the_wire_types() {
        let doc = serde_json::to_value(super::document()).unwrap();
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
