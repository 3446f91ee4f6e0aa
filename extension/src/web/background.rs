//! The background (Chrome: module service worker; Firefox: background script): one
//! [`Service`] on IndexedDB and the browser's storage areas. `static/background.js` checks the
//! sender and serializes calls, so the service is never entered twice at once.

use std::cell::RefCell;

use vault_core::store::indexeddb::IndexedDbStore;
use vault_core::sync::transport::FetchTransport;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::chrome;
use crate::protocol::{Announcement, Page, Reply, Request};
use crate::service::{Area, Platform, Service, SyncSchedule};

/// The IndexedDB database of the extension's vault (extension origin, never a web page's).
const DB_NAME: &str = "selfos-vault";
/// Background sync every few minutes while unlocked and signed in.
const SYNC_EVERY_MINUTES: f64 = 5.0;

pub struct WebPlatform;

impl Platform for WebPlatform {
    type Store = IndexedDbStore;
    type Net = FetchTransport;
    async fn open_store(&self) -> Result<IndexedDbStore, String> {
        IndexedDbStore::open(DB_NAME)
            .await
            .map_err(|e| e.to_string())
    }
    async fn load(&self, area: Area, key: &str) -> Option<String> {
        chrome::storage_get(area == Area::Session, key).await
    }
    async fn save(&self, area: Area, key: &str, value: Option<String>) -> Result<(), String> {
        chrome::storage_set(area == Area::Session, key, value).await
    }
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }
    fn utc_offset_minutes(&self) -> i32 {
        -(js_sys::Date::new_0().get_timezone_offset() as i32)
    }
    fn transport(&self, base_url: &str) -> Result<FetchTransport, String> {
        FetchTransport::new(base_url)
    }
    fn arm_auto_lock(&self, minutes: Option<u32>) {
        chrome::set_alarm("autolock", minutes.map(f64::from), None);
    }
    fn schedule_sync(&self, when: SyncSchedule) {
        match when {
            SyncSchedule::Periodic => {
                chrome::set_alarm("sync", Some(1.0), Some(SYNC_EVERY_MINUTES))
            }
            // Browsers fire alarms no sooner than 30 s out: `background.js` also runs the
            // round 2 s from now (debounced); the alarm is the fallback if the worker stops.
            SyncSchedule::Soon => {
                chrome::set_alarm("sync-soon", Some(0.5), None);
                let hook = js_sys::Reflect::get(&js_sys::global(), &"selfosSyncSoon".into())
                    .ok()
                    .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
                if let Some(f) = hook {
                    let _ = f.call0(&JsValue::NULL);
                }
            }
            SyncSchedule::Off => {
                chrome::set_alarm("sync", None, None);
                chrome::set_alarm("sync-soon", None, None);
            }
        }
    }
    fn announce(&self, announcement: Announcement) {
        chrome::announce(announcement);
    }
    fn show_locked(&self, locked: bool) {
        chrome::show_locked(locked);
    }
}

thread_local! {
    static SERVICE: RefCell<Option<Service<WebPlatform>>> = const { RefCell::new(None) };
}

async fn with_service<T>(f: impl AsyncFnOnce(&mut Service<WebPlatform>) -> T) -> Option<T> {
    let mut service = SERVICE
        .with(|s| s.borrow_mut().take())
        .unwrap_or_else(|| Service::new(WebPlatform));
    let out = f(&mut service).await;
    SERVICE.with(|s| *s.borrow_mut() = Some(service));
    Some(out)
}

/// One message from the extension page at `path` (`/popup.html`, from the sender's URL), or,
/// with `tab_origin`, a card's request relayed by the content script of a tab at that origin
/// (the card frame itself has no extension APIs). The shape is checked here: anything that is
/// not a [`Request`] gets an `invalid_message` error and changes nothing; a request that
/// sender may not send gets `forbidden`.
#[wasm_bindgen]
pub async fn handle_message(message: JsValue, path: String, tab_origin: Option<String>) -> JsValue {
    let page = match tab_origin {
        Some(_) => Some(Page::Card),
        None => Page::from_path(&path),
    };
    let Some(page) = page else {
        return super::ui::to_js(&Reply::err("forbidden", "not a SelfOS page"));
    };
    let reply = match serde_wasm_bindgen::from_value::<Request>(message) {
        Ok(request) => with_service(async |s| match &tab_origin {
            Some(origin) => s.handle_from_tab(origin, request).await,
            None => s.handle_from(page, request).await,
        })
        .await
        .unwrap_or_else(|| Reply::err("busy", "try again")),
        Err(e) => Reply::err(
            "invalid_message",
            format!("refused a malformed message: {e}"),
        ),
    };
    super::ui::to_js(&reply)
}

/// The background started (installed, browser started, or a stopped service worker woke):
/// the toolbar badge follows the vault from the first moment.
#[wasm_bindgen]
pub async fn on_start() {
    with_service(async |s| s.refresh_badge().await).await;
}

/// The browser's idle state changed (`active`, `idle`, `locked`): `locked` is the computer's
/// screen lock, where the browser can tell.
#[wasm_bindgen]
pub async fn on_idle_state(state: String) {
    if state == "locked" {
        with_service(async |s| s.system_locked().await).await;
    }
}

/// An alarm fired: `autolock` locks the vault, `sync` and `sync-soon` run a sync round.
#[wasm_bindgen]
pub async fn on_alarm(name: String) {
    with_service(async |s| match name.as_str() {
        "autolock" => s.auto_lock().await,
        "sync" | "sync-soon" => {
            let _ = s.sync_now().await;
        }
        _ => {}
    })
    .await;
}
