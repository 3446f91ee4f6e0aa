//! Randomness from the operating system (native) or `crypto.getRandomValues` (browser).

use crate::error::CryptoError;

/// Fills `N` bytes from the platform's cryptographically secure generator.
pub fn bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).map_err(|e| CryptoError::Random(e.to_string()))?;
    Ok(out)
}
