//! The sync API's JSON, pinned: every wire type (`vault_core::sync::wire`) serializes to
//! exactly the field names docs/SYNC.md and the deployed clients know, and reads back to the
//! same value. A renamed field fails here even when only one side reads it (the server never
//! reads a response, the client never reads a request).

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use vault_core::sync::wire::{self, path};

/// `value` is `expected` on the wire, and `expected` reads back as `value`.
fn pinned<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    value: T,
    expected: Value,
) {
    assert_eq!(serde_json::to_value(&value).unwrap(), expected);
    let back: T = serde_json::from_value(expected.clone()).unwrap();
    assert_eq!(back, value, "{expected} does not read back");
    // And through text, as it travels.
    let text = serde_json::to_string(&value).unwrap();
    assert_eq!(serde_json::from_str::<T>(&text).unwrap(), value);
}

/// A request body with a field the server does not know is refused, not silently dropped
/// (a client sending a renamed field learns at once).
fn refuses_unknown<T: DeserializeOwned + std::fmt::Debug>(mut body: Value) {
    body["surprise"] = json!(1);
    let err = serde_json::from_value::<T>(body).unwrap_err();
    assert!(err.to_string().contains("surprise"), "{err}");
}

fn header() -> Value {
    json!({ "format": "selfos-vault", "version": 1 })
}

fn entry() -> Value {
    json!({
        "deleted": false,
        "envelope": "AQID",
        "hlc": "001763800000000-00000000-00000000000000aa",
        "id": "101112131415161718191a1b1c1d1e1f",
        "namespace": "chatgpt",
        "version": 1
    })
}

#[test]
fn error_body() {
    pinned(
        wire::ErrorBody {
            error: wire::ErrorDetail {
                code: wire::code::RATE_LIMITED.into(),
                message: "too many attempts: retry in 3 s".into(),
            },
        },
        json!({ "error": { "code": "rate_limited", "message": "too many attempts: retry in 3 s" } }),
    );
    // The codes are part of the format: clients branch on them.
    assert_eq!(
        [
            wire::code::BAD_REQUEST,
            wire::code::UNAUTHORIZED,
            wire::code::BAD_CREDENTIALS,
            wire::code::NOT_FOUND,
            wire::code::CONFLICT,
            wire::code::TOO_LARGE,
            wire::code::RATE_LIMITED,
            wire::code::INTERNAL,
        ],
        [
            "bad_request",
            "unauthorized",
            "bad_credentials",
            "not_found",
            "conflict",
            "too_large",
            "rate_limited",
            "internal"
        ]
    );
}

#[test]
fn accounts() {
    let register = json!({ "username": "ada", "credential": "Y3JlZA", "header": header() });
    pinned(
        wire::RegisterRequest {
            username: "ada".into(),
            credential: "Y3JlZA".into(),
            header: header(),
        },
        register.clone(),
    );
    refuses_unknown::<wire::RegisterRequest>(register);
    pinned(
        wire::Registered {
            username: "ada".into(),
        },
        json!({ "username": "ada" }),
    );
    let kdf = json!({ "algorithm": "pbkdf2-sha256", "iterations": 600000, "salt": "c2FsdA==" });
    pinned(wire::PreLogin { kdf: kdf.clone() }, json!({ "kdf": kdf }));
    let change = json!({ "current_credential": "b2xk", "credential": "bmV3", "header": header() });
    pinned(
        wire::ChangeRequest {
            current_credential: "b2xk".into(),
            credential: "bmV3".into(),
            header: header(),
        },
        change.clone(),
    );
    refuses_unknown::<wire::ChangeRequest>(change);
    let delete = json!({ "credential": "Y3JlZA" });
    pinned(
        wire::DeleteRequest {
            credential: "Y3JlZA".into(),
        },
        delete.clone(),
    );
    refuses_unknown::<wire::DeleteRequest>(delete);
}

#[test]
fn sessions() {
    let login = json!({ "username": "ada", "credential": "Y3JlZA", "device": "Chrome on laptop" });
    pinned(
        wire::LoginRequest {
            username: "ada".into(),
            credential: "Y3JlZA".into(),
            device: "Chrome on laptop".into(),
        },
        login.clone(),
    );
    refuses_unknown::<wire::LoginRequest>(login);
    // Clients from before the device list send no device name.
    let old: wire::LoginRequest =
        serde_json::from_value(json!({ "username": "ada", "credential": "Y3JlZA" })).unwrap();
    assert_eq!(old.device, "");

    pinned(
        wire::LoginResponse {
            token: "dG9rZW4".into(),
            session_id: "0011223344556677".into(),
            expires_at_ms: 1_767_225_600_000,
            header: header(),
        },
        json!({
            "token": "dG9rZW4",
            "session_id": "0011223344556677",
            "expires_at_ms": 1_767_225_600_000_i64,
            "header": header()
        }),
    );
    let device = wire::Device {
        id: "0011223344556677".into(),
        device: "Firefox".into(),
        created_ms: 1,
        last_seen_ms: 2,
        expires_ms: 3,
    };
    pinned(
        wire::DeviceList {
            current: "0011223344556677".into(),
            sessions: vec![device],
        },
        json!({
            "current": "0011223344556677",
            "sessions": [{ "id": "0011223344556677", "device": "Firefox", "created_ms": 1, "last_seen_ms": 2, "expires_ms": 3 }]
        }),
    );
}

#[test]
fn login_response_debug_hides_the_token() {
    let r = wire::LoginResponse {
        token: "secret-token".into(),
        session_id: "0011223344556677".into(),
        expires_at_ms: 0,
        header: header(),
    };
    assert!(!format!("{r:?}").contains("secret-token"));
}

#[test]
fn push_and_pull() {
    let push = json!({ "idempotency_key": "k1", "changes": [entry()] });
    pinned(
        wire::PushRequest {
            idempotency_key: "k1".into(),
            changes: vec![serde_json::from_value(entry()).unwrap()],
        },
        push.clone(),
    );
    refuses_unknown::<wire::PushRequest>(push);
    pinned(
        wire::PushResponse {
            accepted: 2,
            duplicates: 1,
            cursor: 7,
        },
        json!({ "accepted": 2, "duplicates": 1, "cursor": 7 }),
    );
    pinned(
        wire::PullResponse {
            changes: vec![wire::PulledChange {
                seq: 7,
                entry: entry(),
            }],
            cursor: 7,
            more: false,
        },
        json!({ "changes": [{ "seq": 7, "entry": entry() }], "cursor": 7, "more": false }),
    );
    // The pull query: both parameters, or only the cursor (the server's page size applies).
    pinned(
        wire::PullQuery {
            since: 5,
            limit: Some(500),
        },
        json!({ "since": 5, "limit": 500 }),
    );
    let first: wire::PullQuery = serde_json::from_value(json!({})).unwrap();
    assert_eq!((first.since, first.limit), (0, None));
    assert_eq!(
        path::pull(&wire::PullQuery {
            since: 5,
            limit: Some(500)
        }),
        "/api/v1/pull?since=5&limit=500"
    );
    assert_eq!(
        path::pull(&wire::PullQuery {
            since: 0,
            limit: None
        }),
        "/api/v1/pull?since=0"
    );
}

#[test]
fn paths_and_bearer() {
    assert_eq!(path::ACCOUNTS, "/api/v1/accounts");
    assert_eq!(path::ACCOUNT_CURRENT, "/api/v1/accounts/current");
    assert_eq!(path::prelogin("ada"), "/api/v1/accounts/ada/kdf");
    assert_eq!(path::SESSIONS, "/api/v1/sessions");
    assert_eq!(path::SESSION_CURRENT, "/api/v1/sessions/current");
    assert_eq!(
        path::session("0011223344556677"),
        "/api/v1/sessions/0011223344556677"
    );
    assert_eq!(path::PUSH, "/api/v1/push");
    assert_eq!(path::OPENAPI, "/api/v1/openapi.json");
    assert_eq!(wire::bearer("t0k"), "Bearer t0k");
}
