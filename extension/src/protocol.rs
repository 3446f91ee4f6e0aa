//! Every message between the extension's parts, as types. Whatever arrives is parsed into
//! these (unknown or ill-shaped messages are refused with [`Reply::Err`]) before anything acts
//! on it.
//!
//! - Popup and options -> background: [`Request`] / [`Reply`] over `runtime.sendMessage`.
//! - Card frame -> background: the same, relayed by the tab's content script
//!   ([`ToPage::Call`] / [`ToFrame::Reply`]); the background grants a tab only a card's
//!   requests, for its own origin.
//! - Content script <-> card frame: [`ToFrame`] / [`ToPage`] over a private `MessagePort`
//!   handed to the frame once, with a nonce only the two of them know.

use serde::{Deserialize, Serialize};
use vault_core::cards::library::{CardOption, Scale};
use vault_core::{Answer, CardType};

use crate::detector::{Observation, Signal};
use crate::health::Verdict;
use crate::settings::Settings;
use crate::sites::{Selectors, SiteAdapter};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Popup and frame: vault and day state.
    Status,
    /// First run: a new vault under this passphrase.
    Create {
        passphrase: String,
    },
    Unlock {
        passphrase: String,
    },
    Lock,
    /// Frame: how to read this page, and whether the extension is on here.
    Site {
        origin: String,
    },
    /// Frame: the card to show if the AI on `agent` starts generating now.
    NextCard {
        agent: String,
        origin: String,
    },
    /// Frame: an answer (or a skip, dismissal, or an input kept after an AI failure).
    Save(SaveAnswer),
    /// Frame: a generation finished after `ms` (the scheduler learns typical wait times), read
    /// by `signal`, the answer found by the site's own selectors or not (`own_answers`): a
    /// sample for the site's health record ([`crate::health`]).
    Generated {
        agent: String,
        ms: f64,
        #[serde(default)]
        signal: Option<Signal>,
        #[serde(default)]
        own_answers: Option<bool>,
    },
    /// Popup and options: how well SelfOS reads each site lately ([`SiteHealthView`]).
    SiteHealth,
    GetSettings,
    SetSettings {
        settings: Settings,
    },
    /// Options: a site of the user's own (the options page has already been granted host
    /// access for `origin`).
    AddSite {
        origin: String,
        name: String,
        selectors: Selectors,
    },
    RemoveSite {
        id: String,
    },
    /// Popup: turn the extension on or off for one site.
    PauseSite {
        id: String,
        paused: bool,
    },
    /// Options: sign in to (or create) a sync account.
    SignIn {
        server: String,
        username: String,
        passphrase: String,
        create: bool,
    },
    SignOut,
    SyncNow,
    /// Frame and popup: the context block for `agent` (the one writer,
    /// `vault_core::graph::context`), within `budget` characters (default
    /// [`CONTEXT_BUDGET`]). Fails with code `nothing_known` when the profile holds nothing
    /// for the agent.
    Context {
        agent: String,
        #[serde(default)]
        budget: Option<u32>,
    },
    /// Popup: delete these answers (a fact's supporting records) from the vault. Frame: the
    /// delivery record of a new chat's context that the user removed at once.
    Forget {
        records: Vec<String>,
    },
    /// Frame: the context block for `agent` went into the chat (`copied`: onto the clipboard,
    /// because the chat box refused it). The background keeps a delivery record, sealed and
    /// synced, so alignment counts it on every device. Answers the characters delivered.
    ///
    /// Popup: with `field` (a settings field's title, from [`Request::Instructions`]), that
    /// one field was copied (`copied`) or filled into the agent's settings page; the record
    /// carries that field's text and facts only.
    Delivered {
        agent: String,
        copied: bool,
        /// Inserted by itself into a new chat, under the user's standing consent.
        #[serde(default)]
        auto: bool,
        #[serde(default)]
        field: Option<String>,
    },
    /// Popup: `agent`'s own settings fields, each cut to its limit, and the link that opens
    /// them (`vault_core::graph::export::instructions`, as the web app's export shows them).
    /// Fails with code `nothing_known` when the profile holds nothing for the agent.
    Instructions {
        agent: String,
    },
    /// Frame: a new chat with an empty composer opened. Answers the block to start it with,
    /// or null: only when the user gave this agent standing consent, the site is on, no
    /// global pause holds and the vault is unlocked.
    NewChatContext {
        agent: String,
        origin: String,
    },
    /// Popup and options: give or withdraw the standing consent for `agent`'s new chats.
    SetNewChatContext {
        agent: String,
        on: bool,
    },
    /// Popup and tests: what each agent was given (this device's and synced delivery
    /// records), newest first.
    Deliveries,
    /// Frame: the user removed the context a new chat started with (Esc): its delivery record
    /// goes. Only a delivery record: the frame can delete nothing else.
    Withdraw {
        delivery: String,
    },
}

/// Which of the extension's own pages sent a request. The background grants each page only
/// what it needs: the card frame is embedded in AI sites' pages (in Firefox it even runs in
/// the page's process), so it may ask for what a card needs and nothing more (no unlock,
/// settings, sign-in, sync, deletes of answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Card,
    Popup,
    Options,
}

impl Page {
    /// The extension page at this URL path (`/popup.html`), if it is one that may talk to
    /// the background. Not `/card.html`: the card frame has no extension APIs (a sandboxed
    /// page in Chrome) and its requests arrive through its tab's content script, whose
    /// sender is the tab ([`Page::Card`] by construction in the background's listener).
    pub fn from_path(path: &str) -> Option<Page> {
        match path {
            "/popup.html" => Some(Page::Popup),
            "/options.html" => Some(Page::Options),
            _ => None,
        }
    }
}

impl Request {
    /// The site this request speaks for, if it names one. A card's request arrives through
    /// its tab's content script, and the background refuses it when this is not that tab's
    /// origin: a tab speaks for its own site only.
    pub fn origin(&self) -> Option<&str> {
        match self {
            Request::Site { origin }
            | Request::NextCard { origin, .. }
            | Request::NewChatContext { origin, .. } => Some(origin),
            Request::Save(save) => Some(&save.origin),
            _ => None,
        }
    }

    /// The agent (site id) this request speaks for, if it names one: a tab may name only the
    /// agent of its own site.
    pub fn agent(&self) -> Option<&str> {
        match self {
            Request::NextCard { agent, .. }
            | Request::Generated { agent, .. }
            | Request::Context { agent, .. }
            | Request::Delivered { agent, .. }
            | Request::NewChatContext { agent, .. } => Some(agent),
            Request::Save(save) => Some(&save.agent),
            _ => None,
        }
    }

    /// Whether `page` may send this request.
    pub fn allowed_from(&self, page: Page) -> bool {
        match page {
            Page::Popup | Page::Options => true,
            Page::Card => matches!(
                self,
                Request::Status
                    | Request::Site { .. }
                    | Request::NextCard { .. }
                    | Request::Save(_)
                    | Request::Generated { .. }
                    | Request::Context { .. }
                    | Request::Delivered { field: None, .. }
                    | Request::NewChatContext { .. }
                    | Request::Withdraw { .. }
            ),
        }
    }
}

/// How long the block inserted into a chat may be, in characters: enough for a dozen or two
/// facts, short enough to leave the user room for their own message.
pub const CONTEXT_BUDGET: u32 = 1_200;

/// What the card frame submits. The background fills in id, time and the record's checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveAnswer {
    pub card_id: String,
    pub card_version: u32,
    pub card_type: CardType,
    pub answer: Answer,
    pub agent: String,
    pub origin: String,
    pub answer_latency_ms: u32,
    pub wait_duration_ms: u32,
    /// The AI failed while the card was open; this is the input the user had entered.
    #[serde(default)]
    pub retry_after_ai_failure: bool,
}

/// A card, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardOffer {
    pub id: String,
    pub version: u32,
    pub card_type: CardType,
    pub text: String,
    pub options: Vec<CardOption>,
    pub scale: Option<Scale>,
    /// Wait this long after the generation started before showing (the user's minimum).
    pub delay_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VaultState {
    /// No vault on this device yet.
    Absent,
    Locked,
    Unlocked,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub vault: VaultState,
    pub answered_today: u32,
    pub daily_cap: u32,
    pub records: u32,
    /// Signed-in account, if any.
    pub account: Option<String>,
    pub sync: SyncState,
    pub sites: Vec<SiteStatus>,
    pub paused_until_ms: Option<u64>,
    /// Proposals from AI agents (`selfos mcp`) waiting for the user in the web app's
    /// Proposals view (as of the last sync or unlock).
    #[serde(default)]
    pub proposals_pending: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteStatus {
    pub id: String,
    pub name: String,
    pub paused: bool,
    pub custom: bool,
}

/// One site's health, as the popup and the options page show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteHealthView {
    pub id: String,
    pub name: String,
    pub verdict: Verdict,
    /// What the user reads when the site is not read well.
    pub message: Option<String>,
    /// Generations kept, and how many of them were read by the site's control.
    pub samples: u32,
    pub by_control: u32,
    /// The user has their own selectors for this site.
    pub overridden: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    pub last_ok_ms: Option<u64>,
    pub last_error: Option<String>,
    pub pending: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteConfig {
    pub adapter: SiteAdapter,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NextCard {
    Card(CardOffer),
    /// Why not (locked, paused, cap reached, nothing due...), for the popup and tests.
    None {
        reason: String,
    },
}

/// The background's answer to every request: `{ok: true, data}` or `{ok: false, error}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

impl Reply {
    pub fn ok<T: Serialize>(data: &T) -> Reply {
        match serde_json::to_value(data) {
            Ok(data) => Reply {
                ok: true,
                data: Some(data),
                error: None,
            },
            Err(e) => Reply::err("internal", e.to_string()),
        }
    }

    /// The data as `T` (`null` when there is none), or the error's message.
    pub fn into_data<T: serde::de::DeserializeOwned>(self) -> Result<T, String> {
        match (self.ok, self.data, self.error) {
            (true, data, _) => serde_json::from_value(data.unwrap_or(serde_json::Value::Null))
                .map_err(|e| e.to_string()),
            (false, _, Some(e)) => Err(e.message),
            (false, _, None) => Err("the background failed".into()),
        }
    }

    pub fn err(code: &str, message: impl Into<String>) -> Reply {
        Reply {
            ok: false,
            data: None,
            error: Some(ErrorBody {
                code: code.to_owned(),
                message: message.into(),
            }),
        }
    }
}

/// Content script -> card frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToFrame {
    /// A new reading of the page.
    Obs(Observation),
    /// The user pressed the focus shortcut.
    Focus,
    /// The tab was hidden or shown.
    Visibility { visible: bool },
    /// The user asked to insert the context into the chat (control, shortcut or popup).
    Insert,
    /// The content script put the block it was given into the chat box (`copied`: onto the
    /// clipboard instead, because the chat box refused it).
    Inserted { copied: bool },
    /// The user removed a new chat's context with Esc (it never reached the agent).
    Removed,
    /// The background's reply to the frame's request `id`, relayed by the content script
    /// (the frame has no extension APIs of its own).
    Reply { id: u32, reply: Reply },
    /// The background's latest [`Announcement`] (its JSON, as stored), relayed from
    /// `storage.onChanged`.
    Announced { value: String },
}

/// Background -> every open extension page: a change of state the pages follow (a card frame
/// drops its ready card when the vault locks and fetches one when it unlocks). Carried by
/// `storage.local` (see `web::chrome::announce`); tagged `announce`, so it is never taken for
/// a [`Request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "announce", rename_all = "snake_case")]
pub enum Announcement {
    VaultLocked,
    VaultUnlocked,
}

/// Card frame -> content script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToPage {
    /// Start sensing with these selectors (`None`: the extension is off on this site).
    Sense { selectors: Option<Selectors> },
    /// Show the overlay at this height (CSS px).
    Show { height: u32 },
    /// Hide the overlay; give focus back to where it was if the card had it.
    Hide,
    /// Show (or hide) the "insert my context" control by the composer: on while the vault is
    /// unlocked on a site that is on.
    Control { on: bool },
    /// Insert this text into the composer at the caret, as if typed; never send it. `auto`:
    /// a new chat's start (standing consent): marked, and Esc removes it.
    Insert {
        text: String,
        #[serde(default)]
        auto: bool,
    },
    /// Tell the user something by the composer (why nothing was inserted).
    Notice { message: String },
    /// Relay this request to the background (`runtime.sendMessage`) and answer with
    /// [`ToFrame::Reply`] under the same `id`.
    Call { id: u32, request: Request },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_of_the_wrong_shape_are_refused() {
        let ok: Request = serde_json::from_str(r#"{"type":"status"}"#).unwrap();
        assert_eq!(ok, Request::Status);
        for bad in [
            r#"{"type":"unlock"}"#,
            r#"{"type":"unlock","passphrase":1}"#,
            r#"{"type":"unlock","passphrase":"x","extra":true}"#,
            r#"{"type":"format_disk"}"#,
            r#"[]"#,
        ] {
            assert!(serde_json::from_str::<Request>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn replies_say_ok_or_why_not() {
        let v = serde_json::to_value(Reply::ok(&1)).unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(v["data"], 1);
        let v = serde_json::to_value(Reply::err("locked", "unlock first")).unwrap();
        assert_eq!(v["error"]["code"], "locked");
    }
    /// An announcement has its own tag (never a valid request, and the other way round) and
    /// reads back with the time the background adds to it.
    #[test]
    fn announcements_and_requests_are_never_confused() {
        let locked = serde_json::to_value(Announcement::VaultLocked).unwrap();
        assert_eq!(locked, serde_json::json!({"announce": "vault_locked"}));
        let stored = r#"{"announce":"vault_unlocked","at":1764000000000.0}"#;
        assert_eq!(
            serde_json::from_str::<Announcement>(stored).unwrap(),
            Announcement::VaultUnlocked
        );
        assert!(serde_json::from_value::<Request>(locked).is_err());
        let status = serde_json::to_value(Request::Status).unwrap();
        assert!(serde_json::from_value::<Announcement>(status).is_err());
    }
}
