//! Settings: sync (and signing in again after a change on another device), passphrase
//! change (re-wraps the key here and on the server) with the key-derivation cost, key
//! rotation (re-seals everything under a new key), devices and sessions with revoke, and
//! deleting everything.

use leptos::prelude::*;
use leptos::task::spawn_local;
use vault_core::sync::client::Device;

use super::browser;
use super::ctx::{ctx, SyncState};
use super::session;
use crate::text::{ago, date_time};

#[component]
pub fn SettingsView() -> impl IntoView {
    let ctx = ctx();
    browser::mark("view", "settings");
    // Bumped by a passphrase change or key rotation (both end every other session), so the
    // device list is read again.
    let ended = RwSignal::new(0u32);
    view! {
        <section id="settings" class="view" aria-labelledby="settings-title">
            <h1 id="settings-title">"Settings"</h1>
            <section class="panel">
                <h2>"Account"</h2>
                <dl class="figures">
                    <dt>"Username"</dt><dd id="account-user">{move || ctx.username.get()}</dd>
                    <dt>"Server"</dt><dd>{browser::origin().unwrap_or_default()}</dd>
                    <dt>"Last sync"</dt><dd>{move || ctx.sync.with(|s| s.last_ok_ms.map(|t| ago(t, browser::now_ms())).unwrap_or_else(|| "never".into()))}</dd>
                    <dt>"Waiting to sync"</dt><dd>{move || ctx.sync.with(|s| s.pending)}</dd>
                </dl>
                <p class="error" hidden=move || ctx.sync.with(|s| s.error.is_none())>{move || ctx.sync.with(|s| s.error.clone())}</p>
                <SignInAgain ended/>
                <button id="sync-now" class="primary" on:click=move |_| ctx.sync_soon()>"Sync now"</button>
            </section>
            <Passphrase ended/>
            <RotateKey ended/>
            <Devices ended/>
            <Danger/>
        </section>
    }
}

#[component]
fn Passphrase(ended: RwSignal<u32>) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let iterations = RwSignal::new(String::new());
    let result = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(n) = session::kdf_iterations().await {
            iterations.set(n.to_string());
        }
    });
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let (c, n, k) = (
            current.get_untracked(),
            new.get_untracked(),
            confirm.get_untracked(),
        );
        if n != k {
            result.set(Some((
                false,
                "The new passphrase and its confirmation differ.".into(),
            )));
            return;
        }
        let Ok(iters) = iterations
            .get_untracked()
            .trim()
            .replace([',', '_'], "")
            .parse::<u32>()
        else {
            result.set(Some((
                false,
                "Key-derivation cost: enter a number of iterations, e.g. 600000.".into(),
            )));
            return;
        };
        busy.set(true);
        result.set(None);
        spawn_local(async move {
            let t = browser::perf_now();
            let outcome = session::change_passphrase(&c, &n, iters).await;
            busy.set(false);
            match outcome {
                Ok(()) => {
                    ended.update(|n| *n += 1);
                    current.set(String::new());
                    new.set(String::new());
                    confirm.set(String::new());
                    result.set(Some((true, format!("Passphrase changed here and on the server ({:.1} s). Your other devices were signed out and will ask for the new passphrase. If someone may know your old passphrase, also rotate the vault key below: a passphrase change alone does not lock out whoever kept a copy of the old key.", (browser::perf_now() - t) / 1000.0))));
                }
                Err(e) => result.set(Some((false, e.to_string()))),
            }
        });
    };
    let field = |id: &'static str, label: String, sig: RwSignal<String>, auto: &'static str| {
        view! {
            <label for=id>{label}</label>
            <input id=id type="password" autocomplete=auto prop:value=move || sig.get() on:input=move |e| sig.set(event_target_value(&e))/>
        }
    };
    view! {
        <section class="panel" id="passphrase-settings">
            <h2>"Change passphrase"</h2>
            <p class="muted small">"Re-wraps your vault key under the new passphrase; the answers themselves are not re-encrypted. The server learns only the new login secret, never the passphrase."</p>
            <form class="grid" on:submit=submit>
                {field("current-passphrase", "Current passphrase".into(), current, "current-password")}
                {field("new-passphrase", format!("New passphrase ({}+ characters)", vault_core::crypto::passphrase::MIN_CHARS), new, "new-password")}
                {field("confirm-passphrase", "Repeat the new one".into(), confirm, "new-password")}
                <label for="kdf-iterations">"Guessing protection (work per unlock)"</label>
                <span>
                    <input id="kdf-iterations" type="number" min="600000" max="20000000" step="100000" aria-describedby="kdf-help" prop:value=move || iterations.get() on:input=move |e| iterations.set(event_target_value(&e))/>
                    <span class="muted small" id="kdf-help">" How many rounds turn your passphrase into its key: at least 600,000. Doubling it doubles the work of anyone guessing your passphrase, and makes each unlock a little slower."</span>
                </span>
                <span></span>
                <button id="change-passphrase" type="submit" class="primary" disabled=move || busy.get()>{move || if busy.get() { "Changing…" } else { "Change passphrase" }}</button>
            </form>
            {move || result.get().map(|(ok, msg)| view! { <p id="passphrase-result" class=if ok { "ok" } else { "error" } role="status">{msg}</p> })}
        </section>
    }
}

/// Shown when the server stopped taking this browser's secret: the passphrase was changed or
/// the key rotated on another device. The current passphrase signs in again and takes the
/// account's header (checked to keep this browser's key), then syncs.
#[component]
fn SignInAgain(ended: RwSignal<u32>) -> impl IntoView {
    let ctx = ctx();
    let passphrase = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let pass = passphrase.get_untracked();
        busy.set(true);
        spawn_local(async move {
            let outcome = session::sign_in_again(&pass).await;
            busy.set(false);
            match outcome {
                Ok(()) => {
                    ended.update(|n| *n += 1);
                    passphrase.set(String::new());
                    error.set(None);
                    ctx.sync_soon();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <form id="sign-in-again" class="grid" hidden=move || ctx.sync.with(|s| !s.sign_in_again) on:submit=submit>
            <label for="sign-in-again-passphrase">"Current passphrase"</label>
            <input id="sign-in-again-passphrase" type="password" autocomplete="current-password" prop:value=move || passphrase.get() on:input=move |e| passphrase.set(event_target_value(&e))/>
            <span></span>
            <button id="sign-in-again-button" type="submit" class="primary" disabled=move || busy.get()>"Sign in again"</button>
            <p class="error" role="alert">{move || error.get()}</p>
        </form>
    }
}

/// "Rotate the vault key": the recovery after a passphrase may have leaked, as Bitwarden's
/// "rotate account encryption key". Every answer is sealed again under a new key and every
/// other session ends.
#[component]
fn RotateKey(ended: RwSignal<u32>) -> impl IntoView {
    let passphrase = RwSignal::new(String::new());
    let result = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let pass = passphrase.get_untracked();
        busy.set(true);
        result.set(None);
        spawn_local(async move {
            let t = browser::perf_now();
            let outcome = session::rotate_key(&pass).await;
            busy.set(false);
            result.set(Some(match outcome {
                Ok((rotation, pushed)) => {
                    ended.update(|n| *n += 1);
                    passphrase.set(String::new());
                    let sent = if pushed {
                        "and sent to the server"
                    } else {
                        "; they go to the server at the next sync"
                    };
                    let damaged = if rotation.unreadable > 0 {
                        format!(" {} damaged entries could not be opened and were left as they were.", rotation.unreadable)
                    } else {
                        String::new()
                    };
                    (true, format!("Vault key rotated ({:.1} s): {} entries sealed again under a new key {sent}. Your other devices were signed out and ask for your passphrase once. Whoever kept the old key cannot read anything written from now on.{damaged}", (browser::perf_now() - t) / 1000.0, rotation.resealed))
                }
                Err(e) => (false, e.to_string()),
            }));
        });
    };
    view! {
        <section class="panel" id="rotate-key">
            <h2>"Rotate the vault key"</h2>
            <p class="muted small">"If someone may have learned your passphrase or a copy of your vault: draws a new key, seals every answer again under it, and signs out your other devices. Your passphrase stays the same (change it above first if it leaked). It takes a moment with many answers."</p>
            <form class="grid" on:submit=submit>
                <label for="rotate-passphrase">"Passphrase"</label>
                <input id="rotate-passphrase" type="password" autocomplete="current-password" prop:value=move || passphrase.get() on:input=move |e| passphrase.set(event_target_value(&e))/>
                <span></span>
                <button id="rotate-key-button" type="submit" class="primary" disabled=move || busy.get()>{move || if busy.get() { "Rotating…" } else { "Rotate the vault key" }}</button>
            </form>
            {move || result.get().map(|(ok, msg)| view! { <p id="rotate-result" class=if ok { "ok" } else { "error" } role="status">{msg}</p> })}
        </section>
    }
}

#[component]
fn Devices(ended: RwSignal<u32>) -> impl IntoView {
    let ctx = ctx();
    let list = RwSignal::new(None::<Result<(Vec<Device>, Option<String>), String>>);
    let load = move || {
        spawn_local(async move {
            list.set(Some(session::devices().await.map_err(|e| e.to_string())));
        })
    };
    Effect::new(move |_| {
        ended.track();
        load();
    });
    let now = browser::now_ms();
    view! {
        <section class="panel" id="devices">
            <h2>"Devices and sessions"</h2>
            <p class="muted small">"Every signed-in browser, extension and command line. Revoking one signs it out; its local copy stays encrypted."</p>
            {move || match list.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
                Some(Ok((devices, me))) => view! {
                    <ul class="devices">
                        {devices.into_iter().map(|d| {
                            let mine = me.as_deref() == Some(d.id.as_str());
                            let id = d.id.clone();
                            view! {
                                <li data-device=d.id.clone()>
                                    <span><strong>{d.device.clone()}</strong>{mine.then_some(" (this browser)")}</span>
                                    <span class="muted small">{format!("signed in {} · last seen {}", date_time(d.created_ms.max(0) as u64), ago(d.last_seen_ms.max(0) as u64, now))}</span>
                                    {(!mine).then(|| view! {
                                        <button class="ghost small revoke" on:click=move |_| {
                                            let id = id.clone();
                                            spawn_local(async move {
                                                match session::revoke(id).await {
                                                    Ok(()) => load(),
                                                    Err(e) => ctx.fail(&e),
                                                }
                                            });
                                        }>"Revoke"</button>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Danger() -> impl IntoView {
    let ctx = ctx();
    let passphrase = RwSignal::new(String::new());
    let result = RwSignal::new(None::<String>);
    let run = move |account: bool| {
        let pass = passphrase.get_untracked();
        spawn_local(async move {
            match session::delete_everything(account, &pass).await {
                Ok(()) => {
                    ctx.profile.set(None);
                    ctx.sync.set(SyncState::default());
                }
                Err(e) => result.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section class="panel danger-zone" id="delete">
            <h2>"Delete"</h2>
            <p class="muted small">"“This browser's copy” removes the vault from this browser only; signing in again pulls it back. “Everything” also deletes your account and every answer on the server; other devices keep only what they hold until they sync. This cannot be undone: export a backup first."</p>
            <label for="delete-passphrase">"Passphrase (to delete everything)"</label>
            <input id="delete-passphrase" type="password" autocomplete="off" prop:value=move || passphrase.get() on:input=move |e| passphrase.set(event_target_value(&e))/>
            <div class="row">
                <button id="delete-local" class="ghost danger" on:click=move |_| run(false)>"Delete this browser's copy"</button>
                <button id="delete-account" class="danger" on:click=move |_| run(true)>"Delete everything"</button>
            </div>
            <p class="error" role="alert">{move || result.get()}</p>
        </section>
    }
}
