//! Push and pull: the per-account log of sealed changes.

use std::sync::atomic::Ordering;

use axum::extract::{Query, State};
use axum::Json;
use vault_core::sync::wire::{
    ErrorBody, PullQuery, PullResponse, PulledChange, PushRequest, PushResponse,
};

use super::shared::{AccountRateLimited, BodyTimeout, DatabaseDown, NoSession};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Authed, Body};
use crate::store::NewChange;
use crate::{AppState, MAX_BATCH, MAX_PAGE};

/// Push a batch of sealed changes.
#[utoipa::path(post, path = "/api/v1/push", tag = "sync", request_body = PushRequest, security(("bearer" = [])),
    responses((status = 200, body = PushResponse),
        (status = 400, description = "an invalid entry or idempotency key, or a malformed body", body = ErrorBody),
        NoSession,
        BodyTimeout,
        (status = 409, description = "the idempotency key was used for a different batch", body = ErrorBody),
        (status = 413, description = "body over 4 MiB, over 1,000 changes, or the account's storage quota reached", body = ErrorBody),
        AccountRateLimited,
        DatabaseDown))]
pub async fn push(
    State(state): State<AppState>,
    auth: Authed,
    Body(req): Body<PushRequest>,
) -> ApiResult<Json<PushResponse>> {
    if !(1..=128).contains(&req.idempotency_key.chars().count()) {
        return Err(ApiError::BadRequest(
            "idempotency_key: 1 to 128 characters".into(),
        ));
    }
    if req.changes.len() > MAX_BATCH {
        return Err(ApiError::TooLarge(format!(
            "{} changes in one push; at most {MAX_BATCH}",
            req.changes.len()
        )));
    }
    let rows = req
        .changes
        .iter()
        .map(|c| {
            let entry = String::from_utf8(c.encode())
                .map_err(|_| ApiError::Internal("entry encoding is not UTF-8".into()))?;
            Ok(NewChange {
                record_id: c.id.to_string(),
                hlc: c.hlc.to_string(),
                entry,
            })
        })
        .collect::<ApiResult<Vec<NewChange>>>()?;
    let key = req.idempotency_key;
    let account = auth.account;
    let quota = state.account_quota_bytes;
    let out = state
        .with(move |s| s.push(account, &key, &rows, quota))
        .await?;
    state
        .metrics
        .changes_accepted
        .fetch_add(out.accepted as u64, Ordering::Relaxed);
    state
        .metrics
        .changes_duplicate
        .fetch_add(out.duplicates as u64, Ordering::Relaxed);
    Ok(Json(PushResponse {
        accepted: out.accepted,
        duplicates: out.duplicates,
        cursor: out.cursor,
    }))
}

/// Pull changes after a cursor, in order, paginated.
#[utoipa::path(get, path = "/api/v1/pull", tag = "sync", params(PullQuery), security(("bearer" = [])),
    responses((status = 200, body = PullResponse),
        (status = 400, description = "`since` below 0 or `limit` outside 1 to 1,000", body = ErrorBody),
        NoSession,
        AccountRateLimited,
        DatabaseDown))]
pub async fn pull(
    State(state): State<AppState>,
    auth: Authed,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<PullResponse>> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if q.since < 0 {
        return Err(ApiError::BadRequest(
            "since: a cursor from an earlier pull, or 0".into(),
        ));
    }
    let limit = q.limit.unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit: 1 to {MAX_PAGE} changes a page"
        )));
    }
    let account = auth.account;
    let mut changes = state
        .with(move |s| s.pull(account, q.since, limit + 1))
        .await?;
    let more = changes.len() > limit;
    changes.truncate(limit);
    let cursor = changes.last().map_or(q.since, |c| c.seq);
    state
        .metrics
        .changes_pulled
        .fetch_add(changes.len() as u64, Ordering::Relaxed);
    let changes = changes
        .into_iter()
        .map(|c| {
            serde_json::from_str(&c.entry)
                .map(|entry| PulledChange { seq: c.seq, entry })
                .map_err(|e| ApiError::Internal(format!("stored entry {}: {e}", c.seq)))
        })
        .collect::<ApiResult<_>>()?;
    Ok(Json(PullResponse {
        changes,
        cursor,
        more,
    }))
}
