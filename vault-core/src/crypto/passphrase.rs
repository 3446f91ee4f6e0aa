//! The one passphrase policy, for every front end (extension, web app, command line).
//!
//! It applies when a passphrase is *chosen*: creating a vault and changing the passphrase
//! ([`crate::header::VaultHeader::seal`] enforces it under both). It never applies to
//! unlocking, joining or restoring a backup: a vault made under an older, shorter minimum
//! must keep opening with the passphrase it was made with.
//!
//! Ten characters: the stricter of the two minimums that had drifted apart (8 in vault-core,
//! 10 in the extension's vault creation), so no front end gets weaker. Length is the one
//! rule, because it is the one a user can act on without guessing; PBKDF2 at 600,000
//! iterations (see `kdf.rs`) makes each guess expensive. Characters are counted as Unicode
//! scalar values, so a passphrase in a non-Latin script is not judged by its UTF-8 length.

use thiserror::Error;

/// The shortest passphrase a new vault, or a passphrase change, accepts.
pub const MIN_CHARS: usize = 10;

/// A new passphrase that the policy refuses. Its message is the one every front end shows.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("Use a passphrase of at least {MIN_CHARS} characters; a few unrelated words are easy to remember and hard to guess.")]
pub struct PassphraseTooWeak;

/// Checks a passphrase the user is choosing (not one they unlock with).
pub fn check(passphrase: &str) -> Result<(), PassphraseTooWeak> {
    if passphrase.chars().count() < MIN_CHARS {
        return Err(PassphraseTooWeak);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_characters_is_the_minimum() {
        assert_eq!(check("123456789"), Err(PassphraseTooWeak));
        assert_eq!(check(""), Err(PassphraseTooWeak));
        assert_eq!(check("1234567890"), Ok(()));
        assert_eq!(check("correct horse battery staple"), Ok(()));
    }

    #[test]
    fn counts_characters_not_bytes() {
        // Nine characters, 27 bytes of UTF-8: still too short.
        let nine = "日本語のパスワード";
        assert_eq!((nine.chars().count(), nine.len()), (9, 27));
        assert_eq!(check(nine), Err(PassphraseTooWeak));
        assert_eq!(check("日本語のパスワードです"), Ok(()));
    }

    #[test]
    fn the_message_names_the_minimum_and_what_to_do() {
        let msg = PassphraseTooWeak.to_string();
        assert!(msg.contains("at least 10 characters"), "{msg}");
        assert!(msg.contains("unrelated words"), "{msg}");
    }
}
