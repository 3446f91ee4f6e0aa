//! When to try again: exponential backoff with jitter, honouring the server's `Retry-After`.
//!
//! Jitter spreads retries out so devices that went offline together (a server restart) do not
//! come back in lockstep. Failures a retry cannot fix (a revoked session, a wrong passphrase)
//! return `None`: the user has to act.

use super::client::SyncError;

#[derive(Debug, Clone)]
pub struct Backoff {
    attempt: u32,
    base_ms: u64,
    cap_ms: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            attempt: 0,
            base_ms: 2_000,
            cap_ms: 15 * 60_000,
        }
    }
}

impl Backoff {
    pub fn new(base_ms: u64, cap_ms: u64) -> Self {
        Backoff {
            attempt: 0,
            base_ms: base_ms.max(1),
            cap_ms: cap_ms.max(base_ms),
        }
    }

    /// Failures in a row so far.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// A round succeeded: the next failure starts from the base delay again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The delay before the next try after `error`, or `None` when retrying cannot help.
    /// `unit` is a uniform random number in [0, 1) (from the caller, so this stays pure and
    /// testable): the delay is drawn from [d/2, d) where d doubles per failure up to the cap.
    pub fn next_delay_ms(&mut self, error: &SyncError, unit: f64) -> Option<u64> {
        if !error.is_retryable() {
            return None;
        }
        let exp = self
            .base_ms
            .saturating_mul(1u64 << self.attempt.min(30))
            .min(self.cap_ms);
        self.attempt = self.attempt.saturating_add(1);
        let jittered = (exp as f64 * (0.5 + 0.5 * unit.clamp(0.0, 1.0))) as u64;
        let server = match error {
            SyncError::RateLimited { retry_after_s } => retry_after_s.saturating_mul(1000),
            _ => 0,
        };
        Some(jittered.max(server).max(1))
    }
}
