//! What the server serves besides the API: the built web app (static files with a strict
//! CSP, `index.html` for client-side routes) and HTTPS via rustls.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::HeaderValue;
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

/// The web app's CSP: its own scripts and WebAssembly only, API calls to this origin only,
/// no framing, no plugins, no inline scripts.
pub const WEBAPP_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Serves `dir` (a `dist/webapp` build) for every path the API does not claim.
pub fn with_webapp(router: Router, dir: &Path) -> Router {
    let files = ServeDir::new(dir)
        .precompressed_gzip()
        .fallback(ServeFile::new(dir.join("index.html")));
    let pages = Router::new()
        .fallback_service(files)
        .layer(axum::middleware::map_response(
            |mut resp: axum::response::Response| async move {
                let h = resp.headers_mut();
                h.insert(
                    "content-security-policy",
                    HeaderValue::from_static(WEBAPP_CSP),
                );
                // Revalidate, so a new build reaches users on their next visit.
                h.insert("cache-control", HeaderValue::from_static("no-cache"));
                resp
            },
        ));
    router.fallback_service(pages)
}

fn tls_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("SELFOS_TLS_CERT {}: {e}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("SELFOS_TLS_CERT {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "SELFOS_TLS_CERT {}: no PEM certificate in it",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("SELFOS_TLS_KEY {}: {e}", key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| format!("TLS certificate and key do not fit together: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Serves HTTPS until `shutdown` resolves, then lets open connections finish.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    router: Router,
    cert: &Path,
    key: &Path,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(cert, key)?));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, addr): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => { tracing::warn!("accept: {e}"); continue; }
            },
            _ = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let service =
            TowerToHyperService::new(router.clone().layer(axum::Extension(ConnectInfo(addr))));
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return; // a failed handshake is the client's problem, not a log line each
            };
            let builder = Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::debug!("connection from {addr}: {e}");
            }
        });
    }
    tokio::select! {
        _ = graceful.shutdown() => Ok(()),
        _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {
            tracing::warn!("connections still open after 30 s; stopping anyway");
            Ok(())
        }
    }
}
