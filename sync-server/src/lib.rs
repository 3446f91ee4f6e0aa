//! The SelfOS sync server (`selfos serve`). Stores only ciphertext; orders each account's
//! changes with a sequence number so a client pulling "since N" never misses one
//! (docs/SYNC.md). Storage: SQLite by default, PostgreSQL with `DATABASE_URL`.
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod error;
mod extract;
pub mod http_client;
pub mod limits;
pub mod metrics;
mod openapi;
pub mod routes;
pub mod store;
mod web;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::routing::{delete, get, post};
use axum::Router;

pub use config::{Config, Database};
use error::{ApiError, ApiResult};
pub use limits::{Limits, MAX_ACCOUNT_FAILURES, MAX_ADDRESS_FAILURES, THROTTLE_WINDOW_MS};
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
        }
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
    let state = AppState::shared(store, config.limits);
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
    if let Some((cert, key)) = &config.tls {
        tracing::info!("SelfOS sync server on https://{} ({where_})", config.addr);
        return web::serve_tls(listener, router, cert, key, shutdown_signal()).await;
    }
    if !config.addr.ip().is_loopback() {
        tracing::warn!(
            "LISTENING ON {} WITHOUT TLS: session tokens cross the network in the clear. Set SELFOS_TLS_CERT and SELFOS_TLS_KEY, put a TLS proxy in front, or bind to 127.0.0.1",
            config.addr
        );
    }
    tracing::info!("SelfOS sync server on http://{} ({where_})", config.addr);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| e.to_string())
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
