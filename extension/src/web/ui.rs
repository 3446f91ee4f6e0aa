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

/// "3 min ago" style text for a past Unix time in ms.
pub fn ago(t_ms: u64) -> String {
    let s = ((js_sys::Date::now() - t_ms as f64) / 1000.0).max(0.0) as u64;
    match s {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}
