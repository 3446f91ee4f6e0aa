//! Small pieces the pages share.

use serde::Serialize;
use wasm_bindgen::JsValue;

/// Serializes for JavaScript as plain objects and numbers (never `Map`s or `BigInt`s), so
/// messages look the same as JSON everywhere.
pub fn to_js<T: Serialize>(v: &T) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

/// `5 min ago`, `yesterday`, ... from now.
pub fn ago(t_ms: u64) -> String {
    vault_core::text::ago(t_ms, js_sys::Date::now() as u64)
}
