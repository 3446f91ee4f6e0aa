//! Passphrase -> master key, by PBKDF2-HMAC-SHA256.
//!
//! Parameters travel with the vault (header, backup, and later the sync server's pre-login
//! answer), so they are untrusted input: [`KdfParams::check`] refuses anything under the
//! floor, which keeps a hostile server or a corrupted header from downgrading the cost.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::keys::{MasterKey, KEY_LEN};
use crate::crypto::passphrase::{self, PassphraseTooWeak};
use crate::crypto::random;
use crate::error::CryptoError;

/// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256, and our default.
pub const DEFAULT_ITERATIONS: u32 = 600_000;
/// The floor: parameters below it are refused, never silently accepted. Equal to the default,
/// so the cost can only be raised (Settings offers higher values), never lowered.
pub const MIN_ITERATIONS: u32 = 600_000;
/// The ceiling: a header asking for more would hang the device (a denial of service).
pub const MAX_ITERATIONS: u32 = 20_000_000;
/// Salt length for new vaults; the floor for salts read back.
pub const SALT_LEN: usize = 16;
/// Longest salt accepted from a header.
pub const MAX_SALT_LEN: usize = 64;

/// A user's passphrase, zeroized on drop; its `Debug` never prints it. Keys come from its
/// Unicode NFC form (docs/FORMAT.md §1), so the same characters typed composed on one
/// system and decomposed on another open the same vault.
/// A vault sealed before that rule under a passphrase that is not in NFC still opens: its
/// typed form is kept for that one fallback ([`Passphrase::as_typed`]).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Passphrase {
    /// The NFC form: what every key is derived from.
    nfc: String,
    /// The form as typed, only when it differs from `nfc`.
    typed: Option<String>,
}

impl Passphrase {
    pub fn new(s: impl Into<String>) -> Self {
        let typed: String = s.into();
        let nfc = nfc(&typed);
        if nfc == typed {
            Passphrase { nfc, typed: None }
        } else {
            Passphrase {
                nfc,
                typed: Some(typed),
            }
        }
    }

    /// Exactly `s`, not normalized: what builds before the NFC rule derived from. For the
    /// fallback and for tests that make such a vault.
    pub(crate) fn unnormalized(s: &str) -> Self {
        Passphrase {
            nfc: s.to_owned(),
            typed: None,
        }
    }

    /// The bytes keys are derived from: the NFC form in UTF-8.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.nfc.as_bytes()
    }

    /// The passphrase exactly as typed, when that differs from its NFC form: what a vault
    /// sealed before the NFC rule derived from. Callers try it only after the NFC form
    /// failed (a wrong passphrase or a refused login), so a passphrase in NFC, and every
    /// ASCII one, costs one derivation as before.
    pub(crate) fn as_typed(&self) -> Option<Passphrase> {
        self.typed.as_deref().map(Passphrase::unnormalized)
    }

    /// Checks this passphrase against the policy for a *new* passphrase
    /// ([`crate::crypto::passphrase::check`]); unlocking never calls it.
    pub fn check_policy(&self) -> Result<(), PassphraseTooWeak> {
        passphrase::check(&self.nfc)
    }
}

/// Unicode NFC. In a browser, JavaScript's own `String.prototype.normalize` (no tables in the
/// wasm); elsewhere the `unicode-normalization` crate. ASCII is already in NFC.
fn nfc(s: &str) -> String {
    if s.is_ascii() {
        return s.to_owned();
    }
    #[cfg(target_arch = "wasm32")]
    {
        String::from(js_sys::JsString::from(s).normalize("NFC"))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        unicode_normalization::UnicodeNormalization::nfc(s).collect()
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase([redacted])")
    }
}

/// Which password-based KDF a vault uses. One today; the tag makes a future one possible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KdfAlgorithm {
    #[serde(rename = "pbkdf2-sha256")]
    Pbkdf2Sha256,
}

impl KdfAlgorithm {
    /// One-byte id bound into the vault-key wrap's associated data (see FORMAT.md).
    pub fn id(self) -> u8 {
        match self {
            KdfAlgorithm::Pbkdf2Sha256 => 1,
        }
    }
}

/// Key-derivation parameters, stored with the vault.
///
/// The fields are private so that parameters, once checked, cannot be altered on the way to
/// a derivation; read them through the accessors. The serialized form (header, backup,
/// pre-login answer) is `{"algorithm": "pbkdf2-sha256", "iterations": n, "salt": "<base64>"}`
/// (docs/FORMAT.md §3). Deserialized parameters are untrusted until [`KdfParams::check`]:
/// every derivation and [`crate::VaultHeader::decode`] call it first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub(crate) algorithm: KdfAlgorithm,
    pub(crate) iterations: u32,
    #[serde(with = "crate::codec::b64")]
    pub(crate) salt: Vec<u8>,
}

impl KdfParams {
    /// Parameters from their parts (e.g. read back from elsewhere), checked against the floor
    /// and the ceiling.
    pub fn new(
        algorithm: KdfAlgorithm,
        iterations: u32,
        salt: Vec<u8>,
    ) -> Result<Self, CryptoError> {
        let params = KdfParams {
            algorithm,
            iterations,
            salt,
        };
        params.check()?;
        Ok(params)
    }

    pub fn algorithm(&self) -> KdfAlgorithm {
        self.algorithm
    }

    /// The PBKDF2 iteration count (the cost of each unlock, and of each guess).
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// The per-vault salt (public: it travels with the header).
    pub fn salt(&self) -> &[u8] {
        &self.salt
    }

    /// Fresh parameters for a new vault or a passphrase change: default cost, random salt.
    pub fn generate() -> Result<Self, CryptoError> {
        Self::generate_with_iterations(DEFAULT_ITERATIONS)
    }

    /// Fresh parameters at a chosen cost (must be within the floor and ceiling).
    pub fn generate_with_iterations(iterations: u32) -> Result<Self, CryptoError> {
        Self::new(
            KdfAlgorithm::Pbkdf2Sha256,
            iterations,
            random::bytes::<SALT_LEN>()?.to_vec(),
        )
    }

    /// Refuses parameters that would weaken the vault or hang the device.
    pub fn check(&self) -> Result<(), CryptoError> {
        if self.iterations < MIN_ITERATIONS {
            return Err(CryptoError::WeakKdf(format!(
                "{} PBKDF2 iterations is below the minimum of {MIN_ITERATIONS}; this vault header or server answer may have been tampered with",
                self.iterations
            )));
        }
        if self.iterations > MAX_ITERATIONS {
            return Err(CryptoError::WeakKdf(format!(
                "{} PBKDF2 iterations is above the maximum of {MAX_ITERATIONS}",
                self.iterations
            )));
        }
        if self.salt.len() < SALT_LEN || self.salt.len() > MAX_SALT_LEN {
            return Err(CryptoError::WeakKdf(format!(
                "salt of {} bytes; {SALT_LEN} to {MAX_SALT_LEN} are accepted",
                self.salt.len()
            )));
        }
        Ok(())
    }
}

/// The pure-Rust derivation: used natively, and in the browser when WebCrypto is missing.
/// Checks the parameters first. Crate-private: [`derive_master_key`] picks the path; the
/// browser tests and benchmarks reach this one through `crypto::hazmat`, to compare the two.
pub(crate) fn derive_master_key_rust(
    passphrase: &Passphrase,
    params: &KdfParams,
) -> Result<MasterKey, CryptoError> {
    params.check()?;
    Ok(MasterKey::from_bytes(pbkdf2_sha256(
        passphrase.as_bytes(),
        &params.salt,
        params.iterations,
    )))
}

/// Raw PBKDF2-HMAC-SHA256 with a 32-byte output, unchecked (any cost, any salt).
/// Crate-private: the checked path is [`derive_master_key`]; tests and benchmarks reach this
/// through `crypto::hazmat`.
pub(crate) fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; KEY_LEN] {
    let mut out = [0u8; KEY_LEN];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out);
    out
}

/// Derives the master key the fastest way this platform offers: WebCrypto `deriveBits` in a
/// browser (about 7x faster than PBKDF2 compiled to wasm), the pure-Rust path elsewhere or
/// when WebCrypto is unavailable. Both produce the same bytes (tested in a real browser).
pub async fn derive_master_key(
    passphrase: &Passphrase,
    params: &KdfParams,
) -> Result<MasterKey, CryptoError> {
    params.check()?;
    #[cfg(target_arch = "wasm32")]
    {
        if crate::crypto::webcrypto::available() {
            let bytes = crate::crypto::webcrypto::pbkdf2_sha256(
                passphrase.as_bytes(),
                &params.salt,
                params.iterations,
            )
            .await?;
            return Ok(MasterKey::from_bytes(bytes));
        }
    }
    derive_master_key_rust(passphrase, params)
}
