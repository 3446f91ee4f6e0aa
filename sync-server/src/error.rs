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
    #[error("the request body did not arrive within {0} ms: send it at once")]
    Timeout(u64),
    /// The account's storage quota would be exceeded.
    #[error("{0}")]
    Quota(String),
    #[error("too many attempts: retry in {0} s")]
    TooMany(u64),
    /// Every credential check slot is taken and the queue is full (`credential::KdfGate`).
    #[error("the server is busy checking other sign-ins: retry in {0} s")]
    Busy(u64),
    #[error("internal error")]
    Internal(String),
    /// The database cannot be reached: said with its cause (never the URL or its password),
    /// since it is the operator's to fix and the client's to retry later.
    #[error("the database is unavailable, retry later: {0}")]
    Unavailable(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, code::BAD_REQUEST),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, code::UNAUTHORIZED),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, code::BAD_CREDENTIALS),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, code::NOT_FOUND),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, code::CONFLICT),
            ApiError::TooLarge(_) | ApiError::Quota(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, code::TOO_LARGE)
            }
            ApiError::Timeout(_) => (StatusCode::REQUEST_TIMEOUT, code::BAD_REQUEST),
            ApiError::TooMany(_) | ApiError::Busy(_) => {
                (StatusCode::TOO_MANY_REQUESTS, code::RATE_LIMITED)
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, code::INTERNAL),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, code::INTERNAL),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UsernameTaken(_) | StoreError::IdempotencyKeyInUse => {
                ApiError::Conflict(e.to_string())
            }
            StoreError::QuotaExceeded { .. } => ApiError::Quota(e.to_string()),
            // The session's account is gone: as for any dead session, log in again.
            StoreError::NoSuchAccount => ApiError::Unauthorized,
            StoreError::Connect(_) => ApiError::Unavailable(e.to_string()),
            StoreError::Postgres(ref pg) if connection_lost(pg) => ApiError::Unavailable(format!(
                "the connection to PostgreSQL was lost: {}",
                crate::store::error_chain(pg)
            )),
            StoreError::DataFolder { .. }
            | StoreError::Sqlite(_)
            | StoreError::Postgres(_)
            | StoreError::PoolExhausted(_)
            | StoreError::Poisoned
            | StoreError::Rng(_) => ApiError::Internal(e.to_string()),
        }
    }
}

/// A PostgreSQL error that means the database went away, not that the query was wrong: the
/// connection closed, a connection exception (SQLSTATE class 08) or an operator intervention
/// such as a shutdown or a dropped database (class 57P).
fn connection_lost(e: &::postgres::Error) -> bool {
    e.is_closed()
        || e.code()
            .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57P"))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        if let ApiError::Internal(detail) | ApiError::Unavailable(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let body = Json(ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: self.to_string(),
            },
        });
        let mut resp = (status, body).into_response();
        let retry = match self {
            ApiError::TooMany(secs) | ApiError::Busy(secs) => Some(secs),
            ApiError::Unavailable(_) => Some(UNAVAILABLE_RETRY_S),
            _ => None,
        };
        if let Some(secs) = retry {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        resp
    }
}

/// Seconds a client is asked to wait when the database is unavailable.
pub const UNAVAILABLE_RETRY_S: u64 = 5;

pub type ApiResult<T> = Result<T, ApiError>;
