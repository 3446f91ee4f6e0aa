//! WebCrypto bindings, usable from a window, a worker or an extension service worker: the
//! `crypto` object is read from the global scope, never through `window()`.
//!
//! Private to `crypto`: the production path uses only [`pbkdf2_sha256`] (through
//! `kdf::derive_master_key`, which checks the parameters first). The raw HKDF and AES-GCM
//! calls, which take a caller's nonce and associated data, exist for the interop tests and
//! benchmarks and are compiled only with the `hazmat` feature (see `crypto::hazmat`).

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

use crate::crypto::keys::KEY_LEN;
use crate::error::CryptoError;

fn js_err(context: &str, e: JsValue) -> CryptoError {
    let detail = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    CryptoError::WebCrypto(format!("{context}: {detail}"))
}

/// `globalThis.crypto.subtle`, if this context has it (it needs a secure context).
pub fn subtle() -> Option<SubtleCrypto> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
    if crypto.is_undefined() {
        return None;
    }
    let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle")).ok()?;
    subtle.dyn_into::<SubtleCrypto>().ok()
}

pub fn available() -> bool {
    subtle().is_some()
}

fn subtle_or_err() -> Result<SubtleCrypto, CryptoError> {
    subtle().ok_or_else(|| CryptoError::WebCrypto("crypto.subtle is not available here".into()))
}

fn obj(pairs: &[(&str, &JsValue)]) -> Result<Object, CryptoError> {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).map_err(|e| js_err("building params", e))?;
    }
    Ok(o)
}

fn usages(list: &[&str]) -> Array {
    list.iter().map(|u| JsValue::from_str(u)).collect()
}

async fn import_raw(
    subtle: &SubtleCrypto,
    raw: &[u8],
    algorithm: &str,
    key_usages: &[&str],
) -> Result<CryptoKey, CryptoError> {
    let promise = subtle
        .import_key_with_str(
            "raw",
            &Uint8Array::from(raw),
            algorithm,
            false,
            &usages(key_usages),
        )
        .map_err(|e| js_err("importKey", e))?;
    let key = JsFuture::from(promise)
        .await
        .map_err(|e| js_err("importKey", e))?;
    key.dyn_into::<CryptoKey>()
        .map_err(|e| js_err("importKey returned a non-key", e))
}

/// 256 bits from `subtle.deriveBits` with `algorithm` (PBKDF2 or HKDF) over raw `secret`.
async fn derive_bits(
    algorithm: &str,
    secret: &[u8],
    params: &Object,
) -> Result<[u8; KEY_LEN], CryptoError> {
    let subtle = subtle_or_err()?;
    let base = import_raw(&subtle, secret, algorithm, &["deriveBits"]).await?;
    let promise = subtle
        .derive_bits_with_object(params, &base, (KEY_LEN * 8) as u32)
        .map_err(|e| js_err("deriveBits", e))?;
    let bits = JsFuture::from(promise)
        .await
        .map_err(|e| js_err("deriveBits", e))?;
    let mut out = [0u8; KEY_LEN];
    Uint8Array::new(&bits).copy_to(&mut out);
    Ok(out)
}

/// PBKDF2-HMAC-SHA256 by `subtle.deriveBits`, 256 bits.
pub async fn pbkdf2_sha256(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Result<[u8; KEY_LEN], CryptoError> {
    let params = obj(&[
        ("name", &"PBKDF2".into()),
        ("hash", &"SHA-256".into()),
        ("salt", &Uint8Array::from(salt).into()),
        ("iterations", &JsValue::from(iterations)),
    ])?;
    derive_bits("PBKDF2", password, &params).await
}

/// HKDF-SHA256 by `subtle.deriveBits` (used by the interop tests and the benchmarks to show
/// that an independent WebCrypto implementation follows FORMAT.md).
#[cfg(feature = "hazmat")]
pub async fn hkdf_sha256(
    ikm: &[u8],
    salt: &[u8],
    info: &[u8],
) -> Result<[u8; KEY_LEN], CryptoError> {
    let params = obj(&[
        ("name", &"HKDF".into()),
        ("hash", &"SHA-256".into()),
        ("salt", &Uint8Array::from(salt).into()),
        ("info", &Uint8Array::from(info).into()),
    ])?;
    derive_bits("HKDF", ikm, &params).await
}

#[cfg(feature = "hazmat")]
fn gcm_params(nonce: &[u8], aad: &[u8]) -> Result<Object, CryptoError> {
    obj(&[
        ("name", &"AES-GCM".into()),
        ("iv", &Uint8Array::from(nonce).into()),
        ("additionalData", &Uint8Array::from(aad).into()),
        ("tagLength", &JsValue::from(128)),
    ])
}

/// AES-256-GCM encryption by WebCrypto: returns ciphertext||tag.
#[cfg(feature = "hazmat")]
pub async fn aes_gcm_encrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let subtle = subtle_or_err()?;
    let key = import_raw(&subtle, key, "AES-GCM", &["encrypt"]).await?;
    let promise = subtle
        .encrypt_with_object_and_u8_array(&gcm_params(nonce, aad)?, &key, plaintext)
        .map_err(|e| js_err("encrypt", e))?;
    let out = JsFuture::from(promise)
        .await
        .map_err(|e| js_err("encrypt", e))?;
    Ok(Uint8Array::new(&out).to_vec())
}

/// AES-256-GCM decryption by WebCrypto of ciphertext||tag. A failed tag is
/// [`CryptoError::Tampered`].
#[cfg(feature = "hazmat")]
pub async fn aes_gcm_decrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let subtle = subtle_or_err()?;
    let key = import_raw(&subtle, key, "AES-GCM", &["decrypt"]).await?;
    let promise = subtle
        .decrypt_with_object_and_u8_array(&gcm_params(nonce, aad)?, &key, ciphertext)
        .map_err(|e| js_err("decrypt", e))?;
    let out = JsFuture::from(promise)
        .await
        .map_err(|_| CryptoError::Tampered)?;
    Ok(Uint8Array::new(&out).to_vec())
}
