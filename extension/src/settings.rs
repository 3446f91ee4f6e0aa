//! The user's settings: caps, timing, pauses, sites, auto-lock, sync account. Stored in the
//! extension's `storage.local` as JSON (nothing secret here: no passphrase, no key, no token).

use serde::{Deserialize, Serialize};
use vault_core::cards::scheduler::Limits;

use std::collections::BTreeMap;

use crate::sites::{Selectors, SiteAdapter};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Cards per local day.
    pub daily_cap: u32,
    /// The AI must have been generating this long before a card shows.
    pub min_wait_ms: u64,
    /// Quiet hours `[start, end)`, local time, wrapping past midnight.
    pub quiet_hours: Option<(u8, u8)>,
    /// A global pause until this time.
    pub paused_until_ms: Option<u64>,
    /// Site ids the user switched off.
    pub paused_sites: Vec<String>,
    /// Sites the user added (origin and optional selectors).
    pub custom_sites: Vec<SiteAdapter>,
    /// Lock the vault after this many idle minutes (0: only when the browser closes).
    pub auto_lock_minutes: u32,
    /// Also lock when the computer locks, where the browser tells (`idle` state `locked`).
    pub lock_on_system_lock: bool,
    /// The sync server (`http://127.0.0.1:8787` with `cargo xtask run`).
    pub server_url: Option<String>,
    /// The signed-in account on that server.
    pub username: Option<String>,
    /// Where "Open dashboard" goes (the server serves the web app at `/`).
    pub dashboard_url: Option<String>,
    /// Agents (site ids) whose new chats start with the user's context: the user's standing
    /// consent, given per agent in the popup or options; empty (off everywhere) by default.
    pub new_chat_context: Vec<String>,
    /// The user's own selectors for a site (built-in or their own), by site id, tried before
    /// the adapter's: the fix for a site that changed its markup, without waiting for an
    /// update (options → Site health).
    pub site_overrides: BTreeMap<String, Selectors>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            daily_cap: 20,
            min_wait_ms: 0,
            quiet_hours: None,
            paused_until_ms: None,
            paused_sites: Vec::new(),
            custom_sites: Vec::new(),
            auto_lock_minutes: 30,
            lock_on_system_lock: true,
            server_url: None,
            username: None,
            dashboard_url: None,
            new_chat_context: Vec::new(),
            site_overrides: BTreeMap::new(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct SettingsError(String);

impl Settings {
    /// Refuses values no UI should send (and a hand-edited store might hold).
    pub fn validate(&self) -> Result<(), SettingsError> {
        let bad = |s: &str| Err(SettingsError(s.to_owned()));
        if self.daily_cap > 500 {
            return bad("The daily cap is at most 500 cards.");
        }
        if self.min_wait_ms > 60_000 {
            return bad("The minimum wait is at most 60 seconds.");
        }
        if let Some((a, b)) = self.quiet_hours {
            if a > 23 || b > 23 || a == b {
                return bad("Quiet hours need two different hours between 0 and 23.");
            }
        }
        if self.auto_lock_minutes > 24 * 60 {
            return bad("Auto-lock is at most 24 hours.");
        }
        for url in self.server_url.iter().chain(&self.dashboard_url) {
            if let Err(e) = vault_core::sync::transport::normalize_base_url(url) {
                return bad(&e);
            }
        }
        for site in &self.custom_sites {
            site.validate().map_err(|e| SettingsError(e.to_string()))?;
        }
        if self.new_chat_context.len() > 64
            || self
                .new_chat_context
                .iter()
                .any(|a| vault_core::Namespace::new(a).is_err())
        {
            return bad(
                "New-chat context takes at most 64 agents, each a site id such as chatgpt.",
            );
        }
        if self.site_overrides.len() > 64 {
            return bad("Selector overrides are kept for at most 64 sites.");
        }
        for (id, own) in &self.site_overrides {
            if vault_core::Namespace::new(id).is_err() {
                return bad("A selector override needs a site id such as deepseek.");
            }
            own.validate_override().map_err(SettingsError)?;
        }
        Ok(())
    }

    /// The scheduler's view of these settings at local offset `utc_offset_minutes`.
    pub fn limits(&self, utc_offset_minutes: i32) -> Limits {
        Limits {
            daily_cap: self.daily_cap,
            min_wait_ms: 0,
            paused_agents: self.paused_sites.clone(),
            paused_until_ms: self.paused_until_ms,
            quiet_hours: self.quiet_hours,
            utc_offset_minutes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_refused() {
        Settings::default().validate().unwrap();
        let bad = [
            Settings {
                daily_cap: 10_000,
                ..Settings::default()
            },
            Settings {
                quiet_hours: Some((22, 22)),
                ..Settings::default()
            },
            Settings {
                server_url: Some("ftp://x".into()),
                ..Settings::default()
            },
        ];
        for s in bad {
            assert!(s.validate().is_err(), "{s:?}");
        }
    }

    #[test]
    fn old_stored_settings_still_load() {
        let s: Settings = serde_json::from_str(r#"{"daily_cap":5}"#).unwrap();
        assert_eq!(s.daily_cap, 5);
        assert_eq!(s.auto_lock_minutes, 30);
        assert!(
            s.lock_on_system_lock,
            "locking with the computer is on unless turned off"
        );
    }
}
