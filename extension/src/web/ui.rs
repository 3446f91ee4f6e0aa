//! Small pieces the pages share.

use serde::Serialize;
use wasm_bindgen::JsValue;

/// Serializes for JavaScript as plain objects and numbers (never `Map`s or `BigInt`s), so
/// messages look the same as JSON everywhere.
pub fn to_js<T: Serialize>(v: &T) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// `5 min ago`, `yesterday`, ... from now.
pub fn ago(t_ms: u64) -> String {
    vault_core::text::ago(t_ms, js_sys::Date::now() as u64)
}

/// Puts `text` on the clipboard (called from the user's click, which the browser requires).
pub async fn copy_text(text: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "Copying failed: {}",
                e.as_string()
                    .unwrap_or_else(|| "the browser refused".into())
            )
        })
}

/// `url` with the account's name as `?user=`, so the web app's sign-in has it filled in (a
/// username is not secret; the passphrase is never passed).
pub fn with_user(url: &str, account: Option<&str>) -> String {
    let Some(user) = account else {
        return url.to_owned();
    };
    let encoded = String::from(js_sys::encode_uri_component(user));
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}user={encoded}")
}
