//! Sessions: log in (throttled), log out, the device list and revocation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use vault_core::sync::wire::{DeviceList, ErrorBody, LoginRequest, LoginResponse};

use super::accounts::{check_username, verify_credential};
use crate::error::{ApiError, ApiResult};
use crate::extract::{token_hash, Authed, Body, Peer};
use crate::limits::{MAX_ACCOUNT_FAILURES, MAX_ADDRESS_FAILURES};
use crate::store::{session_public_id, NewSession};
use crate::{now_ms, AppState, SESSION_MS};

fn random_token() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| ApiError::Internal(format!("rng: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Log in with the client-derived credential. Failed attempts are throttled per account and
/// per address (429 with Retry-After).
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 401, description = "wrong username or credential", body = ErrorBody),
    (status = 429, description = "too many attempts", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    peer: Peer,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    state.limit_address(&peer)?;
    check_username(&req.username)?;
    let now = now_ms();
    let account_key = format!("user:{}", req.username);
    let address_key = peer.key();
    for (key, limit) in [
        (&account_key, MAX_ACCOUNT_FAILURES),
        (&address_key, MAX_ADDRESS_FAILURES),
    ] {
        if let Some(wait) = state.throttle.blocked(key, limit, now) {
            return Err(state.too_many(wait));
        }
    }
    let fail = |state: &AppState| {
        state.throttle.fail(account_key.clone(), now);
        state.throttle.fail(address_key.clone(), now);
        ApiError::BadCredentials
    };
    let name = req.username.clone();
    let Some(account) = state.with(move |s| s.account(&name)).await? else {
        return Err(fail(&state));
    };
    if !verify_credential(account.credential_hash.clone(), req.credential).await? {
        return Err(fail(&state));
    }
    state.throttle.clear(&account_key);
    let token = random_token()?;
    let th = token_hash(&token);
    let session_id = session_public_id(&th);
    let device: String = req
        .device
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let expires = now_ms() + SESSION_MS;
    let id = account.id;
    state
        .with(move |s| {
            s.create_session(&NewSession {
                token_hash: &th,
                account: id,
                device: &device,
                created_ms: now_ms(),
                expires_ms: expires,
            })
        })
        .await?;
    let header =
        serde_json::from_str(&account.header).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(LoginResponse {
        token,
        session_id,
        expires_at_ms: expires,
        header,
    }))
}

/// End this session.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "sessions", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, auth: Authed) -> ApiResult<StatusCode> {
    state
        .with(move |s| s.delete_session(&auth.token_hash))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account's live sessions (its devices).
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = DeviceList), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, auth: Authed) -> ApiResult<Json<DeviceList>> {
    let current = session_public_id(&auth.token_hash);
    let sessions = state
        .with(move |s| s.sessions(auth.account, now_ms()))
        .await?;
    Ok(Json(DeviceList { current, sessions }))
}

/// Revoke one of the account's sessions (sign a lost device out).
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id from the device list")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    auth: Authed,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::BadRequest(
            "session id: 16 hex digits from the device list".into(),
        ));
    }
    if state
        .with(move |s| s.revoke_session(auth.account, &id))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("no such session on this account".into()))
    }
}
