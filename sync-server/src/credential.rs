//! Account credentials: Argon2id hashing and checking, the one place that runs it.
//!
//! Two properties live here:
//! - **No enumeration by timing.** A login for a name that has no account is checked against
//!   [`dummy_hash`], a hash of the same cost as real ones, so "no such user" and "wrong
//!   credential" take the same time (both answer 401 `bad_credentials`).
//! - **Bounded memory and CPU.** Each Argon2id run holds ~19 MiB for tens of milliseconds. At
//!   most one run per core goes at once ([`KdfGate`]); a bounded number wait for a turn, and
//!   the rest are answered at once with 429 and `Retry-After` instead of queueing without
//!   limit (a crowd of logins would otherwise grow memory and latency together).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

/// Seconds a client turned away by a full [`KdfGate`] is asked to wait.
pub const BUSY_RETRY_S: u64 = 1;

/// At most `parallel` Argon2id runs at once, at most `queue` more waiting for a turn.
pub struct KdfGate {
    permits: std::sync::Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
}

impl KdfGate {
    pub fn new(parallel: usize, queue: usize) -> Self {
        KdfGate {
            permits: std::sync::Arc::new(Semaphore::new(parallel.max(1))),
            waiting: AtomicUsize::new(0),
            queue,
        }
    }

    /// One run per core, and four times that many waiting.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores, cores * 4)
    }

    /// Free slots now (for tests and metrics).
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// Runs `f` on a blocking thread once a permit is free; [`ApiError::Busy`] at once when
    /// the queue is full. The permit travels into the blocking closure, so a request that
    /// goes away mid-run does not free its slot before the computation ends.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> ApiResult<T> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                struct Waiting<'a>(&'a AtomicUsize);
                impl Drop for Waiting<'_> {
                    fn drop(&mut self) {
                        self.0.fetch_sub(1, Ordering::Relaxed);
                    }
                }
                if self.waiting.fetch_add(1, Ordering::Relaxed) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::Relaxed);
                    return Err(ApiError::Busy(BUSY_RETRY_S));
                }
                let _waiting = Waiting(&self.waiting);
                self.permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|e| ApiError::Internal(format!("kdf gate: {e}")))?
            }
        };
        tokio::task::spawn_blocking(move || {
            let out = f();
            drop(permit);
            out
        })
        .await
        .map_err(|e| ApiError::Internal(format!("credential task: {e}")))
    }

    /// Argon2id hash (PHC string) of a credential, with a fresh salt.
    pub async fn hash(&self, credential: String) -> ApiResult<String> {
        self.run(move || hash_now(&credential)).await?
    }

    /// Whether `credential` matches `hash`; with `None` (no such account), checks against
    /// [`dummy_hash`] and answers false, taking the same time as a real check.
    pub async fn verify(&self, hash: Option<String>, credential: String) -> ApiResult<bool> {
        self.run(move || {
            let real = hash.is_some();
            let hash = match &hash {
                Some(h) => h.as_str(),
                None => dummy_hash(),
            };
            let ok = PasswordHash::new(hash).is_ok_and(|h| {
                Argon2::default()
                    .verify_password(credential.as_bytes(), &h)
                    .is_ok()
            });
            real && ok
        })
        .await
    }
}

fn hash_now(credential: &str) -> ApiResult<String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| ApiError::Internal(format!("rng: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(credential.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("argon2: {e}")))
}

/// A hash with the same Argon2id parameters as every stored one, of a secret nobody knows
/// (made once per process from fresh random bytes).
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 32];
        let _ = getrandom::getrandom(&mut secret);
        // Without an RNG, a fixed salt: still a hash of the right cost, and the caller answers
        // false for an unknown account whatever it matches.
        hash_now(&hex::encode(secret)).unwrap_or_else(|_| {
            SaltString::from_b64("c2VsZm9zZHVtbXlzYWx0")
                .ok()
                .and_then(|salt| {
                    Argon2::default()
                        .hash_password(&secret, &salt)
                        .ok()
                        .map(|h| h.to_string())
                })
                .unwrap_or_default()
        })
    })
}
