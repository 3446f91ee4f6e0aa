//! A blocking HTTP client for the sync engine's [`Transport`], for native callers: the
//! `selfos export/import/demo` commands and the process-level tests. (Browsers use
//! `vault_core::sync::transport::FetchTransport`.)

use std::sync::Arc;
use std::time::Duration;

use vault_core::sync::transport::{normalize_base_url, HttpRequest, HttpResponse, Transport};
use vault_core::sync::wire;

pub struct BlockingTransport {
    base: String,
    agent: ureq::Agent,
}

impl BlockingTransport {
    pub fn new(base_url: &str) -> Result<Self, String> {
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .build();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .tls_config(tls)
            .build()
            .into();
        Ok(BlockingTransport {
            base: normalize_base_url(base_url)?,
            agent,
        })
    }
}

impl Transport for BlockingTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, String> {
        let url = format!("{}{}", self.base, request.path);
        let auth = request.bearer.as_deref().map(wire::bearer);
        let result = match (request.method, request.body) {
            ("GET", _) => {
                let mut r = self.agent.get(&url);
                if let Some(a) = &auth {
                    r = r.header("authorization", a);
                }
                r.call()
            }
            (method, body) => {
                let mut r = match method {
                    "POST" => self.agent.post(&url),
                    "PUT" => self.agent.put(&url),
                    "DELETE" => self.agent.delete(&url).force_send_body(),
                    other => return Err(format!("unsupported method {other}")),
                };
                if let Some(a) = &auth {
                    r = r.header("authorization", a);
                }
                match body {
                    Some(b) => r.header("content-type", "application/json").send(&b[..]),
                    None => r.send_empty(),
                }
            }
        };
        let mut resp = result.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let retry_after_s = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok(HttpResponse {
            status,
            retry_after_s,
            body,
        })
    }
}
