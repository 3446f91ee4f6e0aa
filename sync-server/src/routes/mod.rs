//! The HTTP API's handlers, one module per resource. Each handler carries its OpenAPI
//! description (`#[utoipa::path]`), from which `/api/v1/openapi.json` is generated.

pub mod accounts;
pub mod sessions;
pub mod sync;

/// The error answers many routes share, each documented once (`responses(..., DatabaseDown)`
/// in a route's `#[utoipa::path]`); what a route alone answers stays written at the route.
pub mod shared {
    use utoipa::IntoResponses;
    use vault_core::sync::wire::ErrorBody;

    /// Every route that reads or writes the database.
    #[derive(IntoResponses)]
    #[response(status = 503, description = "the database cannot be reached",
        headers(("Retry-After" = u64, description = "seconds to wait")))]
    pub struct DatabaseDown(pub ErrorBody);

    /// Every route that takes a body.
    #[derive(IntoResponses)]
    #[response(status = 408, description = "the body did not arrive in time")]
    pub struct BodyTimeout(pub ErrorBody);

    /// Every route that takes a body, apart from push (which has its own limits too).
    #[derive(IntoResponses)]
    #[response(status = 413, description = "body over 4 MiB")]
    pub struct BodyTooLarge(pub ErrorBody);

    /// Every route behind a session.
    #[derive(IntoResponses)]
    #[response(status = 401, description = "no live session")]
    pub struct NoSession(pub ErrorBody);

    /// Every route behind a session that does no credential check.
    #[derive(IntoResponses)]
    #[response(status = 429, description = "the account's rate limit",
        headers(("Retry-After" = u64, description = "seconds to wait")))]
    pub struct AccountRateLimited(pub ErrorBody);
}

use axum::extract::State;
use axum::Json;
use vault_core::sync::wire::ErrorBody;

use crate::error::ApiResult;
use crate::AppState;
use shared::DatabaseDown;

/// Process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "ok", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "ready", body = String),
    (status = 500, description = "the database answered with an error", body = ErrorBody),
    DatabaseDown))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<&'static str> {
    state.with(|s| s.ping()).await?;
    Ok("ready")
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "Prometheus text format", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        state.metrics.render(state.store.kind()),
    )
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "health", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}
