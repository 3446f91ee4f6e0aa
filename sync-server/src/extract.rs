//! Request extractors: the client's address, JSON bodies whose rejections are JSON errors,
//! and the authenticated session.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::TrustedProxies;
use crate::error::ApiError;
use crate::{now_ms, AppState, MAX_BODY_BYTES};

/// The client's address: the socket's peer, or, when that peer is a configured trusted proxy
/// (`SELFOS_TRUSTED_PROXIES`), the address its `X-Forwarded-For` / `Forwarded` header names.
/// Absent in-process (no connection).
pub struct Peer(pub Option<IpAddr>);

impl Peer {
    /// The key open routes are rate-limited and throttled by. IPv6 addresses are grouped by
    /// their /64: one subscriber usually holds a whole /64, and would otherwise get 2^64 fresh
    /// keys to rotate through.
    pub fn key(&self) -> String {
        match self.0.map(crate::config::canonical) {
            None => "addr:local".to_owned(),
            Some(IpAddr::V4(v4)) => format!("addr:{v4}"),
            Some(IpAddr::V6(v6)) => {
                let net = Ipv6Addr::from(u128::from(v6) & !(u128::from(u64::MAX)));
                format!("addr:{net}/64")
            }
        }
    }
}

/// The client behind `socket` given the request's forwarding headers: the right-most address
/// that is not a trusted proxy (each proxy appends the address it got the request from, so
/// everything left of the first untrusted hop could be made up by the client).
pub fn client_address(socket: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    if !trusted.contains(socket) {
        return socket;
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    let xff = headers.get_all("x-forwarded-for");
    if xff.iter().next().is_some() {
        for value in xff.iter().filter_map(|v| v.to_str().ok()) {
            hops.extend(value.split(',').filter_map(|h| parse_hop(h.trim())));
        }
    } else {
        for value in headers
            .get_all("forwarded")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            for element in value.split(',') {
                for pair in element.split(';') {
                    if let Some((k, v)) = pair.trim().split_once('=') {
                        if k.trim().eq_ignore_ascii_case("for") {
                            hops.extend(parse_hop(v.trim().trim_matches('"')));
                        }
                    }
                }
            }
        }
    }
    let mut client = socket;
    for hop in hops.into_iter().rev() {
        client = hop;
        if !trusted.contains(hop) {
            break;
        }
    }
    client
}

/// One hop of a forwarding header: `192.0.2.1`, `192.0.2.1:80`, `2001:db8::1`, `[2001:db8::1]:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    hop.parse::<SocketAddr>().ok().map(|s| s.ip())
}

impl FromRequestParts<AppState> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(
            |c| client_address(c.0.ip(), &parts.headers, &state.trusted_proxies),
        )))
    }
}

/// `Json<T>` whose rejections are JSON errors with the right status. A whole number written
/// with a fraction or an exponent (`1.0`, `6e5`) is that integer, as JSON Schema's `integer`
/// (the API document's) counts it: see [`integral_numbers`].
pub struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    /// Reads the body within the configured body timeout (408 after it: a client trickling a
    /// body byte by byte would otherwise hold a connection and a task for as long as it likes).
    async fn from_request(
        req: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let read = Json::<Value>::from_request(req, state);
        let Ok(read) = tokio::time::timeout(state.body_timeout, read).await else {
            return Err(ApiError::Timeout(state.body_timeout.as_millis() as u64));
        };
        match read {
            Ok(Json(mut v)) => {
                integral_numbers(&mut v);
                serde_path_to_error::deserialize(v).map(Body).map_err(|e| {
                    ApiError::BadRequest(format!(
                        "Failed to deserialize the JSON body into the target type: {e}"
                    ))
                })
            }
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

/// Rewrites every whole number written as a float (`787409.0`, `1e3`) to the integer it is,
/// within ±2^53 (where a double is exact; the API's integers are all below that). JSON has a
/// single number type, and the typed fields (`u32`, `u64`) would refuse the float form.
fn integral_numbers(v: &mut Value) {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= EXACT) {
                *n = if f < 0.0 {
                    (f as i64).into()
                } else {
                    (f as u64).into()
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A request made with a live session token (`Authorization: Bearer …`), within the
/// account's rate limit.
pub struct Authed {
    pub account: i64,
    pub token_hash: Vec<u8>,
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix(vault_core::sync::wire::BEARER_PREFIX))
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or(ApiError::Unauthorized)?;
        let th = token_hash(token);
        let lookup = th.clone();
        let session = state
            .with(move |s| s.session(&lookup, now_ms()))
            .await?
            .ok_or(ApiError::Unauthorized)?;
        state.limit_account(session.account)?;
        Ok(Authed {
            account: session.account,
            token_hash: th,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let outsider: IpAddr = "198.51.100.9".parse().unwrap();
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.5, 10.0.0.3")]);
        // The right-most untrusted hop; the spoofable left part is ignored.
        assert_eq!(
            client_address(proxy, &xff, &trusted),
            "203.0.113.5".parse::<IpAddr>().unwrap()
        );
        // From anyone else the header is ignored.
        assert_eq!(client_address(outsider, &xff, &trusted), outsider);
        let fwd = headers(&[("forwarded", r#"for="[2001:db8::7]:443";proto=https"#)]);
        assert_eq!(
            client_address(proxy, &fwd, &trusted),
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(proxy, &HeaderMap::new(), &trusted), proxy);
    }

    #[test]
    fn whole_numbers_written_as_floats_are_integers() {
        let mut v = serde_json::json!({
            "a": 787409.0, "b": [1.0, -2.0, 1.5, 1e3], "c": 1e300, "d": 7, "e": "1.0"
        });
        integral_numbers(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "a": 787409, "b": [1, -2, 1.5, 1000], "c": 1e300, "d": 7, "e": "1.0"
            })
        );
        assert!(v["a"].is_u64() && v["b"][1].is_i64());
        // Read exactly (serde_json's float_roundtrip): near 2^51 a last-place error would
        // make this whole number a fraction.
        let mut big: serde_json::Value = serde_json::from_str("[2117833552939239.0]").unwrap();
        integral_numbers(&mut big);
        assert_eq!(big, serde_json::json!([2117833552939239u64]));
    }

    #[test]
    fn ipv6_clients_are_grouped_by_their_64() {
        let a = Peer(Some("2001:db8:1:2:aaaa::1".parse().unwrap())).key();
        let b = Peer(Some("2001:db8:1:2:ffff::9".parse().unwrap())).key();
        let c = Peer(Some("2001:db8:1:3::1".parse().unwrap())).key();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, "addr:2001:db8:1:2::/64");
        assert_eq!(
            Peer(Some("::ffff:192.0.2.1".parse().unwrap())).key(),
            "addr:192.0.2.1"
        );
    }
}
