//! Secret key types. None of them implements `Clone`, `Serialize` or a revealing `Debug`;
//! all are zeroized on drop. Bytes leave these types only through the narrow, named
//! functions below, each of which says why it exists.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::random;
use crate::error::CryptoError;

/// Key length for every symmetric key in the hierarchy (AES-256).
pub const KEY_LEN: usize = 32;

/// HKDF `info` label for the key-encryption key (KEK) derived from the master key.
pub const LABEL_KEK: &[u8] = b"selfos/v1/key-encryption-key";
/// HKDF `info` label for the sync-server authentication secret derived from the master key.
pub const LABEL_AUTH: &[u8] = b"selfos/v1/server-auth";

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; KEY_LEN]);

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl $name {
            #[allow(dead_code)] // not every key type is used raw outside this crate's tests
            pub(crate) fn expose(&self) -> &[u8; KEY_LEN] {
                &self.0
            }
        }
    };
}

secret_key!(
    /// PBKDF2 output. Exists only while unlocking; the KEK and the auth secret come from it.
    MasterKey
);
secret_key!(
    /// Wraps (encrypts) the vault key. Derived from the master key by HKDF with [`LABEL_KEK`].
    KeyEncryptionKey
);
secret_key!(
    /// The random 256-bit key that every record's content key is derived from.
    VaultKey
);
secret_key!(
    /// Proves knowledge of the passphrase to the sync server. Derived by HKDF with
    /// [`LABEL_AUTH`], a different label from the KEK: HKDF outputs under distinct labels are
    /// independent, so the server learns nothing that decrypts data.
    AuthSecret
);

impl MasterKey {
    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        MasterKey(bytes)
    }

    fn expand(&self, label: &[u8]) -> [u8; KEY_LEN] {
        // Extract with an all-zero salt (RFC 5869 §2.2 default), then expand under `label`.
        let hk = Hkdf::<Sha256>::new(None, &self.0);
        let mut out = [0u8; KEY_LEN];
        hk.expand(label, &mut out)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
    }

    /// The key-encryption key for wrapping the vault key.
    pub fn key_encryption_key(&self) -> KeyEncryptionKey {
        KeyEncryptionKey(self.expand(LABEL_KEK))
    }

    /// The secret that logs this user in to the sync server.
    pub fn auth_secret(&self) -> AuthSecret {
        AuthSecret(self.expand(LABEL_AUTH))
    }
}

impl VaultKey {
    /// A fresh random vault key, made once when a vault is created.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(VaultKey(random::bytes::<KEY_LEN>()?))
    }

    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        VaultKey(bytes)
    }

    /// The raw vault key, for the one holder that must keep it across a restart without the
    /// passphrase: the extension keeps the unlocked key in `chrome.storage.session` (memory
    /// only, wiped on lock and browser exit), so a service worker that the browser stopped
    /// comes back unlocked until auto-lock. Named to warn (as bitwarden-crypto does): these
    /// bytes decrypt every record. Never write them to disk, a log or the network; hold them
    /// in the returned `Zeroizing` so the copy is wiped when dropped.
    pub fn to_dangerous_bytes(&self) -> zeroize::Zeroizing<[u8; KEY_LEN]> {
        zeroize::Zeroizing::new(self.0)
    }

    /// The inverse of [`VaultKey::to_dangerous_bytes`]: rebuilds the key from the session
    /// holder's copy (then [`crate::Vault::resume`]). Nothing proves the bytes belong to the
    /// vault: a key from another vault opens nothing, every record reporting
    /// [`CryptoError::Tampered`].
    pub fn from_dangerous_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        Self::try_from_slice(bytes)
    }

    /// A vault key from 32 bytes (the unwrapped key, inside this crate).
    pub(crate) fn try_from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::Truncated {
            len: bytes.len(),
            min: KEY_LEN,
        })?;
        Ok(VaultKey(arr))
    }
}

impl AuthSecret {
    /// The credential sent to the sync server (base64url, no padding). The server stores only
    /// an Argon2id hash of it.
    pub fn to_credential(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Reads back [`AuthSecret::to_credential`]: a device that must log in again after its
    /// background restarted keeps the credential beside the session's vault key (in
    /// memory-only session storage, never on disk). `None` when `credential` is not one.
    pub fn from_credential(credential: &str) -> Option<Self> {
        use base64::Engine;
        let bytes = zeroize::Zeroizing::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(credential)
                .ok()?,
        );
        let key: [u8; KEY_LEN] = bytes.as_slice().try_into().ok()?;
        Some(AuthSecret(key))
    }
}
