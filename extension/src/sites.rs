//! Site adapters: which pages are AI chats and how to read their wait state from the DOM.
//!
//! Adapters are data (`assets/sites/*.json`), not code, because these sites change their
//! markup often: each lists several selector variants per signal and the sensor takes the
//! first that matches. Test ids and icons come before localized labels. A user-added site
//! has an origin and, optionally, its own selectors; with none it runs on the generic
//! fallback (the last answer's text still growing).
//!
//! The built-in adapters and their agents' names come from vault-core's one agents table
//! ([`vault_core::agents`]), which the web app and the exports read too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Selectors the content-script sensor evaluates; every list is tried in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selectors {
    /// A visible, enabled stop control means the AI is generating.
    #[serde(default)]
    pub stop: Vec<String>,
    /// An element marked busy/streaming means the AI is generating.
    #[serde(default)]
    pub busy: Vec<String>,
    /// The answers; the last one's text length is watched for growth.
    #[serde(default)]
    pub answer: Vec<String>,
    /// An error banner means the generation failed.
    #[serde(default)]
    pub error: Vec<String>,
    /// A retry/regenerate control appearing means the generation failed.
    #[serde(default)]
    pub retry: Vec<String>,
    /// The chat's input: the card never covers it and never takes its focus.
    #[serde(default)]
    pub composer: Vec<String>,
}

/// Where chat sites usually put answers: the generic fallback when a site's own answer
/// selectors match nothing (the user's own sites, or a site that changed its markup).
/// Growth of the last match's text is the wait signal there.
pub const GENERIC_ANSWER: &[&str] = &[
    "[data-message-author-role=\"assistant\"]",
    "[data-role=\"assistant\"]",
    "[class*=\"assistant\"]",
    "[class*=\"markdown\"]",
    "[class*=\"response\"]",
    "[role=\"article\"]",
    "article",
];

/// At most this many selectors per signal in a user's override.
pub const MAX_OVERRIDE_SELECTORS: usize = 8;

impl Selectors {
    /// Every list, with its name as the options page shows it.
    pub fn lists(&self) -> [(&'static str, &Vec<String>); 6] {
        [
            ("stop", &self.stop),
            ("busy", &self.busy),
            ("answer", &self.answer),
            ("error", &self.error),
            ("retry", &self.retry),
            ("composer", &self.composer),
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.lists().iter().all(|(_, l)| l.is_empty())
    }

    /// Checks a user's override (what the options page can check natively; the page also
    /// parses each one as CSS before saving): bounded lists of non-empty, bounded selectors.
    pub fn validate_override(&self) -> Result<(), String> {
        for (name, list) in self.lists() {
            if list.len() > MAX_OVERRIDE_SELECTORS {
                return Err(format!(
                    "At most {MAX_OVERRIDE_SELECTORS} {name} selectors; keep the ones that match."
                ));
            }
            if let Some(bad) = list.iter().find(|s| s.trim().is_empty() || s.len() > 300) {
                return Err(format!(
                    "The {name} selector `{bad}` is empty or longer than 300 characters."
                ));
            }
        }
        Ok(())
    }

    /// These selectors with the user's `own` tried first, list by list: the user's fix for a
    /// site that changed wins, and the built-in variants stay behind it as a fallback.
    pub fn overridden_by(&self, own: &Selectors) -> Selectors {
        let join = |mine: &Vec<String>, theirs: &Vec<String>| {
            let mut all = mine.clone();
            all.extend(theirs.iter().filter(|s| !mine.contains(s)).cloned());
            all
        };
        Selectors {
            stop: join(&own.stop, &self.stop),
            busy: join(&own.busy, &self.busy),
            answer: join(&own.answer, &self.answer),
            error: join(&own.error, &self.error),
            retry: join(&own.retry, &self.retry),
            composer: join(&own.composer, &self.composer),
        }
    }

    /// What the host-page sensor watches: these selectors, then the generic answer
    /// candidates. The sensor reads the first answer selector that matches anything, so the
    /// generic ones only count when the site's own match nothing (a redesign, a user's site).
    pub fn for_sensor(&self) -> Selectors {
        let mut s = self.clone();
        for generic in GENERIC_ANSWER {
            if !s.answer.iter().any(|a| a == generic) {
                s.answer.push((*generic).to_owned());
            }
        }
        s
    }
}

/// One AI site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteAdapter {
    /// The agent namespace answers are filed under (`chatgpt`, ...).
    pub id: String,
    /// What the user calls it. Built-in adapters take it from the agents table (their
    /// files carry none); a user's own site keeps the name the user gave.
    #[serde(default)]
    pub name: String,
    /// Manifest match patterns (`https://chatgpt.com/*`).
    pub matches: Vec<String>,
    #[serde(flatten)]
    pub selectors: Selectors,
    /// Where the selectors come from: the public descriptions of the real site's markup they
    /// were checked against (JSON has no comments; this is the adapter file's citation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SiteError {
    #[error("site adapter {0}: {1}")]
    Invalid(String, String),
    #[error("`{0}` is not a web origin; use the form https://example.com")]
    BadOrigin(String),
}

impl SiteAdapter {
    /// Checks what the JSON schema cannot: ids, patterns, selector sanity.
    pub fn validate(&self) -> Result<(), SiteError> {
        let bad = |why: &str| Err(SiteError::Invalid(self.id.clone(), why.to_owned()));
        if vault_core::Namespace::new(self.id.as_str()).is_err() {
            return bad("id must be 1 to 64 lowercase letters, digits or `.:_-`");
        }
        if self.matches.is_empty() {
            return bad("needs at least one match pattern");
        }
        if let Some(m) = self
            .matches
            .iter()
            .find(|m| !m.starts_with("https://") || !m.ends_with("/*"))
        {
            return bad(&format!("match pattern `{m}` must be https://HOST/*"));
        }
        if let Some(sel) = self
            .selectors
            .lists()
            .into_iter()
            .flat_map(|(_, l)| l.iter())
            .find(|sel| sel.trim().is_empty() || sel.len() > 300)
        {
            return bad(&format!("selector `{sel}` is empty or too long"));
        }
        Ok(())
    }

    /// Whether this adapter covers `origin` (`https://chatgpt.com`).
    pub fn covers(&self, origin: &str) -> bool {
        self.matches
            .iter()
            .any(|m| m.strip_suffix("/*") == Some(origin))
    }

    /// A user-added site: the origin (validated) with optional selectors. Without selectors
    /// it runs on the generic fallback.
    pub fn custom(origin: &str, name: &str, selectors: Selectors) -> Result<Self, SiteError> {
        let origin = vault_core::Origin::from_url(origin)
            .map_err(|_| SiteError::BadOrigin(origin.to_owned()))?;
        let host = origin
            .as_str()
            .strip_prefix("https://")
            .ok_or_else(|| SiteError::BadOrigin(origin.as_str().to_owned()))?;
        let adapter = SiteAdapter {
            id: format!("site:{}", host.to_ascii_lowercase().replace(':', "_")),
            name: if name.trim().is_empty() {
                host.to_owned()
            } else {
                name.trim().to_owned()
            },
            matches: vec![format!("{}/*", origin.as_str())],
            selectors,
            sources: Vec::new(),
        };
        adapter.validate()?;
        Ok(adapter)
    }
}

/// The built-in adapters, named from the agents table (validated by this crate's tests, so
/// this cannot fail at run time).
pub fn builtin() -> Vec<SiteAdapter> {
    vault_core::agents::SITE_ADAPTERS
        .iter()
        .map(|(id, json)| {
            let mut adapter: SiteAdapter =
                serde_json::from_str(json).expect("assets/sites adapters are tested");
            adapter.name = vault_core::agents::display_name(id);
            adapter
        })
        .collect()
}

/// Every site SelfOS runs on: the built-in adapters, then the user's own (`custom`), in the
/// order lists show them.
pub fn all(custom: &[SiteAdapter]) -> impl Iterator<Item = SiteAdapter> + '_ {
    builtin().into_iter().chain(custom.iter().cloned())
}

/// The adapter for a page origin: built-in first, then the user's own sites, with the user's
/// selector overrides for that site (keyed by site id) tried first.
pub fn for_origin(
    custom: &[SiteAdapter],
    overrides: &BTreeMap<String, Selectors>,
    origin: &str,
) -> Option<SiteAdapter> {
    let mut adapter = all(custom).find(|a| a.covers(origin))?;
    if let Some(own) = overrides.get(&adapter.id) {
        adapter.selectors = adapter.selectors.overridden_by(own);
    }
    Some(adapter)
}

/// Every match pattern of the built-in adapters (the manifest's host access).
pub fn builtin_match_patterns() -> Vec<String> {
    builtin().into_iter().flat_map(|a| a.matches).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_adapter_parses_and_validates() {
        for (id, json) in vault_core::agents::SITE_ADAPTERS {
            let a: SiteAdapter = serde_json::from_str(json).unwrap();
            a.validate().unwrap();
            assert_eq!(a.id, *id);
            assert!(
                !a.selectors.stop.is_empty() || !a.selectors.answer.is_empty(),
                "{} has no wait signal",
                a.id
            );
        }
        let ids: std::collections::BTreeSet<_> = builtin().into_iter().map(|a| a.id).collect();
        assert_eq!(
            ids.len(),
            vault_core::agents::SITE_ADAPTERS.len(),
            "adapter ids are unique"
        );
    }

    #[test]
    fn sensor_falls_back_to_generic_answers_after_the_sites_own() {
        let chatgpt = for_origin(&[], &BTreeMap::new(), "https://chatgpt.com").unwrap();
        let sensed = chatgpt.selectors.for_sensor();
        assert_eq!(sensed.answer[..2], chatgpt.selectors.answer[..]);
        let extra = GENERIC_ANSWER
            .iter()
            .filter(|g| !chatgpt.selectors.answer.iter().any(|a| a == *g))
            .count();
        assert_eq!(sensed.answer.len(), 2 + extra, "no selector twice");
        let bare = SiteAdapter::custom("https://chat.example.org", "", Selectors::default())
            .unwrap()
            .selectors
            .for_sensor();
        assert_eq!(bare.answer.len(), GENERIC_ANSWER.len());
        assert!(bare.stop.is_empty(), "stop controls are never guessed");
    }

    #[test]
    fn origins_find_their_adapter() {
        assert_eq!(
            for_origin(&[], &BTreeMap::new(), "https://chatgpt.com")
                .unwrap()
                .id,
            "chatgpt"
        );
        assert_eq!(
            for_origin(&[], &BTreeMap::new(), "https://claude.ai")
                .unwrap()
                .id,
            "claude"
        );
        let le_chat = for_origin(&[], &BTreeMap::new(), "https://chat.mistral.ai").unwrap();
        assert_eq!(le_chat.name, "Le Chat", "named from the agents table");
        assert!(for_origin(&[], &BTreeMap::new(), "https://example.com").is_none());
        let mine =
            SiteAdapter::custom("https://chat.example.org", "", Selectors::default()).unwrap();
        assert_eq!(mine.id, "site:chat.example.org");
        let custom = [mine];
        assert_eq!(
            for_origin(&custom, &BTreeMap::new(), "https://chat.example.org")
                .unwrap()
                .name,
            "chat.example.org"
        );
    }

    #[test]
    fn custom_sites_reject_what_is_not_an_https_origin() {
        for bad in ["chatgpt", "http://example.com", "ftp://example.com", ""] {
            assert!(
                SiteAdapter::custom(bad, "x", Selectors::default()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_users_override_is_tried_first_and_bounded() {
        let own = Selectors {
            stop: vec!["button.my-stop".into()],
            ..Selectors::default()
        };
        let overrides = BTreeMap::from([("deepseek".to_owned(), own.clone())]);
        let plain = for_origin(&[], &BTreeMap::new(), "https://chat.deepseek.com").unwrap();
        let fixed = for_origin(&[], &overrides, "https://chat.deepseek.com").unwrap();
        assert_eq!(fixed.id, "deepseek");
        assert_eq!(fixed.selectors.stop[0], "button.my-stop");
        assert_eq!(fixed.selectors.stop[1..], plain.selectors.stop[..]);
        assert_eq!(fixed.selectors.answer, plain.selectors.answer);
        own.validate_override().unwrap();
        let too_many = Selectors {
            answer: vec!["p".into(); MAX_OVERRIDE_SELECTORS + 1],
            ..Selectors::default()
        };
        assert!(too_many.validate_override().is_err());
        let blank = Selectors {
            retry: vec!["  ".into()],
            ..Selectors::default()
        };
        assert!(blank.validate_override().is_err());
    }
}
