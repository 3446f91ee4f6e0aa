//! The SelfOS sync server (`selfos serve`). Stores only ciphertext; orders each account's
//! changes with a sequence number so a client pulling "since N" never misses one
//! (docs/SYNC.md). Storage: SQLite by default, PostgreSQL with `DATABASE_URL`.
// One `unsafe` call in the whole crate: the allocator setting in `memory`.
#![deny(unsafe_code)]

pub mod cli;
pub mod config;
pub mod credential;
pub mod error;
mod extract;
pub mod http_client;
pub mod limits;
mod listen;
pub mod mcp;
pub mod memory;
pub mod metrics;
mod openapi;
pub mod routes;
pub mod store;
mod web;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::routing::{delete, get, post};
use axum::Router;

pub use config::{Config, Database};
use error::{ApiError, ApiResult};
pub use limits::{
    Limits, ACCOUNT_SLOWDOWN_AFTER, MAX_ACCOUNT_FAILURES, MAX_ADDRESS_FAILURES, THROTTLE_WINDOW_MS,
};
use store::{ServerStore, StoreResult};

/// Largest request body accepted (413 above).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Most changes in one push (413 above).
pub const MAX_BATCH: usize = 1_000;
/// Most changes in one pull page.
pub const MAX_PAGE: usize = 1_000;
/// Session lifetime.
pub const SESSION_MS: i64 = 30 * 24 * 3_600_000;

fn now_ms() -> i64 {
    vault_core::time::now_ms() as i64
}

#[derive(Clone)]
pub struct AppState {
    store: Arc<dyn ServerStore>,
    throttle: Arc<limits::Throttle>,
    account_rate: Arc<limits::RateLimiter>,
    address_rate: Arc<limits::RateLimiter>,
    metrics: Arc<metrics::Metrics>,
    kdf: Arc<credential::KdfGate>,
    secret: Arc<tokio::sync::OnceCell<Vec<u8>>>,
    trusted_proxies: Arc<config::TrustedProxies>,
    body_timeout: std::time::Duration,
    account_quota_bytes: u64,
}

impl AppState {
    pub fn new(store: impl ServerStore) -> Self {
        Self::with_limits(store, Limits::default())
    }

    pub fn with_limits(store: impl ServerStore, limits: Limits) -> Self {
        Self::shared(Arc::new(store), limits)
    }

    pub fn shared(store: Arc<dyn ServerStore>, limits: Limits) -> Self {
        AppState {
            store,
            throttle: Arc::default(),
            // Bursts of three seconds' worth: a device catching up after being offline pulls
            // page after page without waiting.
            account_rate: Arc::new(limits::RateLimiter::new(
                limits.account_per_s,
                limits.account_per_s * 3.0,
            )),
            address_rate: Arc::new(limits::RateLimiter::new(
                limits.address_per_min / 60.0,
                limits.address_per_min,
            )),
            metrics: Arc::default(),
            kdf: Arc::new(credential::KdfGate::for_this_machine()),
            secret: Arc::default(),
            trusted_proxies: Arc::default(),
            body_timeout: config::Connections::default().body_timeout,
            account_quota_bytes: config::DEFAULT_ACCOUNT_QUOTA_MB * 1024 * 1024,
        }
    }

    /// Believe forwarded-for headers from these proxies (`SELFOS_TRUSTED_PROXIES`).
    pub fn with_trusted_proxies(mut self, proxies: config::TrustedProxies) -> Self {
        self.trusted_proxies = Arc::new(proxies);
        self
    }

    /// How long a request body may take to arrive (`SELFOS_BODY_TIMEOUT_MS`).
    pub fn with_body_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Most bytes of sealed changes per account (`SELFOS_ACCOUNT_QUOTA_MB`).
    pub fn with_account_quota(mut self, bytes: u64) -> Self {
        self.account_quota_bytes = bytes;
        self
    }

    /// Replaces the credential-check gate (tests use a small one to reach its limits).
    pub fn with_kdf_gate(mut self, gate: Arc<credential::KdfGate>) -> Self {
        self.kdf = gate;
        self
    }

    /// The per-server secret, read from the database once and kept: the pre-login answer
    /// for an unknown name then costs the same one lookup as for a real account.
    async fn server_secret(&self) -> ApiResult<Vec<u8>> {
        let store = self.store.clone();
        self.secret
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || store.server_secret())
                    .await
                    .map_err(|e| ApiError::Internal(format!("store task: {e}")))?
                    .map_err(ApiError::from)
            })
            .await
            .cloned()
    }

    /// Runs a blocking store call off the async threads; its error becomes the HTTP answer
    /// (`From<StoreError> for ApiError`).
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn ServerStore) -> StoreResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let store = self.store.clone();
        Ok(tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| ApiError::Internal(format!("store task: {e}")))??)
    }

    fn too_many(&self, wait_s: u64) -> ApiError {
        self.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
        ApiError::TooMany(wait_s)
    }

    fn limit_account(&self, account: i64) -> ApiResult<()> {
        self.account_rate
            .take(&account.to_string())
            .map_err(|w| self.too_many(w))
    }

    fn limit_address(&self, peer: &extract::Peer) -> ApiResult<()> {
        self.address_rate
            .take(&peer.key())
            .map_err(|w| self.too_many(w))
    }
}

/// Headers every API answer carries: no sniffing, no framing, no referrer, no caching, and a
/// CSP that lets a response load nothing. Web app pages get their own strict CSP (`web.rs`).
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
        if !h.contains_key(name) {
            h.insert(name, axum::http::HeaderValue::from_static(value));
        }
    }
    resp
}

/// A body declared (`Content-Length`) over [`MAX_BODY_BYTES`] is refused with 413 at once,
/// before a byte of it is read, instead of after reading 4 MiB of it.
async fn refuse_oversized(req: Request, next: Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > MAX_BODY_BYTES as u64 => ApiError::TooLarge(format!(
            "request body of {n} bytes; at most {MAX_BODY_BYTES}"
        ))
        .into_response(),
        _ => next.run(req).await,
    }
}

/// Counts every request by route template and status, and times it.
async fn observe(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> axum::response::Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

/// CORS that admits only the configured origins (none by default).
pub fn cors(allowed: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{header, HeaderValue, Method};
    let origins: Vec<HeaderValue> = allowed.iter().filter_map(|o| o.parse().ok()).collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600))
}

/// The HTTP API with its production layers (security headers, CORS for `allowed_origins`).
pub fn app_with(state: AppState, allowed_origins: &[String]) -> Router {
    app(state)
        .layer(axum::middleware::map_response(security_headers))
        .layer(cors(allowed_origins))
}

/// The HTTP API (and the web app, when a build is configured: see [`web`]).
pub fn app(state: AppState) -> Router {
    use routes::{accounts, sessions, sync};
    use vault_core::sync::wire::path;
    Router::new()
        .route(path::HEALTHZ, get(routes::healthz))
        .route(path::READYZ, get(routes::readyz))
        .route(path::METRICS, get(routes::metrics))
        .route(path::OPENAPI, get(routes::openapi))
        .route(path::ACCOUNTS, post(accounts::register))
        .route(
            path::ACCOUNT_CURRENT,
            axum::routing::put(accounts::change).delete(accounts::delete),
        )
        .route(path::PRELOGIN_TEMPLATE, get(accounts::prelogin))
        .route(path::SESSIONS, post(sessions::login).get(sessions::list))
        .route(path::SESSION_CURRENT, delete(sessions::logout))
        .route(path::SESSION_TEMPLATE, delete(sessions::revoke))
        .route(path::PUSH, post(sync::push))
        .route(path::PULL, get(sync::pull))
        .route(
            &format!("{}{{*rest}}", path::API_PREFIX),
            axum::routing::any(|| async { ApiError::NotFound("no such endpoint".into()) }),
        )
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_oversized))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Opens the configured database (migrating it).
pub fn open_store(database: &Database) -> Result<Arc<dyn ServerStore>, String> {
    Ok(match database {
        Database::Sqlite(dir) => Arc::new(
            store::SqliteStore::open(dir)
                .map_err(|e| format!("opening the SQLite database in {}: {e}", dir.display()))?,
        ),
        Database::Postgres(url) => {
            Arc::new(store::PostgresStore::open(url).map_err(|e| e.to_string())?)
        }
    })
}

/// Serves until Ctrl-C or SIGTERM, finishing in-flight requests.
pub async fn serve(config: Config) -> Result<(), String> {
    let db = config.database.clone();
    let store = tokio::task::spawn_blocking(move || open_store(&db))
        .await
        .map_err(|e| e.to_string())??;
    let state = AppState::shared(store, config.limits)
        .with_trusted_proxies(config.trusted_proxies.clone())
        .with_body_timeout(config.connections.body_timeout)
        .with_account_quota(config.account_quota_bytes);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("binding {}: {e}", config.addr))?;
    let where_ = match &config.database {
        Database::Sqlite(dir) => format!("SQLite in {}", dir.display()),
        Database::Postgres(url) => format!("PostgreSQL at {}", config::redact_url(url)),
    };
    let mut router = app_with(state, &config.allowed_origins);
    if let Some(dir) = &config.webapp {
        router = web::with_webapp(router, dir);
        tracing::info!("serving the web app from {}", dir.display());
    }
    let tls = match &config.tls {
        Some((cert, key)) => {
            tracing::info!("SelfOS sync server on https://{} ({where_})", config.addr);
            Some(web::tls_acceptor(cert, key)?)
        }
        None => {
            if !config.addr.ip().is_loopback() {
                tracing::warn!(
                    "LISTENING ON {} WITHOUT TLS: session tokens cross the network in the clear. Set SELFOS_TLS_CERT and SELFOS_TLS_KEY, put a TLS proxy in front, or bind to 127.0.0.1",
                    config.addr
                );
            }
            tracing::info!("SelfOS sync server on http://{} ({where_})", config.addr);
            None
        }
    };
    listen::serve(
        listener,
        router,
        tls,
        config.connections,
        config.trusted_proxies,
        shutdown_signal(),
    )
    .await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
