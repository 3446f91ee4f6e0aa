//! `selfos serve`'s configuration: flags, or the environment variables listed in
//! sync-server/README.md.

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

/// `selfos serve`'s settings: each a flag or the environment variable named beside it (the
/// names are a contract, see the README). Blank values count as unset.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Listen address, host:port [default: 127.0.0.1:8787]; a loud warning if it is not
    /// loopback and TLS is off
    #[arg(long, env = "SELFOS_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// Folder of the embedded SQLite database [default: ./data]
    #[arg(long, env = "SELFOS_DATA", value_name = "DIR")]
    pub data: Option<String>,
    /// A postgres:// URL: use PostgreSQL instead of the embedded SQLite database
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Browser origins admitted by CORS, comma separated (chrome-extension://<id>,
    /// moz-extension://<id>)
    #[arg(long, env = "SELFOS_ALLOWED_ORIGINS", value_name = "ORIGINS")]
    pub allowed_origins: Option<String>,
    /// TLS certificate (PEM); with --tls-key, serve HTTPS
    #[arg(long, env = "SELFOS_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<String>,
    /// TLS private key (PEM); with --tls-cert, serve HTTPS
    #[arg(long, env = "SELFOS_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<String>,
    /// Folder of the built web app served at / [default: dist/webapp when built]
    #[arg(long, env = "SELFOS_WEBAPP", value_name = "DIR")]
    pub webapp: Option<String>,
    /// Requests per second per account on authenticated routes [default: 20]
    #[arg(long, env = "SELFOS_ACCOUNT_RATE", value_name = "N")]
    pub account_rate: Option<String>,
    /// Requests per minute per client address on register, pre-login, login [default: 60]
    #[arg(long, env = "SELFOS_ADDRESS_RATE", value_name = "N")]
    pub address_rate: Option<String>,
}

fn set(value: &Option<String>) -> Option<String> {
    value.clone().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// From the environment alone (as `selfos serve` without flags).
    pub fn from_env() -> Result<Self, String> {
        let var = |name| std::env::var(name).ok();
        Self::from_args(&ServeArgs {
            addr: var("SELFOS_ADDR"),
            data: var("SELFOS_DATA"),
            database_url: var("DATABASE_URL"),
            allowed_origins: var("SELFOS_ALLOWED_ORIGINS"),
            tls_cert: var("SELFOS_TLS_CERT"),
            tls_key: var("SELFOS_TLS_KEY"),
            webapp: var("SELFOS_WEBAPP"),
            account_rate: var("SELFOS_ACCOUNT_RATE"),
            address_rate: var("SELFOS_ADDRESS_RATE"),
        })
    }

    /// Checks the settings; every message names the variable to fix.
    pub fn from_args(args: &ServeArgs) -> Result<Self, String> {
        let addr = set(&args.addr).unwrap_or_else(|| "127.0.0.1:8787".into());
        let addr = addr.parse().map_err(|e| {
            format!("SELFOS_ADDR `{addr}`: {e} (expected host:port, e.g. 127.0.0.1:8787)")
        })?;
        let database = match set(&args.database_url) {
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
                set(&args.data).unwrap_or_else(|| "./data".into()),
            )),
        };
        let allowed_origins = set(&args.allowed_origins)
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        let tls = match (set(&args.tls_cert), set(&args.tls_key)) {
            (Some(c), Some(k)) => Some((PathBuf::from(c), PathBuf::from(k))),
            (None, None) => None,
            _ => {
                return Err(
                    "set both SELFOS_TLS_CERT and SELFOS_TLS_KEY (PEM files), or neither".into(),
                )
            }
        };
        let webapp = set(&args.webapp).map(PathBuf::from).or_else(|| {
            Some(PathBuf::from("dist/webapp")).filter(|p| p.join("index.html").exists())
        });
        let limits = crate::limits::Limits::from_values(
            args.account_rate.as_deref(),
            args.address_rate.as_deref(),
        )?;
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
