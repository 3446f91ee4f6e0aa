//! Raw primitives: **not** part of the vault's API. Compiled only with the `hazmat` feature,
//! which the browser interop tests and the benchmarks enable (`browser-bench` implies it);
//! no front end does, and nothing here may be called on a path that handles user data.
//!
//! Why they exist: the interop tests prove that an independent implementation (WebCrypto)
//! following docs/FORMAT.md opens what the Rust code seals and the reverse, and that the two
//! key-derivation paths agree; for that they must build a content key and run AES-GCM with a
//! chosen nonce and associated data. The benchmarks time the bare primitives against the
//! vault's own paths. Everything a front end needs goes through the typed API instead:
//! `envelope::{seal_record, open_record, seal_content, open_content}` (randomness drawn
//! inside, associated data built from typed identities) and `kdf::derive_master_key`
//! (parameters checked first).
//!
//! Why each is dangerous: a caller-chosen nonce can repeat under one key, which breaks
//! AES-GCM's confidentiality and authenticity; free-form associated data lets a ciphertext
//! be opened out of its context (another record, another purpose); unchecked PBKDF2
//! parameters let a hostile header or server lower the cost of guessing the passphrase.

use crate::crypto::envelope::{Envelope, LegacyRecordAad};
use crate::crypto::kdf::{KdfParams, Passphrase};
use crate::crypto::keys::VaultKey;
use crate::crypto::keys::{MasterKey, KEY_LEN};
use crate::error::CryptoError;

#[cfg(target_arch = "wasm32")]
pub use crate::crypto::webcrypto::{
    aes_gcm_decrypt as webcrypto_aes_gcm_decrypt, aes_gcm_encrypt as webcrypto_aes_gcm_encrypt,
    available as webcrypto_available, hkdf_sha256 as webcrypto_hkdf_sha256,
    pbkdf2_sha256 as webcrypto_pbkdf2_sha256,
};

/// PBKDF2-HMAC-SHA256 in Rust, 32-byte output, with no check of the cost or the salt.
pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; KEY_LEN] {
    crate::crypto::kdf::pbkdf2_sha256(password, salt, iterations)
}

/// The pure-Rust master-key derivation, forced even where WebCrypto is available (the
/// browser tests compare it with the WebCrypto path). Checks the parameters.
pub fn derive_master_key_rust(
    passphrase: &Passphrase,
    params: &KdfParams,
) -> Result<MasterKey, CryptoError> {
    crate::crypto::kdf::derive_master_key_rust(passphrase, params)
}

/// Seals a record in format 1 (what builds before format 2 wrote: the clock and the
/// live/deleted state are not authenticated). For tests that must produce such bytes, to
/// prove they still open and migrate; the vault itself only seals format 2.
pub fn seal_legacy_record(
    key: &VaultKey,
    aad: &LegacyRecordAad,
    plaintext: &[u8],
) -> Result<Envelope, CryptoError> {
    crate::crypto::envelope::seal_legacy_record(key, aad, plaintext)
}

/// A passphrase keyed exactly as typed, not in NFC: what builds before the NFC rule
/// (docs/FORMAT.md §1) derived from. For tests that make such a vault or account, to prove
/// it still opens and logs in.
pub fn unnormalized_passphrase(s: &str) -> Passphrase {
    Passphrase::unnormalized(s)
}
