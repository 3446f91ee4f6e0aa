//! `selfos serve`'s configuration: flags, or the environment variables listed in
//! sync-server/README.md.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

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
    pub connections: Connections,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` header names the client
    /// (`SELFOS_TRUSTED_PROXIES`); from anyone else the header is ignored.
    pub trusted_proxies: TrustedProxies,
    /// Most bytes of sealed changes one account may store (`SELFOS_ACCOUNT_QUOTA_MB`).
    pub account_quota_bytes: u64,
}

/// Per-connection limits of `selfos serve` (each a variable, README "Configuration").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    /// A request's headers must arrive within this (`SELFOS_HEADER_TIMEOUT_MS`); between
    /// requests on a kept-alive connection the same clock runs, so it also bounds idle
    /// keep-alive before the next request starts.
    pub header_timeout: Duration,
    /// A request's body must arrive within this (`SELFOS_BODY_TIMEOUT_MS`), else 408.
    pub body_timeout: Duration,
    /// A connection on which no byte moves either way for this long is closed
    /// (`SELFOS_IDLE_TIMEOUT_MS`): a client that stops reading its answer, or goes silent.
    pub idle_timeout: Duration,
    /// Open connections in total (`SELFOS_MAX_CONNECTIONS`); past it new ones are closed.
    pub max_total: usize,
    /// Open connections per client address (`SELFOS_MAX_CONNECTIONS_PER_ADDRESS`).
    pub max_per_address: usize,
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_total: 1024,
            max_per_address: 64,
        }
    }
}

/// Default per-account storage quota, MiB of sealed changes.
pub const DEFAULT_ACCOUNT_QUOTA_MB: u64 = 256;

/// Addresses and networks (`10.0.0.0/8`, `::1`) whose forwarded-for headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// From `SELFOS_TRUSTED_PROXIES`: comma-separated addresses or CIDR networks.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (ip, bits) = match item.split_once('/') {
                Some((ip, bits)) => (ip, Some(bits)),
                None => (item, None),
            };
            let bad = || {
                format!("SELFOS_TRUSTED_PROXIES `{item}`: expected an address or a network such as 10.0.0.0/8 or fd00::/8")
            };
            let ip: IpAddr = ip.parse().map_err(|_| bad())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(bad)?,
                None => max,
            };
            nets.push((ip, bits));
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(net, bits)| in_network(ip, canonical(*net), *bits))
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
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
    /// Milliseconds a request's headers may take to arrive (also bounds idle keep-alive)
    /// [default: 10000]
    #[arg(long, env = "SELFOS_HEADER_TIMEOUT_MS", value_name = "MS")]
    pub header_timeout_ms: Option<String>,
    /// Milliseconds a request's body may take to arrive, else 408 [default: 30000]
    #[arg(long, env = "SELFOS_BODY_TIMEOUT_MS", value_name = "MS")]
    pub body_timeout_ms: Option<String>,
    /// Milliseconds a connection may stay without any byte moving [default: 60000]
    #[arg(long, env = "SELFOS_IDLE_TIMEOUT_MS", value_name = "MS")]
    pub idle_timeout_ms: Option<String>,
    /// Open connections in total [default: 1024]
    #[arg(long, env = "SELFOS_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<String>,
    /// Open connections per client address [default: 64]
    #[arg(long, env = "SELFOS_MAX_CONNECTIONS_PER_ADDRESS", value_name = "N")]
    pub max_connections_per_address: Option<String>,
    /// Reverse proxies whose X-Forwarded-For / Forwarded header names the client, comma
    /// separated addresses or networks (10.0.0.0/8, ::1) [default: none: the socket address]
    #[arg(long, env = "SELFOS_TRUSTED_PROXIES", value_name = "NETS")]
    pub trusted_proxies: Option<String>,
    /// Most MiB of sealed changes one account may store [default: 256]
    #[arg(long, env = "SELFOS_ACCOUNT_QUOTA_MB", value_name = "MB")]
    pub account_quota_mb: Option<String>,
}

/// A positive whole number from a setting, or `default` when unset.
fn positive(name: &str, value: &Option<String>, default: u64) -> Result<u64, String> {
    match set(value) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{name} `{v}`: expected a whole number above 0")),
    }
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
            header_timeout_ms: var("SELFOS_HEADER_TIMEOUT_MS"),
            body_timeout_ms: var("SELFOS_BODY_TIMEOUT_MS"),
            idle_timeout_ms: var("SELFOS_IDLE_TIMEOUT_MS"),
            max_connections: var("SELFOS_MAX_CONNECTIONS"),
            max_connections_per_address: var("SELFOS_MAX_CONNECTIONS_PER_ADDRESS"),
            trusted_proxies: var("SELFOS_TRUSTED_PROXIES"),
            account_quota_mb: var("SELFOS_ACCOUNT_QUOTA_MB"),
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
        let d = Connections::default();
        let ms = |name, value, default: Duration| {
            positive(name, value, default.as_millis() as u64).map(Duration::from_millis)
        };
        let connections = Connections {
            header_timeout: ms(
                "SELFOS_HEADER_TIMEOUT_MS",
                &args.header_timeout_ms,
                d.header_timeout,
            )?,
            body_timeout: ms(
                "SELFOS_BODY_TIMEOUT_MS",
                &args.body_timeout_ms,
                d.body_timeout,
            )?,
            idle_timeout: ms(
                "SELFOS_IDLE_TIMEOUT_MS",
                &args.idle_timeout_ms,
                d.idle_timeout,
            )?,
            max_total: positive(
                "SELFOS_MAX_CONNECTIONS",
                &args.max_connections,
                d.max_total as u64,
            )? as usize,
            max_per_address: positive(
                "SELFOS_MAX_CONNECTIONS_PER_ADDRESS",
                &args.max_connections_per_address,
                d.max_per_address as u64,
            )? as usize,
        };
        let trusted_proxies =
            TrustedProxies::parse(&set(&args.trusted_proxies).unwrap_or_default())?;
        let account_quota_bytes = positive(
            "SELFOS_ACCOUNT_QUOTA_MB",
            &args.account_quota_mb,
            DEFAULT_ACCOUNT_QUOTA_MB,
        )?
        .saturating_mul(1024 * 1024);
        Ok(Config {
            addr,
            database,
            allowed_origins,
            tls,
            webapp,
            limits,
            connections,
            trusted_proxies,
            account_quota_bytes,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_match_addresses_and_networks() {
        let t = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7 ,fd00::/8").unwrap();
        assert!(t.contains("10.200.1.1".parse().unwrap()));
        assert!(t.contains("192.0.2.7".parse().unwrap()));
        assert!(t.contains("::ffff:10.0.0.1".parse().unwrap()), "v4-mapped");
        assert!(t.contains("fd12::1".parse().unwrap()));
        assert!(!t.contains("192.0.2.8".parse().unwrap()));
        assert!(!t.contains("11.0.0.1".parse().unwrap()));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }
}
