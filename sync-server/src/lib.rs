//! The SelfOS sync server (`selfos serve`). Stores only ciphertext; orders each account's
//! changes with a sequence number so a client pulling "since N" never misses one.
//!
//! Status: SQLite backend, accounts, sessions, push/pull with idempotency, body and batch
//! caps, JSON errors. Not yet: PostgreSQL, rate limits, CORS, TLS, metrics, OpenAPI
//! generation (see the sync issue).

pub mod error;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use vault_core::{StoredRecord, VaultHeader};

use error::{ApiError, ApiResult};
use store::ServerStore;

/// Largest request body accepted (413 above).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Most changes in one push (413 above).
pub const MAX_BATCH: usize = 1_000;
/// Most changes in one pull page.
pub const MAX_PAGE: usize = 1_000;
const SESSION_MS: i64 = 30 * 24 * 3_600_000;

/// Configuration from the environment (see shared contracts).
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub data: PathBuf,
    /// Browser origins allowed to call the API cross-origin (`SELFOS_ALLOWED_ORIGINS`, comma
    /// separated: the extension's `chrome-extension://<id>` / `moz-extension://<id>`). The web
    /// app is served by this server (same origin) and needs no entry.
    pub allowed_origins: Vec<String>,
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        let addr = std::env::var("SELFOS_ADDR").unwrap_or_else(|_| "127.0.0.1:8787".into());
        let addr = addr
            .parse()
            .map_err(|e| format!("SELFOS_ADDR `{addr}`: {e}"))?;
        let data = PathBuf::from(std::env::var("SELFOS_DATA").unwrap_or_else(|_| "./data".into()));
        if std::env::var("DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
            return Err("DATABASE_URL points at PostgreSQL, which this build does not support yet; unset it to use the embedded SQLite database".into());
        }
        let allowed_origins = std::env::var("SELFOS_ALLOWED_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        Ok(Config {
            addr,
            data,
            allowed_origins,
        })
    }
}

#[derive(Clone)]
pub struct AppState {
    store: Arc<dyn ServerStore>,
    throttle: Arc<Throttle>,
}

/// Failed logins per account and per client address in a sliding window: past the limit,
/// login answers 429 with Retry-After until the oldest failure leaves the window. Memory
/// only (one process); a PostgreSQL deployment would keep it in the database.
#[derive(Default)]
pub struct Throttle {
    failures: std::sync::Mutex<std::collections::HashMap<String, Vec<i64>>>,
}

/// Failed logins allowed per account in [`THROTTLE_WINDOW_MS`].
pub const MAX_ACCOUNT_FAILURES: usize = 5;
/// Failed logins allowed per client address in [`THROTTLE_WINDOW_MS`].
pub const MAX_ADDRESS_FAILURES: usize = 20;
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60_000;

impl Throttle {
    /// Seconds to wait if `key` is over `limit`, else `None`.
    fn blocked(&self, key: &str, limit: usize, now: i64) -> Option<u64> {
        let mut map = self.failures.lock().ok()?;
        let list = map.get_mut(key)?;
        list.retain(|&t| now - t < THROTTLE_WINDOW_MS);
        (list.len() >= limit).then(|| {
            let oldest = list.iter().copied().min().unwrap_or(now);
            ((oldest + THROTTLE_WINDOW_MS - now) / 1000).max(1) as u64
        })
    }

    fn fail(&self, key: String, now: i64) {
        if let Ok(mut map) = self.failures.lock() {
            // Bound the memory an attacker can make us hold with made-up usernames.
            if map.len() >= 100_000 {
                map.retain(|_, list| list.iter().any(|&t| now - t < THROTTLE_WINDOW_MS));
            }
            map.entry(key).or_default().push(now);
        }
    }

    fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

impl AppState {
    pub fn new(store: impl ServerStore) -> Self {
        AppState {
            store: Arc::new(store),
            throttle: Arc::new(Throttle::default()),
        }
    }

    /// Runs a blocking store call off the async threads.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn ServerStore) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| ApiError::Internal(format!("store task: {e}")))?
    }
}

/// Headers every answer carries: no sniffing, no framing, no referrer, and a CSP that lets an
/// API response load nothing (pages the server serves later get their own, strict CSP).
async fn security_headers(mut resp: axum::response::Response) -> axum::response::Response {
    let h = resp.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
        ("cache-control", "no-store"),
    ] {
        h.insert(name, axum::http::HeaderValue::from_static(value));
    }
    resp
}

/// CORS that admits only the configured origins (none by default).
pub fn cors(allowed: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{header, HeaderValue, Method};
    let origins: Vec<HeaderValue> = allowed.iter().filter_map(|o| o.parse().ok()).collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600))
}

/// The HTTP API with its production layers (security headers, CORS for `allowed_origins`).
pub fn app_with(state: AppState, allowed_origins: &[String]) -> Router {
    app(state)
        .layer(axum::middleware::map_response(security_headers))
        .layer(cors(allowed_origins))
}

/// The HTTP API.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/accounts", post(register))
        .route("/api/v1/accounts/{username}/kdf", get(prelogin))
        .route("/api/v1/sessions", post(login))
        .route("/api/v1/sessions/current", delete(logout))
        .route("/api/v1/push", post(push))
        .route("/api/v1/pull", get(pull))
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The client's address when the server runs with connect info (absent in-process).
pub struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
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

fn now_ms() -> i64 {
    vault_core::time::now_ms() as i64
}

fn random_token() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| ApiError::Internal(format!("rng: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn check_username(u: &str) -> ApiResult<()> {
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

fn check_credential(c: &str) -> ApiResult<()> {
    match URL_SAFE_NO_PAD.decode(c) {
        Ok(b) if b.len() == 32 => Ok(()),
        _ => Err(ApiError::BadRequest(
            "credential: the 32-byte auth secret, base64url without padding".into(),
        )),
    }
}

async fn readyz(State(state): State<AppState>) -> ApiResult<&'static str> {
    state.with(|s| s.ping()).await?;
    Ok("ready")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterRequest {
    username: String,
    credential: String,
    /// The vault header (`selfos-vault` JSON): KDF parameters and the wrapped vault key.
    header: Value,
}

async fn register(
    State(state): State<AppState>,
    Body(req): Body<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    check_username(&req.username)?;
    check_credential(&req.credential)?;
    VaultHeader::from_json(req.header.clone())
        .map_err(|e| ApiError::BadRequest(format!("header: {e}")))?;
    let header = req.header.to_string();
    let hash = tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&random_salt()?)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Argon2::default()
            .hash_password(req.credential.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let username = req.username.clone();
    state
        .with(move |s| s.create_account(&username, &hash, &header, now_ms()))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "username": req.username })),
    ))
}

fn random_salt() -> ApiResult<[u8; 16]> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| ApiError::Internal(format!("rng: {e}")))?;
    Ok(salt)
}

/// Pre-login: the KDF parameters a new device needs to derive the credential. Never the
/// wrapped key (that comes after login), so this answer gives nothing to attack offline.
/// Unknown users get stable made-up parameters, so the answer does not reveal who exists.
async fn prelogin(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> ApiResult<Json<Value>> {
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
            // anyone else, so it cannot be told apart from a real account's random salt.
            let secret = state.with(|s| s.server_secret()).await?;
            use hmac::Mac;
            let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&secret)
                .map_err(|e| ApiError::Internal(format!("hmac: {e}")))?;
            mac.update(b"selfos-prelogin/");
            mac.update(username.as_bytes());
            let fake = mac.finalize().into_bytes();
            json!({ "algorithm": "pbkdf2-sha256", "iterations": 600000,
                    "salt": base64::engine::general_purpose::STANDARD.encode(&fake[..16]) })
        }
    };
    Ok(Json(json!({ "kdf": kdf })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    username: String,
    credential: String,
    #[serde(default)]
    device: String,
}

#[derive(Serialize)]
struct LoginResponse {
    token: String,
    expires_at_ms: i64,
    header: Value,
}

async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    check_username(&req.username)?;
    let now = now_ms();
    let account_key = format!("user:{}", req.username);
    let address_key = format!(
        "addr:{}",
        peer.map_or_else(|| "local".to_owned(), |ip| ip.to_string())
    );
    for (key, limit) in [
        (&account_key, MAX_ACCOUNT_FAILURES),
        (&address_key, MAX_ADDRESS_FAILURES),
    ] {
        if let Some(wait) = state.throttle.blocked(key, limit, now) {
            return Err(ApiError::TooMany(wait));
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
    let (hash, credential) = (account.credential_hash.clone(), req.credential.clone());
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(credential.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !ok {
        return Err(fail(&state));
    }
    state.throttle.clear(&account_key);
    let token = random_token()?;
    let (th, id) = (token_hash(&token), account.id);
    let device: String = req.device.chars().take(100).collect();
    let expires = now_ms() + SESSION_MS;
    state
        .with(move |s| s.create_session(&th, id, &device, now_ms(), expires))
        .await?;
    let header =
        serde_json::from_str(&account.header).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(LoginResponse {
        token,
        expires_at_ms: expires,
        header,
    }))
}

fn bearer(headers: &HeaderMap) -> ApiResult<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .ok_or(ApiError::Unauthorized)
}

async fn authed(state: &AppState, headers: &HeaderMap) -> ApiResult<i64> {
    let th = token_hash(&bearer(headers)?);
    state
        .with(move |s| s.session_account(&th, now_ms()))
        .await?
        .ok_or(ApiError::Unauthorized)
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<StatusCode> {
    authed(&state, &headers).await?;
    let th = token_hash(&bearer(&headers)?);
    state.with(move |s| s.delete_session(&th)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushRequest {
    idempotency_key: String,
    changes: Vec<StoredRecord>,
}

async fn push(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(req): Body<PushRequest>,
) -> ApiResult<Json<Value>> {
    let account = authed(&state, &headers).await?;
    if req.idempotency_key.is_empty() || req.idempotency_key.len() > 128 {
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
    let rows: Vec<(String, String, String)> = req
        .changes
        .iter()
        .map(|c| {
            (
                c.id.to_string(),
                c.hlc.to_string(),
                String::from_utf8(c.encode()).unwrap_or_default(),
            )
        })
        .collect();
    let key = req.idempotency_key;
    let out = state.with(move |s| s.push(account, &key, &rows)).await?;
    Ok(Json(
        json!({ "accepted": out.accepted, "duplicates": out.duplicates, "cursor": out.cursor }),
    ))
}

#[derive(Deserialize)]
struct PullQuery {
    #[serde(default)]
    since: i64,
    limit: Option<usize>,
}

async fn pull(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let account = authed(&state, &headers).await?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if q.since < 0 {
        return Err(ApiError::BadRequest(
            "since: a cursor from an earlier pull, or 0".into(),
        ));
    }
    let limit = q.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let changes = state
        .with(move |s| s.pull(account, q.since, limit + 1))
        .await?;
    let more = changes.len() > limit;
    let page: Vec<Value> = changes
        .iter()
        .take(limit)
        .map(|c| json!({ "seq": c.seq, "entry": serde_json::from_str::<Value>(&c.entry).unwrap_or(Value::Null) }))
        .collect();
    let cursor = changes[..changes.len().min(limit)]
        .last()
        .map_or(q.since, |c| c.seq);
    Ok(Json(
        json!({ "changes": page, "cursor": cursor, "more": more }),
    ))
}

/// The API description. Written by hand for now (generation from the code is planned).
async fn openapi() -> Json<Value> {
    let op = |summary: &str| json!({ "summary": summary, "responses": { "200": { "description": "OK" }, "4XX": { "description": "JSON error" } } });
    Json(json!({
        "openapi": "3.0.3",
        "info": { "title": "SelfOS sync API", "version": "1" },
        "paths": {
            "/healthz": { "get": op("Process is up") },
            "/readyz": { "get": op("Database answers") },
            "/api/v1/accounts": { "post": op("Register: username, credential (auth secret), vault header") },
            "/api/v1/accounts/{username}/kdf": { "get": op("Pre-login KDF parameters") },
            "/api/v1/sessions": { "post": op("Log in: returns a session token and the vault header") },
            "/api/v1/sessions/current": { "delete": op("Log out") },
            "/api/v1/push": { "post": op("Push sealed changes with an idempotency key") },
            "/api/v1/pull": { "get": op("Pull changes since a cursor, paginated") }
        }
    }))
}

/// Serves until Ctrl-C or SIGTERM, finishing in-flight requests.
pub async fn serve(config: Config) -> Result<(), String> {
    let store = store::SqliteStore::open(&config.data).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("binding {}: {e}", config.addr))?;
    if !config.addr.ip().is_loopback() {
        tracing::warn!(
            "listening on {} without TLS: put a TLS proxy in front, or bind to 127.0.0.1",
            config.addr
        );
    }
    tracing::info!(
        "SelfOS sync server on http://{} (SQLite in {})",
        config.addr,
        config.data.display()
    );
    axum::serve(
        listener,
        app_with(AppState::new(store), &config.allowed_origins)
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            if let Ok(mut s) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                s.recv().await;
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    })
    .await
    .map_err(|e| e.to_string())
}
