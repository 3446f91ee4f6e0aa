//! Accounts: register, pre-login KDF parameters, passphrase change, deletion.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use sha2::Sha256;
use vault_core::crypto::envelope::{self, WRAPPED_KEY_LEN};
use vault_core::crypto::kdf::{KdfAlgorithm, DEFAULT_ITERATIONS, SALT_LEN};
use vault_core::sync::wire::{
    ChangeRequest, DeleteRequest, ErrorBody, PreLogin, RegisterRequest, Registered,
};
use vault_core::{KdfParams, VaultHeader};

use super::shared::{BodyTimeout, BodyTooLarge, DatabaseDown};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Authed, Body, Peer};
use crate::store::NewAccount;
use crate::{now_ms, AppState};

pub fn check_username(u: &str) -> ApiResult<()> {
    let ok = (3..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "username: 3 to 64 of a-z 0-9 . _ - @".into(),
        ))
    }
}

pub fn check_credential(c: &str) -> ApiResult<()> {
    match URL_SAFE_NO_PAD.decode(c) {
        Ok(b) if b.len() == 32 => Ok(()),
        _ => Err(ApiError::BadRequest(
            "credential: the 32-byte auth secret, base64url without padding".into(),
        )),
    }
}

/// Largest vault header accepted (a real one is under 1 KiB).
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// A vault header, exactly: bounded in size, and equal to what vault-core writes for the
/// header it parses, so no extra field (of any size) is stored and handed to every device.
fn check_header(header: &Value) -> ApiResult<String> {
    let text = header.to_string();
    if text.len() > MAX_HEADER_BYTES {
        return Err(ApiError::BadRequest(format!(
            "header: {} bytes; a vault header is at most {MAX_HEADER_BYTES}",
            text.len()
        )));
    }
    let parsed = VaultHeader::from_json(header.clone())
        .map_err(|e| ApiError::BadRequest(format!("header: {e}")))?;
    let wrapped = parsed.wrapped_vault_key();
    if wrapped.len() != WRAPPED_KEY_LEN || wrapped.first() != Some(&envelope::VERSION) {
        return Err(ApiError::BadRequest(format!(
            "header: wrapped_vault_key is not a wrapped vault key (a version-1 envelope of {WRAPPED_KEY_LEN} bytes)"
        )));
    }
    if &parsed.to_json() != header {
        return Err(ApiError::BadRequest(
            "header: not exactly a vault header (unknown or extra fields): send the header vault-core wrote"
                .into(),
        ));
    }
    Ok(text)
}

/// Create an account.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = RegisterRequest, responses(
    (status = 201, body = Registered),
    (status = 400, description = "invalid username, credential or header, or a malformed body", body = ErrorBody),
    BodyTimeout,
    (status = 409, description = "username taken", body = ErrorBody),
    BodyTooLarge,
    (status = 429, description = "too many requests from this address, or the server is busy checking credentials", body = ErrorBody,
        headers(("Retry-After" = u64, description = "seconds to wait"))),
    DatabaseDown))]
pub async fn register(
    State(state): State<AppState>,
    peer: Peer,
    Body(req): Body<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<Registered>)> {
    state.limit_address(&peer)?;
    check_username(&req.username)?;
    check_credential(&req.credential)?;
    let header = check_header(&req.header)?;
    let hash = state.kdf.hash(req.credential).await?;
    let username = req.username.clone();
    state
        .with(move |s| {
            s.create_account(&NewAccount {
                username: &username,
                credential_hash: &hash,
                header: &header,
                created_ms: now_ms(),
            })
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            username: req.username,
        }),
    ))
}

/// Pre-login: the KDF parameters a new device needs to derive the credential. Never the
/// wrapped key (that comes after login), so this answer gives nothing to attack offline.
/// Unknown users get stable made-up parameters, so the answer does not reveal who exists.
#[utoipa::path(get, path = "/api/v1/accounts/{username}/kdf", tag = "accounts",
    params(("username" = String, Path, description = "account name")),
    responses((status = 200, body = PreLogin),
        (status = 400, description = "not a valid username", body = ErrorBody),
        (status = 429, description = "too many requests from this address", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        DatabaseDown))]
pub async fn prelogin(
    State(state): State<AppState>,
    peer: Peer,
    Path(username): Path<String>,
) -> ApiResult<Json<PreLogin>> {
    state.limit_address(&peer)?;
    check_username(&username)?;
    let name = username.clone();
    let account = state.with(move |s| s.account(&name)).await?;
    let kdf = match account {
        Some(a) => serde_json::from_str::<Value>(&a.header)
            .ok()
            .and_then(|h| h.get("kdf").cloned())
            .ok_or_else(|| ApiError::Internal("stored header unreadable".into()))?,
        None => {
            // Keyed by a per-server secret: stable for a username, and not computable by
            // anyone else, so it cannot be told apart from a real account's random salt. The
            // secret is cached, so this answer costs one lookup, as a real account's does.
            let secret = state.server_secret().await?;
            use hmac::Mac;
            let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&secret)
                .map_err(|e| ApiError::Internal(format!("hmac: {e}")))?;
            mac.update(b"selfos-prelogin/");
            mac.update(username.as_bytes());
            let fake = mac.finalize().into_bytes();
            let made_up = KdfParams::new(
                KdfAlgorithm::Pbkdf2Sha256,
                DEFAULT_ITERATIONS,
                fake[..SALT_LEN].to_vec(),
            )
            .map_err(|e| ApiError::Internal(format!("made-up KDF parameters: {e}")))?;
            serde_json::to_value(made_up).map_err(|e| ApiError::Internal(e.to_string()))?
        }
    };
    Ok(Json(PreLogin { kdf }))
}

/// Passphrase change: the client re-wrapped the vault key; store the new header and
/// credential. Every *other* session of the account ends with it (a device signed in with the
/// old passphrase, perhaps a thief's, must sign in again with the new one); the session that
/// made the change stays. Data is untouched (the vault key did not change).
#[utoipa::path(put, path = "/api/v1/accounts/current", tag = "accounts", request_body = ChangeRequest,
    security(("bearer" = [])),
    responses((status = 204, description = "changed"),
        (status = 400, description = "invalid new credential or header, or a malformed body", body = ErrorBody),
        (status = 401, description = "no live session, or the current credential is wrong", body = ErrorBody),
        BodyTimeout,
        BodyTooLarge,
        (status = 429, description = "the account's rate limit, or the server is busy checking credentials", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        DatabaseDown))]
pub async fn change(
    State(state): State<AppState>,
    auth: Authed,
    Body(req): Body<ChangeRequest>,
) -> ApiResult<StatusCode> {
    check_credential(&req.credential)?;
    let header = check_header(&req.header)?;
    confirm(&state, auth.account, req.current_credential).await?;
    let hash = state.kdf.hash(req.credential).await?;
    state
        .with(move |s| s.update_account(auth.account, &hash, &header, &auth.token_hash))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete the account and everything stored for it (its log of sealed changes, sessions).
#[utoipa::path(delete, path = "/api/v1/accounts/current", tag = "accounts", request_body = DeleteRequest,
    security(("bearer" = [])),
    responses((status = 204, description = "deleted"),
        (status = 400, description = "a malformed body", body = ErrorBody),
        (status = 401, description = "no live session, or the credential is wrong", body = ErrorBody),
        BodyTimeout,
        BodyTooLarge,
        (status = 429, description = "the account's rate limit, or the server is busy checking credentials", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        DatabaseDown))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Authed,
    Body(req): Body<DeleteRequest>,
) -> ApiResult<StatusCode> {
    confirm(&state, auth.account, req.credential).await?;
    state.with(move |s| s.delete_account(auth.account)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks the account's current credential (for destructive or key-changing calls).
async fn confirm(state: &AppState, account: i64, credential: String) -> ApiResult<()> {
    let hash = state
        .with(move |s| s.account_by_id(account))
        .await?
        .ok_or(ApiError::Unauthorized)?
        .credential_hash;
    if state.kdf.verify(Some(hash), credential).await? {
        Ok(())
    } else {
        Err(ApiError::BadCredentials)
    }
}
