//! The background's logic: the vault, its key for this browser session, the scheduler, the
//! settings and sync, behind one [`Service::handle`] that takes a [`Request`] and gives a
//! [`Reply`]. Written against [`Platform`] so it runs natively in tests (memory store, maps for
//! the browser's storage areas) and in the extension's background on IndexedDB and
//! `storage.session`.
//!
//! Key custody: the unwrapped vault key lives in this process's memory and in
//! `storage.session` (memory-only, cleared when the browser closes, not readable by content
//! scripts), so a service worker that the browser stops and restarts resumes without asking
//! for the passphrase again. Never on disk. Locking (by hand or after the idle timeout) wipes
//! both.

use serde::{Deserialize, Serialize};
use vault_core::cards::belief::Belief;
use vault_core::cards::builtin as builtin_cards;
use vault_core::cards::scheduler::{Decision, Moment, Scheduler, Strategy, WaitHistory};
use vault_core::delivery::{DeliveryMethod, DeliveryRecord};
use vault_core::graph::context::{self, ContextBlock, ContextError};
use vault_core::graph::export::instructions::{self, AgentInstructions};
use vault_core::graph::KnowledgeGraph;
use vault_core::sync::{Account, AccountError, Session, Transport};
use vault_core::{
    AnswerRecord, AuthSecret, CryptoError, KdfParams, Namespace, Opened, Origin, Passphrase,
    RecordFlags, RecordId, Vault, VaultError, VaultKey, VaultStore,
};

use crate::detector::Signal;
use crate::health::{self, HealthBook, Sample};
use crate::protocol::{
    Announcement, CardOffer, NextCard, Page, Reply, Request, SaveAnswer, SiteConfig,
    SiteHealthView, SiteStatus, Status, SyncState, VaultState, CONTEXT_BUDGET,
};
use crate::settings::Settings;
use crate::sites::{self, SiteAdapter};

const DAY_MS: u64 = 86_400_000;

/// The browser storage areas the service keeps things in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Survives restarts, on disk: settings only.
    Local,
    /// Memory only, this browser session: the vault key, the sync session.
    Session,
}

/// What the service needs from where it runs.
#[allow(async_fn_in_trait)]
pub trait Platform {
    type Store: VaultStore;
    type Net: Transport;
    async fn open_store(&self) -> Result<Self::Store, String>;
    async fn load(&self, area: Area, key: &str) -> Option<String>;
    async fn save(&self, area: Area, key: &str, value: Option<String>) -> Result<(), String>;
    fn now_ms(&self) -> u64;
    /// Local time = UTC + this.
    fn utc_offset_minutes(&self) -> i32;
    fn transport(&self, base_url: &str) -> Result<Self::Net, String>;
    /// Arms (or, with `None`, clears) the auto-lock timer.
    fn arm_auto_lock(&self, minutes: Option<u32>);
    /// When the next sync rounds run (browser alarms in the extension).
    fn schedule_sync(&self, when: SyncSchedule);
    /// Tells the card frames in every tab what changed.
    fn announce(&self, announcement: Announcement);
    /// Shows on the toolbar button whether the vault is locked (a badge), so a locked vault
    /// is never a silent stop of capture.
    fn show_locked(&self, locked: bool);
}

/// When sync runs in the background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncSchedule {
    /// Every few minutes while unlocked and signed in (set at unlock and sign-in).
    Periodic,
    /// Once, shortly: an answer was captured. Repeated captures push the round back, so a
    /// burst of answers travels in one round.
    Soon,
    /// Never: locked or signed out.
    Off,
}

const KEY_SETTINGS: &str = "settings";
const KEY_WAITS: &str = "waits";
/// Per-site health samples ([`crate::health`]): local only, never synced.
const KEY_HEALTH: &str = "site_health";
const KEY_VAULT_KEY: &str = "vault_key";
const KEY_SESSION: &str = "sync_session";
/// The sync server secret (derived from the passphrase at unlock), so a restarted background
/// can log in again after a 401 without asking for the passphrase. Session area only.
const KEY_AUTH: &str = "sync_auth";
/// How this device appears in the account's device list.
const DEVICE: &str = "extension";
const KEY_SYNC_STATE: &str = "sync_state";

/// An error a user can act on, with a stable code for the UI.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
}

impl Failure {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    fn locked() -> Self {
        Failure::new(
            "locked",
            "The vault is locked: unlock it from the SelfOS toolbar button.",
        )
    }
}

impl From<VaultError> for Failure {
    fn from(e: VaultError) -> Self {
        let code = match e {
            VaultError::Crypto(CryptoError::WrongPassphrase) => "wrong_passphrase",
            VaultError::Invalid { .. } => "invalid",
            VaultError::WeakPassphrase(_) => "weak_passphrase",
            VaultError::NoVault => "no_vault",
            _ => "vault",
        };
        Failure::new(code, e.to_string())
    }
}

impl From<vault_core::sync::SyncError> for Failure {
    fn from(e: vault_core::sync::SyncError) -> Self {
        let code = if e.is_retryable() { "offline" } else { "sync" };
        Failure::new(code, e.to_string())
    }
}

impl From<AccountError> for Failure {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Sync(vault_core::sync::SyncError::Vault(v)) => v.into(),
            AccountError::Sync(s) => s.into(),
            AccountError::SignedOut => Failure::new("no_session", "Unlock the vault to sync."),
            AccountError::CredentialsChanged => Failure::new(
                "credentials_changed",
                "The sync server no longer takes this browser's sign-in: the passphrase was changed, or the vault key rotated, on another device. Open Options and sign in again with your current passphrase; nothing here is lost.",
            ),
            other => Failure::new("sync", other.to_string()),
        }
    }
}

type Result<T, E = Failure> = std::result::Result<T, E>;

pub struct Service<P: Platform> {
    platform: P,
    vault: Option<Vault<P::Store>>,
    /// Every decrypted answer, kept while unlocked (the scheduler reads it on every card).
    history: Vec<AnswerRecord>,
    /// Proposals from AI agents (`selfos mcp`) waiting for the user's decision in the web app.
    proposals_pending: u32,
}

impl<P: Platform> Service<P> {
    pub fn new(platform: P) -> Self {
        Service {
            platform,
            vault: None,
            history: Vec::new(),
            proposals_pending: 0,
        }
    }

    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// Handles one request from `page`: refused unless that page may send it
    /// ([`Request::allowed_from`]).
    pub async fn handle_from(&mut self, page: Page, request: Request) -> Reply {
        if !request.allowed_from(page) {
            return Reply::err(
                "forbidden",
                "The card may not ask for that: use the SelfOS toolbar button or Options.",
            );
        }
        self.handle(request).await
    }

    /// Handles one card request relayed by the content script of a tab at `tab_origin`: a
    /// card's requests only, and only for that tab's own site, by origin and by agent (a page
    /// cannot save answers, record deliveries or read context in another site's name).
    pub async fn handle_from_tab(&mut self, tab_origin: &str, request: Request) -> Reply {
        let forbidden = || Reply::err("forbidden", "A tab may only speak for its own site.");
        if request.origin().is_some_and(|o| o != tab_origin) {
            return forbidden();
        }
        if let Some(agent) = request.agent() {
            let own = self.site(tab_origin).await.map(|s| s.adapter.id);
            if own.as_deref() != Some(agent) {
                return forbidden();
            }
        }
        self.handle_from(Page::Card, request).await
    }

    /// Handles one request; every failure becomes a [`Reply`] with a code and a message.
    pub async fn handle(&mut self, request: Request) -> Reply {
        let touches_vault = !matches!(
            request,
            Request::Status | Request::Lock | Request::Site { .. } | Request::GetSettings
        );
        let outcome = self.dispatch(request).await;
        if touches_vault && self.vault.is_some() {
            let minutes = self.settings().await.auto_lock_minutes;
            self.platform
                .arm_auto_lock((minutes > 0).then_some(minutes));
        }
        match outcome {
            Ok(v) => Reply {
                ok: true,
                data: Some(v),
                error: None,
            },
            Err(f) => Reply::err(f.code, f.message),
        }
    }

    async fn dispatch(&mut self, request: Request) -> Result<serde_json::Value> {
        fn json<T: Serialize>(v: T) -> Result<serde_json::Value> {
            serde_json::to_value(v).map_err(|e| Failure::new("internal", e.to_string()))
        }
        match request {
            Request::Status => json(self.status().await?),
            Request::Create { passphrase } => json(self.create(&passphrase).await?),
            Request::Unlock { passphrase } => json(self.unlock(&passphrase).await?),
            Request::Lock => json(self.lock().await?),
            Request::Site { origin } => json(self.site(&origin).await),
            Request::NextCard { agent, origin } => json(self.next_card(&agent, &origin).await?),
            Request::Save(answer) => json(self.save(answer).await?),
            Request::Generated {
                agent,
                ms,
                signal,
                own_answers,
            } => json(self.generated(&agent, ms, signal, own_answers).await?),
            Request::SiteHealth => json(self.site_health().await),
            Request::GetSettings => json(self.settings().await),
            Request::SetSettings { settings } => json(self.set_settings(settings).await?),
            Request::AddSite {
                origin,
                name,
                selectors,
            } => {
                let site = SiteAdapter::custom(&origin, &name, selectors)
                    .map_err(|e| Failure::new("invalid", e.to_string()))?;
                let mut s = self.settings().await;
                s.custom_sites.retain(|c| c.id != site.id);
                s.custom_sites.push(site.clone());
                self.set_settings(s).await?;
                json(site)
            }
            Request::RemoveSite { id } => {
                let mut s = self.settings().await;
                s.custom_sites.retain(|c| c.id != id);
                s.paused_sites.retain(|p| *p != id);
                json(self.set_settings(s).await?)
            }
            Request::PauseSite { id, paused } => {
                let mut s = self.settings().await;
                s.paused_sites.retain(|p| *p != id);
                if paused {
                    s.paused_sites.push(id);
                }
                json(self.set_settings(s).await?)
            }
            Request::SignIn {
                server,
                username,
                passphrase,
                create,
            } => json(
                self.sign_in(&server, &username, &passphrase, create)
                    .await?,
            ),
            Request::SignOut => {
                if let Ok(mut account) = self.account(None).await {
                    // Ends the session on the server too; offline, it lapses on its own.
                    let _ = account.sign_out().await;
                }
                self.forget_account().await?;
                self.platform.schedule_sync(SyncSchedule::Off);
                let mut s = self.settings().await;
                s.username = None;
                json(self.set_settings(s).await?)
            }
            Request::SyncNow => json(self.sync_now().await?),
            Request::Context { agent, budget } => json(self.context(&agent, budget).await?),
            Request::Forget { records } => json(self.forget(&records).await?),
            Request::Delivered {
                agent,
                copied,
                auto,
                field: Some(field),
            } => {
                if auto {
                    return Err(Failure::new(
                        "invalid",
                        "a settings field is never filled by itself",
                    ));
                }
                let method = if copied {
                    DeliveryMethod::Copied
                } else {
                    DeliveryMethod::Filled
                };
                json(self.field_delivered(&agent, &field, method).await?)
            }
            Request::Delivered {
                agent,
                copied,
                auto,
                field: None,
            } => {
                let method = match (auto, copied) {
                    (_, true) => DeliveryMethod::Copied,
                    (true, false) => DeliveryMethod::AutoInserted,
                    (false, false) => DeliveryMethod::Inserted,
                };
                json(self.delivered(&agent, method).await?)
            }
            Request::Instructions { agent } => json(self.instructions(&agent).await?),
            Request::NewChatContext { agent, origin } => {
                json(self.new_chat_context(&agent, &origin).await)
            }
            Request::SetNewChatContext { agent, on } => {
                let mut s = self.settings().await;
                s.new_chat_context.retain(|a| *a != agent);
                if on {
                    s.new_chat_context.push(agent);
                }
                json(self.set_settings(s).await?)
            }
            Request::Withdraw { delivery } => {
                let id = RecordId::parse(&delivery).map_err(|_| {
                    Failure::new("invalid", format!("`{delivery}` is not a record id"))
                })?;
                let vault = self.vault().await?;
                if !matches!(vault.entry(&id).await?, Some(Opened::Delivery(_))) {
                    return Err(Failure::new(
                        "invalid",
                        format!("`{delivery}` is not a delivery record"),
                    ));
                }
                json(self.forget(&[delivery]).await?)
            }
            Request::Deliveries => {
                let mut list = self.vault().await?.list().await?.deliveries;
                list.sort_by_key(|d| std::cmp::Reverse(d.delivered_at_ms));
                json(list)
            }
        }
    }

    /// The vault, resumed from this session's key if the background restarted.
    async fn vault(&mut self) -> Result<&mut Vault<P::Store>> {
        if self.vault.is_none() {
            let Some(hex_key) = self.platform.load(Area::Session, KEY_VAULT_KEY).await else {
                return Err(Failure::locked());
            };
            let bytes = hex::decode(hex_key).map_err(|_| Failure::locked())?;
            let key = VaultKey::from_dangerous_bytes(&bytes).map_err(|_| Failure::locked())?;
            let store = self.platform.open_store().await.map_err(storage)?;
            let vault = Vault::resume(store, key).await.map_err(|e| match e {
                // Rotated since (another window signed in again): unlock anew.
                VaultError::StaleKey => Failure::locked(),
                e => e.into(),
            })?;
            let listing = vault.list().await?;
            self.remember(listing);
            self.vault = Some(vault);
        }
        self.vault.as_mut().ok_or_else(Failure::locked)
    }

    async fn vault_state(&mut self) -> Result<VaultState> {
        if self.vault().await.is_ok() {
            return Ok(VaultState::Unlocked);
        }
        let store = self.platform.open_store().await.map_err(storage)?;
        Ok(
            match store
                .get_meta(vault_core::store::META_HEADER)
                .await
                .map_err(VaultError::from)?
            {
                Some(_) => VaultState::Locked,
                None => VaultState::Absent,
            },
        )
    }

    async fn status(&mut self) -> Result<Status> {
        let vault = self.vault_state().await?;
        let settings = self.settings().await;
        let now = self.platform.now_ms();
        let today = self.day_of(now);
        let answered_today = self
            .history
            .iter()
            .filter(|r| self.day_of(r.captured_at_ms) == today)
            .count() as u32;
        let pending = match self.vault.as_ref() {
            Some(v) => v.pending_changes().await.map(|p| p.len()).unwrap_or(0) as u32,
            None => 0,
        };
        let mut sync: SyncState = self.load_json(Area::Local, KEY_SYNC_STATE).await;
        sync.pending = pending;
        let session: Option<Session> = self.load_json(Area::Session, KEY_SESSION).await;
        let builtin = sites::builtin().len();
        let sites = sites::all(&settings.custom_sites)
            .enumerate()
            .map(|(i, a)| (a, i >= builtin))
            .map(|(a, custom)| SiteStatus {
                paused: settings.paused_sites.contains(&a.id),
                id: a.id,
                name: a.name,
                custom,
            })
            .collect();
        Ok(Status {
            vault,
            answered_today,
            daily_cap: settings.daily_cap,
            records: self.history.len() as u32,
            account: settings
                .username
                .clone()
                .filter(|_| session.is_some() || settings.server_url.is_some()),
            sync,
            sites,
            paused_until_ms: settings.paused_until_ms.filter(|t| *t > now),
            proposals_pending: self.proposals_pending,
        })
    }

    /// Keeps what a fresh listing of the vault says: the answers, and how many proposals wait.
    fn remember(&mut self, listing: vault_core::vault::Listing) {
        self.proposals_pending =
            u32::try_from(vault_core::proposal::pending_count(&listing.proposals))
                .unwrap_or(u32::MAX);
        self.history = listing.records;
    }

    fn day_of(&self, t_ms: u64) -> i64 {
        let local = t_ms as i64 + i64::from(self.platform.utc_offset_minutes()) * 60_000;
        local.div_euclid(DAY_MS as i64)
    }

    async fn create(&mut self, passphrase: &str) -> Result<VaultState> {
        // The one policy (vault-core), checked before the store is opened.
        vault_core::crypto::passphrase::check(passphrase).map_err(VaultError::from)?;
        let store = self.platform.open_store().await.map_err(storage)?;
        let params = KdfParams::generate().map_err(VaultError::from)?;
        let (vault, _auth) = Vault::create(store, &Passphrase::new(passphrase), params).await?;
        self.install(vault).await?;
        Ok(VaultState::Unlocked)
    }

    async fn unlock(&mut self, passphrase: &str) -> Result<VaultState> {
        let store = self.platform.open_store().await.map_err(storage)?;
        let pass = Passphrase::new(passphrase);
        let (vault, auth) = Vault::unlock(store, &pass).await?;
        self.install(vault).await?;
        // Signed in before? Renew the sync session with the same passphrase-derived secret
        // (offline, the next sync round logs in with it).
        if let Ok(mut account) = self.account(Some(auth)).await {
            let _ = account.login_again().await;
            self.keep_account(&account).await?;
        }
        Ok(VaultState::Unlocked)
    }

    async fn install(&mut self, vault: Vault<P::Store>) -> Result<()> {
        // The raw key in `storage.session` (memory only), so a restarted service worker resumes:
        // the one holder `to_dangerous_bytes` exists for.
        let key = hex::encode(*vault.session_key().to_dangerous_bytes());
        self.platform
            .save(Area::Session, KEY_VAULT_KEY, Some(key))
            .await
            .map_err(storage)?;
        let listing = vault.list().await?;
        self.remember(listing);
        self.vault = Some(vault);
        if self.settings().await.server_url.is_some() {
            self.platform.schedule_sync(SyncSchedule::Periodic);
        }
        // Tabs opened while locked get their card without a reload.
        self.platform.announce(Announcement::VaultUnlocked);
        self.platform.show_locked(false);
        Ok(())
    }

    async fn lock(&mut self) -> Result<VaultState> {
        self.platform
            .save(Area::Session, KEY_VAULT_KEY, None)
            .await
            .map_err(storage)?;
        self.platform
            .save(Area::Session, KEY_AUTH, None)
            .await
            .map_err(storage)?;
        self.platform.arm_auto_lock(None);
        self.platform.schedule_sync(SyncSchedule::Off);
        self.vault = None;
        self.history.clear();
        self.proposals_pending = 0;
        // Cards fetched while unlocked must not show now: a locked vault shows no cards.
        self.platform.announce(Announcement::VaultLocked);
        self.platform.show_locked(true);
        self.vault_state().await
    }

    /// Puts the toolbar badge in step with the vault when the background starts: a browser
    /// restart forgets the badge and the key alike, and a restarted service worker may find the
    /// key rotated away. No vault yet: no badge (the popup says what to do first).
    pub async fn refresh_badge(&mut self) {
        if let Ok(state) = self.vault_state().await {
            self.platform.show_locked(state == VaultState::Locked);
        }
    }

    async fn site(&mut self, origin: &str) -> Option<SiteConfig> {
        let settings = self.settings().await;
        let adapter = sites::for_origin(&settings.custom_sites, &settings.site_overrides, origin)?;
        Some(SiteConfig {
            enabled: !settings.paused_sites.contains(&adapter.id),
            adapter,
        })
    }

    async fn next_card(&mut self, agent: &str, origin: &str) -> Result<NextCard> {
        let settings = self.settings().await;
        let Some(site) =
            sites::for_origin(&settings.custom_sites, &settings.site_overrides, origin)
        else {
            return Ok(NextCard::None {
                reason: "not a supported site".into(),
            });
        };
        if site.id != agent {
            return Err(Failure::new(
                "invalid",
                "agent does not match the page's site",
            ));
        }
        if self.vault().await.is_err() {
            return Ok(NextCard::None {
                reason: "locked".into(),
            });
        }
        let now = self.platform.now_ms();
        let lib = builtin_cards();
        let waits = self.waits().await;
        let limits = settings.limits(self.platform.utc_offset_minutes());
        let belief = Belief::from_history(lib, &self.history, now);
        let scheduler = Scheduler {
            lib,
            history: &self.history,
            belief: &belief,
            limits: &limits,
            waits: &waits,
        };
        let moment = Moment {
            now_ms: now,
            agent,
            agent_name: &site.name,
            elapsed_ms: settings.min_wait_ms,
            topic: None,
        };
        let seed = now ^ self.history.len() as u64;
        Ok(
            match scheduler.next_card(&moment, Strategy::Adaptive, seed) {
                Decision::Skip(why) => NextCard::None {
                    reason: format!("{why:?}"),
                },
                Decision::Show(choice) => {
                    let card = lib.card(&choice.card_id).ok_or_else(|| {
                        Failure::new("internal", "scheduler chose an unknown card")
                    })?;
                    NextCard::Card(CardOffer {
                        id: card.id.clone(),
                        version: card.version,
                        card_type: card.kind.into(),
                        text: choice.text,
                        options: card.options.clone(),
                        scale: card.scale.clone(),
                        delay_ms: settings.min_wait_ms,
                    })
                }
            },
        )
    }

    async fn save(&mut self, a: SaveAnswer) -> Result<String> {
        let now = self.platform.now_ms();
        let namespace = Namespace::new(a.agent.as_str()).map_err(Failure::from)?;
        let origin = Origin::from_url(&a.origin).map_err(Failure::from)?;
        let dismissed = matches!(a.answer, vault_core::Answer::Dismissed);
        let record = AnswerRecord {
            id: RecordId::generate().map_err(VaultError::from)?,
            prompt_id: a.card_id,
            prompt_version: a.card_version,
            card_type: a.card_type,
            answer: a.answer,
            namespace,
            origin: Some(origin),
            page_context: None,
            captured_at_ms: now,
            answer_latency_ms: a.answer_latency_ms,
            wait_duration_ms: a.wait_duration_ms,
            flags: RecordFlags {
                retry_after_ai_failure: a.retry_after_ai_failure,
                dismissed,
            },
        };
        record.validate()?;
        let vault = self.vault().await?;
        vault.insert(&record).await?;
        let id = record.id.to_string();
        self.history.push(record);
        if self.settings().await.server_url.is_some() {
            self.platform.schedule_sync(SyncSchedule::Soon);
        }
        Ok(id)
    }

    async fn generated(
        &mut self,
        agent: &str,
        ms: f64,
        signal: Option<Signal>,
        own_answers: Option<bool>,
    ) -> Result<()> {
        let mut waits = self.waits().await;
        waits
            .record(agent, ms / 1000.0)
            .map_err(|e| Failure::new("invalid", e.to_string()))?;
        self.save_json(Area::Local, KEY_WAITS, &waits).await?;
        let Some(signal) = signal else {
            return Ok(());
        };
        // Only sites SelfOS runs on get a record: the id comes from a page message.
        let settings = self.settings().await;
        let known = sites::all(&settings.custom_sites).any(|a| a.id == agent);
        if !known {
            return Err(Failure::new(
                "invalid",
                format!("`{agent}` is not a site SelfOS runs on"),
            ));
        }
        let mut book: HealthBook = self.load_json(Area::Local, KEY_HEALTH).await;
        book.entry(agent.to_owned()).or_default().record(Sample {
            at_ms: self.platform.now_ms(),
            control: signal == Signal::Control,
            own_answers: own_answers.unwrap_or(true),
        });
        self.save_json(Area::Local, KEY_HEALTH, &book).await
    }

    /// Every site SelfOS runs on, with how well it was read lately (local samples only).
    async fn site_health(&self) -> Vec<SiteHealthView> {
        let settings = self.settings().await;
        let book: HealthBook = self.load_json(Area::Local, KEY_HEALTH).await;
        sites::all(&settings.custom_sites)
            .map(|site| {
                let h = book.get(&site.id).cloned().unwrap_or_default();
                let verdict = h.verdict();
                SiteHealthView {
                    message: health::message(verdict, &site.name),
                    samples: h.recent.len() as u32,
                    by_control: h.by_control() as u32,
                    overridden: settings.site_overrides.contains_key(&site.id),
                    verdict,
                    id: site.id,
                    name: site.name,
                }
            })
            .collect()
    }

    /// Per-agent generation times, persisted so the scheduler's time budget survives restarts.
    async fn waits(&self) -> WaitHistory {
        self.load_json(Area::Local, KEY_WAITS).await
    }

    pub async fn settings(&self) -> Settings {
        self.load_json(Area::Local, KEY_SETTINGS).await
    }

    async fn set_settings(&mut self, settings: Settings) -> Result<Settings> {
        settings
            .validate()
            .map_err(|e| Failure::new("invalid", e.to_string()))?;
        self.save_json(Area::Local, KEY_SETTINGS, &settings).await?;
        Ok(settings)
    }

    async fn sign_in(
        &mut self,
        server: &str,
        username: &str,
        passphrase: &str,
        create: bool,
    ) -> Result<String> {
        let net = self
            .platform
            .transport(server)
            .map_err(|e| Failure::new("invalid", e))?;
        let mut account = Account::new(net, username, DEVICE);
        let pass = Passphrase::new(passphrase);
        let state = self.vault_state().await?;
        if create {
            // A new account from this device's vault.
            if state == VaultState::Absent {
                self.create(passphrase).await?;
            }
            let store = self.platform.open_store().await.map_err(storage)?;
            let (vault, auth) = Vault::unlock(store, &pass).await?;
            account.register(&vault, auth).await?;
            self.install(vault).await?;
        } else if state == VaultState::Absent {
            // A new device of an existing account: join its vault.
            let store = self.platform.open_store().await.map_err(storage)?;
            let vault = account.join(store, &pass).await?;
            self.install(vault).await?;
        } else {
            // The account's header replaces this browser's when the passphrase was changed
            // or the key rotated on another device (and keeps this browser's key).
            // An unlocked vault checks the new header against the key it holds, so a
            // passphrase changed elsewhere is taken without the previous one.
            let header = account.login_with_passphrase(&pass).await?;
            let other = |e: VaultError| {
                match e {
                VaultError::OtherVault => Failure::new(
                    "other_vault",
                    "This account holds a different vault than this browser. Export a backup, then remove the extension's data to join the account's vault.",
                ),
                e => e.into(),
            }
            };
            let vault = match self.vault.take() {
                Some(mut vault) => match vault.adopt_header(header, &pass).await {
                    Ok(_) => vault,
                    Err(e) => {
                        self.vault = Some(vault);
                        return Err(other(e));
                    }
                },
                None => {
                    let store = self.platform.open_store().await.map_err(storage)?;
                    Vault::unlock_adopting(store, header, &pass)
                        .await
                        .map_err(other)?
                        .0
                }
            };
            self.install(vault).await?;
        }
        self.keep_account(&account).await?;
        let mut s = self.settings().await;
        s.server_url = Some(
            vault_core::sync::transport::normalize_base_url(server)
                .map_err(|e| Failure::new("invalid", e))?,
        );
        s.username = Some(username.to_owned());
        self.set_settings(s).await?;
        self.platform.schedule_sync(SyncSchedule::Periodic);
        let _ = self.sync_now().await;
        Ok(username.to_owned())
    }

    /// The signed-in account, with the session and secret this browser session keeps
    /// (`auth` replaces the kept secret: a fresh unlock).
    async fn account(&self, auth: Option<AuthSecret>) -> Result<Account<P::Net>> {
        let settings = self.settings().await;
        let (Some(server), Some(username)) = (settings.server_url, settings.username) else {
            return Err(Failure::new(
                "no_account",
                "Sign in to a sync server in Options first.",
            ));
        };
        let net = self
            .platform
            .transport(&server)
            .map_err(|e| Failure::new("invalid", e))?;
        let session: Option<Session> = self.load_json(Area::Session, KEY_SESSION).await;
        let auth = match auth {
            Some(a) => Some(a),
            None => self
                .platform
                .load(Area::Session, KEY_AUTH)
                .await
                .and_then(|c| AuthSecret::from_credential(&c)),
        };
        let account = Account::new(net, &username, DEVICE).with_session(session);
        Ok(match auth {
            Some(a) => account.with_auth(a),
            None => account,
        })
    }

    /// Keeps the account's session and secret for this browser session (memory only), or
    /// removes what it no longer has.
    async fn keep_account(&self, account: &Account<P::Net>) -> Result<()> {
        match account.session() {
            Some(session) => self.save_json(Area::Session, KEY_SESSION, session).await?,
            None => self
                .platform
                .save(Area::Session, KEY_SESSION, None)
                .await
                .map_err(storage)?,
        }
        self.platform
            .save(
                Area::Session,
                KEY_AUTH,
                account.auth().map(AuthSecret::to_credential),
            )
            .await
            .map_err(storage)
    }

    async fn forget_account(&self) -> Result<()> {
        for key in [KEY_SESSION, KEY_AUTH] {
            self.platform
                .save(Area::Session, key, None)
                .await
                .map_err(storage)?;
        }
        Ok(())
    }

    /// One sync round; its outcome is kept for the popup either way.
    pub async fn sync_now(&mut self) -> Result<SyncState> {
        let outcome = self.sync_round().await;
        let mut state: SyncState = self.load_json(Area::Local, KEY_SYNC_STATE).await;
        match &outcome {
            Ok(()) => {
                state.last_ok_ms = Some(self.platform.now_ms());
                state.last_error = None;
            }
            Err(f) => state.last_error = Some(f.message.clone()),
        }
        self.save_json(Area::Local, KEY_SYNC_STATE, &state).await?;
        outcome.map(|()| state)
    }

    async fn sync_round(&mut self) -> Result<()> {
        let mut account = self.account(None).await?;
        let vault = self.vault().await?;
        let report = account.sync(vault).await;
        // Whatever happened, keep what the account now holds (a new session after a 401,
        // or none when the server refused it).
        self.keep_account(&account).await?;
        report?;
        let vault = self.vault().await?;
        let listing = vault.list().await?;
        self.remember(listing);
        Ok(())
    }

    /// The block to hand `agent`: the one writer over the profile as of now.
    async fn context(&mut self, agent: &str, budget: Option<u32>) -> Result<ContextBlock> {
        self.vault().await?;
        let lib = builtin_cards();
        let kg = KnowledgeGraph::build(lib, &self.history, self.platform.now_ms());
        let budget = budget.unwrap_or(CONTEXT_BUDGET).clamp(1, 100_000) as usize;
        context::block(&kg, lib, agent, budget).map_err(|e| {
            let code = match e {
                ContextError::BadAgent(_) => "invalid",
                ContextError::NothingKnown(_) => "nothing_known",
                ContextError::BudgetTooSmall { .. } => "budget",
            };
            Failure::new(code, e.to_string())
        })
    }

    /// Keeps the record of a block handed to `agent` (the block as the one writer writes it
    /// now: the same the frame was just given), and syncs it soon. Returns the record's id
    /// (a new chat's context that the user removes at once is deleted again by it).
    async fn delivered(&mut self, agent: &str, method: DeliveryMethod) -> Result<String> {
        let block = self.context(agent, None).await?;
        let record = DeliveryRecord::of_block(&block, method, self.platform.now_ms(), None)?;
        self.vault().await?.record_delivery(&record).await?;
        if self.settings().await.server_url.is_some() {
            self.platform.schedule_sync(SyncSchedule::Soon);
        }
        Ok(record.id.to_string())
    }

    /// `agent`'s settings fields as the one writer fills them now (the same the web app's
    /// export shows), with the link that opens them.
    async fn instructions(&mut self, agent: &str) -> Result<AgentInstructions> {
        self.vault().await?;
        let lib = builtin_cards();
        let kg = KnowledgeGraph::build(lib, &self.history, self.platform.now_ms());
        let a = instructions::for_agent(&kg, lib, agent)
            .map_err(|e| Failure::new("invalid", e.to_string()))?;
        if a.included.is_empty() {
            return Err(Failure::new(
                "nothing_known",
                format!("SelfOS knows nothing to tell {} yet.", a.name),
            ));
        }
        Ok(a)
    }

    /// Keeps the record of one settings field handed to `agent` (copied from the popup or
    /// filled into the settings page): that field's text and facts as the writer fills it
    /// now, which is what the popup showed unless an answer arrived in between. An unknown
    /// field is refused, not recorded.
    async fn field_delivered(
        &mut self,
        agent: &str,
        field: &str,
        method: DeliveryMethod,
    ) -> Result<String> {
        let record = self
            .instructions(agent)
            .await?
            .field_delivery(field, method)?;
        self.vault().await?.record_delivery(&record).await?;
        if self.settings().await.server_url.is_some() {
            self.platform.schedule_sync(SyncSchedule::Soon);
        }
        Ok(record.id.to_string())
    }

    /// The block a new chat on `origin` starts with, if the user consented for `agent` and
    /// nothing stops it: the site off or paused, a global pause, a locked vault, nothing known.
    async fn new_chat_context(&mut self, agent: &str, origin: &str) -> Option<ContextBlock> {
        let s = self.settings().await;
        let now = self.platform.now_ms();
        if !s.new_chat_context.iter().any(|a| a == agent)
            || s.paused_until_ms.is_some_and(|t| t > now)
        {
            return None;
        }
        let site = self.site(origin).await?;
        if !site.enabled || site.adapter.id != agent {
            return None;
        }
        // Never unlocks: a locked vault (no session key) starts no chat with context.
        self.context(agent, None).await.ok()
    }

    /// Deletes answers (tombstones that sync); returns how many were deleted.
    async fn forget(&mut self, records: &[String]) -> Result<u32> {
        let ids = records
            .iter()
            .map(|r| {
                RecordId::parse(r)
                    .map_err(|_| Failure::new("invalid", format!("`{r}` is not a record id")))
            })
            .collect::<Result<Vec<_>>>()?;
        let vault = self.vault().await?;
        let mut deleted = 0;
        for id in &ids {
            match vault.delete(id).await {
                Ok(_) => deleted += 1,
                Err(VaultError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let listing = vault.list().await?;
        self.remember(listing);
        if deleted > 0 && self.settings().await.server_url.is_some() {
            self.platform.schedule_sync(SyncSchedule::Soon);
        }
        Ok(deleted)
    }

    /// Wipes the key (auto-lock timer fired).
    pub async fn auto_lock(&mut self) {
        let _ = self.lock().await;
    }

    /// The computer locked (the browser's `idle` state `locked`): wipes the key if the user
    /// chose to lock with the computer and the vault is open.
    pub async fn system_locked(&mut self) {
        if !self.settings().await.lock_on_system_lock {
            return;
        }
        if matches!(self.vault_state().await, Ok(VaultState::Unlocked)) {
            let _ = self.lock().await;
        }
    }

    async fn load_json<T: for<'de> Deserialize<'de> + Default>(&self, area: Area, key: &str) -> T {
        self.platform
            .load(area, key)
            .await
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    }

    async fn save_json<T: Serialize>(&self, area: Area, key: &str, v: &T) -> Result<()> {
        let s = serde_json::to_string(v).map_err(|e| Failure::new("internal", e.to_string()))?;
        self.platform
            .save(area, key, Some(s))
            .await
            .map_err(storage)
    }
}

fn storage(e: String) -> Failure {
    Failure::new("storage", format!("The browser's storage failed: {e}"))
}
