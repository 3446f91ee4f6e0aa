//! Abuse limits kept in this process's memory: failed-login throttling (per account *from one
//! address* and per address, sliding window), a slow-down (never a lock) for an account under
//! attack from many addresses, and request rate limits (token buckets: per account on
//! authenticated routes, per address on the open ones). Past a limit the answer is 429 with
//! `Retry-After`.
//!
//! Why not "five failures lock the account": anyone who knows a username could then lock its
//! owner out from every address. Failures are counted per (account, address) instead, so an
//! attacker only locks *their own* address out of that account, and past
//! [`ACCOUNT_SLOWDOWN_AFTER`] failures from all addresses together each attempt on the account
//! waits a little longer (capped at [`ACCOUNT_SLOWDOWN_MAX_MS`]): guessing slows down, the owner
//! still gets in. Sessions already signed in are never touched by any of this.
//!
//! Several processes behind a load balancer each enforce their own buckets, so the effective
//! limit there is the per-process limit times the number of processes; documented in
//! sync-server/README.md.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Failed logins allowed per account from one client address in [`THROTTLE_WINDOW_MS`].
pub const MAX_ACCOUNT_FAILURES: usize = 5;
/// Failed logins allowed per client address (all accounts) in [`THROTTLE_WINDOW_MS`].
pub const MAX_ADDRESS_FAILURES: usize = 20;
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60_000;
/// Failed logins on one account (from all addresses) in the window after which every further
/// attempt on it is slowed down.
pub const ACCOUNT_SLOWDOWN_AFTER: usize = 20;
/// The longest an attempt on an account under attack waits before it is checked.
pub const ACCOUNT_SLOWDOWN_MAX_MS: u64 = 2_000;
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
    /// Admits one attempt if every `(key, limit)` is under its limit, and then counts it
    /// against each key *at once*, before the (slow) credential check: concurrent attempts
    /// cannot all slip past a limit while the first ones are still being checked. A success
    /// takes the count back ([`Throttle::forgive`]). `Err(seconds to wait)` when a key is full.
    pub fn admit(&self, keys: &[(&str, usize)], now: i64) -> Result<(), u64> {
        let Ok(mut map) = self.failures.lock() else {
            return Ok(());
        };
        let mut wait = None;
        for (key, limit) in keys {
            if let Some(list) = map.get_mut(*key) {
                list.retain(|&t| now - t < THROTTLE_WINDOW_MS);
                if list.len() >= *limit {
                    let oldest = list.iter().copied().min().unwrap_or(now);
                    let w = ((oldest + THROTTLE_WINDOW_MS - now) / 1000).max(1) as u64;
                    wait = Some(wait.map_or(w, |x: u64| x.max(w)));
                }
            }
        }
        if let Some(w) = wait {
            return Err(w);
        }
        if map.len() >= MAX_KEYS {
            map.retain(|_, list| list.iter().any(|&t| now - t < THROTTLE_WINDOW_MS));
        }
        for (key, _) in keys {
            map.entry((*key).to_owned()).or_default().push(now);
        }
        Ok(())
    }

    /// Failures counted for `key` in the window.
    pub fn count(&self, key: &str, now: i64) -> usize {
        self.failures.lock().map_or(0, |map| {
            map.get(key).map_or(0, |l| {
                l.iter().filter(|&&t| now - t < THROTTLE_WINDOW_MS).count()
            })
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

    /// Takes back one attempt counted by [`Throttle::admit`] at `at` (it succeeded).
    pub fn forgive(&self, key: &str, at: i64) {
        if let Ok(mut map) = self.failures.lock() {
            if let Some(list) = map.get_mut(key) {
                if let Some(i) = list.iter().position(|&t| t == at) {
                    list.swap_remove(i);
                }
            }
        }
    }

    pub fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

/// How long an attempt on an account with `failures` recent failures (from all addresses)
/// waits before it is checked: nothing up to [`ACCOUNT_SLOWDOWN_AFTER`], then doubling from
/// 100 ms up to [`ACCOUNT_SLOWDOWN_MAX_MS`].
pub fn account_slowdown_ms(failures: usize) -> u64 {
    match failures.checked_sub(ACCOUNT_SLOWDOWN_AFTER) {
        None => 0,
        Some(over) => (100u64 << over.min(10)).min(ACCOUNT_SLOWDOWN_MAX_MS),
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

    #[test]
    fn admit_counts_before_the_check_and_forgive_takes_it_back() {
        let t = Throttle::default();
        for _ in 0..3 {
            assert_eq!(t.admit(&[("k", 3)], 1), Ok(()));
        }
        assert!(t.admit(&[("k", 3)], 1).is_err(), "three in flight fill it");
        t.forgive("k", 1);
        assert_eq!(t.admit(&[("k", 3), ("other", 1)], 1), Ok(()));
        assert!(t.admit(&[("k", 9), ("other", 1)], 1).is_err());
        assert_eq!(t.count("k", 1), 3, "a refused attempt counts nothing");
    }

    #[test]
    fn the_account_slowdown_grows_then_stops_at_its_cap() {
        assert_eq!(account_slowdown_ms(ACCOUNT_SLOWDOWN_AFTER - 1), 0);
        assert_eq!(account_slowdown_ms(ACCOUNT_SLOWDOWN_AFTER), 100);
        assert_eq!(account_slowdown_ms(ACCOUNT_SLOWDOWN_AFTER + 1), 200);
        assert_eq!(account_slowdown_ms(10_000), ACCOUNT_SLOWDOWN_MAX_MS);
    }
}
