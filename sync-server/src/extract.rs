//! Request extractors: the client's address, JSON bodies whose rejections are JSON errors,
//! and the authenticated session.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::{now_ms, AppState, MAX_BODY_BYTES};

/// The client's address when the server runs with connect info (absent in-process).
pub struct Peer(pub Option<std::net::IpAddr>);

impl Peer {
    /// The key open routes are rate-limited by.
    pub fn key(&self) -> String {
        self.0
            .map_or_else(|| "addr:local".to_owned(), |ip| format!("addr:{ip}"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// `Json<T>` whose rejections are JSON errors with the right status.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::TooLarge(
                format!("request body over {MAX_BODY_BYTES} bytes"),
            )),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::BadRequest(
                "send JSON with `Content-Type: application/json`".into(),
            )),
            Err(r) => Err(ApiError::BadRequest(r.body_text())),
        }
    }
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A request made with a live session token (`Authorization: Bearer …`), within the
/// account's rate limit.
pub struct Authed {
    pub account: i64,
    pub token_hash: Vec<u8>,
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix(vault_core::sync::wire::BEARER_PREFIX))
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or(ApiError::Unauthorized)?;
        let th = token_hash(token);
        let lookup = th.clone();
        let session = state
            .with(move |s| s.session(&lookup, now_ms()))
            .await?
            .ok_or(ApiError::Unauthorized)?;
        state.limit_account(session.account)?;
        Ok(Authed {
            account: session.account,
            token_hash: th,
        })
    }
}
