//! The sync API on the wire: every request and response body, the error body, the error
//! codes and the endpoint paths, declared once.
//!
//! The server's handlers (`sync-server/src/routes`) deserialize requests into these types and
//! answer with them; the client ([`super::client`]) builds its requests and reads the answers
//! with the same types. A field renamed here changes both sides at once, and a field renamed
//! on one side only does not compile. The server's OpenAPI document is generated from these
//! types too (the `openapi` feature derives `utoipa::ToSchema`; the browser builds leave it
//! off and never compile utoipa). `tests/wire.rs` pins every field name, so a rename that
//! compiles still fails a test: the JSON is a published format (docs/SYNC.md), read by
//! devices running older versions.
//!
//! Vault headers and sealed entries travel as JSON objects whose own format is
//! docs/FORMAT.md's: they are `serde_json::Value` here, and each side checks them with
//! [`crate::VaultHeader::from_json`] / [`StoredRecord`]'s decoder, so a bad one gets a message
//! that names the field.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::StoredRecord;

/// Endpoint paths. The `*_TEMPLATE` forms name their parameters in braces (axum's router and
/// OpenAPI both use that syntax); the functions fill them in for a client.
pub mod path {
    pub const HEALTHZ: &str = "/healthz";
    pub const READYZ: &str = "/readyz";
    pub const METRICS: &str = "/metrics";
    pub const OPENAPI: &str = "/api/v1/openapi.json";
    /// `POST`: register.
    pub const ACCOUNTS: &str = "/api/v1/accounts";
    /// `PUT`: passphrase change; `DELETE`: delete the account.
    pub const ACCOUNT_CURRENT: &str = "/api/v1/accounts/current";
    /// `GET`: pre-login KDF parameters.
    pub const PRELOGIN_TEMPLATE: &str = "/api/v1/accounts/{username}/kdf";
    /// `POST`: log in; `GET`: the device list.
    pub const SESSIONS: &str = "/api/v1/sessions";
    /// `DELETE`: log out.
    pub const SESSION_CURRENT: &str = "/api/v1/sessions/current";
    /// `DELETE`: revoke one session of the device list.
    pub const SESSION_TEMPLATE: &str = "/api/v1/sessions/{id}";
    pub const PUSH: &str = "/api/v1/push";
    /// `GET` with [`super::PullQuery`].
    pub const PULL: &str = "/api/v1/pull";
    /// Every API route below this prefix; anything else there is a JSON 404.
    pub const API_PREFIX: &str = "/api/";

    /// [`PRELOGIN_TEMPLATE`] for one user. Usernames are checked by the server (a-z 0-9 . _
    /// - @), so they need no escaping; one that does is refused there, not mangled here.
    pub fn prelogin(username: &str) -> String {
        PRELOGIN_TEMPLATE.replace("{username}", username)
    }

    /// [`SESSION_TEMPLATE`] for one session id from the device list.
    pub fn session(id: &str) -> String {
        SESSION_TEMPLATE.replace("{id}", id)
    }

    /// [`PULL`] with its query.
    pub fn pull(query: &super::PullQuery) -> String {
        match query.limit {
            Some(limit) => format!("{PULL}?since={}&limit={limit}", query.since),
            None => format!("{PULL}?since={}", query.since),
        }
    }
}

/// The scheme of the `Authorization` header that carries a session token.
pub const BEARER_PREFIX: &str = "Bearer ";

/// The `Authorization` header value for a session token.
pub fn bearer(token: &str) -> String {
    format!("{BEARER_PREFIX}{token}")
}

/// The stable, machine-readable codes of [`ErrorDetail::code`].
pub mod code {
    pub const BAD_REQUEST: &str = "bad_request";
    /// Missing, expired or revoked session token: log in again.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// Login or confirmation with a wrong username or credential.
    pub const BAD_CREDENTIALS: &str = "bad_credentials";
    pub const NOT_FOUND: &str = "not_found";
    pub const CONFLICT: &str = "conflict";
    pub const TOO_LARGE: &str = "too_large";
    /// Comes with a `Retry-After` header.
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const INTERNAL: &str = "internal";
}

/// The error body every 4xx/5xx carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable, machine-readable: bad_request, unauthorized, bad_credentials, not_found,
    /// conflict, too_large, rate_limited, internal.
    pub code: String,
    /// What went wrong and what to do, for people.
    pub message: String,
}

/// The body of a registration (`POST /api/v1/accounts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3 to 64 of a-z 0-9 . _ - @
    pub username: String,
    /// The 32-byte authentication secret derived on the client (base64url, no padding).
    /// Never the passphrase; it decrypts nothing.
    pub credential: String,
    /// The vault header (`selfos-vault` JSON): KDF parameters and the wrapped vault key.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub header: Value,
}

/// The answer to a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Registered {
    pub username: String,
}

/// The answer to a pre-login (`GET /api/v1/accounts/{username}/kdf`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreLogin {
    /// `{algorithm, iterations, salt}` as in the vault header.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub kdf: Value,
}

/// The body of a passphrase change (`PUT /api/v1/accounts/current`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    /// The credential derived from the current passphrase.
    pub current_credential: String,
    /// The credential derived from the new passphrase.
    pub credential: String,
    /// The re-wrapped vault header.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub header: Value,
}

/// The body of an account deletion (`DELETE /api/v1/accounts/current`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeleteRequest {
    /// The current credential, to confirm.
    pub credential: String,
}

/// The body of a login (`POST /api/v1/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub credential: String,
    /// A name for this device in the device list ("Chrome on laptop").
    #[serde(default)]
    pub device: String,
}

/// The answer to a login.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`. Stored on the server only as a hash.
    pub token: String,
    /// This session's public id (as in the device list).
    pub session_id: String,
    pub expires_at_ms: i64,
    /// The vault header (wrapped key): the passphrase unlocks it on this device.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub header: Value,
}

impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("token", &"<redacted>")
            .field("session_id", &self.session_id)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// A live session as the account's owner sees it in the device list. `id` is public (a
/// prefix of the token's hash): it names the session without granting it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Device {
    pub id: String,
    pub device: String,
    pub created_ms: i64,
    pub last_seen_ms: i64,
    pub expires_ms: i64,
}

/// The device list (`GET /api/v1/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceList {
    /// The session making this request.
    pub current: String,
    pub sessions: Vec<Device>,
}

/// The body of a push (`POST /api/v1/push`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// 1 to 128 characters, fresh per batch; a retried batch reuses it and changes nothing.
    pub idempotency_key: String,
    /// Sealed entries (docs/FORMAT.md §4): id, namespace, version (the version it was based
    /// on + 1, below 2^53), hlc, deleted, envelope (base64; a delete carries its sealed
    /// tombstone, `null` only in format-1 tombstones). An entry whose `deleted` flag and
    /// envelope disagree makes the push a 400. The server cannot check the seal (it has no
    /// key): devices do, and refuse what does not open. At most 1,000.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub changes: Vec<StoredRecord>,
}

/// The answer to a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    /// Changes appended to the log.
    pub accepted: usize,
    /// Changes already in the log (same record and clock): not appended again.
    pub duplicates: usize,
    /// The account's newest sequence number after this push.
    pub cursor: i64,
}

/// The query of `GET /api/v1/pull` ([`path::pull`] writes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct PullQuery {
    /// The cursor from the previous pull (0 for everything, the default).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required = false))]
    pub since: i64,
    /// Page size, 1 to 1,000 (default 1,000).
    pub limit: Option<usize>,
}

/// One change of a pull page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PulledChange {
    pub seq: i64,
    /// A sealed entry as pushed (docs/FORMAT.md §4). The client decodes each one on its own,
    /// so one damaged entry is counted and skipped rather than failing the page.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub entry: Value,
}

/// The answer to a pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    pub changes: Vec<PulledChange>,
    /// Pass as `since` next time.
    pub cursor: i64,
    /// More changes wait after this page.
    pub more: bool,
}
