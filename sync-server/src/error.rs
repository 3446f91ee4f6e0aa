//! API errors: JSON `{"error": {"code", "message"}}` ([`ErrorBody`]) with a 4xx for anything
//! the client sent wrong, a 5xx only for real server faults (whose details go to the log, not
//! the client). Storage errors become API errors here, in one place ([`From<StoreError>`]).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use vault_core::sync::wire::{code, ErrorBody, ErrorDetail};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or invalid session token: log in again")]
    Unauthorized,
    #[error("wrong username or credential")]
    BadCredentials,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("too many attempts: retry in {0} s")]
    TooMany(u64),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, code::BAD_REQUEST),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, code::UNAUTHORIZED),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, code::BAD_CREDENTIALS),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, code::NOT_FOUND),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, code::CONFLICT),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, code::TOO_LARGE),
            ApiError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, code::RATE_LIMITED),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, code::INTERNAL),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UsernameTaken(_) | StoreError::IdempotencyKeyInUse => {
                ApiError::Conflict(e.to_string())
            }
            // The session's account is gone: as for any dead session, log in again.
            StoreError::NoSuchAccount => ApiError::Unauthorized,
            StoreError::DataFolder { .. }
            | StoreError::Connect(_)
            | StoreError::Sqlite(_)
            | StoreError::Postgres(_)
            | StoreError::PoolExhausted(_)
            | StoreError::Poisoned
            | StoreError::Rng(_) => ApiError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let body = Json(ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: self.to_string(),
            },
        });
        let mut resp = (status, body).into_response();
        if let ApiError::TooMany(secs) = self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
