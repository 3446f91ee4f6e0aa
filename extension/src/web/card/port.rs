//! The private port to the content script: the handshake that hands it over (only a message
//! from the parent window carrying this frame's nonce counts), the messages over it, and the
//! frame's only way to the background: requests relayed by the content script ([`call`]),
//! since the frame has no extension APIs (in Chrome it is a sandboxed page: it cannot read
//! the unwrapped vault key in `storage.session`, nor ask the background anything a card may
//! not ask).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, MessagePort};

use super::{controller, frame, ui};
use crate::protocol::{Announcement, Reply, Request, ToFrame, ToPage};

thread_local! {
    /// The id of the next relayed request.
    static NEXT_CALL: Cell<u32> = const { Cell::new(1) };
    /// Requests waiting for their reply: the promise's `resolve`, and the reply once it came.
    static WAITING: RefCell<HashMap<u32, js_sys::Function>> = RefCell::new(HashMap::new());
    static REPLIES: RefCell<HashMap<u32, Reply>> = RefCell::new(HashMap::new());
}

/// Sends a request to the background through the content script and waits for its reply.
pub(super) async fn request(r: &Request) -> Reply {
    if !frame(|f| f.port.is_some()) {
        return Reply::err("background", "SelfOS is still starting on this page.");
    }
    let id = NEXT_CALL.with(|n| n.replace(n.get().wrapping_add(1)));
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        WAITING.with(|w| w.borrow_mut().insert(id, resolve));
    });
    post(&ToPage::Call {
        id,
        request: r.clone(),
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    match REPLIES.with(|r| r.borrow_mut().remove(&id)) {
        // The content script's word for "no answer" (the extension was reloaded or updated
        // under this page, or its background failed to start).
        Some(Reply {
            ok: false,
            error: None,
            ..
        })
        | None => Reply::err(
            "background",
            "The SelfOS background did not answer. Reload the page.",
        ),
        Some(reply) => reply,
    }
}

/// [`request`], then the data as `T` or the error's message.
pub(super) async fn call<T: DeserializeOwned>(r: &Request) -> Result<T, String> {
    request(r).await.into_data()
}

/// A relayed reply arrived: wakes the request waiting for it (an unknown id is ignored).
fn on_reply(id: u32, reply: Reply) {
    if let Some(resolve) = WAITING.with(|w| w.borrow_mut().remove(&id)) {
        REPLIES.with(|r| r.borrow_mut().insert(id, reply));
        let _ = resolve.call0(&JsValue::NULL);
    }
}

/// The parameters the content script put in the URL fragment: `#n=<nonce>&o=<origin>`.
fn fragment() -> (String, String) {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    let mut nonce = String::new();
    let mut origin = String::new();
    for pair in hash.trim_start_matches('#').split('&') {
        match pair.split_once('=') {
            Some(("n", v)) => nonce = v.to_owned(),
            Some(("o", v)) => {
                origin = js_sys::decode_uri_component(v)
                    .ok()
                    .and_then(|s| s.as_string())
                    .unwrap_or_default()
            }
            _ => {}
        }
    }
    // Chrome tells the frame its embedder's origin itself; prefer that over the fragment.
    let ancestor = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.location(), &"ancestorOrigins".into()).ok())
        .and_then(|list| js_sys::Reflect::get(&list, &0.into()).ok())
        .and_then(|o| o.as_string());
    (nonce, ancestor.unwrap_or(origin))
}

/// Takes the private port from the content script: the first message from the parent window
/// that carries the nonce from this frame's URL. Everything else is ignored.
pub(super) fn accept_port() {
    let (nonce, origin) = fragment();
    let embedder = origin.clone();
    let Some(window) = web_sys::window() else {
        return;
    };
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let from_parent = web_sys::window()
            .and_then(|w| w.parent().ok().flatten())
            .zip(e.source())
            .is_some_and(|(p, s)| JsValue::from(p) == JsValue::from(s));
        let carries_nonce = js_sys::Reflect::get(&e.data(), &"selfos".into())
            .ok()
            .and_then(|v| v.as_string())
            .is_some_and(|n| !nonce.is_empty() && n == nonce);
        let port = e.ports().get(0).dyn_into::<MessagePort>().ok();
        let taken = frame(|f| f.port.is_some());
        if let (true, true, false, Some(port)) = (from_parent, carries_nonce, taken, port) {
            adopt(port, origin.clone());
        }
    });
    let _ = window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
    handler.forget();
    // Firefox: the content script offers the port at this frame's origin until the frame
    // speaks on it, and nothing is posted to the page's window (that would hand the page the
    // extension's per-install origin, a stable fingerprint). Chrome serves this dynamic-URL
    // frame at an origin the content script cannot know in advance: there the frame says it
    // listens, to the embedding page's origin only (Chrome's extension id is the same on
    // every install).
    let own = window.location().protocol().unwrap_or_default();
    if own == "chrome-extension:" && !embedder.is_empty() {
        if let Ok(Some(parent)) = window.parent() {
            let ready = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&ready, &"selfos".into(), &"ready".into());
            let _ = parent.post_message(&ready, &embedder);
        }
    }
}

/// Keeps the port, listens on it, and starts the frame for the page's origin.
fn adopt(port: MessagePort, origin: String) {
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|e: MessageEvent| {
        // Anything not shaped like a `ToFrame` is not ours and is ignored.
        match from_js::<ToFrame>(&e.data()) {
            Some(ToFrame::Reply { id, reply }) => on_reply(id, reply),
            Some(ToFrame::Announced { value }) => {
                let announced = serde_json::from_str::<Announcement>(&value).ok();
                if let (Some(a), Some(ui)) = (announced, ui()) {
                    controller::follow_vault(ui, a);
                }
            }
            Some(msg) => controller::on_page_message(msg),
            None => {}
        }
    });
    port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    frame(|f| {
        f.port = Some(port);
        f.origin = origin.clone();
    });
    controller::start(origin);
}

/// Messages cross the port as plain objects, converted through JSON: one serde format in
/// this module (serde_json, which the replies' data needs anyway) keeps it small.
fn to_js<T: serde::Serialize>(v: &T) -> JsValue {
    serde_json::to_string(v)
        .ok()
        .and_then(|json| js_sys::JSON::parse(&json).ok())
        .unwrap_or(JsValue::NULL)
}

/// The message as `T`, or `None` when it is not one (anything not ours is ignored).
fn from_js<T: DeserializeOwned>(v: &JsValue) -> Option<T> {
    let json = String::from(js_sys::JSON::stringify(v).ok()?);
    serde_json::from_str(&json).ok()
}

/// Sends a message to the content script (dropped before the port arrives).
pub(super) fn post(msg: &ToPage) {
    frame(|f| {
        if let Some(port) = &f.port {
            let _ = port.post_message(&to_js(msg));
        }
    });
}

/// Tells the content script the card's rendered height.
pub(super) fn post_height() {
    let height = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("#card, #locked-hint").ok().flatten())
        .map(|c| c.scroll_height() as u32)
        .unwrap_or(180);
    post(&ToPage::Show {
        height: height + 14,
    });
}
