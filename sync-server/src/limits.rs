//! Abuse limits kept in this process's memory: failed-login throttling (per account and per
//! address, sliding window) and request rate limits (token buckets: per account on
//! authenticated routes, per address on the open ones). Past a limit the answer is 429 with
//! `Retry-After`.
//!
//! Several processes behind a load balancer each enforce their own buckets, so the effective
//! limit there is the per-process limit times the number of processes; documented in
//! sync-server/README.md.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Failed logins allowed per account in [`THROTTLE_WINDOW_MS`].
pub const MAX_ACCOUNT_FAILURES: usize = 5;
/// Failed logins allowed per client address in [`THROTTLE_WINDOW_MS`].
pub const MAX_ADDRESS_FAILURES: usize = 20;
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60_000;
/// Keys kept before idle ones are swept (bounds what made-up names can make us hold).
const MAX_KEYS: usize = 100_000;

/// Request rates, from the environment.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests per second per account on authenticated routes (`SELFOS_ACCOUNT_RATE`).
    pub account_per_s: f64,
    /// Requests per minute per address on open routes: register, pre-login, login
    /// (`SELFOS_ADDRESS_RATE`).
    pub address_per_min: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            account_per_s: 20.0,
            address_per_min: 60.0,
        }
    }
}

impl Limits {
    pub fn from_env() -> Result<Self, String> {
        let var = |name| std::env::var(name).ok();
        Self::from_values(
            var("SELFOS_ACCOUNT_RATE").as_deref(),
            var("SELFOS_ADDRESS_RATE").as_deref(),
        )
    }

    /// From the values of `SELFOS_ACCOUNT_RATE` and `SELFOS_ADDRESS_RATE` (or the `selfos
    /// serve` flags of the same meaning); unset or blank keeps the default.
    pub fn from_values(account: Option<&str>, address: Option<&str>) -> Result<Self, String> {
        let read = |name: &str, value: Option<&str>, default: f64| -> Result<f64, String> {
            match value {
                Some(v) if !v.trim().is_empty() => v
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|r| *r > 0.0 && r.is_finite())
                    .ok_or_else(|| format!("{name} `{v}`: expected a positive number")),
                _ => Ok(default),
            }
        };
        let d = Limits::default();
        Ok(Limits {
            account_per_s: read("SELFOS_ACCOUNT_RATE", account, d.account_per_s)?,
            address_per_min: read("SELFOS_ADDRESS_RATE", address, d.address_per_min)?,
        })
    }
}

/// Token buckets: each key may burst to `burst` requests, refilled at `per_s`.
pub struct RateLimiter {
    per_s: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_s: f64, burst: f64) -> Self {
        RateLimiter {
            per_s,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; `Err(seconds to wait)` when the bucket is empty.
    pub fn take(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            let (per_s, burst) = (self.per_s, self.burst);
            map.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * per_s < burst
            });
        }
        let (tokens, at) = map.entry(key.to_owned()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_s).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - *tokens) / self.per_s).ceil() as u64).max(1))
        }
    }
}

/// Failed logins per key in a sliding window.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Vec<i64>>>,
}

impl Throttle {
    /// Seconds to wait if `key` is over `limit`, else `None`.
    pub fn blocked(&self, key: &str, limit: usize, now: i64) -> Option<u64> {
        let mut map = self.failures.lock().ok()?;
        let list = map.get_mut(key)?;
        list.retain(|&t| now - t < THROTTLE_WINDOW_MS);
        (list.len() >= limit).then(|| {
            let oldest = list.iter().copied().min().unwrap_or(now);
            ((oldest + THROTTLE_WINDOW_MS - now) / 1000).max(1) as u64
        })
    }

    pub fn fail(&self, key: String, now: i64) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() >= MAX_KEYS {
                map.retain(|_, list| list.iter().any(|&t| now - t < THROTTLE_WINDOW_MS));
            }
            map.entry(key).or_default().push(now);
        }
    }

    pub fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_asks_to_wait() {
        let rl = RateLimiter::new(1.0, 3.0);
        for _ in 0..3 {
            assert_eq!(rl.take("a"), Ok(()));
        }
        assert_eq!(rl.take("a"), Err(1));
        assert_eq!(rl.take("b"), Ok(()), "keys are independent");
    }
}
