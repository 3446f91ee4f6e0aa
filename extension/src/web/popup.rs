//! The toolbar popup: create or unlock the vault, today's answers, per-site switches, sync
//! state, lock, and the way to the dashboard and the options.

use leptos::prelude::*;
use leptos::task::spawn_local;
use vault_core::text::counted;
use wasm_bindgen::prelude::*;

use super::chrome::{call, open_options_page, open_tab};
use super::ui::ago;
use crate::protocol::{Request, Status, SyncState, VaultState};
use crate::settings::Settings;

/// Entry point of `popup.html`.
#[wasm_bindgen]
pub fn start_popup() {
    leptos::mount::mount_to_body(Popup);
}

#[component]
fn Popup() -> impl IntoView {
    let status = RwSignal::new(None::<Status>);
    let error = RwSignal::new(None::<String>);
    let refresh = move || {
        spawn_local(async move {
            match call::<Status>(&Request::Status).await {
                Ok(s) => status.set(Some(s)),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    refresh();
    view! {
        <main class="popup">
            <h1>"SelfOS"</h1>
            {move || match status.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(s) if s.vault == VaultState::Unlocked => {
                    view! { <Unlocked status=s refresh=refresh error=error/> }.into_any()
                }
                Some(s) => view! { <Unlock create=s.vault == VaultState::Absent refresh=refresh error=error/> }.into_any(),
            }}
            <p class="err" role="alert">{move || error.get()}</p>
        </main>
    }
}

#[component]
fn Unlock(
    create: bool,
    refresh: impl Fn() + Copy + Send + Sync + 'static,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let pass = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let go = move || {
        if create && pass.get_untracked() != confirm.get_untracked() {
            error.set(Some("The two passphrases differ.".into()));
            return;
        }
        let passphrase = pass.get_untracked();
        busy.set(true);
        spawn_local(async move {
            let r = if create {
                Request::Create { passphrase }
            } else {
                Request::Unlock { passphrase }
            };
            match call::<VaultState>(&r).await {
                Ok(_) => {
                    error.set(None);
                    refresh();
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form on:submit=move |e| { e.prevent_default(); go(); }>
            <p>{if create {
                "Create your vault. Answers are encrypted with a key only this passphrase unlocks; nobody can recover it for you."
            } else {
                "Your vault is locked. No cards show until you unlock it."
            }}</p>
            <label>"Passphrase"
                <input id="passphrase" type="password" autocomplete=if create { "new-password" } else { "current-password" }
                    autofocus prop:value=move || pass.get() on:input=move |e| pass.set(event_target_value(&e))/>
            </label>
            <Show when=move || create>
                <label>"Repeat it"
                    <input id="confirm" type="password" autocomplete="new-password"
                        prop:value=move || confirm.get() on:input=move |e| confirm.set(event_target_value(&e))/>
                </label>
            </Show>
            <button id="unlock" type="submit" disabled=move || busy.get()>
                {if create { "Create vault" } else { "Unlock" }}
            </button>
        </form>
    }
}

#[component]
fn Unlocked(
    status: Status,
    refresh: impl Fn() + Copy + Send + Sync + 'static,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let act = move |r: Request| {
        spawn_local(async move {
            match call::<serde_json::Value>(&r).await {
                Ok(_) => error.set(None),
                Err(e) => error.set(Some(e)),
            }
            refresh();
        })
    };
    let sites = status
        .sites
        .iter()
        .cloned()
        .map(|site| {
            let id = site.id.clone();
            view! {
                <li>
                    <label>
                        <input type="checkbox" checked=!site.paused
                            on:change=move |e| act(Request::PauseSite { id: id.clone(), paused: !event_target_checked(&e) })/>
                        {site.name}
                    </label>
                </li>
            }
        })
        .collect_view();
    let sync_text = sync_line(status.account.as_deref(), &status.sync);
    view! {
        <section class="today" aria-label="Today">
            <strong id="today">{status.answered_today}</strong>
            {format!(" of {} cards today · {} in the vault", status.daily_cap, counted(status.records as usize, "answer", "answers"))}
        </section>
        <section aria-label="Sync"><p id="sync">{sync_text}</p>
            <Show when={let a = status.account.is_some(); move || a}>
                <button on:click=move |_| act(Request::SyncNow)>"Sync now"</button>
            </Show>
        </section>
        <details><summary>"Sites"</summary><ul class="sites">{sites}</ul></details>
        <div class="row">
            <button id="dashboard" on:click=move |_| spawn_local(async {
                let s: Settings = call(&Request::GetSettings).await.unwrap_or_default();
                let url = s.dashboard_url.or(s.server_url).unwrap_or_else(|| "http://127.0.0.1:8787".into());
                open_tab(&url).await;
            })>"Open dashboard"</button>
            <button on:click=move |_| spawn_local(open_options_page())>"Options"</button>
            <button id="lock" on:click=move |_| act(Request::Lock)>"Lock"</button>
        </div>
    }
}

fn sync_line(account: Option<&str>, s: &SyncState) -> String {
    match (account, &s.last_error, s.last_ok_ms) {
        (None, _, _) => format!(
            "Not syncing (sign in under Options) · {} waiting",
            s.pending
        ),
        (Some(a), Some(e), _) => format!("{a}: {e} · {} waiting", s.pending),
        (Some(a), None, Some(t)) => format!("{a}: synced {} · {} waiting", ago(t), s.pending),
        (Some(a), None, None) => format!("{a}: not synced yet · {} waiting", s.pending),
    }
}
