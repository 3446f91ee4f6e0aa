//! The envelope: one byte layout for every ciphertext in the vault.
//!
//! ```text
//! offset  len  field
//! 0       1    format version: 0x02 for records and tombstones, 0x01 for everything else
//!              (and for records written before format 2, which still open)
//! 1       32   key salt   (random per seal)
//! 33      12   nonce      (random per seal, 96 bits)
//! 45      n+16 AES-256-GCM ciphertext || 128-bit tag (as WebCrypto's encrypt returns it)
//! ```
//!
//! The AES key is never the root key itself: every seal derives a one-time content key
//! `HKDF-SHA256(ikm = root key, salt = key salt, info = purpose label)`. A key therefore
//! encrypts exactly one message, and the usual bound for random 96-bit nonces under one key
//! (2^32 seals, NIST SP 800-38D §8.3) does not apply; the remaining risk is two seals drawing
//! the same 256-bit key salt, about 2^-129 after 2^64 seals. See README.md beside this file.
//!
//! Associated data binds the purpose label, the format version and the context (for a
//! record: namespace, id, version, the hybrid-logical-clock timestamp the change claims and
//! whether it is a live record or a tombstone; the content kind for other data sealed under
//! the vault key; vault id and KDF parameters for the wrapped vault key), so a ciphertext
//! swapped, replayed, re-stamped, turned into a delete or moved between namespaces or
//! purposes fails to open. Format 1 records ([`LegacyRecordAad`]) bound only namespace, id
//! and version; they still open, so vaults written before format 2 keep working, and the
//! sync rules (docs/SYNC.md) say what such a record may and may not do.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::crypto::kdf::KdfParams;
use crate::crypto::keys::{KeyEncryptionKey, VaultKey, KEY_LEN};
use crate::crypto::random;
use crate::error::CryptoError;
use crate::hlc::Hlc;
use crate::record::{EntryKind, Namespace, RecordId};

/// Envelope format 1: content, the wrapped vault key, and records written before format 2.
pub const VERSION: u8 = 1;
/// Envelope format 2: records and tombstones whose associated data binds the clock and the
/// live/deleted state ([`RecordAad`]).
pub const RECORD_VERSION: u8 = 2;
pub const KEY_SALT_LEN: usize = 32;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
pub const HEADER_LEN: usize = 1 + KEY_SALT_LEN + NONCE_LEN;
/// The shortest valid envelope: header and tag around an empty plaintext.
pub const MIN_LEN: usize = HEADER_LEN + TAG_LEN;
/// A wrapped vault key's length: a version-1 envelope of the 32-byte key (docs/FORMAT.md §2).
pub const WRAPPED_KEY_LEN: usize = MIN_LEN + 32;

/// What an envelope protects; each purpose has its own label, used as the HKDF `info` and as
/// the first bytes of the associated data. Two purposes therefore never share a content key
/// nor associated data: an envelope sealed for one cannot be opened as the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An answer record or a tombstone (format 2), bound to its namespace, id, version,
    /// clock and state ([`RecordAad`]).
    Record,
    /// A delivery record or its tombstone ([`crate::delivery`]): same associated data as
    /// [`Purpose::Record`] under its own label, chosen by the reserved namespace.
    Delivery,
    /// A proposal record or its tombstone ([`crate::proposal`]): same associated data as
    /// [`Purpose::Record`] under its own label, chosen by the reserved namespace.
    Proposal,
    /// An answer record of format 1, bound to its namespace, id and version only
    /// ([`LegacyRecordAad`]). Opened, never sealed by the vault.
    LegacyRecord,
    /// The vault key under the key-encryption key ([`WrapAad`]).
    VaultKeyWrap,
    /// A vault key replaced by a key rotation, kept under the vault key that replaced it
    /// ([`PreviousKeyAad`]), so entries not yet re-sealed still open.
    PreviousVaultKey,
    /// Data under the vault key that is not a record, bound to its kind ([`ContentKind`]).
    Content,
}

impl Purpose {
    pub fn label(self) -> &'static [u8] {
        match self {
            Purpose::Record => b"selfos/v2/record",
            Purpose::Delivery => b"selfos/v2/delivery",
            Purpose::Proposal => b"selfos/v2/proposal",
            Purpose::LegacyRecord => b"selfos/v1/record",
            Purpose::VaultKeyWrap => b"selfos/v1/vault-key",
            Purpose::PreviousVaultKey => b"selfos/v1/previous-vault-key",
            Purpose::Content => b"selfos/v1/content",
        }
    }

    /// The envelope format version this purpose seals with: the envelope's first byte and
    /// the byte after the label's 0x00 in the associated data. An envelope of another
    /// version never opens for this purpose.
    /// The purpose a format-2 entry of this namespace is sealed for: its kind's label
    /// ([`EntryKind`]). A reserved namespace this build does not know gets the answer label,
    /// under which a later version's entry of another kind never opens.
    pub fn for_namespace(namespace: &Namespace) -> Self {
        match namespace.kind() {
            EntryKind::Delivery => Purpose::Delivery,
            EntryKind::Proposal => Purpose::Proposal,
            EntryKind::Answer | EntryKind::Reserved => Purpose::Record,
        }
    }

    pub fn envelope_version(self) -> u8 {
        match self {
            Purpose::Record | Purpose::Delivery | Purpose::Proposal => RECORD_VERSION,
            Purpose::LegacyRecord
            | Purpose::VaultKeyWrap
            | Purpose::PreviousVaultKey
            | Purpose::Content => VERSION,
        }
    }
}

/// Each kind of non-record data sealed under the vault key. A closed list, so that every
/// kind is named here and in docs/FORMAT.md §2, and none is sealed under a forged record
/// identity: the kind's name is bound into the associated data, so one kind never opens as
/// another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// What each agent was last told (the web app's export snapshots, for alignment's
    /// staleness), kept in the store's `meta`.
    InstructionSnapshots,
}

impl ContentKind {
    /// Every kind: what a key rotation seals again under the new key.
    pub const ALL: [ContentKind; 1] = [ContentKind::InstructionSnapshots];

    /// The name bound into the associated data (ASCII, stable: changing it orphans data).
    pub fn name(self) -> &'static str {
        match self {
            ContentKind::InstructionSnapshots => "instruction-snapshots",
        }
    }

    /// The store `meta` key holding this kind's one envelope (docs/FORMAT.md §2).
    pub const fn meta_key(self) -> &'static str {
        match self {
            ContentKind::InstructionSnapshots => "webapp_instruction_snapshots",
        }
    }
}

/// Whether a sealed record entry is an answer or a delete. Bound into the associated data,
/// so a live record cannot be replayed as a tombstone nor the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    Live,
    Tombstone,
}

impl RecordState {
    /// The state's byte in the associated data.
    pub fn byte(self) -> u8 {
        match self {
            RecordState::Live => 0,
            RecordState::Tombstone => 1,
        }
    }

    pub fn of_deleted(deleted: bool) -> Self {
        if deleted {
            RecordState::Tombstone
        } else {
            RecordState::Live
        }
    }
}

/// Associated data for one sealed record or tombstone (format 2). Built from the entry's
/// identity, never from caller-chosen bytes, so the same identity is demanded again to open
/// it: the clock is in it because sync orders changes by the clock, and a clock the vault
/// key does not vouch for could be re-stamped by the server to make an old version win. The
/// purpose (answer or delivery) follows from the namespace ([`Purpose::for_namespace`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAad(Vec<u8>, Purpose);

impl RecordAad {
    pub fn new(
        namespace: &Namespace,
        id: &RecordId,
        version: u64,
        hlc: &Hlc,
        state: RecordState,
    ) -> Self {
        let purpose = Purpose::for_namespace(namespace);
        let mut a = prefix(purpose);
        push_identity(&mut a, namespace, id, version);
        a.extend_from_slice(&hlc.wall_ms.to_be_bytes());
        a.extend_from_slice(&hlc.counter.to_be_bytes());
        a.extend_from_slice(&hlc.node.to_be_bytes());
        a.push(state.byte());
        RecordAad(a, purpose)
    }

    pub fn purpose(&self) -> Purpose {
        self.1
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Associated data of a format-1 record: namespace, id and version, no clock, no state.
/// Only for opening what earlier builds wrote; the vault seals format 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyRecordAad(Vec<u8>);

impl LegacyRecordAad {
    pub fn new(namespace: &Namespace, id: &RecordId, version: u64) -> Self {
        let mut a = prefix(Purpose::LegacyRecord);
        push_identity(&mut a, namespace, id, version);
        LegacyRecordAad(a)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// `u16be(len(namespace)) || namespace || id (16 bytes) || u64be(version)`, shared by both
/// record formats.
fn push_identity(a: &mut Vec<u8>, namespace: &Namespace, id: &RecordId, version: u64) {
    let ns = namespace.as_str().as_bytes();
    // Namespace length fits in u16: Namespace caps it at 64 bytes.
    a.extend_from_slice(&(ns.len() as u16).to_be_bytes());
    a.extend_from_slice(ns);
    a.extend_from_slice(id.as_bytes());
    a.extend_from_slice(&version.to_be_bytes());
}

/// Associated data for non-record content of one kind: built from the [`ContentKind`], never
/// from caller-chosen bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentAad(Vec<u8>);

impl ContentAad {
    pub fn new(kind: ContentKind) -> Self {
        let name = kind.name().as_bytes();
        let mut a = prefix(Purpose::Content);
        // Names are short ASCII constants; the length prefix keeps the layout parseable.
        a.extend_from_slice(&(name.len() as u16).to_be_bytes());
        a.extend_from_slice(name);
        ContentAad(a)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Associated data for the wrapped vault key: binds the vault id and the KDF parameters, so a
/// header whose parameters were altered (above the floor) fails to unwrap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapAad(Vec<u8>);

impl WrapAad {
    pub fn new(vault_id: &[u8; 16], kdf: &KdfParams) -> Self {
        let mut a = prefix(Purpose::VaultKeyWrap);
        a.extend_from_slice(vault_id);
        a.push(kdf.algorithm.id());
        a.extend_from_slice(&kdf.iterations.to_be_bytes());
        // Salt length is capped at 64 by KdfParams::check.
        a.push(kdf.salt.len() as u8);
        a.extend_from_slice(&kdf.salt);
        WrapAad(a)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Associated data for a previous vault key kept in the header after a rotation: binds the
/// vault id, so a key kept by one vault's header never opens in another's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousKeyAad(Vec<u8>);

impl PreviousKeyAad {
    pub fn new(vault_id: &[u8; 16]) -> Self {
        let mut a = prefix(Purpose::PreviousVaultKey);
        a.extend_from_slice(vault_id);
        PreviousKeyAad(a)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// `label || 0x00 || envelope version`: the 0x00 ends the label (labels hold no NUL), the
/// version byte repeats the envelope's first byte under the tag, so an envelope's version
/// byte cannot be changed to have it opened by another format's rules.
fn prefix(purpose: Purpose) -> Vec<u8> {
    let mut a = Vec::with_capacity(128);
    a.extend_from_slice(purpose.label());
    a.push(0);
    a.push(purpose.envelope_version());
    a
}

/// A syntactically valid envelope (version known, long enough). Opening it still needs the
/// right key and associated data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope(Vec<u8>);

impl Envelope {
    /// Checks the version byte and the length; the contents are checked when opened.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, CryptoError> {
        match bytes.first() {
            None => Err(CryptoError::Truncated {
                len: 0,
                min: MIN_LEN,
            }),
            Some(&(VERSION | RECORD_VERSION)) if bytes.len() >= MIN_LEN => Ok(Envelope(bytes)),
            Some(&(VERSION | RECORD_VERSION)) => Err(CryptoError::Truncated {
                len: bytes.len(),
                min: MIN_LEN,
            }),
            Some(&v) => Err(CryptoError::UnknownEnvelopeVersion(v)),
        }
    }

    /// The format version (the first byte): [`RECORD_VERSION`] or [`VERSION`].
    pub fn version(&self) -> u8 {
        self.0[0]
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    fn key_salt(&self) -> &[u8] {
        &self.0[1..1 + KEY_SALT_LEN]
    }

    fn nonce(&self) -> &[u8] {
        &self.0[1 + KEY_SALT_LEN..HEADER_LEN]
    }

    fn ciphertext(&self) -> &[u8] {
        &self.0[HEADER_LEN..]
    }
}

/// The one-time AES key for one envelope.
pub(crate) fn content_key(
    root: &[u8; KEY_LEN],
    key_salt: &[u8],
    purpose: Purpose,
) -> Zeroizing<[u8; KEY_LEN]> {
    let hk = Hkdf::<Sha256>::new(Some(key_salt), root);
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    hk.expand(purpose.label(), out.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    out
}

/// Seals with caller-provided randomness. Crate-private: only the test vectors fix it.
pub(crate) fn seal_with(
    root: &[u8; KEY_LEN],
    purpose: Purpose,
    aad: &[u8],
    plaintext: &[u8],
    key_salt: &[u8; KEY_SALT_LEN],
    nonce: &[u8; NONCE_LEN],
) -> Envelope {
    let key = content_key(root, key_salt, purpose);
    let cipher = Aes256Gcm::new_from_slice(key.as_ref()).expect("32-byte key");
    let ct = cipher
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("AES-GCM encryption cannot fail below 64 GiB");
    let mut out = Vec::with_capacity(HEADER_LEN + ct.len());
    out.push(purpose.envelope_version());
    out.extend_from_slice(key_salt);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&ct);
    Envelope(out)
}

fn seal(
    root: &[u8; KEY_LEN],
    purpose: Purpose,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Envelope, CryptoError> {
    let key_salt = random::bytes::<KEY_SALT_LEN>()?;
    let nonce = random::bytes::<NONCE_LEN>()?;
    Ok(seal_with(root, purpose, aad, plaintext, &key_salt, &nonce))
}

fn open(
    root: &[u8; KEY_LEN],
    purpose: Purpose,
    aad: &[u8],
    envelope: &Envelope,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    // The version is bound in the associated data too; checking it first only spares the
    // decryption of an envelope of another format.
    if envelope.version() != purpose.envelope_version() {
        return Err(CryptoError::Tampered);
    }
    let key = content_key(root, envelope.key_salt(), purpose);
    let cipher = Aes256Gcm::new_from_slice(key.as_ref()).expect("32-byte key");
    cipher
        .decrypt(
            Nonce::from_slice(envelope.nonce()),
            Payload {
                msg: envelope.ciphertext(),
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Tampered)
}

/// Seals a record's plaintext (or, for a tombstone, the empty plaintext) under the vault key,
/// in format 2.
pub fn seal_record(
    key: &VaultKey,
    aad: &RecordAad,
    plaintext: &[u8],
) -> Result<Envelope, CryptoError> {
    seal(key.expose(), aad.purpose(), aad.as_bytes(), plaintext)
}

/// Opens a record sealed by [`seal_record`] for the same identity, clock and state. A
/// format-1 envelope is [`CryptoError::Tampered`] here: open it with [`open_legacy_record`].
pub fn open_record(
    key: &VaultKey,
    aad: &RecordAad,
    envelope: &Envelope,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    open(key.expose(), aad.purpose(), aad.as_bytes(), envelope)
}

/// Opens a format-1 record (written before format 2) for the same namespace, id and version.
pub fn open_legacy_record(
    key: &VaultKey,
    aad: &LegacyRecordAad,
    envelope: &Envelope,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    open(
        key.expose(),
        Purpose::LegacyRecord,
        aad.as_bytes(),
        envelope,
    )
}

/// Seals a format-1 record. Only for tests and tools that must produce what earlier builds
/// wrote (see `crypto::hazmat`): such a record's clock is not authenticated.
#[cfg(any(test, feature = "hazmat"))]
pub(crate) fn seal_legacy_record(
    key: &VaultKey,
    aad: &LegacyRecordAad,
    plaintext: &[u8],
) -> Result<Envelope, CryptoError> {
    seal(
        key.expose(),
        Purpose::LegacyRecord,
        aad.as_bytes(),
        plaintext,
    )
}

/// Seals data that is not a record (see [`ContentKind`]) under the vault key.
pub fn seal_content(
    key: &VaultKey,
    kind: ContentKind,
    plaintext: &[u8],
) -> Result<Envelope, CryptoError> {
    let aad = ContentAad::new(kind);
    seal(key.expose(), Purpose::Content, aad.as_bytes(), plaintext)
}

/// Opens what [`seal_content`] sealed for the same kind. A record, a wrapped key or content
/// of another kind is [`CryptoError::Tampered`].
pub fn open_content(
    key: &VaultKey,
    kind: ContentKind,
    envelope: &Envelope,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let aad = ContentAad::new(kind);
    open(key.expose(), Purpose::Content, aad.as_bytes(), envelope)
}

/// Wraps the vault key under the key-encryption key.
pub fn wrap_vault_key(
    kek: &KeyEncryptionKey,
    aad: &WrapAad,
    vault_key: &VaultKey,
) -> Result<Envelope, CryptoError> {
    seal(
        kek.expose(),
        Purpose::VaultKeyWrap,
        aad.as_bytes(),
        vault_key.expose(),
    )
}

/// Unwraps the vault key. Failure here means the passphrase was wrong (or the header was
/// altered): it is reported as [`CryptoError::WrongPassphrase`], never as garbage output.
pub fn unwrap_vault_key(
    kek: &KeyEncryptionKey,
    aad: &WrapAad,
    envelope: &Envelope,
) -> Result<VaultKey, CryptoError> {
    let bytes = open(
        kek.expose(),
        Purpose::VaultKeyWrap,
        aad.as_bytes(),
        envelope,
    )
    .map_err(|_| CryptoError::WrongPassphrase)?;
    VaultKey::try_from_slice(&bytes).map_err(|_| CryptoError::WrongPassphrase)
}

/// Keeps a replaced vault key under the key that replaced it (a key rotation).
pub fn wrap_previous_key(
    current: &VaultKey,
    aad: &PreviousKeyAad,
    previous: &VaultKey,
) -> Result<Envelope, CryptoError> {
    seal(
        current.expose(),
        Purpose::PreviousVaultKey,
        aad.as_bytes(),
        previous.expose(),
    )
}

/// Opens what [`wrap_previous_key`] kept. Anything else, or the right envelope under another
/// key or vault id, is [`CryptoError::Tampered`].
pub fn unwrap_previous_key(
    current: &VaultKey,
    aad: &PreviousKeyAad,
    envelope: &Envelope,
) -> Result<VaultKey, CryptoError> {
    let bytes = open(
        current.expose(),
        Purpose::PreviousVaultKey,
        aad.as_bytes(),
        envelope,
    )?;
    VaultKey::try_from_slice(&bytes).map_err(|_| CryptoError::Tampered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::MasterKey;

    fn key() -> VaultKey {
        VaultKey::from_bytes([0x42; KEY_LEN])
    }

    /// The record identity the web app's snapshots were sealed under before the content
    /// purpose existed (the nearest a record could come to a snapshot).
    fn forged_record_aad() -> RecordAad {
        RecordAad::new(
            &Namespace::new("selfos.webapp:snapshots").unwrap(),
            &RecordId::from_bytes([0xff; 16]),
            1,
            &Hlc::ZERO,
            RecordState::Live,
        )
    }

    #[test]
    fn content_opens_only_as_its_kind() {
        let kind = ContentKind::InstructionSnapshots;
        let env = seal_content(&key(), kind, b"[]").unwrap();
        assert_eq!(&open_content(&key(), kind, &env).unwrap()[..], b"[]");
        // Another vault key opens nothing.
        let other = VaultKey::from_bytes([0x43; KEY_LEN]);
        assert_eq!(
            open_content(&other, kind, &env).err(),
            Some(CryptoError::Tampered)
        );
    }

    #[test]
    fn content_never_opens_as_a_record_nor_a_record_as_content() {
        let kind = ContentKind::InstructionSnapshots;
        let content = seal_content(&key(), kind, b"snapshot").unwrap();
        assert_eq!(
            open_record(&key(), &forged_record_aad(), &content).err(),
            Some(CryptoError::Tampered)
        );
        let record = seal_record(&key(), &forged_record_aad(), b"snapshot").unwrap();
        assert_eq!(
            open_content(&key(), kind, &record).err(),
            Some(CryptoError::Tampered)
        );
        // Nor as the wrapped vault key, under a KEK with the same bytes as the vault key.
        let kek = MasterKey::from_bytes([0x42; KEY_LEN]).key_encryption_key();
        let wrap_aad = WrapAad::new(&[0; 16], &KdfParams::generate().unwrap());
        assert!(unwrap_vault_key(&kek, &wrap_aad, &content).is_err());
    }

    /// The purpose is bound twice, in the HKDF info and in the associated data: either alone
    /// suffices to refuse an envelope sealed for another purpose.
    #[test]
    fn a_wrong_purpose_fails_even_with_the_right_associated_data() {
        let root = [0x42; KEY_LEN];
        let (salt, nonce) = ([7; KEY_SALT_LEN], [9; NONCE_LEN]);
        let content_aad = ContentAad::new(ContentKind::InstructionSnapshots);
        // Content's associated data, but the record purpose's key: refused as content.
        let env = seal_with(
            &root,
            Purpose::Record,
            content_aad.as_bytes(),
            b"x",
            &salt,
            &nonce,
        );
        assert_eq!(
            open_content(&key(), ContentKind::InstructionSnapshots, &env).err(),
            Some(CryptoError::Tampered)
        );
        // A record's associated data, but the content purpose's key: refused as a record.
        let aad = forged_record_aad();
        let env = seal_with(&root, Purpose::Content, aad.as_bytes(), b"x", &salt, &nonce);
        assert_eq!(
            open_record(&key(), &aad, &env).err(),
            Some(CryptoError::Tampered)
        );
        assert_ne!(
            *content_key(&root, &salt, Purpose::Content),
            *content_key(&root, &salt, Purpose::Record)
        );
    }

    /// A delivery is sealed under its own label: the same plaintext and identity moved to an
    /// answer namespace (or back) never opens, and the two labels derive different keys.
    #[test]
    fn a_delivery_never_opens_as_an_answer() {
        let id = RecordId::from_bytes([7; 16]);
        let deliveries = Namespace::deliveries();
        let answers = Namespace::new("chatgpt").unwrap();
        let d_aad = RecordAad::new(&deliveries, &id, 1, &hlc(5), RecordState::Live);
        assert_eq!(d_aad.purpose(), Purpose::Delivery);
        assert!(d_aad.as_bytes().starts_with(b"selfos/v2/delivery\x00\x02"));
        let env = seal_record(&key(), &d_aad, b"{}").unwrap();
        assert_eq!(&*open_record(&key(), &d_aad, &env).unwrap(), b"{}");
        let a_aad = RecordAad::new(&answers, &id, 1, &hlc(5), RecordState::Live);
        assert_eq!(a_aad.purpose(), Purpose::Record);
        assert_eq!(
            open_record(&key(), &a_aad, &env).err(),
            Some(CryptoError::Tampered)
        );
        let answer = seal_record(&key(), &a_aad, b"{}").unwrap();
        assert_eq!(
            open_record(&key(), &d_aad, &answer).err(),
            Some(CryptoError::Tampered)
        );
        // An unknown reserved kind gets the answer label: a later build's entry of another
        // kind never opens here.
        let future = Namespace::new("selfos.future").unwrap();
        assert_eq!(Purpose::for_namespace(&future), Purpose::Record);
        let root = [0x42; KEY_LEN];
        assert_ne!(
            *content_key(&root, &[7; KEY_SALT_LEN], Purpose::Delivery),
            *content_key(&root, &[7; KEY_SALT_LEN], Purpose::Record)
        );
    }

    #[test]
    fn content_aad_layout() {
        let aad = ContentAad::new(ContentKind::InstructionSnapshots);
        let mut expected = b"selfos/v1/content\x00\x01".to_vec();
        expected.extend_from_slice(&21u16.to_be_bytes());
        expected.extend_from_slice(b"instruction-snapshots");
        assert_eq!(aad.as_bytes(), &expected[..]);
    }

    fn hlc(wall_ms: u64) -> Hlc {
        Hlc {
            wall_ms,
            counter: 2,
            node: 0x00a1_b2c3_d4e5_f607,
        }
    }

    fn aad(version: u64, clock: Hlc, state: RecordState) -> RecordAad {
        RecordAad::new(
            &Namespace::new("chatgpt").unwrap(),
            &RecordId::from_bytes([7; 16]),
            version,
            &clock,
            state,
        )
    }

    #[test]
    fn record_aad_layout() {
        let a = aad(3, hlc(1_763_800_000_000), RecordState::Tombstone);
        let mut expected = b"selfos/v2/record\x00\x02".to_vec();
        expected.extend_from_slice(&7u16.to_be_bytes());
        expected.extend_from_slice(b"chatgpt");
        expected.extend_from_slice(&[7; 16]);
        expected.extend_from_slice(&3u64.to_be_bytes());
        expected.extend_from_slice(&1_763_800_000_000u64.to_be_bytes());
        expected.extend_from_slice(&2u32.to_be_bytes());
        expected.extend_from_slice(&0x00a1_b2c3_d4e5_f607u64.to_be_bytes());
        expected.push(1);
        assert_eq!(a.as_bytes(), &expected[..]);
    }

    /// The clock and the state are authenticated: a record re-stamped with another clock, or
    /// presented as a tombstone (and a tombstone as a record), does not open.
    #[test]
    fn clock_and_state_are_bound() {
        let sealed = aad(2, hlc(10), RecordState::Live);
        let env = seal_record(&key(), &sealed, b"x").unwrap();
        assert_eq!(env.version(), RECORD_VERSION);
        assert!(open_record(&key(), &sealed, &env).is_ok());
        for other in [
            aad(2, hlc(11), RecordState::Live),
            aad(2, hlc(10), RecordState::Tombstone),
            aad(3, hlc(10), RecordState::Live),
        ] {
            assert_eq!(
                open_record(&key(), &other, &env).err(),
                Some(CryptoError::Tampered)
            );
        }
        let tomb = aad(3, hlc(12), RecordState::Tombstone);
        let env = seal_record(&key(), &tomb, b"").unwrap();
        assert!(open_record(&key(), &tomb, &env).is_ok());
        assert_eq!(
            open_record(&key(), &aad(3, hlc(12), RecordState::Live), &env).err(),
            Some(CryptoError::Tampered)
        );
    }

    /// A format-1 record opens only by the format-1 rules, and a format-2 envelope whose
    /// version byte is set to 1 does not open by them (the version is in the associated data
    /// and the HKDF label).
    #[test]
    fn formats_do_not_cross() {
        let ns = Namespace::new("chatgpt").unwrap();
        let id = RecordId::from_bytes([7; 16]);
        let legacy = LegacyRecordAad::new(&ns, &id, 2);
        let v1 = seal_legacy_record(&key(), &legacy, b"x").unwrap();
        assert_eq!(v1.version(), VERSION);
        assert!(open_legacy_record(&key(), &legacy, &v1).is_ok());
        let v2aad = aad(2, hlc(10), RecordState::Live);
        assert_eq!(
            open_record(&key(), &v2aad, &v1).err(),
            Some(CryptoError::Tampered)
        );
        let v2 = seal_record(&key(), &v2aad, b"x").unwrap();
        let mut downgraded = v2.into_bytes();
        downgraded[0] = VERSION;
        let downgraded = Envelope::parse(downgraded).unwrap();
        assert_eq!(
            open_legacy_record(&key(), &legacy, &downgraded).err(),
            Some(CryptoError::Tampered)
        );
        assert_eq!(
            Envelope::parse(vec![3; MIN_LEN]).err(),
            Some(CryptoError::UnknownEnvelopeVersion(3))
        );
    }
}
