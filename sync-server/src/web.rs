//! What the server serves besides the API: the built web app (static files with a strict
//! CSP, `index.html` for client-side routes) and the TLS configuration (rustls, TLS 1.3 only).

use std::path::Path;
use std::sync::Arc;

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

/// The TLS acceptor for `SELFOS_TLS_CERT` / `SELFOS_TLS_KEY`.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, String> {
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(
        cert, key,
    )?)))
}

/// TLS 1.3 only: every client SelfOS supports (current browsers, the command line's rustls)
/// speaks it, and refusing 1.2 removes its weaker cipher suites and renegotiation-era
/// options from what an attacker can ask for.
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
    .with_protocol_versions(&[&rustls::version::TLS13])
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| format!("TLS certificate and key do not fit together: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
