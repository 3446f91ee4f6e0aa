//! The vault's cryptography: key hierarchy, key derivation and the record envelope.
//!
//! Read `README.md` beside this file for the key hierarchy and the nonce-safety argument;
//! `docs/FORMAT.md` has the byte layouts. Everything here is misuse-resistant by type:
//! keys cannot be printed, cloned by accident or serialized, and an envelope opens only
//! with the [`Aad`] it was sealed for.

pub mod envelope;
pub mod kdf;
pub mod keys;
pub mod random;
#[cfg(target_arch = "wasm32")]
pub mod webcrypto;

pub use envelope::{Envelope, Purpose, RecordAad, WrapAad};
pub use kdf::{KdfAlgorithm, KdfParams, Passphrase};
pub use keys::{AuthSecret, KeyEncryptionKey, MasterKey, VaultKey};

/// SHA-256 as lowercase hex (header checksums).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
