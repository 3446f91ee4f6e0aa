//! The background's logic, natively: a memory store and maps stand in for IndexedDB and the
//! browser's storage areas; the network is dead (sync must fail cleanly and lose nothing).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use selfos_extension::protocol::{Announcement, Page, Request, SaveAnswer, Status, VaultState};
use selfos_extension::service::{Area, Platform, Service, SyncSchedule};
use selfos_extension::settings::Settings;
use vault_core::graph::export::AgentInstructions;
use vault_core::store::block_on as run;
use vault_core::sync::{HttpRequest, HttpResponse, Transport};
use vault_core::{Answer, CardType, MemoryStore};

const PASS: &str = "correct horse battery staple";

#[derive(Default)]
struct Fake {
    store: MemoryStore,
    local: RefCell<HashMap<String, String>>,
    session: RefCell<HashMap<String, String>>,
    now: Cell<u64>,
    auto_lock: Cell<Option<u32>>,
    sync_schedule: Cell<Option<SyncSchedule>>,
    announced: RefCell<Vec<Announcement>>,
    /// The toolbar badge: `Some(true)` says locked.
    badge_locked: Cell<Option<bool>>,
}

struct DeadNetwork;

impl Transport for DeadNetwork {
    async fn send(&self, _: HttpRequest) -> Result<HttpResponse, String> {
        Err("connection refused".into())
    }
}

impl Platform for &Fake {
    type Store = MemoryStore;
    type Net = DeadNetwork;
    async fn open_store(&self) -> Result<MemoryStore, String> {
        Ok(self.store.clone())
    }
    async fn load(&self, area: Area, key: &str) -> Option<String> {
        self.area(area).borrow().get(key).cloned()
    }
    async fn save(&self, area: Area, key: &str, value: Option<String>) -> Result<(), String> {
        let mut map = self.area(area).borrow_mut();
        match value {
            Some(v) => map.insert(key.to_owned(), v),
            None => map.remove(key),
        };
        Ok(())
    }
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
    fn utc_offset_minutes(&self) -> i32 {
        0
    }
    fn transport(&self, _: &str) -> Result<DeadNetwork, String> {
        Ok(DeadNetwork)
    }
    fn arm_auto_lock(&self, minutes: Option<u32>) {
        self.auto_lock.set(minutes);
    }
    fn schedule_sync(&self, when: SyncSchedule) {
        self.sync_schedule.set(Some(when));
    }
    fn announce(&self, announcement: Announcement) {
        self.announced.borrow_mut().push(announcement);
    }
    fn show_locked(&self, locked: bool) {
        self.badge_locked.set(Some(locked));
    }
}

impl Fake {
    fn new() -> Self {
        let f = Fake::default();
        f.now.set(1_764_000_000_000);
        f
    }
    fn area(&self, area: Area) -> &RefCell<HashMap<String, String>> {
        match area {
            Area::Local => &self.local,
            Area::Session => &self.session,
        }
    }
}

fn call<P: Platform>(s: &mut Service<P>, r: Request) -> Result<serde_json::Value, String> {
    let reply = run(s.handle(r));
    if reply.ok {
        Ok(reply.data.unwrap_or_default())
    } else {
        Err(reply.error.map(|e| e.code).unwrap_or_default())
    }
}

/// A new vault under [`PASS`].
fn create<P: Platform>(s: &mut Service<P>) {
    call(
        s,
        Request::Create {
            passphrase: PASS.into(),
        },
    )
    .unwrap();
}

fn unlock<P: Platform>(s: &mut Service<P>) {
    call(
        s,
        Request::Unlock {
            passphrase: PASS.into(),
        },
    )
    .unwrap();
}

fn status<P: Platform>(s: &mut Service<P>) -> Status {
    serde_json::from_value(call(s, Request::Status).unwrap()).unwrap()
}

fn answer_next_card<P: Platform>(s: &mut Service<P>) -> Result<String, String> {
    let next = call(
        s,
        Request::NextCard {
            agent: "chatgpt".into(),
            origin: "https://chatgpt.com".into(),
        },
    )?;
    if next["kind"] != "card" {
        return Err(next["reason"].as_str().unwrap_or_default().to_owned());
    }
    let card_type: CardType = serde_json::from_value(next["card_type"].clone()).unwrap();
    let answer = Answer::Skipped;
    call(
        s,
        Request::Save(SaveAnswer {
            card_id: next["id"].as_str().unwrap().to_owned(),
            card_version: next["version"].as_u64().unwrap() as u32,
            card_type,
            answer,
            agent: "chatgpt".into(),
            origin: "https://chatgpt.com".into(),
            answer_latency_ms: 1_200,
            wait_duration_ms: 3_000,
            retry_after_ai_failure: false,
        }),
    )
    .map(|v| v.as_str().unwrap_or_default().to_owned())
}

#[test]
fn first_run_create_then_cards_land_in_the_vault() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    assert_eq!(status(&mut s).vault, VaultState::Absent);
    assert_eq!(
        call(
            &mut s,
            Request::NextCard {
                agent: "chatgpt".into(),
                origin: "https://chatgpt.com".into()
            }
        )
        .unwrap()["reason"],
        "locked",
        "no card while there is no unlocked vault"
    );
    assert_eq!(
        call(
            &mut s,
            Request::Create {
                passphrase: "short".into()
            }
        ),
        Err("weak_passphrase".into())
    );
    // vault-core's one policy: nine characters are refused with its message, ten accepted.
    let reply = run(s.handle(Request::Create {
        passphrase: "nine char".into(),
    }));
    let error = reply.error.expect("a nine-character passphrase is refused");
    assert_eq!(error.code, "weak_passphrase");
    assert_eq!(
        error.message,
        vault_core::crypto::PassphraseTooWeak.to_string()
    );
    create(&mut s);
    assert_eq!(fake.auto_lock.get(), Some(30), "auto-lock armed");
    answer_next_card(&mut s).unwrap();
    let st = status(&mut s);
    assert_eq!(
        (st.vault, st.answered_today, st.records),
        (VaultState::Unlocked, 1, 1)
    );
    // What is stored is ciphertext: the card id is not readable in the store.
    let stored = run(vault_core::VaultStore::scan_records(&fake.store)).unwrap();
    assert_eq!(stored.len(), 1);
    let plain = b"skipped";
    assert!(!stored[0].1.windows(plain.len()).any(|w| w == plain));
}

#[test]
fn a_restarted_background_resumes_from_the_session_key_and_lock_wipes_it() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    answer_next_card(&mut s).unwrap();
    assert!(fake.session.borrow().contains_key("vault_key"));
    assert!(
        !fake.local.borrow().contains_key("vault_key"),
        "never on disk"
    );
    // The service worker is stopped and started again.
    let mut s = Service::new(&fake);
    let st = status(&mut s);
    assert_eq!((st.vault, st.records), (VaultState::Unlocked, 1));
    call(&mut s, Request::Lock).unwrap();
    assert!(!fake.session.borrow().contains_key("vault_key"));
    assert_eq!(status(&mut s).vault, VaultState::Locked);
    assert_eq!(answer_next_card(&mut s), Err("locked".into()));
    assert_eq!(
        call(
            &mut s,
            Request::Unlock {
                passphrase: "wrong horse battery".into()
            }
        ),
        Err("wrong_passphrase".into())
    );
    unlock(&mut s);
    assert_eq!(
        status(&mut s).records,
        1,
        "nothing lost across lock and unlock"
    );
}

/// Card frames in open tabs follow the vault: told when it locks (drop the ready card) and
/// when it unlocks (fetch one), whether by the popup, a restart or the auto-lock timer.
#[test]
fn open_tabs_are_told_when_the_vault_locks_and_unlocks() {
    use Announcement::{VaultLocked, VaultUnlocked};
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    assert_eq!(*fake.announced.borrow(), [VaultUnlocked]);
    call(&mut s, Request::Lock).unwrap();
    assert_eq!(*fake.announced.borrow(), [VaultUnlocked, VaultLocked]);
    let wrong = call(
        &mut s,
        Request::Unlock {
            passphrase: "wrong horse battery".into(),
        },
    );
    assert_eq!(wrong, Err("wrong_passphrase".into()));
    assert_eq!(
        fake.announced.borrow().len(),
        2,
        "a refused passphrase changes nothing"
    );
    unlock(&mut s);
    run(s.auto_lock());
    assert_eq!(
        *fake.announced.borrow(),
        [VaultUnlocked, VaultLocked, VaultUnlocked, VaultLocked]
    );
}

#[test]
fn the_vault_locks_with_the_computer_unless_the_user_turned_that_off() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    run(s.system_locked());
    assert_eq!(status(&mut s).vault, VaultState::Locked, "on by default");
    assert_eq!(
        fake.session.borrow().get("vault_key"),
        None,
        "the key is wiped"
    );
    unlock(&mut s);
    let settings = Settings {
        lock_on_system_lock: false,
        ..Settings::default()
    };
    call(&mut s, Request::SetSettings { settings }).unwrap();
    run(s.system_locked());
    assert_eq!(
        status(&mut s).vault,
        VaultState::Unlocked,
        "the user chose to keep it open"
    );
}

#[test]
fn the_toolbar_badge_says_locked_whenever_the_vault_is() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    // No vault yet: no badge, the popup says what comes first.
    run(s.refresh_badge());
    assert_eq!(fake.badge_locked.get(), Some(false));
    create(&mut s);
    assert_eq!(fake.badge_locked.get(), Some(false));
    call(&mut s, Request::Lock).unwrap();
    assert_eq!(fake.badge_locked.get(), Some(true));
    unlock(&mut s);
    assert_eq!(fake.badge_locked.get(), Some(false));
    run(s.auto_lock());
    assert_eq!(fake.badge_locked.get(), Some(true));
    // A new background (the browser restarted: the session key is gone) finds it locked.
    fake.badge_locked.set(None);
    fake.session.borrow_mut().clear();
    let mut restarted = Service::new(&fake);
    run(restarted.refresh_badge());
    assert_eq!(fake.badge_locked.get(), Some(true));
    // ... and one that resumes from the session key finds it unlocked.
    unlock(&mut restarted);
    let mut resumed = Service::new(&fake);
    fake.badge_locked.set(None);
    run(resumed.refresh_badge());
    assert_eq!(fake.badge_locked.get(), Some(false));
}

#[test]
fn caps_and_pauses_stop_cards() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    let settings = Settings {
        daily_cap: 2,
        ..Settings::default()
    };
    call(&mut s, Request::SetSettings { settings }).unwrap();
    answer_next_card(&mut s).unwrap();
    fake.now.set(fake.now.get() + 60_000);
    answer_next_card(&mut s).unwrap();
    fake.now.set(fake.now.get() + 60_000);
    assert_eq!(answer_next_card(&mut s), Err("DailyCapReached".into()));
    // The next day the cap resets; pausing the site stops it again.
    fake.now.set(fake.now.get() + 86_400_000);
    call(
        &mut s,
        Request::PauseSite {
            id: "chatgpt".into(),
            paused: true,
        },
    )
    .unwrap();
    assert_eq!(answer_next_card(&mut s), Err("AgentPaused".into()));
    call(
        &mut s,
        Request::PauseSite {
            id: "chatgpt".into(),
            paused: false,
        },
    )
    .unwrap();
    answer_next_card(&mut s).unwrap();
}

#[test]
fn bad_requests_get_clear_errors() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    assert_eq!(
        call(
            &mut s,
            Request::NextCard {
                agent: "claude".into(),
                origin: "https://chatgpt.com".into()
            }
        ),
        Err("invalid".into()),
        "a frame cannot file answers under another site"
    );
    let bad_settings = Settings {
        daily_cap: 100_000,
        ..Settings::default()
    };
    assert_eq!(
        call(
            &mut s,
            Request::SetSettings {
                settings: bad_settings
            }
        ),
        Err("invalid".into())
    );
    assert_eq!(
        call(
            &mut s,
            Request::AddSite {
                origin: "not a url".into(),
                name: String::new(),
                selectors: Default::default()
            }
        ),
        Err("invalid".into())
    );
    let added = call(
        &mut s,
        Request::AddSite {
            origin: "https://chat.example.org".into(),
            name: "Example".into(),
            selectors: Default::default(),
        },
    )
    .unwrap();
    assert_eq!(added["id"], "site:chat.example.org");
    let site = call(
        &mut s,
        Request::Site {
            origin: "https://chat.example.org".into(),
        },
    )
    .unwrap();
    assert_eq!(site["enabled"], true);
}

#[test]
fn a_dead_network_fails_sync_cleanly_and_keeps_the_answers() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    answer_next_card(&mut s).unwrap();
    assert_eq!(call(&mut s, Request::SyncNow), Err("no_account".into()));
    assert_eq!(
        call(
            &mut s,
            Request::SignIn {
                server: "http://127.0.0.1:9".into(),
                username: "me".into(),
                passphrase: PASS.into(),
                create: true
            }
        ),
        Err("offline".into())
    );
    let st = status(&mut s);
    assert_eq!(
        (st.records, st.sync.pending),
        (1, 1),
        "the answer waits for the network"
    );
}

#[test]
fn captures_schedule_a_sync_only_with_an_account_and_locking_stops_it() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    answer_next_card(&mut s).unwrap();
    assert_eq!(
        fake.sync_schedule.get(),
        None,
        "no account: nothing to sync to"
    );
    let mut settings: Settings =
        serde_json::from_value(call(&mut s, Request::GetSettings).unwrap()).unwrap();
    settings.server_url = Some("http://127.0.0.1:9".into());
    call(&mut s, Request::SetSettings { settings }).unwrap();
    fake.now.set(fake.now.get() + 3_600_000);
    answer_next_card(&mut s).unwrap();
    assert_eq!(fake.sync_schedule.get(), Some(SyncSchedule::Soon));
    call(&mut s, Request::Lock).unwrap();
    assert_eq!(fake.sync_schedule.get(), Some(SyncSchedule::Off));
    unlock(&mut s);
    assert_eq!(fake.sync_schedule.get(), Some(SyncSchedule::Periodic));
}

/// The sync secret (for logging in again after a 401 or a background restart) is kept in the
/// memory-only session area, never the local one, and goes with lock and sign-out. On a dead
/// network a signed-in unlock keeps it, and the next round tries to log in with it.
#[test]
fn the_sync_secret_lives_in_session_storage_and_goes_with_lock_and_sign_out() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    let mut settings: Settings =
        serde_json::from_value(call(&mut s, Request::GetSettings).unwrap()).unwrap();
    settings.server_url = Some("http://127.0.0.1:9".into());
    settings.username = Some("me".into());
    call(&mut s, Request::SetSettings { settings }).unwrap();
    call(&mut s, Request::Lock).unwrap();
    unlock(&mut s);
    assert!(fake.session.borrow().contains_key("sync_auth"));
    assert!(
        !fake.session.borrow().contains_key("sync_session"),
        "offline: no session"
    );
    assert!(!fake.local.borrow().contains_key("sync_auth"));
    assert_eq!(call(&mut s, Request::SyncNow), Err("offline".into()));
    call(&mut s, Request::Lock).unwrap();
    assert!(!fake.session.borrow().contains_key("sync_auth"));
    unlock(&mut s);
    call(&mut s, Request::SignOut).unwrap();
    assert!(!fake.session.borrow().contains_key("sync_auth"));
    let settings: Settings =
        serde_json::from_value(call(&mut s, Request::GetSettings).unwrap()).unwrap();
    assert_eq!(settings.username, None);
}

/// Finished generations land in vault-core's `WaitHistory`, in the format the extension has
/// always stored (an object of agent -> seconds), so a history saved before still counts.
#[test]
fn generation_times_are_kept_in_the_shared_wait_history() {
    use vault_core::cards::scheduler::WaitHistory;
    let fake = Fake::new();
    let before: Vec<f64> = (0..WaitHistory::KEPT).map(|i| i as f64).collect();
    fake.local.borrow_mut().insert(
        "waits".into(),
        serde_json::json!({ "chatgpt": before }).to_string(),
    );
    let mut s = Service::new(&fake);
    let generated = |s: &mut Service<&Fake>, ms: f64| {
        call(
            s,
            Request::Generated {
                agent: "chatgpt".into(),
                ms,
                signal: None,
                own_answers: None,
            },
        )
    };
    generated(&mut s, 9_000.0).unwrap();
    let stored = || -> WaitHistory { serde_json::from_str(&fake.local.borrow()["waits"]).unwrap() };
    let kept = stored().per_agent["chatgpt"].clone();
    assert_eq!(kept.len(), WaitHistory::KEPT, "the oldest made room");
    assert_eq!((kept[0], kept[kept.len() - 1]), (1.0, 9.0));
    assert_eq!(generated(&mut s, 4_000_000.0), Err("invalid".into()));
    assert_eq!(generated(&mut s, -1.0), Err("invalid".into()));
    assert_eq!(stored().per_agent["chatgpt"], kept, "nothing stored");
}

/// Each finished generation leaves a local health sample for its site; two in a row read by
/// text growth only make the site's health say so, in plain words, and a user's selector
/// override for the site is what the adapter then tries first.
#[test]
fn site_health_follows_how_generations_were_read() {
    use selfos_extension::detector::Signal;
    use selfos_extension::health::Verdict;
    use selfos_extension::protocol::{SiteConfig, SiteHealthView};
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    let generated = |s: &mut Service<&Fake>, agent: &str, signal, own| {
        call(
            s,
            Request::Generated {
                agent: agent.into(),
                ms: 3_000.0,
                signal: Some(signal),
                own_answers: Some(own),
            },
        )
    };
    let health = |s: &mut Service<&Fake>, id: &str| -> SiteHealthView {
        let all: Vec<SiteHealthView> =
            serde_json::from_value(call(s, Request::SiteHealth).unwrap()).unwrap();
        all.into_iter().find(|h| h.id == id).unwrap()
    };
    assert_eq!(health(&mut s, "gemini").verdict, Verdict::Unknown);
    generated(&mut s, "gemini", Signal::Control, true).unwrap();
    generated(&mut s, "gemini", Signal::Growth, true).unwrap();
    assert_eq!(health(&mut s, "gemini").verdict, Verdict::Good);
    generated(&mut s, "gemini", Signal::Growth, true).unwrap();
    let h = health(&mut s, "gemini");
    assert_eq!(
        (h.verdict, h.samples, h.by_control),
        (Verdict::GrowthOnly, 3, 1)
    );
    assert_eq!(
        h.message.as_deref(),
        Some("SelfOS reads Gemini by text growth only: cards may come late and close a few seconds after the answer ends.")
    );
    assert_eq!(
        health(&mut s, "claude").verdict,
        Verdict::Unknown,
        "per site"
    );
    assert!(
        !fake.session.borrow().contains_key("site_health"),
        "kept in local storage, with the settings, never with the key"
    );
    assert_eq!(
        generated(&mut s, "not-a-site", Signal::Growth, true),
        Err("invalid".into())
    );

    // The user's own stop selector for Gemini: validated, then tried first.
    let mut settings: Settings =
        serde_json::from_value(call(&mut s, Request::GetSettings).unwrap()).unwrap();
    settings.site_overrides.insert(
        "gemini".into(),
        selfos_extension::sites::Selectors {
            stop: vec!["button.stop-now".into()],
            ..Default::default()
        },
    );
    call(
        &mut s,
        Request::SetSettings {
            settings: settings.clone(),
        },
    )
    .unwrap();
    let site: Option<SiteConfig> = serde_json::from_value(
        call(
            &mut s,
            Request::Site {
                origin: "https://gemini.google.com".into(),
            },
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(site.unwrap().adapter.selectors.stop[0], "button.stop-now");
    assert!(health(&mut s, "gemini").overridden);
    settings
        .site_overrides
        .get_mut("gemini")
        .unwrap()
        .stop
        .push(" ".into());
    assert_eq!(
        call(&mut s, Request::SetSettings { settings }),
        Err("invalid".into()),
        "a blank selector is refused"
    );
}

/// The card frame, embedded in AI sites' pages, gets only what a card needs: no unlock,
/// settings, account, sync, answer deletes or settings-field deliveries. The popup and the
/// options page may ask for everything.
#[test]
fn the_card_frame_may_ask_only_for_what_a_card_needs() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    let code = |s: &mut Service<&Fake>, page, r| {
        let reply = run(s.handle_from(page, r));
        reply.error.map(|e| e.code)
    };
    let refused = [
        Request::Unlock {
            passphrase: PASS.into(),
        },
        Request::Lock,
        Request::GetSettings,
        Request::SetSettings {
            settings: Settings::default(),
        },
        Request::SignOut,
        Request::SyncNow,
        Request::Forget { records: vec![] },
        Request::Deliveries,
        Request::Instructions {
            agent: "chatgpt".into(),
        },
        Request::SiteHealth,
        Request::Delivered {
            agent: "chatgpt".into(),
            copied: true,
            auto: false,
            field: Some("About you".into()),
        },
    ];
    for r in &refused {
        assert_eq!(
            code(&mut s, Page::Card, r.clone()).as_deref(),
            Some("forbidden"),
            "{r:?}"
        );
    }
    assert_eq!(
        status(&mut s).vault,
        VaultState::Unlocked,
        "nothing locked it"
    );
    for r in [
        Request::Status,
        Request::Site {
            origin: "https://chatgpt.com".into(),
        },
        Request::NextCard {
            agent: "chatgpt".into(),
            origin: "https://chatgpt.com".into(),
        },
    ] {
        assert_eq!(code(&mut s, Page::Card, r.clone()), None, "{r:?}");
    }
    // The popup may send every one of them.
    for r in refused {
        assert_ne!(
            code(&mut s, Page::Popup, r.clone()).as_deref(),
            Some("forbidden"),
            "{r:?}"
        );
    }
    // The card frame speaks only through its tab's content script, never as a page.
    assert_eq!(Page::from_path("/card.html"), None);
    assert_eq!(Page::from_path("/popup.html"), Some(Page::Popup));
    assert_eq!(Page::from_path("/elsewhere.html"), None);
}

/// A tab's content script relays its card's requests: a card's requests only, and only in the
/// name of the tab's own site.
#[test]
fn a_tab_speaks_only_for_its_own_site() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    let site = |origin: &str| Request::Site {
        origin: origin.into(),
    };
    let tab = "https://chatgpt.com";
    let reply = run(s.handle_from_tab(tab, site(tab)));
    assert!(reply.ok, "{reply:?}");
    // Its own agent is fine.
    let own = Request::NextCard {
        agent: "chatgpt".into(),
        origin: tab.into(),
    };
    let reply = run(s.handle_from_tab(tab, own));
    assert!(reply.ok, "{reply:?}");
    for forged in [
        site("https://claude.ai"),
        Request::NewChatContext {
            agent: "claude".into(),
            origin: "https://claude.ai".into(),
        },
        // Its own origin, another site's agent.
        Request::NextCard {
            agent: "claude".into(),
            origin: tab.into(),
        },
        Request::Context {
            agent: "claude".into(),
            budget: None,
        },
        Request::Generated {
            agent: "claude".into(),
            ms: 3_000.0,
            signal: None,
            own_answers: None,
        },
        Request::Delivered {
            agent: "claude".into(),
            copied: false,
            auto: false,
            field: None,
        },
    ] {
        let reply = run(s.handle_from_tab(tab, forged.clone()));
        assert_eq!(
            reply.error.map(|e| e.code).as_deref(),
            Some("forbidden"),
            "{forged:?}"
        );
    }
    // Still a card: nothing a card may not ask for, even for its own site.
    let reply = run(s.handle_from_tab(tab, Request::SyncNow));
    assert_eq!(reply.error.map(|e| e.code).as_deref(), Some("forbidden"));
}

/// Saves a real answer for `style.length` (brief) on chatgpt.
fn answer_brief<P: Platform>(s: &mut Service<P>) -> String {
    let lib = vault_core::cards::builtin();
    let card = lib
        .cards
        .iter()
        .find(|c| c.facet == "style.length" && c.options.iter().any(|o| o.value == "brief"))
        .unwrap();
    let card_type: CardType = card.kind.into();
    let answer = vault_core::cards::answer::from_pick(
        card.into(),
        vault_core::cards::answer::Pick::Value("brief"),
    )
    .unwrap();
    call(
        s,
        Request::Save(SaveAnswer {
            card_id: card.id.clone(),
            card_version: card.version,
            card_type,
            answer,
            agent: "chatgpt".into(),
            origin: "https://chatgpt.com".into(),
            answer_latency_ms: 1_200,
            wait_duration_ms: 3_000,
            retry_after_ai_failure: false,
        }),
    )
    .unwrap()
    .as_str()
    .unwrap()
    .to_owned()
}

/// The context block comes from the one writer; nothing known says so with its own code;
/// forgetting the fact's answers removes it from the block; a locked vault tells nothing.
#[test]
fn the_context_block_tells_what_is_known_and_forgets_on_request() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    let context = |s: &mut Service<&Fake>| {
        call(
            s,
            Request::Context {
                agent: "chatgpt".into(),
                budget: None,
            },
        )
    };
    assert_eq!(context(&mut s).unwrap_err(), "nothing_known");
    let id = answer_brief(&mut s);
    let block = context(&mut s).unwrap();
    let text = block["text"].as_str().unwrap();
    assert!(text.ends_with("I prefer brief answers."), "{text}");
    assert_eq!(block["facts"][0]["records"][0], id.as_str());
    assert!(
        call(
            &mut s,
            Request::Context {
                agent: "chatgpt".into(),
                budget: Some(10)
            }
        )
        .unwrap_err()
            == "budget"
    );
    let forgot = call(
        &mut s,
        Request::Forget {
            records: vec![id.clone()],
        },
    )
    .unwrap();
    assert_eq!(forgot, 1);
    assert_eq!(context(&mut s).unwrap_err(), "nothing_known");
    assert_eq!(status(&mut s).records, 0);
    assert_eq!(
        call(
            &mut s,
            Request::Forget {
                records: vec!["nope".into()]
            }
        )
        .unwrap_err(),
        "invalid"
    );
    call(&mut s, Request::Lock).unwrap();
    assert_eq!(context(&mut s).unwrap_err(), "locked");
}

/// Standing consent: off by default; on for one agent, a new chat there gets the block, and
/// only there; pausing the site, a global pause or locking stops it. Deliveries are kept with
/// their method, and one the user removed at once is deleted again.
#[test]
fn new_chats_start_with_context_only_with_consent_and_deliveries_are_kept() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    answer_brief(&mut s);
    let new_chat = |s: &mut Service<&Fake>, agent: &str, origin: &str| {
        call(
            s,
            Request::NewChatContext {
                agent: agent.into(),
                origin: origin.into(),
            },
        )
        .unwrap()
    };
    let consent = |s: &mut Service<&Fake>, agent: &str, on: bool| {
        call(
            s,
            Request::SetNewChatContext {
                agent: agent.into(),
                on,
            },
        )
        .unwrap()
    };
    assert!(
        new_chat(&mut s, "chatgpt", "https://chatgpt.com").is_null(),
        "off by default"
    );
    consent(&mut s, "chatgpt", true);
    let block = new_chat(&mut s, "chatgpt", "https://chatgpt.com");
    assert!(block["text"]
        .as_str()
        .unwrap()
        .contains("I prefer brief answers."));
    // Consent is per agent, and the origin must be that agent's site.
    assert!(new_chat(&mut s, "claude", "https://claude.ai").is_null());
    assert!(new_chat(&mut s, "chatgpt", "https://claude.ai").is_null());
    call(
        &mut s,
        Request::PauseSite {
            id: "chatgpt".into(),
            paused: true,
        },
    )
    .unwrap();
    assert!(
        new_chat(&mut s, "chatgpt", "https://chatgpt.com").is_null(),
        "site paused"
    );
    call(
        &mut s,
        Request::PauseSite {
            id: "chatgpt".into(),
            paused: false,
        },
    )
    .unwrap();
    let mut settings: Settings =
        serde_json::from_value(call(&mut s, Request::GetSettings).unwrap()).unwrap();
    settings.paused_until_ms = Some(fake.now.get() + 60_000);
    call(
        &mut s,
        Request::SetSettings {
            settings: settings.clone(),
        },
    )
    .unwrap();
    assert!(
        new_chat(&mut s, "chatgpt", "https://chatgpt.com").is_null(),
        "paused"
    );
    settings.paused_until_ms = None;
    call(&mut s, Request::SetSettings { settings }).unwrap();
    assert!(!new_chat(&mut s, "chatgpt", "https://chatgpt.com").is_null());

    // Deliveries: inserted, auto-inserted (then removed with Esc), copied.
    let deliver = |s: &mut Service<&Fake>, copied: bool, auto: bool| {
        call(
            s,
            Request::Delivered {
                agent: "chatgpt".into(),
                copied,
                auto,
                field: None,
            },
        )
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
    };
    deliver(&mut s, false, false);
    fake.now.set(fake.now.get() + 1);
    let auto = deliver(&mut s, false, true);
    fake.now.set(fake.now.get() + 1);
    deliver(&mut s, true, false);
    let list = call(&mut s, Request::Deliveries).unwrap();
    let methods: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        ["copied", "auto_inserted", "inserted"],
        "newest first"
    );
    assert_eq!(list[0]["nodes"].as_object().unwrap().len(), 1);
    // The card frame withdraws the auto-inserted one (the user pressed Esc), as the frame can:
    // only a delivery record, never an answer.
    let answer = answer_brief(&mut s);
    let from_card = |s: &mut Service<&Fake>, r| {
        let reply = run(s.handle_from(Page::Card, r));
        if reply.ok {
            Ok(())
        } else {
            Err(reply.error.map(|e| e.code).unwrap_or_default())
        }
    };
    assert_eq!(
        from_card(&mut s, Request::Withdraw { delivery: answer }),
        Err("invalid".into()),
        "an answer is no delivery"
    );
    assert_eq!(
        from_card(
            &mut s,
            Request::Withdraw {
                delivery: "not a record id".into()
            }
        ),
        Err("invalid".into())
    );
    from_card(&mut s, Request::Withdraw { delivery: auto }).unwrap();
    let list = call(&mut s, Request::Deliveries).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "the removed one is gone");
    assert_eq!(status(&mut s).records, 2, "answers untouched");

    call(&mut s, Request::Lock).unwrap();
    assert!(
        new_chat(&mut s, "chatgpt", "https://chatgpt.com").is_null(),
        "locked"
    );
    consent(&mut s, "chatgpt", false);
    unlock(&mut s);
    assert!(
        new_chat(&mut s, "chatgpt", "https://chatgpt.com").is_null(),
        "withdrawn"
    );
}

/// The popup's "Settings": an agent's own fields cut to their limits with the link that opens
/// them; copying one field keeps a delivery of that field alone (its title, its text's
/// length and facts); an unknown field, an automatic fill or a locked vault record nothing.
#[test]
fn settings_fields_come_with_their_link_and_a_copied_field_is_its_own_delivery() {
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    let instructions = |s: &mut Service<&Fake>, agent: &str| {
        call(
            s,
            Request::Instructions {
                agent: agent.into(),
            },
        )
    };
    assert_eq!(
        instructions(&mut s, "chatgpt").unwrap_err(),
        "nothing_known"
    );
    answer_brief(&mut s);
    let a: AgentInstructions = serde_json::from_value(instructions(&mut s, "chatgpt").unwrap())
        .expect("the popup reads the reply as AgentInstructions");
    assert_eq!(
        a.settings_url.as_deref(),
        Some("https://chatgpt.com/#settings/Personalization")
    );
    assert_eq!(a.fields.len(), 2);
    let respond = &a.fields[1];
    assert_eq!(respond.title, "How would you like ChatGPT to respond?");
    assert!(respond.text.contains("I prefer brief answers."));
    assert!(respond.length <= respond.limit && respond.limit == 1_500);
    assert!(a.fields[0].text.is_empty(), "nothing about the user yet");
    assert_eq!(
        instructions(&mut s, "Not An Agent!").unwrap_err(),
        "invalid"
    );

    let field = |s: &mut Service<&Fake>, title: &str, copied: bool, auto: bool| {
        call(
            s,
            Request::Delivered {
                agent: "chatgpt".into(),
                copied,
                auto,
                field: Some(title.into()),
            },
        )
    };
    field(&mut s, &respond.title, true, false).unwrap();
    assert_eq!(
        field(&mut s, "No such field", true, false).unwrap_err(),
        "invalid"
    );
    assert_eq!(
        field(&mut s, &respond.title, false, true).unwrap_err(),
        "invalid"
    );
    let list = call(&mut s, Request::Deliveries).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "only the good request is recorded");
    assert_eq!(list[0]["method"], "copied");
    assert_eq!(list[0]["field"], respond.title.as_str());
    assert_eq!(list[0]["chars"], respond.length);
    assert_eq!(
        list[0]["digest"],
        vault_core::delivery::digest(&respond.text).as_str()
    );
    assert_eq!(
        list[0]["nodes"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        respond.nodes.keys().collect::<Vec<_>>()
    );
    // The message as the popup sends it (older senders omit `field`).
    let old: Request =
        serde_json::from_str(r#"{"type":"delivered","agent":"chatgpt","copied":true}"#).unwrap();
    assert!(matches!(old, Request::Delivered { field: None, .. }));

    call(&mut s, Request::Lock).unwrap();
    assert_eq!(instructions(&mut s, "chatgpt").unwrap_err(), "locked");
    assert_eq!(
        field(&mut s, &respond.title, true, false).unwrap_err(),
        "locked"
    );
}

/// The popup's line about proposals: how many wait for the user, counted from the vault at
/// unlock (and after every sync), none once locked.
#[test]
fn status_counts_the_proposals_waiting_for_the_user() {
    use vault_core::proposal::{Decision, ProposalRecord};
    let fake = Fake::new();
    let mut s = Service::new(&fake);
    create(&mut s);
    assert_eq!(status(&mut s).proposals_pending, 0);
    call(&mut s, Request::Lock).unwrap();
    // Two agents' proposals arrive (as a sync would bring them); the user rejected one.
    let pass = vault_core::Passphrase::new(PASS);
    let (mut vault, _) = run(vault_core::Vault::unlock(fake.store.clone(), &pass)).unwrap();
    let mut ids = Vec::new();
    for statement in ["I write Rust.", "I live in Lisbon.", "I run on Sundays."] {
        let p = ProposalRecord::new("claude", statement, None, None, 1).unwrap();
        run(vault.record_proposal(&p)).unwrap();
        ids.push(p.id);
    }
    run(vault.decide_proposal(&ids[0], Decision::Reject)).unwrap();
    drop(vault);
    unlock(&mut s);
    assert_eq!(status(&mut s).proposals_pending, 2);
    call(&mut s, Request::Lock).unwrap();
    assert_eq!(
        status(&mut s).proposals_pending,
        0,
        "a locked vault tells nothing"
    );
}
