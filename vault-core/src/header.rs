//! The vault header: everything needed to turn a passphrase into the vault key. Stored with
//! the vault, carried in backups, and (with sync) served to a new device before login.
//! It holds no secret in the clear: the vault key inside is wrapped.

use serde::{Deserialize, Serialize};

use crate::crypto::envelope::{self, Envelope, PreviousKeyAad, WrapAad};
use crate::crypto::kdf::{self, KdfParams, Passphrase};
use crate::crypto::keys::{AuthSecret, MasterKey, VaultKey};
use crate::error::{CryptoError, VaultError};

pub const HEADER_FORMAT: &str = "selfos-vault";
pub const HEADER_VERSION: u32 = 1;
/// How many replaced vault keys a header keeps ([`VaultHeader::rotated`]). A rotation
/// re-seals every entry, so only entries another device wrote before it learned of a
/// rotation need an older key; keys older than this many rotations are dropped (and so is
/// what only they open). 16 keep the header well under the server's 8 KiB.
pub const MAX_PREVIOUS_KEYS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct HeaderBody {
    format: String,
    version: u32,
    #[serde(with = "hex_16")]
    vault_id: [u8; 16],
    kdf: KdfParams,
    #[serde(with = "crate::codec::b64")]
    wrapped_vault_key: Vec<u8>,
    /// Vault keys replaced by key rotations, newest first, each a version-1 envelope under
    /// the current vault key (base64; docs/FORMAT.md §3). Absent until the first rotation,
    /// so headers written before rotation existed are unchanged, checksum included.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "crate::codec::b64_list"
    )]
    previous_keys: Vec<Vec<u8>>,
}

#[derive(Serialize, Deserialize)]
struct HeaderFile {
    #[serde(flatten)]
    body: HeaderBody,
    /// SHA-256 of the body's JSON: tells accidental corruption apart from a wrong passphrase.
    checksum: String,
}

/// A parsed, checked vault header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultHeader {
    body: HeaderBody,
}

/// What unlocking yields: the vault key, and the secret for the sync server.
pub struct Unlocked {
    pub vault_key: VaultKey,
    pub auth_secret: AuthSecret,
}

impl VaultHeader {
    /// Seals a new vault key (or an existing one, on a passphrase change) under `passphrase`,
    /// which must meet the policy for a new passphrase ([`crate::crypto::passphrase`]): this
    /// is the one place both vault creation and passphrase change pass through. Unlocking
    /// does not check it, so vaults made under an older, shorter minimum still open.
    pub async fn seal(
        vault_id: [u8; 16],
        vault_key: &VaultKey,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<(Self, AuthSecret), VaultError> {
        passphrase.check_policy()?;
        Self::seal_any_passphrase(vault_id, vault_key, passphrase, params).await
    }

    /// [`VaultHeader::seal`] without the passphrase policy: what older builds (with a
    /// shorter minimum) wrote. Tests use it to make such a vault.
    async fn seal_any_passphrase(
        vault_id: [u8; 16],
        vault_key: &VaultKey,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<(Self, AuthSecret), VaultError> {
        let master = kdf::derive_master_key(passphrase, &params).await?;
        let aad = WrapAad::new(&vault_id, &params);
        let wrapped = envelope::wrap_vault_key(&master.key_encryption_key(), &aad, vault_key)?;
        let body = HeaderBody {
            format: HEADER_FORMAT.into(),
            version: HEADER_VERSION,
            vault_id,
            kdf: params,
            wrapped_vault_key: wrapped.into_bytes(),
            previous_keys: Vec::new(),
        };
        Ok((VaultHeader { body }, master.auth_secret()))
    }

    /// This header's vault key wrapped anew under `passphrase` (a passphrase change): a
    /// fresh salt and the given cost, the same vault key, and the replaced keys kept (they
    /// are under the vault key, which does not change). `vault_key` must be this header's.
    pub async fn rewrapped(
        &self,
        vault_key: &VaultKey,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<(Self, AuthSecret), VaultError> {
        let (mut header, auth) =
            Self::seal(self.body.vault_id, vault_key, passphrase, params).await?;
        header.body.previous_keys = self.body.previous_keys.clone();
        Ok((header, auth))
    }

    /// The header of a key rotation: `new_key` wrapped under `passphrase` (fresh salt, the
    /// given cost: a new server secret too), keeping `current` (this header's key, which
    /// it replaces) and the keys this header kept, newest first, at most
    /// [`MAX_PREVIOUS_KEYS`].
    pub async fn rotated(
        &self,
        current: &VaultKey,
        new_key: &VaultKey,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<(Self, AuthSecret), VaultError> {
        let kept = self.previous_keys(current)?;
        let (mut header, auth) =
            Self::seal(self.body.vault_id, new_key, passphrase, params).await?;
        let aad = PreviousKeyAad::new(&self.body.vault_id);
        header.body.previous_keys = std::iter::once(current)
            .chain(kept.iter())
            .take(MAX_PREVIOUS_KEYS)
            .map(|k| envelope::wrap_previous_key(new_key, &aad, k).map(Envelope::into_bytes))
            .collect::<Result<_, _>>()?;
        Ok((header, auth))
    }

    /// The vault keys this header keeps from earlier rotations, newest first, opened with
    /// its current vault key. One that does not open is [`VaultError::CorruptHeader`].
    pub fn previous_keys(&self, current: &VaultKey) -> Result<Vec<VaultKey>, VaultError> {
        let aad = PreviousKeyAad::new(&self.body.vault_id);
        let corrupt = |why: String| {
            VaultError::CorruptHeader(format!(
                "a previous vault key it keeps {why}: restore the header from a backup"
            ))
        };
        self.body
            .previous_keys
            .iter()
            .map(|bytes| {
                let env = Envelope::parse(bytes.clone()).map_err(|e| corrupt(e.to_string()))?;
                envelope::unwrap_previous_key(current, &aad, &env)
                    .map_err(|_| corrupt("does not open under the vault key".into()))
            })
            .collect()
    }

    /// How many replaced vault keys this header keeps (how often the key was rotated, up
    /// to [`MAX_PREVIOUS_KEYS`]).
    pub fn rotations(&self) -> usize {
        self.body.previous_keys.len()
    }

    /// Derives the keys from `passphrase`. A wrong passphrase is
    /// [`CryptoError::WrongPassphrase`]; parameters under the floor are refused before any work.
    /// The NFC form first; a passphrase typed in another form then tries that form too (a
    /// vault sealed before the NFC rule, docs/FORMAT.md §1).
    pub async fn unlock(&self, passphrase: &Passphrase) -> Result<Unlocked, VaultError> {
        let master = kdf::derive_master_key(passphrase, &self.body.kdf).await?;
        match (self.unlock_with(&master), passphrase.as_typed()) {
            (Err(VaultError::Crypto(CryptoError::WrongPassphrase)), Some(typed)) => {
                let master = kdf::derive_master_key(&typed, &self.body.kdf).await?;
                self.unlock_with(&master)
            }
            (result, _) => result,
        }
    }

    /// [`VaultHeader::unlock`] with a master key already derived under this header's own
    /// KDF parameters (a caller that derived it for the login, with parameters equal to
    /// [`VaultHeader::kdf`], saves a second derivation). A key derived any other way fails
    /// here as a wrong passphrase does: the wrapping authenticates it.
    pub fn unlock_with(&self, master: &MasterKey) -> Result<Unlocked, VaultError> {
        let params = &self.body.kdf;
        let aad = WrapAad::new(&self.body.vault_id, params);
        let wrapped = Envelope::parse(self.body.wrapped_vault_key.clone())
            .map_err(|e| VaultError::CorruptHeader(e.to_string()))?;
        let vault_key = envelope::unwrap_vault_key(&master.key_encryption_key(), &aad, &wrapped)?;
        Ok(Unlocked {
            vault_key,
            auth_secret: master.auth_secret(),
        })
    }

    /// The wrapped vault key as stored: a version-1 envelope of
    /// [`envelope::WRAPPED_KEY_LEN`] bytes when vault-core wrote it.
    pub fn wrapped_vault_key(&self) -> &[u8] {
        &self.body.wrapped_vault_key
    }

    pub fn vault_id(&self) -> &[u8; 16] {
        &self.body.vault_id
    }

    pub fn kdf(&self) -> &KdfParams {
        &self.body.kdf
    }

    pub fn encode(&self) -> Vec<u8> {
        let file = HeaderFile {
            checksum: checksum(&self.body),
            body: self.body.clone(),
        };
        serde_json::to_vec(&file).expect("header always serializes")
    }

    /// Parses and checks a header: format, version, checksum and the KDF floor.
    pub fn decode(bytes: &[u8]) -> Result<Self, VaultError> {
        let file: HeaderFile =
            serde_json::from_slice(bytes).map_err(|e| VaultError::CorruptHeader(e.to_string()))?;
        Self::from_file(file)
    }

    fn from_file(file: HeaderFile) -> Result<Self, VaultError> {
        let body = file.body;
        if body.format != HEADER_FORMAT {
            return Err(VaultError::CorruptHeader(format!(
                "format is `{}`",
                body.format
            )));
        }
        if body.version != HEADER_VERSION {
            return Err(VaultError::CorruptHeader(format!(
                "header version {} is not supported (this build reads {HEADER_VERSION})",
                body.version
            )));
        }
        if checksum(&body) != file.checksum {
            return Err(VaultError::CorruptHeader("checksum mismatch".into()));
        }
        body.kdf.check().map_err(VaultError::Crypto)?;
        if body.previous_keys.len() > MAX_PREVIOUS_KEYS {
            return Err(VaultError::CorruptHeader(format!(
                "it keeps {} previous vault keys; at most {MAX_PREVIOUS_KEYS} are kept",
                body.previous_keys.len()
            )));
        }
        Ok(VaultHeader { body })
    }

    /// The header as a JSON value (embedded in backups).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.encode()).expect("header is JSON")
    }

    pub fn from_json(value: serde_json::Value) -> Result<Self, VaultError> {
        let file: HeaderFile =
            serde_json::from_value(value).map_err(|e| VaultError::CorruptHeader(e.to_string()))?;
        Self::from_file(file)
    }
}

fn checksum(body: &HeaderBody) -> String {
    // Canonical form: the body as a JSON object with keys sorted and no whitespace (what
    // serde_json's `Value` writes), so any implementation can recompute it.
    let value = serde_json::to_value(body).expect("header body always serializes");
    crate::crypto::sha256_hex(&serde_json::to_vec(&value).expect("JSON value serializes"))
}

mod hex_16 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 16], D::Error> {
        let s = String::deserialize(d)?;
        let mut out = [0u8; 16];
        hex::decode_to_slice(&s, &mut out).map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::passphrase::PassphraseTooWeak;
    use crate::store::{block_on, MemoryStore, META_HEADER};
    use crate::Vault;

    /// The sign-in derives the master key once and opens the header with it; a key derived
    /// under other parameters (a server that answered prelogin with a different salt) opens
    /// nothing, exactly like a wrong passphrase.
    #[test]
    fn a_key_derived_once_opens_the_header_and_only_under_its_parameters() {
        let pass = Passphrase::new("correct horse battery staple");
        let key = VaultKey::generate().unwrap();
        let params = KdfParams::generate().unwrap();
        let (header, auth) =
            block_on(VaultHeader::seal([3; 16], &key, &pass, params.clone())).unwrap();
        let master = block_on(kdf::derive_master_key(&pass, &params)).unwrap();
        let opened = header.unlock_with(&master).unwrap();
        assert_eq!(opened.auth_secret.to_credential(), auth.to_credential());
        let other = KdfParams::generate().unwrap();
        let elsewhere = block_on(kdf::derive_master_key(&pass, &other)).unwrap();
        assert!(matches!(
            header.unlock_with(&elsewhere),
            Err(VaultError::Crypto(crate::CryptoError::WrongPassphrase))
        ));
    }

    /// Keys come from the NFC form: typed composed or decomposed, one passphrase. A vault
    /// sealed before that rule under a decomposed passphrase still opens with it typed so.
    #[test]
    fn a_passphrase_opens_in_either_unicode_form() {
        let composed = "cr\u{e8}me br\u{fb}l\u{e9}e forever";
        let decomposed = "cre\u{300}me bru\u{302}le\u{301}e forever";
        assert_ne!(composed, decomposed);
        let key = VaultKey::generate().unwrap();
        let (header, auth) = block_on(VaultHeader::seal(
            [5; 16],
            &key,
            &Passphrase::new(decomposed),
            KdfParams::generate().unwrap(),
        ))
        .unwrap();
        for typed in [composed, decomposed] {
            let opened = block_on(header.unlock(&Passphrase::new(typed))).unwrap();
            assert_eq!(opened.auth_secret.to_credential(), auth.to_credential());
            assert_eq!(opened.vault_key.expose(), key.expose());
        }
        let wrong = block_on(header.unlock(&Passphrase::new("creme brulee forever")));
        assert!(matches!(
            wrong,
            Err(VaultError::Crypto(CryptoError::WrongPassphrase))
        ));
        // Sealed under the typed bytes, as builds before the rule did.
        let (old, _) = block_on(VaultHeader::seal_any_passphrase(
            [6; 16],
            &key,
            &Passphrase::unnormalized(decomposed),
            KdfParams::generate().unwrap(),
        ))
        .unwrap();
        assert!(block_on(old.unlock(&Passphrase::new(decomposed))).is_ok());
        // The documented limit: such a vault does not open with the composed form.
        assert!(matches!(
            block_on(old.unlock(&Passphrase::new(composed))),
            Err(VaultError::Crypto(CryptoError::WrongPassphrase))
        ));
    }

    /// A rotation keeps the key it replaces first, then the ones already kept, at most
    /// [`MAX_PREVIOUS_KEYS`]: the oldest is dropped. A header keeping more is refused.
    #[test]
    fn a_rotation_keeps_at_most_sixteen_replaced_keys_newest_first() {
        let pass = Passphrase::new("correct horse battery staple");
        let current = VaultKey::generate().unwrap();
        let (mut header, _) = block_on(VaultHeader::seal(
            [8; 16],
            &current,
            &pass,
            KdfParams::generate().unwrap(),
        ))
        .unwrap();
        let aad = PreviousKeyAad::new(&[8; 16]);
        let older: Vec<VaultKey> = (0..MAX_PREVIOUS_KEYS)
            .map(|_| VaultKey::generate().unwrap())
            .collect();
        header.body.previous_keys = older
            .iter()
            .map(|k| {
                envelope::wrap_previous_key(&current, &aad, k)
                    .unwrap()
                    .into_bytes()
            })
            .collect();
        let next = VaultKey::generate().unwrap();
        let (rotated, _) =
            block_on(header.rotated(&current, &next, &pass, KdfParams::generate().unwrap()))
                .unwrap();
        let kept = rotated.previous_keys(&next).unwrap();
        assert_eq!(kept.len(), MAX_PREVIOUS_KEYS);
        assert_eq!(kept[0].expose(), current.expose(), "the replaced key first");
        for (k, o) in kept[1..].iter().zip(&older) {
            assert_eq!(k.expose(), o.expose());
        }
        assert!(kept
            .iter()
            .all(|k| k.expose() != older[MAX_PREVIOUS_KEYS - 1].expose()));
        // Under another key the kept keys do not open: the header is corrupt, not silently short.
        assert!(matches!(
            rotated.previous_keys(&current),
            Err(VaultError::CorruptHeader(_))
        ));
        // More than the bound is refused when read.
        let mut json = rotated.to_json();
        let first = json["previous_keys"][0].clone();
        json["previous_keys"].as_array_mut().unwrap().push(first);
        let body: HeaderBody = serde_json::from_value(json.clone()).unwrap();
        json["checksum"] = checksum(&body).into();
        assert!(matches!(
            VaultHeader::from_json(json),
            Err(VaultError::CorruptHeader(m)) if m.contains("at most 16")
        ));
    }

    /// A vault made when the minimum was 8 characters: the policy applies to choosing a
    /// passphrase, never to unlocking, so it still opens; a passphrase change must pick a
    /// passphrase that meets today's policy, and putting the old header back (the rollback
    /// when the server refuses a change) is not blocked by it.
    #[test]
    fn a_vault_with_an_old_short_passphrase_still_unlocks() {
        let old = Passphrase::new("8 chars!");
        assert_eq!(old.check_policy(), Err(PassphraseTooWeak));
        let key = VaultKey::generate().unwrap();
        let (header, auth) = block_on(VaultHeader::seal_any_passphrase(
            [7; 16],
            &key,
            &old,
            KdfParams::generate().unwrap(),
        ))
        .unwrap();
        let store = MemoryStore::new();
        store.put_raw_meta(META_HEADER, header.encode());

        let (mut vault, auth2) = block_on(Vault::unlock(store.clone(), &old)).unwrap();
        assert_eq!(auth.to_credential(), auth2.to_credential());
        // Changing to another short passphrase is refused, and changes nothing.
        let err = block_on(vault.change_passphrase(
            &Passphrase::new("9 chars!!"),
            KdfParams::generate().unwrap(),
        ))
        .err();
        assert_eq!(err, Some(VaultError::WeakPassphrase(PassphraseTooWeak)));
        assert!(block_on(Vault::unlock(store.clone(), &old)).is_ok());
        // A long one is accepted; putting the old header back restores the old passphrase
        // and the very auth secret the server knows.
        let previous = vault.header().clone();
        block_on(vault.change_passphrase(
            &Passphrase::new("now a longer passphrase"),
            KdfParams::generate().unwrap(),
        ))
        .unwrap();
        assert!(block_on(Vault::unlock(store.clone(), &old)).is_err());
        block_on(vault.restore_header(previous)).unwrap();
        let (_, auth3) = block_on(Vault::unlock(store, &old)).unwrap();
        assert_eq!(auth.to_credential(), auth3.to_credential());
    }

    #[test]
    fn sealing_a_new_short_passphrase_is_refused_before_any_derivation() {
        let key = VaultKey::generate().unwrap();
        // Parameters below the floor would fail the derivation: the policy answers first.
        let weak: KdfParams = serde_json::from_value(serde_json::json!({
            "algorithm": "pbkdf2-sha256", "iterations": 1, "salt": "AAAAAAAAAAAAAAAAAAAAAA=="
        }))
        .unwrap();
        let err = block_on(VaultHeader::seal(
            [7; 16],
            &key,
            &Passphrase::new("short"),
            weak,
        ))
        .err();
        assert_eq!(err, Some(VaultError::WeakPassphrase(PassphraseTooWeak)));
    }
}
