//! The few extension APIs SelfOS uses, bound directly (`chrome.*`, which Firefox also
//! provides with promises in Manifest V3).

use js_sys::{Object, Promise, Reflect};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::protocol::{Announcement, Reply, Request};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "local"], js_name = get, catch)]
    fn local_get(key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "local"], js_name = set, catch)]
    fn local_set(items: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "local"], js_name = remove, catch)]
    fn local_remove(key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "session"], js_name = get, catch)]
    fn session_get(key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "session"], js_name = set, catch)]
    fn session_set(items: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "session"], js_name = remove, catch)]
    fn session_remove(key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = sendMessage, catch)]
    fn send_message(message: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "alarms"], js_name = create, catch)]
    fn alarms_create(name: &str, info: &Object) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "alarms"], js_name = clear, catch)]
    fn alarms_clear(name: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "permissions"], js_name = request, catch)]
    fn permissions_request(p: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "scripting"], js_name = registerContentScripts, catch)]
    fn register_content_scripts(scripts: &js_sys::Array) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = create, catch)]
    fn tabs_create(p: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = query, catch)]
    fn tabs_query(q: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = getCurrent, catch)]
    fn tabs_get_current() -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = sendMessage, catch)]
    fn tabs_send_message(tab: i32, message: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "action"], js_name = setBadgeText, catch)]
    fn set_badge_text(details: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "action"], js_name = setBadgeBackgroundColor, catch)]
    fn set_badge_background_color(details: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "action"], js_name = setTitle, catch)]
    fn set_title(details: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = openOptionsPage, catch)]
    fn open_options_page_js() -> Result<Promise, JsValue>;
}

fn err_text(e: JsValue) -> String {
    e.as_string()
        .or_else(|| Reflect::get(&e, &"message".into()).ok()?.as_string())
        .unwrap_or_else(|| "the browser refused".into())
}

async fn wait(p: Result<Promise, JsValue>) -> Result<JsValue, String> {
    JsFuture::from(p.map_err(err_text)?).await.map_err(err_text)
}

fn object(pairs: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o
}

/// `storage.local` (`session = false`) or `storage.session`: a string value or nothing.
pub async fn storage_get(session: bool, key: &str) -> Option<String> {
    let got = wait(if session {
        session_get(key)
    } else {
        local_get(key)
    })
    .await
    .ok()?;
    Reflect::get(&got, &key.into()).ok()?.as_string()
}

pub async fn storage_set(session: bool, key: &str, value: Option<String>) -> Result<(), String> {
    let p = match value {
        Some(v) => {
            let items = object(&[(key, v.into())]);
            if session {
                session_set(&items)
            } else {
                local_set(&items)
            }
        }
        None if session => session_remove(key),
        None => local_remove(key),
    };
    wait(p).await.map(|_| ())
}

pub fn set_alarm(name: &str, delay_minutes: Option<f64>, period_minutes: Option<f64>) {
    let _ = alarms_clear(name);
    if delay_minutes.is_none() && period_minutes.is_none() {
        return;
    }
    let mut pairs = Vec::new();
    if let Some(d) = delay_minutes {
        pairs.push(("delayInMinutes", JsValue::from_f64(d)));
    }
    if let Some(p) = period_minutes {
        pairs.push(("periodInMinutes", JsValue::from_f64(p)));
    }
    let _ = alarms_create(name, &object(&pairs));
}

/// Sends a request to the background and parses its reply.
pub async fn request(r: &Request) -> Reply {
    let msg = super::ui::to_js(r);
    match wait(send_message(&msg)).await {
        Ok(v) => serde_wasm_bindgen::from_value(v).unwrap_or_else(|e| {
            Reply::err(
                "internal",
                format!("unexpected reply from the background: {e}"),
            )
        }),
        Err(e) => Reply::err(
            "background",
            format!("The extension's background did not answer ({e}). Reload the page."),
        ),
    }
}

/// [`request`], then the data as `T` or the error's message.
pub async fn call<T: DeserializeOwned>(r: &Request) -> Result<T, String> {
    request(r).await.into_data()
}

/// `storage.local` key through which the background announces to the card frames (each tab's
/// content script follows it and passes it on as [`crate::protocol::ToFrame::Announced`]).
const ANNOUNCEMENT_KEY: &str = "announcement";

/// Tells the card frame in every tab what changed. Through `storage.local` and its change
/// event, which reaches each tab's content script in both browsers without a list of tabs;
/// the content script passes it to its frame. The time makes every write a change (an
/// unchanged value fires no event).
pub fn announce(announcement: Announcement) {
    let mut value = serde_json::to_value(announcement).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        fields.insert("at".into(), js_sys::Date::now().into());
    }
    wasm_bindgen_futures::spawn_local(async move {
        let _ = storage_set(false, ANNOUNCEMENT_KEY, Some(value.to_string())).await;
    });
}

/// The toolbar button says whether the vault is locked: a dark grey "lock" badge and the
/// button's tooltip. Unlocked: no badge.
pub fn show_locked(locked: bool) {
    let text = if locked { "lock" } else { "" };
    let title = if locked {
        "SelfOS is locked: click to unlock and keep your answers"
    } else {
        "SelfOS"
    };
    let _ = set_badge_text(&object(&[("text", text.into())]));
    let _ = set_badge_background_color(&object(&[("color", "#5f6368".into())]));
    let _ = set_title(&object(&[("title", title.into())]));
}

/// Asks the user for host access to `origin` (must run in a click handler).
pub async fn request_origin(origin: &str) -> Result<bool, String> {
    let origins = js_sys::Array::of1(&format!("{origin}/*").into());
    let granted = wait(permissions_request(&object(&[("origins", origins.into())]))).await?;
    Ok(granted.as_bool().unwrap_or(false))
}

/// Runs the sensor on a user-added site from now on.
pub async fn register_site_script(id: &str, origin: &str) -> Result<(), String> {
    let script = object(&[
        ("id", id.into()),
        (
            "matches",
            js_sys::Array::of1(&format!("{origin}/*").into()).into(),
        ),
        ("js", js_sys::Array::of1(&"content.js".into()).into()),
        ("runAt", "document_idle".into()),
    ]);
    wait(register_content_scripts(&js_sys::Array::of1(&script)))
        .await
        .map(|_| ())
}

pub async fn open_tab(url: &str) {
    let _ = wait(tabs_create(&object(&[("url", url.into())]))).await;
}

pub async fn open_options_page() {
    let _ = wait(open_options_page_js()).await;
}

fn tab_field(tab: &JsValue, name: &str) -> Option<f64> {
    Reflect::get(tab, &name.into()).ok()?.as_f64()
}

/// The tab the popup acts on: the active tab of its window; when the popup itself is open
/// in a tab (opened as a page rather than from the toolbar), the tab used last before it.
/// `None` when there is none.
pub async fn target_tab() -> Option<i32> {
    let own = wait(tabs_get_current())
        .await
        .ok()
        .and_then(|t| tab_field(&t, "id"));
    let query = match own {
        None => object(&[("currentWindow", true.into())]),
        Some(_) => Object::new(),
    };
    let tabs = wait(tabs_query(&query)).await.ok()?;
    let tabs: Vec<JsValue> = js_sys::Array::from(&tabs).iter().collect();
    let pick = match own {
        None => tabs.iter().find(|t| {
            Reflect::get(t, &"active".into())
                .ok()
                .and_then(|a| a.as_bool())
                == Some(true)
        }),
        Some(own) => tabs
            .iter()
            .filter(|t| tab_field(t, "id") != Some(own))
            .max_by(|a, b| {
                let at = |t: &JsValue| tab_field(t, "lastAccessed").unwrap_or(0.0);
                at(a).total_cmp(&at(b))
            }),
    };
    pick.and_then(|t| tab_field(t, "id")).map(|id| id as i32)
}

/// Asks the content script in `tab` something (`{selfos: what}`); `None` when no SelfOS
/// content script runs there.
pub async fn ask_tab(tab: i32, what: &str) -> Option<JsValue> {
    let msg = object(&[("selfos", what.into())]);
    wait(tabs_send_message(tab, &msg)).await.ok()
}

/// True when the popup runs in a tab of its own rather than from the toolbar.
pub async fn popup_in_tab() -> bool {
    wait(tabs_get_current())
        .await
        .ok()
        .is_some_and(|t| !t.is_undefined())
}
