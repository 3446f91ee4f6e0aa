//! Thin wrappers over the browser APIs the app uses: time, yielding to the event loop,
//! downloads, `localStorage` for non-secret preferences, and the History API. Timers and
//! object URLs come from gloo (`gloo-timers`, `gloo-file`); `localStorage` stays on web-sys
//! because `gloo-storage` stores JSON (the saved username would no longer read back) and
//! throws where storage is blocked, where this reads as "no preference".

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::AppError;

fn err(what: &str, e: JsValue) -> AppError {
    let why = e
        .as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "unknown error".into());
    AppError::Browser(format!("{what}: {why}"))
}

pub fn window() -> Result<web_sys::Window, AppError> {
    web_sys::window().ok_or_else(|| AppError::Browser("no window".into()))
}

/// Unix time in ms.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// A monotonic clock in ms (for budgets and timings).
pub fn perf_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

/// Lets the browser paint and handle input before the next chunk of work.
pub async fn yield_now() {
    sleep_ms(0).await;
}

/// Resolves after `ms` milliseconds (a timer; the page keeps running meanwhile).
pub async fn sleep_ms(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// The page's origin: the sync server that served it.
pub fn origin() -> Result<String, AppError> {
    window()?
        .location()
        .origin()
        .map_err(|e| err("reading the page's origin", e))
}

pub fn path() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".into())
}

/// Puts `path` in the address bar (a new history entry).
pub fn push_path(path: &str) {
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = h.push_state_with_url(&JsValue::NULL, "", Some(path));
    }
}

/// The `user` query parameter of this page's address (the extension's "Open dashboard" adds
/// the account name it knows), if it is a plausible username.
pub fn user_in_address() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    crate::routes::user_param(&search)
}

/// Moves keyboard focus to the element with `id`, if it is there.
pub fn focus(id: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Non-secret preferences (the last username): `localStorage`.
pub fn pref(key: &str) -> Option<String> {
    web_sys::window()?
        .local_storage()
        .ok()??
        .get_item(key)
        .ok()?
}

pub fn set_pref(key: &str, value: Option<&str>) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = match value {
            Some(v) => s.set_item(key, v),
            None => s.remove_item(key),
        };
    }
}

/// Offers `bytes` as a download named `name`: a Blob, an object URL, a click on a
/// temporary link, and the URL revoked once the browser has it.
pub fn download(bytes: &[u8], name: &str, mime: &str) -> Result<(), AppError> {
    let url = gloo_file::ObjectUrl::from(gloo_file::Blob::new_with_options(bytes, Some(mime)));
    let doc = window()?
        .document()
        .ok_or_else(|| AppError::Browser("no document".into()))?;
    let a: web_sys::HtmlAnchorElement = doc
        .create_element("a")
        .map_err(|e| err("making a link", e))?
        .unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.set_hidden(true);
    if let Some(body) = doc.body() {
        let _ = body.append_child(&a);
    }
    a.click();
    a.remove();
    // The browser reads the file after the click has returned: the URL is revoked (when
    // `ObjectUrl` drops) a minute later.
    gloo_timers::callback::Timeout::new(60_000, move || drop(url)).forget();
    Ok(())
}

/// Puts `text` on the clipboard. Fails (and the caller records nothing) when the browser
/// refuses: no user gesture, or a page that is not focused.
pub async fn copy_text(text: &str) -> Result<(), AppError> {
    let promise = window()?.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|e| err("copying to the clipboard", e))
}

/// Reads a picked file's bytes.
pub async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, AppError> {
    let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| err("reading the file", e))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

pub fn prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// Registers the offline cache (`sw.js`), when the browser has service workers.
pub fn register_offline_cache() {
    if let Some(w) = web_sys::window() {
        let nav = w.navigator();
        if js_sys::Reflect::has(&nav, &"serviceWorker".into()).unwrap_or(false) {
            let _ = nav.service_worker().register("/sw.js");
        }
    }
}

/// Asks the offline cache (`sw.js`) to keep every module file this page has loaded
/// (`/pkg/...`, from the browser's resource timing): the first visit fetches some before the
/// worker controls the page, and those would otherwise be missing offline. The worker takes
/// them from the HTTP cache; nothing new is downloaded.
pub async fn cache_loaded_modules() {
    let Some(w) = web_sys::window() else { return };
    let (Some(perf), Ok(origin)) = (w.performance(), w.location().origin()) else {
        return;
    };
    let paths = js_sys::Array::new();
    for entry in perf.get_entries_by_type("resource") {
        if let Some(url) = entry
            .dyn_ref::<web_sys::PerformanceEntry>()
            .and_then(|e| e.name().strip_prefix(&origin).map(str::to_owned))
            .filter(|path| path.starts_with("/pkg/"))
        {
            paths.push(&url.into());
        }
    }
    let nav = w.navigator();
    if paths.length() == 0 || !js_sys::Reflect::has(&nav, &"serviceWorker".into()).unwrap_or(false)
    {
        return;
    }
    let Ok(ready) = nav.service_worker().ready() else {
        return;
    };
    let Ok(registration) = wasm_bindgen_futures::JsFuture::from(ready).await else {
        return;
    };
    let Some(worker) = registration
        .unchecked_into::<web_sys::ServiceWorkerRegistration>()
        .active()
    else {
        return;
    };
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"type".into(), &"cache".into());
    let _ = js_sys::Reflect::set(&message, &"paths".into(), &paths);
    let _ = worker.post_message(&message);
}

/// Marks the document for tests and the benchmark: `<html data-view="overview"
/// data-view-at="412.5">` (the time since navigation, in ms, when the mark was made).
pub fn mark(name: &str, value: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = el.set_attribute(&format!("data-{name}"), value);
        let _ = el.set_attribute(&format!("data-{name}-at"), &format!("{:.1}", perf_now()));
    }
}
