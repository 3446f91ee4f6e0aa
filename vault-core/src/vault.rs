//! The vault: an unlocked key over a store. Every write seals first, then commits the record,
//! its pending change and the clock in one atomic batch.

use crate::crypto::envelope::{self, Envelope, LegacyRecordAad, RecordAad, RecordState};
use crate::crypto::kdf::{KdfParams, Passphrase};
use crate::crypto::keys::{AuthSecret, VaultKey};
use crate::crypto::random;
use crate::delivery::{decode_delivery, encode_delivery, DeliveryRecord};
use crate::error::{StoreError, VaultError};
use crate::header::VaultHeader;
use crate::hlc::{Hlc, HlcClock};
use crate::proposal::{decode_proposal, encode_proposal, Decision, ProposalRecord};
use crate::record::{decode_record, encode_record, AnswerRecord, EntryKind, RecordId};
use crate::store::{
    Batch, Current, PendingChange, StoredRecord, VaultStore, META_CLOCK, META_DEVICE, META_HEADER,
};
use crate::time::now_ms;

/// The atomic write of one record change: the entry, its pending change, the clock.
fn commit_batch(stored: StoredRecord, base_version: u64) -> (Batch, PendingChange) {
    let change = stored.change(base_version);
    let key = stored.key();
    let batch = Batch {
        records: vec![(key.clone(), stored.encode())],
        pending: vec![(key, change.encode())],
        // No clock write here: the pending change carries the timestamp (see `read_clock`).
        ..Batch::default()
    };
    (batch, change)
}

/// The plaintext an opened entry was sealed from (empty for a tombstone), to seal it again.
fn plaintext_of(opened: Option<Opened>) -> Vec<u8> {
    match opened {
        Some(Opened::Answer(record)) => encode_record(&record),
        Some(Opened::Delivery(delivery)) => encode_delivery(&delivery),
        Some(Opened::Proposal(proposal)) => encode_proposal(&proposal),
        None => Vec::new(),
    }
}

/// What a key rotation did on this device ([`Vault::rotate_key`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotation {
    /// Entries (records and tombstones) sealed again under the new key, each as its next
    /// version, queued to sync.
    pub resealed: usize,
    /// Entries that opened under no key this vault holds (damaged or forged), left as they
    /// were: they never opened, and still do not.
    pub unreadable: usize,
}

/// The next version of a record, and the base version its change is made on: the base of
/// a change still pending (edits before a push coalesce), else the stored version.
fn versions(key: &str, current: &Current) -> Result<(u64, u64), VaultError> {
    let stored = match &current.record {
        Some(bytes) => StoredRecord::decode(key, bytes)?.version,
        None => 0,
    };
    let base = match &current.pending {
        Some(bytes) => PendingChange::decode(key, bytes)?.base_version,
        None => stored,
    };
    Ok((stored + 1, base))
}

/// An unlocked vault. Dropping it (or [`Vault::lock`]) zeroizes the key.
pub struct Vault<S: VaultStore> {
    store: S,
    header: VaultHeader,
    key: VaultKey,
    /// Keys replaced by key rotations, newest first (from the header): entries sealed
    /// before a rotation, and not re-sealed since, open under one of them. Never sealed with.
    previous: Vec<VaultKey>,
    /// Loaded on first use, so unlocking costs only the key derivation (see `read_clock`).
    clock: Option<HlcClock>,
}

/// What reading the whole vault found: the records that opened, and each one that did not
/// (with its own error), so one damaged entry never costs the others.
#[derive(Debug, Default)]
pub struct Listing {
    /// The answers, oldest first.
    pub records: Vec<AnswerRecord>,
    /// What each agent was given ([`crate::delivery`]), oldest first.
    pub deliveries: Vec<DeliveryRecord>,
    /// What agents proposed to add to the profile ([`crate::proposal`]), oldest first.
    pub proposals: Vec<ProposalRecord>,
    pub failures: Vec<RecordFailure>,
}

impl Listing {
    /// Follows what a sync applied ([`crate::sync::ApplyReport::changed`]), so that a
    /// listing kept in memory stays equal to a fresh [`Vault::list`] without decrypting the
    /// whole vault again: each changed record is replaced by its new state or, when deleted,
    /// removed. A record that had failed to open and now has a good entry leaves `failures`.
    pub fn apply(&mut self, changes: Vec<crate::sync::Change>) {
        if changes.is_empty() {
            return;
        }
        self.follow(changes);
        self.sort();
    }

    /// [`Listing::apply`] without the sort (see [`ListingBuilder`]).
    fn follow(&mut self, changes: Vec<crate::sync::Change>) {
        // The last change to a record is its state (a sync reports them in the order applied).
        let mut last: std::collections::HashMap<RecordId, usize> =
            std::collections::HashMap::with_capacity(changes.len());
        for (i, change) in changes.iter().enumerate() {
            last.insert(change.id, i);
        }
        self.records.retain(|r| !last.contains_key(&r.id));
        self.deliveries.retain(|d| !last.contains_key(&d.id));
        self.proposals.retain(|p| !last.contains_key(&p.id));
        self.failures
            .retain(|f| RecordId::parse(&f.key).map_or(true, |id| !last.contains_key(&id)));
        self.records.reserve(changes.len());
        for (i, change) in changes.into_iter().enumerate() {
            if last.get(&change.id) != Some(&i) {
                continue;
            }
            match change.now {
                Some(Opened::Answer(r)) => self.records.push(r),
                Some(Opened::Delivery(d)) => self.deliveries.push(d),
                Some(Opened::Proposal(p)) => self.proposals.push(p),
                None => {}
            }
        }
    }

    /// Oldest first, the order [`Vault::list`] promises (ids break ties, so it is total).
    fn sort(&mut self) {
        crate::sort::sort_large_by(&mut self.records, |a, b| {
            a.captured_at_ms
                .cmp(&b.captured_at_ms)
                .then(a.id.cmp(&b.id))
        });
        crate::sort::sort_by(&mut self.deliveries, |a, b| {
            a.delivered_at_ms
                .cmp(&b.delivered_at_ms)
                .then(a.id.cmp(&b.id))
        });
        crate::sort::sort_by(&mut self.proposals, |a, b| {
            a.proposed_at_ms
                .cmp(&b.proposed_at_ms)
                .then(a.id.cmp(&b.id))
        });
    }
}

/// A listing followed page by page as a pull applies them ([`crate::sync::sync_observing`]),
/// sorted once when it is finished rather than after every page: `selfos mcp` builds its
/// listing this way on a thread of its own while the next page is being fetched.
#[derive(Debug, Default)]
pub struct ListingBuilder(Listing);

impl From<Listing> for ListingBuilder {
    /// Goes on from a listing already held (in [`Vault::list`]'s order or not).
    fn from(listing: Listing) -> Self {
        ListingBuilder(listing)
    }
}

impl ListingBuilder {
    /// Follows one page's changes, as [`Listing::apply`] does.
    pub fn apply(&mut self, changes: Vec<crate::sync::Change>) {
        self.0.follow(changes);
    }

    /// The listing, in [`Vault::list`]'s order.
    pub fn finish(mut self) -> Listing {
        self.0.sort();
        self.0
    }
}

/// A live entry, opened: one of the kinds a vault syncs ([`EntryKind`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Opened {
    Answer(AnswerRecord),
    Delivery(DeliveryRecord),
    Proposal(ProposalRecord),
}

#[derive(Debug)]
pub struct RecordFailure {
    /// The store key of the entry (the record id, when the entry is intact enough to say).
    pub key: String,
    pub error: VaultError,
}

impl<S: VaultStore> Vault<S> {
    /// Creates a new vault in an empty store. Returns the vault, unlocked, and the secret the
    /// sync server will know this user by.
    pub async fn create(
        store: S,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<(Self, AuthSecret), VaultError> {
        if store.get_meta(META_HEADER).await?.is_some() {
            return Err(VaultError::VaultExists);
        }
        let key = VaultKey::generate()?;
        let vault_id = random::bytes::<16>()?;
        let (header, auth) = VaultHeader::seal(vault_id, &key, passphrase, params).await?;
        Ok((Self::install(store, header, key).await?, auth))
    }

    /// Writes `header` and a fresh device id into an empty store: the start of a vault on
    /// this device, new ([`Vault::create`]) or joined ([`Vault::join`]).
    async fn install(store: S, header: VaultHeader, key: VaultKey) -> Result<Self, VaultError> {
        let node = u64::from_le_bytes(random::bytes::<8>()?);
        store
            .write(Batch {
                meta: vec![
                    (META_HEADER.into(), header.encode()),
                    (META_DEVICE.into(), node.to_le_bytes().to_vec()),
                ],
                ..Batch::default()
            })
            .await?;
        Ok(Vault {
            previous: header.previous_keys(&key)?,
            store,
            header,
            key,
            clock: Some(HlcClock::new(node)),
        })
    }

    /// Sets up this device with an existing vault's header (from the sync server's login
    /// answer): unlocks it with the passphrase, then writes it and a fresh device id into the
    /// empty `store`. The records arrive with the first sync.
    pub async fn join(
        store: S,
        header: VaultHeader,
        passphrase: &Passphrase,
    ) -> Result<(Self, AuthSecret), VaultError> {
        if store.get_meta(META_HEADER).await?.is_some() {
            return Err(VaultError::VaultExists);
        }
        let unlocked = header.unlock(passphrase).await?;
        Ok((
            Self::install(store, header, unlocked.vault_key).await?,
            unlocked.auth_secret,
        ))
    }

    /// [`Vault::join`] with the master key the sign-in already derived under the header's
    /// own KDF parameters ([`VaultHeader::unlock_with`]): one key derivation per sign-in,
    /// not two.
    pub async fn join_with(
        store: S,
        header: VaultHeader,
        master: &crate::crypto::MasterKey,
    ) -> Result<(Self, AuthSecret), VaultError> {
        if store.get_meta(META_HEADER).await?.is_some() {
            return Err(VaultError::VaultExists);
        }
        let unlocked = header.unlock_with(master)?;
        Ok((
            Self::install(store, header, unlocked.vault_key).await?,
            unlocked.auth_secret,
        ))
    }

    /// Unlocks the vault in `store` with the passphrase.
    pub async fn unlock(
        store: S,
        passphrase: &Passphrase,
    ) -> Result<(Self, AuthSecret), VaultError> {
        let header = Self::read_header(&store).await?;
        let unlocked = header.unlock(passphrase).await?;
        Ok((
            Self::opened(store, header, unlocked.vault_key)?,
            unlocked.auth_secret,
        ))
    }

    /// Re-opens a vault with a key held for this session (see
    /// [`VaultKey::to_dangerous_bytes`]), without the passphrase. A key that belongs to another
    /// vault opens nothing: every record then reports [`crate::CryptoError::Tampered`].
    /// After a key rotation the header's kept keys open only under its current key, so an
    /// older key held for the session (the key rotated in another window of this browser) is
    /// [`VaultError::StaleKey`]: unlock again.
    pub async fn resume(store: S, key: VaultKey) -> Result<Self, VaultError> {
        let header = Self::read_header(&store).await?;
        Self::opened(store, header, key).map_err(|e| match e {
            VaultError::CorruptHeader(_) => VaultError::StaleKey,
            e => e,
        })
    }

    /// The vault over `store` under `header`, whose key is `key`: with the keys the header
    /// keeps from earlier rotations opened.
    fn opened(store: S, header: VaultHeader, key: VaultKey) -> Result<Self, VaultError> {
        Ok(Vault {
            previous: header.previous_keys(&key)?,
            store,
            header,
            key,
            clock: None,
        })
    }

    async fn read_header(store: &S) -> Result<VaultHeader, VaultError> {
        let bytes = store
            .get_meta(META_HEADER)
            .await?
            .ok_or(VaultError::NoVault)?;
        VaultHeader::decode(&bytes)
    }

    /// This device's clock, loaded from the store on first use.
    async fn clock(&mut self) -> Result<&mut HlcClock, VaultError> {
        if self.clock.is_none() {
            self.clock = Some(Self::read_clock(&self.store).await?);
        }
        Ok(self.clock.as_mut().expect("just loaded"))
    }

    async fn read_clock(store: &S) -> Result<HlcClock, VaultError> {
        let node = match store.get_meta(META_DEVICE).await? {
            Some(b) => {
                u64::from_le_bytes(b.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                    key: META_DEVICE.into(),
                    reason: "not 8 bytes".into(),
                })?)
            }
            None => u64::from_le_bytes(random::bytes::<8>()?),
        };
        let last = match store.get_meta(META_CLOCK).await? {
            Some(b) => std::str::from_utf8(&b)
                .ok()
                .and_then(|s| s.parse::<Hlc>().ok())
                .ok_or_else(|| StoreError::Corrupt {
                    key: META_CLOCK.into(),
                    reason: "not a timestamp".into(),
                })?,
            None => Hlc::ZERO,
        };
        // Invariant: every timestamp this device issued is either still in the pending queue
        // or at most the persisted clock (which is written before changes are acked). So the
        // clock resumes from the larger of the two, and a write costs no extra clock entry.
        let mut newest_pending = Hlc::ZERO;
        for (key, bytes) in store.scan_pending().await? {
            if let Ok(change) = PendingChange::decode(&key, &bytes) {
                newest_pending = newest_pending.max(change.hlc);
            }
        }
        Ok(HlcClock::resume(node, last.max(newest_pending)))
    }

    pub fn header(&self) -> &VaultHeader {
        &self.header
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The vault key, for a session holder. See [`VaultKey::to_dangerous_bytes`].
    pub fn session_key(&self) -> &VaultKey {
        &self.key
    }

    /// Locks the vault: the key is zeroized, the store handed back.
    pub fn lock(self) -> S {
        self.store
    }

    /// Writes a new record (a capture): version 1, with no read before the write. Fails with
    /// [`StoreError::Exists`] if the id is taken (ids are 128 random bits: only a caller bug
    /// can collide). Use [`Vault::put`] to edit.
    pub async fn insert(&mut self, record: &AnswerRecord) -> Result<PendingChange, VaultError> {
        record.validate()?;
        self.insert_sealed(&record.id, &record.namespace, &encode_record(record))
            .await
    }

    /// Writes a delivery record (what an agent was given): sealed under the delivery purpose
    /// in the reserved namespace, version 1, synced like an answer. Deliveries are never
    /// edited; [`Vault::delete`] removes one like any entry.
    pub async fn record_delivery(
        &mut self,
        delivery: &DeliveryRecord,
    ) -> Result<PendingChange, VaultError> {
        delivery.validate()?;
        let namespace = crate::record::Namespace::deliveries();
        self.insert_sealed(&delivery.id, &namespace, &encode_delivery(delivery))
            .await
    }

    /// Seals `plaintext` as version 1 of a new entry (the purpose follows from the namespace)
    /// and writes it without reading first.
    async fn insert_sealed(
        &mut self,
        id: &RecordId,
        namespace: &crate::record::Namespace,
        plaintext: &[u8],
    ) -> Result<PendingChange, VaultError> {
        let hlc = self.clock().await?.tick(now_ms());
        let aad = RecordAad::new(namespace, id, 1, &hlc, RecordState::Live);
        let sealed = envelope::seal_record(&self.key, &aad, plaintext)?;
        let (mut batch, change) = commit_batch(
            StoredRecord {
                id: *id,
                namespace: namespace.clone(),
                version: 1,
                hlc,
                deleted: false,
                envelope: Some(sealed.into_bytes()),
            },
            0,
        );
        batch.insert_only = true;
        self.store.write(batch).await?;
        Ok(change)
    }

    /// Writes a proposal record (what an agent proposes to add to the profile): sealed under
    /// the proposal purpose in the reserved namespace, version 1, synced like an answer.
    /// The user's decision is a later version of the same entry.
    pub async fn record_proposal(
        &mut self,
        proposal: &ProposalRecord,
    ) -> Result<PendingChange, VaultError> {
        proposal.validate()?;
        let namespace = crate::record::Namespace::proposals();
        self.insert_sealed(&proposal.id, &namespace, &encode_proposal(proposal))
            .await
    }

    /// Writes (inserts or replaces) a record. Returns its queued change.
    pub async fn put(&mut self, record: &AnswerRecord) -> Result<PendingChange, VaultError> {
        record.validate()?;
        self.put_sealed(&record.id, &record.namespace, &encode_record(record))
            .await
    }

    /// Seals `plaintext` as the next version of the entry `id` (version 1 if there is none)
    /// and writes it. The purpose follows from the namespace.
    async fn put_sealed(
        &mut self,
        id: &RecordId,
        namespace: &crate::record::Namespace,
        plaintext: &[u8],
    ) -> Result<PendingChange, VaultError> {
        let hlc = self.clock().await?.tick(now_ms());
        let vault_key = &self.key;
        // Read the current version, seal and write in one transaction: sealing is synchronous,
        // so it may run inside it, and the version bump cannot race another writer.
        self.store
            .update_record(&id.to_string(), |current| {
                let (version, base) = versions(&id.to_string(), &current)?;
                let aad = RecordAad::new(namespace, id, version, &hlc, RecordState::Live);
                let sealed = envelope::seal_record(vault_key, &aad, plaintext)?;
                Ok(commit_batch(
                    StoredRecord {
                        id: *id,
                        namespace: namespace.clone(),
                        version,
                        hlc,
                        deleted: false,
                        envelope: Some(sealed.into_bytes()),
                    },
                    base,
                ))
            })
            .await
    }

    /// The entry `id` of whatever kind, opened; `None` if there is none (or it was deleted).
    pub async fn entry(&self, id: &RecordId) -> Result<Option<Opened>, VaultError> {
        let key = id.to_string();
        let Some(bytes) = self.store.get_record(&key).await? else {
            return Ok(None);
        };
        self.open_entry(&StoredRecord::decode(&key, &bytes)?)
    }

    /// The proposal `id`, as it stands; `None` if there is none (or it was deleted).
    pub async fn proposal(&self, id: &RecordId) -> Result<Option<ProposalRecord>, VaultError> {
        match self.entry(id).await? {
            None => Ok(None),
            Some(Opened::Proposal(p)) => Ok(Some(p)),
            Some(_) => Err(VaultError::invalid(
                "proposal",
                format!("{id} is not a proposal"),
            )),
        }
    }

    /// The user's decision on a pending proposal ([`crate::proposal`]). Accepting writes the
    /// statement (or the user's edit of it) as a free-text answer filed under the proposing
    /// agent's namespace, with the id [`ProposalRecord::answer_id`], then version 2 of the
    /// proposal with status `accepted`; rejecting writes only version 2 with status
    /// `rejected`. Both sync like any change. Returns the proposal as decided and the answer
    /// an acceptance wrote. A proposal already decided is refused
    /// ([`VaultError::Invalid`] saying so), so a decision is made once.
    pub async fn decide_proposal(
        &mut self,
        id: &RecordId,
        decision: Decision,
    ) -> Result<(ProposalRecord, Option<AnswerRecord>), VaultError> {
        let proposal = self.proposal(id).await?.ok_or_else(|| {
            VaultError::NotFound(format!("proposal {id} (it may have been deleted)"))
        })?;
        let (decided, answer) = proposal.decide(decision, now_ms())?;
        if let Some(answer) = &answer {
            // The answer first: if writing the decision then fails, deciding again writes the
            // same answer id (a new version of it), never a second answer.
            self.put(answer).await?;
        }
        self.put_sealed(
            &decided.id,
            &crate::record::Namespace::proposals(),
            &encode_proposal(&decided),
        )
        .await?;
        Ok((decided, answer))
    }

    /// Deletes a record: it becomes a tombstone that syncs the delete to every device. The
    /// tombstone is sealed under the vault key like a record (an empty plaintext whose
    /// associated data binds the id, namespace, version, clock and the deleted state), so
    /// only a holder of the key can delete.
    pub async fn delete(&mut self, id: &RecordId) -> Result<PendingChange, VaultError> {
        let key = id.to_string();
        let hlc = self.clock().await?.tick(now_ms());
        let vault_key = &self.key;
        self.store
            .update_record(&key, |now| {
                let (_, base) = versions(&key, &now)?;
                let current = match now.record {
                    Some(bytes) => StoredRecord::decode(&key, &bytes)?,
                    None => return Err(VaultError::NotFound(key.clone())),
                };
                if current.deleted {
                    // Already a tombstone: nothing to write.
                    return Ok((Batch::default(), current.change(base)));
                }
                let version = current.version + 1;
                let aad = RecordAad::new(
                    &current.namespace,
                    id,
                    version,
                    &hlc,
                    RecordState::Tombstone,
                );
                let sealed = envelope::seal_record(vault_key, &aad, &[])?;
                Ok(commit_batch(
                    StoredRecord {
                        id: *id,
                        namespace: current.namespace,
                        version,
                        hlc,
                        deleted: true,
                        envelope: Some(sealed.into_bytes()),
                    },
                    base,
                ))
            })
            .await
    }

    /// Reads one answer; `None` if absent, deleted or not an answer.
    pub async fn get(&self, id: &RecordId) -> Result<Option<AnswerRecord>, VaultError> {
        let key = id.to_string();
        match self.store.get_record(&key).await? {
            None => Ok(None),
            Some(bytes) => {
                let stored = StoredRecord::decode(&key, &bytes)?;
                self.open(&stored)
            }
        }
    }

    /// Decrypts a stored answer; `None` for a tombstone. An entry of another kind (a
    /// delivery) is [`VaultError::MalformedRecord`] here: open it with [`Vault::open_entry`].
    pub fn open(&self, stored: &StoredRecord) -> Result<Option<AnswerRecord>, VaultError> {
        match self.open_entry(stored)? {
            None => Ok(None),
            Some(Opened::Answer(record)) => Ok(Some(record)),
            Some(Opened::Delivery(_)) => Err(VaultError::MalformedRecord(
                "this entry is a delivery record, not an answer".into(),
            )),
            Some(Opened::Proposal(_)) => Err(VaultError::MalformedRecord(
                "this entry is a proposal record, not an answer".into(),
            )),
        }
    }

    /// Decrypts a stored entry of any kind; `None` for a tombstone. A format-2 tombstone is
    /// checked against the key like a record; a format-1 tombstone (no envelope) proves
    /// nothing and reads as deleted here, on the device that holds it:
    /// [`Vault::apply_remote`] never takes one from outside. The kind follows from the
    /// namespace, which also picks the envelope's purpose: a delivery opens only as one.
    pub fn open_entry(&self, stored: &StoredRecord) -> Result<Option<Opened>, VaultError> {
        stored.check().map_err(|reason| StoreError::Corrupt {
            key: stored.key(),
            reason,
        })?;
        let Some(bytes) = &stored.envelope else {
            return Ok(None);
        };
        let envelope = Envelope::parse(bytes.clone())?;
        let kind = stored.namespace.kind();
        if kind == EntryKind::Reserved {
            return Err(VaultError::MalformedRecord(format!(
                "namespace `{}` is a kind of entry this version of SelfOS does not know: update SelfOS to read it",
                stored.namespace
            )));
        }
        let plaintext = if envelope.version() == envelope::VERSION {
            if kind != EntryKind::Answer {
                return Err(VaultError::MalformedRecord(
                    "a delivery or proposal is never in format 1".into(),
                ));
            }
            // Format 1: live records only (`check` refused a format-1 envelope marked deleted).
            let aad = LegacyRecordAad::new(&stored.namespace, &stored.id, stored.version);
            self.with_any_key(|key| envelope::open_legacy_record(key, &aad, &envelope))?
        } else {
            let state = RecordState::of_deleted(stored.deleted);
            let aad = RecordAad::new(
                &stored.namespace,
                &stored.id,
                stored.version,
                &stored.hlc,
                state,
            );
            let plaintext = self.with_any_key(|key| envelope::open_record(key, &aad, &envelope))?;
            if stored.deleted {
                if !plaintext.is_empty() {
                    return Err(VaultError::MalformedRecord(
                        "a tombstone's sealed plaintext must be empty".into(),
                    ));
                }
                return Ok(None);
            }
            plaintext
        };
        let differs =
            || VaultError::MalformedRecord("sealed identity differs from the entry's".into());
        if kind == EntryKind::Delivery {
            let delivery = decode_delivery(&plaintext)?;
            if delivery.id != stored.id {
                return Err(differs());
            }
            return Ok(Some(Opened::Delivery(delivery)));
        }
        if kind == EntryKind::Proposal {
            let proposal = decode_proposal(&plaintext)?;
            if proposal.id != stored.id {
                return Err(differs());
            }
            return Ok(Some(Opened::Proposal(proposal)));
        }
        let record = decode_record(&plaintext)?;
        if record.id != stored.id || record.namespace != stored.namespace {
            return Err(differs());
        }
        Ok(Some(Opened::Answer(record)))
    }

    /// `open` under the vault key, else under each key an earlier rotation replaced (newest
    /// first): the first that authenticates wins. Only a failure under every key is one.
    fn with_any_key<T>(
        &self,
        open: impl Fn(&VaultKey) -> Result<T, crate::CryptoError>,
    ) -> Result<T, crate::CryptoError> {
        let first = open(&self.key);
        if first.is_ok() || self.previous.is_empty() {
            return first;
        }
        self.previous
            .iter()
            .map(open)
            .find(Result::is_ok)
            .unwrap_or(first)
    }

    /// The entry in format 2, sealed again with the same identity, version and clock: a
    /// format-1 record is opened and re-sealed; a format-1 tombstone gets a sealed one. For
    /// this device's own unpushed changes only (see `outgoing`): re-sealing vouches for the
    /// entry with the vault key. An entry in format 2 comes back unchanged.
    pub(crate) fn reseal(&self, stored: &StoredRecord) -> Result<StoredRecord, VaultError> {
        if stored.is_authenticated_format() {
            return Ok(stored.clone());
        }
        let plaintext = plaintext_of(self.open_entry(stored)?);
        let state = RecordState::of_deleted(stored.deleted);
        let aad = RecordAad::new(
            &stored.namespace,
            &stored.id,
            stored.version,
            &stored.hlc,
            state,
        );
        let sealed = envelope::seal_record(&self.key, &aad, &plaintext)?;
        Ok(StoredRecord {
            envelope: Some(sealed.into_bytes()),
            ..stored.clone()
        })
    }

    /// Every stored entry, decoded but still sealed, with the entries that failed to decode.
    pub async fn stored_entries(
        &self,
    ) -> Result<(Vec<StoredRecord>, Vec<RecordFailure>), VaultError> {
        Self::scan_entries(&self.store).await
    }

    async fn scan_entries(
        store: &S,
    ) -> Result<(Vec<StoredRecord>, Vec<RecordFailure>), VaultError> {
        let mut entries = Vec::new();
        let mut failures = Vec::new();
        for (key, bytes) in store.scan_records().await? {
            match StoredRecord::decode(&key, &bytes) {
                Ok(s) => entries.push(s),
                Err(e) => failures.push(RecordFailure {
                    key,
                    error: e.into(),
                }),
            }
        }
        Ok((entries, failures))
    }

    /// Decrypts every live record. Damaged entries are listed in `failures`, never fatal.
    pub async fn list(&self) -> Result<Listing, VaultError> {
        let (entries, failures) = self.stored_entries().await?;
        Ok(self.open_all(entries, failures))
    }

    /// Unlocks and lists in one go, for opening a dashboard: the passphrase's key derivation
    /// (WebCrypto in browsers, which runs off the main thread) and the store's scan proceed at
    /// the same time. Same errors as [`Vault::unlock`]; damaged entries are in the listing.
    pub async fn unlock_listing(
        store: S,
        passphrase: &Passphrase,
    ) -> Result<(Self, AuthSecret, Listing), VaultError> {
        let header = Self::read_header(&store).await?;
        let (unlocked, scanned) =
            crate::join::join2(header.unlock(passphrase), Self::scan_entries(&store)).await;
        let unlocked = unlocked?;
        let (entries, failures) = scanned?;
        let vault = Self::opened(store, header, unlocked.vault_key)?;
        let listing = vault.open_all(entries, failures);
        Ok((vault, unlocked.auth_secret, listing))
    }

    fn open_all(&self, entries: Vec<StoredRecord>, mut failures: Vec<RecordFailure>) -> Listing {
        let mut records = Vec::with_capacity(entries.len());
        let mut deliveries = Vec::new();
        let mut proposals = Vec::new();
        for stored in entries {
            match self.open_entry(&stored) {
                Ok(Some(Opened::Answer(r))) => records.push(r),
                Ok(Some(Opened::Delivery(d))) => deliveries.push(d),
                Ok(Some(Opened::Proposal(p))) => proposals.push(p),
                Ok(None) => {}
                Err(error) => failures.push(RecordFailure {
                    key: stored.key(),
                    error,
                }),
            }
        }
        let mut listing = Listing {
            records,
            deliveries,
            proposals,
            failures,
        };
        listing.sort();
        listing
    }

    /// Changes not yet acknowledged by the sync server, oldest first.
    pub async fn pending_changes(&self) -> Result<Vec<PendingChange>, VaultError> {
        let mut out = Vec::new();
        for (key, bytes) in self.store.scan_pending().await? {
            out.push(PendingChange::decode(&key, &bytes)?);
        }
        crate::sort::sort_by_key(&mut out, |c| c.hlc);
        Ok(out)
    }

    /// Marks changes as acknowledged. A record changed again since stays pending.
    pub async fn ack_changes(&mut self, changes: &[PendingChange]) -> Result<(), VaultError> {
        // Persist the clock first: once acked, a change no longer vouches for its timestamp.
        self.persist_clock().await?;
        let acks: Vec<_> = changes
            .iter()
            .map(|c| (c.id.to_string(), c.encode()))
            .collect();
        Ok(self.store.ack_pending(&acks).await?)
    }

    /// Moves the clock past a remote timestamp (before applying a remote change).
    pub(crate) async fn observe_clock(&mut self, remote: Hlc, now: u64) -> Result<(), VaultError> {
        self.clock().await?.observe(remote, now)?;
        Ok(())
    }

    /// Writes the clock's last timestamp, so it stays monotonic across restarts.
    pub async fn persist_clock(&mut self) -> Result<(), VaultError> {
        let last = self.clock().await?.last();
        let batch = Batch {
            meta: vec![(META_CLOCK.into(), last.to_string().into_bytes())],
            ..Batch::default()
        };
        Ok(self.store.write(batch).await?)
    }

    /// Re-wraps the vault key under a new passphrase (fresh salt, given cost). Records are
    /// untouched. Returns the new server secret (the sync server must be told).
    pub async fn change_passphrase(
        &mut self,
        new_passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<AuthSecret, VaultError> {
        let (header, auth) = self
            .header
            .rewrapped(&self.key, new_passphrase, params)
            .await?;
        self.replace_header(header).await?;
        Ok(auth)
    }

    /// Rotates the vault key on a vault without a sync account (with one, use
    /// [`crate::sync::Account::rotate_key`], which tells the server first): checks
    /// `passphrase`, draws a new vault key, wraps it under the same passphrase with a fresh
    /// salt (`params`' cost), keeps the replaced key in the header, and seals every entry
    /// again under the new key ([`Vault::install_rotation`]). Whoever kept the old key (or the
    /// old wrapped key and the passphrase) opens nothing written from now on. Returns what was
    /// re-sealed and the new server secret.
    pub async fn rotate_key(
        &mut self,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<(Rotation, AuthSecret), VaultError> {
        let (header, key, auth, _) = self.rotation(passphrase, params).await?;
        Ok((self.install_rotation(header, key).await?, auth))
    }

    /// The new header, key and server secret of a rotation, not yet written, and the
    /// current server secret: the passphrase is checked against this vault's header first
    /// (a wrong one is [`crate::CryptoError::WrongPassphrase`]).
    pub(crate) async fn rotation(
        &self,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<(VaultHeader, VaultKey, AuthSecret, AuthSecret), VaultError> {
        let unlocked = self.header.unlock(passphrase).await?;
        if unlocked.vault_key.expose() != self.key.expose() {
            return Err(VaultError::invalid(
                "vault key",
                "the key in use is not this vault's: lock and unlock again, then rotate",
            ));
        }
        let key = VaultKey::generate()?;
        let (header, auth) = self
            .header
            .rotated(&self.key, &key, passphrase, params)
            .await?;
        Ok((header, key, auth, unlocked.auth_secret))
    }

    /// Writes a rotation's `header` and seals every entry again under its `key`, as its next
    /// version with a new clock, queued to sync, in one atomic write with the header: a
    /// failure leaves the vault as it was. Tombstones stay tombstones (sealed anew, so they
    /// still prove the delete); format-1 entries come out in format 2; a format-1 tombstone
    /// (which proves nothing) and an entry that opens under no key are left alone. Content
    /// under the vault key ([`envelope::ContentKind`], kept in `meta` on this device only)
    /// is sealed again under the new key in the same write.
    pub(crate) async fn install_rotation(
        &mut self,
        header: VaultHeader,
        key: VaultKey,
    ) -> Result<Rotation, VaultError> {
        self.check_same_vault(&header)?;
        let previous = header.previous_keys(&key)?;
        let (entries, damaged) = self.stored_entries().await?;
        let mut bases = std::collections::HashMap::new();
        for change in self.pending_changes().await? {
            bases.insert(change.id, change.base_version);
        }
        let mut report = Rotation {
            unreadable: damaged.len(),
            ..Rotation::default()
        };
        let mut batch = Batch::default();
        for stored in entries {
            if stored.is_legacy_tombstone() {
                continue;
            }
            let Ok(opened) = self.open_entry(&stored) else {
                report.unreadable += 1;
                continue;
            };
            let hlc = self.clock().await?.tick(now_ms());
            let version = stored.version + 1;
            let state = RecordState::of_deleted(stored.deleted);
            let aad = RecordAad::new(&stored.namespace, &stored.id, version, &hlc, state);
            let sealed = envelope::seal_record(&key, &aad, &plaintext_of(opened))?;
            let base = bases.get(&stored.id).copied().unwrap_or(stored.version);
            let resealed = StoredRecord {
                version,
                hlc,
                envelope: Some(sealed.into_bytes()),
                ..stored
            };
            let (one, _) = commit_batch(resealed, base);
            batch.records.extend(one.records);
            batch.pending.extend(one.pending);
            report.resealed += 1;
        }
        // Content under the vault key (not records, not synced) moves to the new key too.
        for kind in envelope::ContentKind::ALL {
            let Some(bytes) = self.store.get_meta(kind.meta_key()).await? else {
                continue;
            };
            let opened = Envelope::parse(bytes)
                .map_err(VaultError::from)
                .and_then(|env| Ok(self.with_any_key(|k| envelope::open_content(k, kind, &env))?));
            // What does not open (damaged, or an earlier build's form, which the web app
            // converts at unlock, before any rotation) stays as it is.
            if let Ok(plain) = opened {
                let sealed = envelope::seal_content(&key, kind, &plain)?;
                batch
                    .meta
                    .push((kind.meta_key().into(), sealed.into_bytes()));
            }
        }
        batch.meta.push((META_HEADER.into(), header.encode()));
        batch.meta.push((
            META_CLOCK.into(),
            self.clock().await?.last().to_string().into_bytes(),
        ));
        self.store.write(batch).await?;
        self.header = header;
        self.key = key;
        self.previous = previous;
        Ok(report)
    }

    /// Takes `account_header`, the header the sync server holds for this vault, as this
    /// vault's header when it differs from the one here because the passphrase was changed
    /// or the key rotated on another device. Adopted only when it is this vault's (same
    /// vault id), opens with `passphrase`, and keeps the key this vault holds (as its key or
    /// one it replaced): a server that hands out an older header (whose key a thief of the
    /// old passphrase may know) is refused with [`VaultError::HeaderDropsKey`], and nothing
    /// changes. Returns the server secret under the adopted header.
    pub async fn adopt_header(
        &mut self,
        account_header: VaultHeader,
        passphrase: &Passphrase,
    ) -> Result<AuthSecret, VaultError> {
        if account_header.vault_id() != self.header.vault_id() {
            return Err(VaultError::OtherVault);
        }
        let unlocked = account_header.unlock(passphrase).await?;
        if account_header == self.header {
            return Ok(unlocked.auth_secret);
        }
        let previous = account_header.previous_keys(&unlocked.vault_key)?;
        let mine = self.key.expose();
        if unlocked.vault_key.expose() != mine && !previous.iter().any(|k| k.expose() == mine) {
            return Err(VaultError::HeaderDropsKey);
        }
        self.write_header(&account_header).await?;
        self.header = account_header;
        self.key = unlocked.vault_key;
        self.previous = previous;
        Ok(unlocked.auth_secret)
    }

    /// Unlocks the vault in `store` and adopts `account_header` ([`Vault::adopt_header`]):
    /// signing in again on a device after a passphrase change or key rotation elsewhere.
    /// When `passphrase` opens the account's header but not the one here (it was changed
    /// elsewhere while this device was locked), the key here is not known to check the new
    /// header against: that is [`VaultError::ChangedWhileLocked`].
    pub async fn unlock_adopting(
        store: S,
        account_header: VaultHeader,
        passphrase: &Passphrase,
    ) -> Result<(Self, AuthSecret), VaultError> {
        let (mut vault, auth) = match Self::unlock(store, passphrase).await {
            Ok(opened) => opened,
            Err(VaultError::Crypto(crate::CryptoError::WrongPassphrase)) => {
                account_header.unlock(passphrase).await?;
                return Err(VaultError::ChangedWhileLocked);
            }
            Err(e) => return Err(e),
        };
        if vault.header == account_header {
            return Ok((vault, auth));
        }
        let auth = vault.adopt_header(account_header, passphrase).await?;
        Ok((vault, auth))
    }

    /// Writes a header that wraps this vault's key anew (a passphrase change already sealed,
    /// see [`crate::sync::Account::change_passphrase`], which must write exactly the header the
    /// server accepted).
    pub(crate) async fn replace_header(&mut self, header: VaultHeader) -> Result<(), VaultError> {
        self.check_same_vault(&header)?;
        self.write_header(&header).await?;
        self.header = header;
        Ok(())
    }

    /// Only a header of this vault may replace its header: another would lock its key away.
    fn check_same_vault(&self, header: &VaultHeader) -> Result<(), VaultError> {
        if header.vault_id() != self.header.vault_id() {
            return Err(VaultError::invalid(
                "header",
                "it belongs to another vault; only a header of this vault can replace it",
            ));
        }
        Ok(())
    }

    async fn write_header(&self, header: &VaultHeader) -> Result<(), VaultError> {
        let batch = Batch {
            meta: vec![(META_HEADER.into(), header.encode())],
            ..Batch::default()
        };
        Ok(self.store.write(batch).await?)
    }

    /// Undoes [`Vault::change_passphrase`] when the server refused the change: puts back the
    /// header this vault had before (`vault.header().clone()`, taken before the change), so
    /// this device and the server agree again. The very same header, not a re-seal under the
    /// old passphrase: its salt, hence the auth secret the server knows, is unchanged, and
    /// the passphrase policy (for *new* passphrases) does not stand in the way of an old one.
    pub async fn restore_header(&mut self, previous: VaultHeader) -> Result<(), VaultError> {
        self.replace_header(previous).await
    }

    /// Writes already-sealed entries (backup restore), queuing each for sync. A format-1
    /// tombstone is kept (the record stays deleted here) but not queued: nothing proves who
    /// made it, so it is never re-sealed and sent out as this device's delete.
    pub(crate) async fn write_sealed(
        &mut self,
        entries: Vec<StoredRecord>,
    ) -> Result<(), VaultError> {
        let mut batch = Batch::default();
        for stored in entries {
            self.clock().await?.observe(stored.hlc, now_ms())?;
            if !stored.is_legacy_tombstone() {
                batch
                    .pending
                    .push((stored.key(), stored.change(0).encode()));
            }
            batch.records.push((stored.key(), stored.encode()));
        }
        batch.meta.push((
            META_CLOCK.into(),
            self.clock().await?.last().to_string().into_bytes(),
        ));
        Ok(self.store.write(batch).await?)
    }

    /// Erases the whole vault from this store: records, queue, header. Irreversible.
    pub async fn destroy(self) -> Result<S, VaultError> {
        self.store.clear().await?;
        Ok(self.store)
    }
}
