//! The vault's cryptography: key hierarchy, key derivation, the envelope and the passphrase
//! policy.
//!
//! Read `README.md` beside this file for the key hierarchy, the purposes and the
//! nonce-safety argument; `docs/FORMAT.md` has the byte layouts. Everything public here is
//! misuse-resistant by type: keys cannot be printed, cloned by accident or serialized, an
//! envelope opens only with the associated data it was sealed for ([`RecordAad`], [`LegacyRecordAad`],
//! [`ContentKind`], [`WrapAad`]), and no public function takes a nonce or free-form
//! associated data. The raw primitives live behind the `hazmat` feature ([`hazmat`]), for
//! the interop tests and the benchmarks only.

pub mod envelope;
pub mod kdf;
pub mod keys;
pub mod passphrase;
pub mod random;
#[cfg(target_arch = "wasm32")]
mod webcrypto;

#[cfg(feature = "hazmat")]
pub mod hazmat;

pub use envelope::{
    ContentKind, Envelope, LegacyRecordAad, Purpose, RecordAad, RecordState, WrapAad,
};
pub use kdf::{KdfAlgorithm, KdfParams, Passphrase};
pub use keys::{AuthSecret, KeyEncryptionKey, MasterKey, VaultKey};
pub use passphrase::PassphraseTooWeak;

/// SHA-256 as lowercase hex (header checksums).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
