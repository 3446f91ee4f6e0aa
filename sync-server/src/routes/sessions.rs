//! Sessions: log in (throttled), log out, the device list and revocation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use vault_core::sync::wire::{DeviceList, ErrorBody, LoginRequest, LoginResponse};

use super::accounts::{check_credential, check_username};
use super::shared::{AccountRateLimited, BodyTimeout, BodyTooLarge, DatabaseDown, NoSession};
use crate::error::{ApiError, ApiResult};
use crate::extract::{token_hash, Authed, Body, Peer};
use crate::limits::{account_slowdown_ms, MAX_ACCOUNT_FAILURES, MAX_ADDRESS_FAILURES};
use crate::store::{session_public_id, NewSession};
use crate::{now_ms, AppState, SESSION_MS};

fn random_token() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| ApiError::Internal(format!("rng: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Log in with the client-derived credential.
///
/// Failed attempts are throttled per (account, address) and per address (429 with
/// Retry-After), counted *before* the slow Argon2id check so concurrent attempts cannot race
/// past the limit; an account failing from many addresses is slowed down, never locked
/// (`limits.rs`). An unknown name is checked against a dummy hash of the same cost, so the
/// answer's timing does not tell who has an account.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 400, description = "not a valid username or credential, or a malformed body", body = ErrorBody),
    (status = 401, description = "wrong username or credential", body = ErrorBody),
    BodyTimeout,
    BodyTooLarge,
    (status = 429, description = "too many requests or failed attempts, or the server is busy checking credentials", body = ErrorBody,
        headers(("Retry-After" = u64, description = "seconds to wait"))),
    DatabaseDown))]
pub async fn login(
    State(state): State<AppState>,
    peer: Peer,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    state.limit_address(&peer)?;
    check_username(&req.username)?;
    check_credential(&req.credential)?;
    let now = now_ms();
    let address_key = peer.key();
    let pair_key = format!("user:{}|{address_key}", req.username);
    let account_key = format!("user:{}", req.username);
    state
        .throttle
        .admit(
            &[
                (&pair_key, MAX_ACCOUNT_FAILURES),
                (&address_key, MAX_ADDRESS_FAILURES),
            ],
            now,
        )
        .map_err(|wait| state.too_many(wait))?;
    let slowdown = account_slowdown_ms(state.throttle.count(&account_key, now));
    if slowdown > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(slowdown)).await;
    }
    let name = req.username.clone();
    let checked = match state.with(move |s| s.account(&name)).await {
        Ok(account) => {
            let hash = account.as_ref().map(|a| a.credential_hash.clone());
            (state.kdf.verify(hash, req.credential).await).map(|ok| (ok, account))
        }
        Err(e) => Err(e),
    };
    let checked = checked.inspect_err(|_| {
        // Not checked (busy, database fault): not a failure of this credential.
        state.throttle.forgive(&pair_key, now);
        state.throttle.forgive(&address_key, now);
    })?;
    let account = match checked {
        (true, Some(account)) => account,
        _ => {
            // The attempt stays counted against the pair and the address (by `admit`).
            state.throttle.fail(account_key, now);
            return Err(ApiError::BadCredentials);
        }
    };
    state.throttle.clear(&pair_key);
    state.throttle.forgive(&address_key, now);
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
    responses((status = 204, description = "signed out"),
        NoSession,
        AccountRateLimited,
        DatabaseDown))]
pub async fn logout(State(state): State<AppState>, auth: Authed) -> ApiResult<StatusCode> {
    state
        .with(move |s| s.delete_session(&auth.token_hash))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account's live sessions (its devices).
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = DeviceList),
        NoSession,
        AccountRateLimited,
        DatabaseDown))]
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
    responses((status = 204, description = "revoked"),
        (status = 400, description = "not a session id (16 hex digits)", body = ErrorBody),
        NoSession,
        (status = 404, description = "no such session on this account", body = ErrorBody),
        AccountRateLimited,
        DatabaseDown))]
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
