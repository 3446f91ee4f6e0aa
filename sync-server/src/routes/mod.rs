//! The HTTP API's handlers, one module per resource. Each handler carries its OpenAPI
//! description (`#[utoipa::path]`), from which `/api/v1/openapi.json` is generated.

pub mod accounts;
pub mod sessions;
pub mod sync;

use axum::extract::State;
use axum::Json;
use vault_core::sync::wire::ErrorBody;

use crate::error::ApiResult;
use crate::AppState;

/// Process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "ok", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "ready", body = String),
    (status = 500, description = "the database answered with an error", body = ErrorBody),
    (status = 503, description = "the database cannot be reached", body = ErrorBody,
        headers(("Retry-After" = u64, description = "seconds to wait")))))]
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
