//! The sign-in / unlock screen. With a vault in this browser it unlocks locally (offline is
//! fine) and syncs afterwards; on a first visit it signs in to this server and pulls the
//! account's vault.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser;
use super::ctx::{ctx, Ctx};
use super::lazy;
use super::session::{self, LocalState};
use crate::profile::Profile;
use crate::AppError;

#[component]
pub fn UnlockScreen() -> impl IntoView {
    let ctx = ctx();
    let local = RwSignal::new(None::<LocalState>);
    let username = RwSignal::new(String::new());
    let passphrase = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    spawn_local(async move {
        match session::local_state().await {
            Ok(s) => {
                // This browser's last account first; else the name the extension passed in
                // the address (`?user=`, from its "Open dashboard"): one less thing to type.
                if let Some(u) = s.username.clone().or_else(browser::user_in_address) {
                    username.set(u);
                }
                if s.has_vault {
                    // Unlocking is next, and the files are in this browser's cache.
                    lazy::preload_vault();
                }
                local.set(Some(s));
            }
            Err(e) => error.set(Some(e.to_string())),
        }
        browser::mark("ready", "unlock");
    });
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let (u, p) = (username.get_untracked(), passphrase.get_untracked());
        spawn_local(async move {
            let opened = match lazy::open_vault(ctx, u, p).await {
                Ok(opening) => opening.await,
                Err(e) => Err(e.into()),
            };
            match opened {
                // The form is gone by now (the shell replaced it); forget the passphrase anyway.
                Ok(()) => drop(passphrase.try_set(String::new())),
                Err(e) => {
                    browser::mark("error", e.code());
                    error.set(Some(e.to_string()));
                    busy.set(false);
                }
            }
        });
    };
    let has_vault = move || local.with(|l| l.as_ref().is_some_and(|l| l.has_vault));
    view! {
        <main class="unlock" id="unlock-screen">
            // The vault's code (keys, sync, the profile) is not in the first download: fetch it
            // as soon as the person starts on the form, so it is there when they submit.
            <form id="unlock-form" class="card" on:submit=submit aria-describedby="unlock-help"
                on:focusin=move |_| lazy::preload_vault()>
                <h1><span class="brand">"Self" <b>"OS"</b></span></h1>
                <p id="unlock-help" class="muted">
                    {move || if has_vault() {
                        "Unlock the vault kept in this browser. It opens offline too; changes sync when the server answers."
                    } else {
                        "Sign in with the username and passphrase you chose in the SelfOS extension. Your passphrase never leaves this device: answers are decrypted here only."
                    }}
                </p>
                <label for="username">"Username"</label>
                <input id="username" name="username" autocomplete="username" required
                    prop:value=move || username.get()
                    on:input=move |e| username.set(event_target_value(&e))/>
                <label for="passphrase">"Passphrase"</label>
                <input id="passphrase" name="passphrase" type="password" autocomplete="current-password" required
                    prop:value=move || passphrase.get()
                    on:input=move |e| passphrase.set(event_target_value(&e))/>
                <p id="error" class="error" role="alert" hidden=move || error.with(Option::is_none)>
                    {move || error.get()}
                </p>
                <button id="unlock" type="submit" class="primary" disabled=move || busy.get()>
                    {move || match (busy.get(), has_vault()) {
                        (true, _) => "Opening…",
                        (false, true) => "Unlock",
                        (false, false) => "Sign in",
                    }}
                </button>
                <p class="muted small">"Server: " {browser::origin().unwrap_or_default()}</p>
            </form>
        </main>
    }
}

/// Opens the vault with the form's credentials (see `session::unlock`) and shows it: builds
/// the profile, installs it in `ctx`, and starts the first sync. Runs in the vault's module.
pub async fn open(ctx: Ctx, username: String, passphrase: String) -> Result<(), AppError> {
    let done = session::unlock(&username, &passphrase).await?;
    browser::mark("unlocked", &done.records.len().to_string());
    let profile = Profile::build(done.records, browser::now_ms(), done.snapshots);
    browser::mark("built", "profile");
    ctx.username.set(done.username);
    ctx.proposals.set(done.proposals);
    if done.damaged > 0 {
        ctx.note.set(Some(format!(
            "{} stored entries could not be opened (damaged) and are left out.",
            done.damaged
        )));
    }
    ctx.profile.set(Some(Arc::new(profile)));
    if done.joined {
        ctx.sync.update(|s| s.last_ok_ms = Some(browser::now_ms()));
    } else {
        ctx.sync_soon();
    }
    Ok(())
}
