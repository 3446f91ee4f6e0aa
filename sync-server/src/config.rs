//! Configuration from the environment (the names are listed in sync-server/README.md).

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the server keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// `SELFOS_DATA/selfos.sqlite3` (the embedded default).
    Sqlite(PathBuf),
    /// `DATABASE_URL=postgres://…`.
    Postgres(String),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database: Database,
    /// Browser origins allowed to call the API cross-origin (`SELFOS_ALLOWED_ORIGINS`, comma
    /// separated: the extension's `chrome-extension://<id>` / `moz-extension://<id>`). The web
    /// app is served by this server (same origin) and needs no entry.
    pub allowed_origins: Vec<String>,
    /// `SELFOS_TLS_CERT` and `SELFOS_TLS_KEY` (PEM files): serve HTTPS with rustls.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Where the built web app lives (`SELFOS_WEBAPP`, default `dist/webapp` when present).
    pub webapp: Option<PathBuf>,
    pub limits: crate::limits::Limits,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        let addr = var("SELFOS_ADDR").unwrap_or_else(|| "127.0.0.1:8787".into());
        let addr = addr.parse().map_err(|e| {
            format!("SELFOS_ADDR `{addr}`: {e} (expected host:port, e.g. 127.0.0.1:8787)")
        })?;
        let database = match var("DATABASE_URL") {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Database::Postgres(url)
            }
            Some(url) => {
                return Err(format!(
                    "DATABASE_URL `{}` is not a postgres:// URL; unset it to use the embedded SQLite database in SELFOS_DATA",
                    redact_url(&url)
                ))
            }
            None => Database::Sqlite(PathBuf::from(
                var("SELFOS_DATA").unwrap_or_else(|| "./data".into()),
            )),
        };
        let allowed_origins = var("SELFOS_ALLOWED_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        let tls = match (var("SELFOS_TLS_CERT"), var("SELFOS_TLS_KEY")) {
            (Some(c), Some(k)) => Some((PathBuf::from(c), PathBuf::from(k))),
            (None, None) => None,
            _ => {
                return Err(
                    "set both SELFOS_TLS_CERT and SELFOS_TLS_KEY (PEM files), or neither".into(),
                )
            }
        };
        let webapp = var("SELFOS_WEBAPP").map(PathBuf::from).or_else(|| {
            Some(PathBuf::from("dist/webapp")).filter(|p| p.join("index.html").exists())
        });
        let limits = crate::limits::Limits::from_env()?;
        Ok(Config {
            addr,
            database,
            allowed_origins,
            tls,
            webapp,
            limits,
        })
    }
}

/// A database URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
