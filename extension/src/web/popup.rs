//! The toolbar popup: create or unlock the vault, today's answers, per-site switches, sync
//! state, lock, and the way to the dashboard and the options.

use leptos::prelude::*;
use leptos::task::spawn_local;
use vault_core::text::counted;
use wasm_bindgen::prelude::*;

use super::chrome::{ask_tab, call, open_options_page, open_tab, popup_in_tab, target_tab};
use super::ui::{ago, copy_text, with_user};
use crate::protocol::{Request, SiteConfig, SiteHealthView, Status, SyncState, VaultState};
use crate::settings::Settings;
use vault_core::graph::context::ContextBlock;
use vault_core::graph::export::AgentInstructions;

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
    let account = status.account.clone();
    let next = crate::guide::next_step(&status).map(|step| {
        let sync = (step == crate::guide::NextStep::SyncAccount).then(|| {
            view! { " " <button id="next-sync" on:click=move |_| spawn_local(open_tab("options.html#account"))>"Set up sync"</button> }
        });
        view! { <p id="next-step" class="next" role="status">{step.text()}{sync}</p> }
    });
    view! {
        {next}
        <section class="today" aria-label="Today">
            <strong id="today">{status.answered_today}</strong>
            {format!(" of {} cards today · {} in the vault", status.daily_cap, counted(status.records as usize, "answer", "answers"))}
        </section>
        <section aria-label="Sync"><p id="sync">{sync_text}</p>
            <Show when={let a = status.account.is_some(); move || a}>
                <button on:click=move |_| act(Request::SyncNow)>"Sync now"</button>
            </Show>
        </section>
        <SiteHealthLine/>
        <Show when={let n = status.proposals_pending; move || n > 0}>
            <p id="proposals-line">
                {counted(status.proposals_pending as usize, "proposal", "proposals")}
                " from AI agents waiting for you · "
                <a id="proposals-link" href="#" on:click=move |e| {
                    e.prevent_default();
                    spawn_local(async {
                        let s: Settings = call(&Request::GetSettings).await.unwrap_or_default();
                        match s.dashboard_url.or(s.server_url) {
                            Some(url) => open_tab(&proposals_url(&url)).await,
                            None => open_options_page().await,
                        }
                    });
                }>"Review"</a>
            </p>
        </Show>
        <Known/>
        <details><summary>"Sites"</summary><ul class="sites">{sites}</ul></details>
        <div class="row">
            <button id="dashboard" title="The dashboard is served by your sync server: without an account, Options explains how to set one up" on:click=move |_| { let account = account.clone(); spawn_local(async move {
                let s: Settings = call(&Request::GetSettings).await.unwrap_or_default();
                // Without a server there is no dashboard to open (a guessed address would
                // show a browser error page): Options has the sync account to set up.
                match s.dashboard_url.or(s.server_url) {
                    Some(url) => open_tab(&with_user(&url, account.as_deref())).await,
                    None => open_options_page().await,
                }
            }) }>"Open dashboard"</button>
            <button on:click=move |_| spawn_local(open_options_page())>"Options"</button>
            <button id="lock" on:click=move |_| act(Request::Lock)>"Lock"</button>
        </div>
    }
}

/// The standing consent for this agent: new chats start with the user's context (off by
/// default; pausing the site or locking the vault stops it).
#[component]
fn NewChatConsent(agent: String, name: String) -> impl IntoView {
    let on = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    {
        let agent = agent.clone();
        spawn_local(async move {
            let s: Settings = call(&Request::GetSettings).await.unwrap_or_default();
            on.set(s.new_chat_context.contains(&agent));
        });
    }
    let toggle = move |e| {
        let want = event_target_checked(&e);
        let agent = agent.clone();
        spawn_local(async move {
            match call::<serde_json::Value>(&Request::SetNewChatContext { agent, on: want }).await {
                Ok(_) => {
                    on.set(want);
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <label class="consent" title="Each new chat with an empty message box gets your context once, marked; Esc removes it. You still press send.">
            <input id="new-chat-context" type="checkbox" prop:checked=move || on.get() on:change=toggle/>
            {format!("Start new {name} chats with my context")}
        </label>
        <p class="note" role="status">{move || error.get()}</p>
    }
}

/// The web app's Proposals view on the server at `base` (its origin: the web app's views are
/// paths of their own).
fn proposals_url(base: &str) -> String {
    let origin = vault_core::Origin::from_url(base)
        .map(|o| o.as_str().to_owned())
        .unwrap_or_else(|_| base.trim_end_matches('/').to_owned());
    format!("{origin}/proposals")
}

fn sync_line(account: Option<&str>, s: &SyncState) -> String {
    match (account, &s.last_error, s.last_ok_ms) {
        (None, _, _) => format!("Not syncing yet: no sync account · {} waiting", s.pending),
        (Some(a), Some(e), _) => format!("{a}: {e} · {} waiting", s.pending),
        // "Synced" only when nothing waits: answers still queued are not on the server yet.
        (Some(a), None, Some(t)) if s.pending == 0 => format!("{a}: synced {} · 0 waiting", ago(t)),
        (Some(a), None, Some(t)) => format!(
            "{a}: {} waiting to sync · last synced {}",
            s.pending,
            ago(t)
        ),
        (Some(a), None, None) => format!("{a}: not synced yet · {} waiting", s.pending),
    }
}

/// The chat tab the popup acts on and its agent, when SelfOS runs there.
async fn chat_tab() -> Option<(i32, String)> {
    let tab = target_tab().await?;
    let origin = ask_tab(tab, "origin").await?.as_string()?;
    let site: Option<SiteConfig> = call(&Request::Site { origin }).await.ok()?;
    Some((tab, site?.adapter.id))
}

/// How well SelfOS reads this tab's site lately, when not well: the plain-language reason
/// cards may come late, and the way to fix the site's selectors or report them (Options).
#[component]
fn SiteHealthLine() -> impl IntoView {
    let health = RwSignal::new(None::<SiteHealthView>);
    spawn_local(async move {
        let Some((_, agent)) = chat_tab().await else {
            return;
        };
        let all: Vec<SiteHealthView> = call(&Request::SiteHealth).await.unwrap_or_default();
        health.set(
            all.into_iter()
                .find(|h| h.id == agent && h.message.is_some()),
        );
    });
    view! {
        {move || health.get().map(|h| view! {
            <p id="site-health" class="warn" role="status">
                {h.message.unwrap_or_default()} " "
                <a href=format!("options.html#health-{}", h.id) target="_blank">"Fix or report"</a>
            </p>
        })}
    }
}

/// "What I know about you": the facts the context block for this tab's agent carries (exactly
/// what "Insert into this chat" inserts), each with a delete, and the insert button.
#[component]
fn Known() -> impl IntoView {
    let tab = RwSignal::new(None::<(i32, String)>);
    let block = RwSignal::new(None::<Result<ContextBlock, String>>);
    let note = RwSignal::new(None::<String>);
    let load = move || {
        spawn_local(async move {
            let Some((id, agent)) = chat_tab().await else {
                block.set(None);
                return;
            };
            tab.set(Some((id, agent.clone())));
            block.set(Some(
                call::<ContextBlock>(&Request::Context {
                    agent,
                    budget: None,
                })
                .await,
            ));
        })
    };
    load();
    let forget = move |records: Vec<String>| {
        spawn_local(async move {
            if let Err(e) = call::<u32>(&Request::Forget { records }).await {
                note.set(Some(e));
            }
            load();
        })
    };
    let insert = move |_| {
        let Some((id, _)) = tab.get_untracked() else {
            return;
        };
        spawn_local(async move {
            match ask_tab(id, "insert").await.and_then(|v| v.as_bool()) {
                Some(true) => {
                    note.set(Some("Inserted at the caret. Nothing was sent.".into()));
                    if !popup_in_tab().await {
                        if let Some(w) = web_sys::window() {
                            let _ = w.close();
                        }
                    }
                }
                _ => note.set(Some("Reload the chat tab, then try again.".into())),
            }
        })
    };
    view! {
        <section class="known" aria-label="What I know about you">
            {move || match block.get() {
                None => view! {
                    <p class="muted">"Open ChatGPT, Claude, Gemini or another supported chat to insert what SelfOS knows about you."</p>
                }.into_any(),
                Some(Err(e)) => view! { <p id="known-none" class="muted">{e}</p> }.into_any(),
                Some(Ok(b)) => {
                    let more = b.left_out;
                    let some_left_out = more > 0;
                    let items = b.facts.into_iter().map(|f| {
                        let records = f.records.clone();
                        view! {
                            <li>
                                <span>{f.sentence}</span>
                                <button class="forget" title="Delete the answers behind this fact"
                                    aria-label="Delete this fact" on:click=move |_| forget(records.clone())>"×"</button>
                            </li>
                        }
                    }).collect_view();
                    view! {
                        <h2>{format!("What I know about you ({})", b.name)}</h2>
                        <ul id="known">{items}</ul>
                        <Show when=move || some_left_out>
                            <p class="muted">{format!("{} more did not fit.", counted(more, "fact", "facts"))}</p>
                        </Show>
                        <button id="insert" on:click=insert>"Insert into this chat"</button>
                        <NewChatConsent agent=b.agent.clone() name=b.name.clone()/>
                        <SettingsFields agent=b.agent.clone()/>
                    }.into_any()
                }
            }}
            <p class="note" role="status">{move || note.get()}</p>
        </section>
    }
}

/// "Settings": the agent's own personalization fields, each cut to its limit with a Copy
/// button, and the link that opens that settings page. Loaded when opened, so the popup does
/// not build the instructions for users who never look. A copy is recorded as a delivery of
/// that one field (the background rebuilds the field to record exactly its facts).
#[component]
fn SettingsFields(agent: String) -> impl IntoView {
    let fields = RwSignal::new(None::<Result<AgentInstructions, String>>);
    let note = RwSignal::new(None::<String>);
    let load = {
        let agent = agent.clone();
        move |e: leptos::ev::Event| {
            let open = event_target::<web_sys::HtmlDetailsElement>(&e).open();
            if !open || fields.with_untracked(Option::is_some) {
                return;
            }
            let agent = agent.clone();
            spawn_local(async move {
                fields.set(Some(call(&Request::Instructions { agent }).await));
            });
        }
    };
    let copy = move |a: AgentInstructions, title: String| {
        spawn_local(async move {
            let Some(field) = a.fields.iter().find(|f| f.title == title) else {
                return;
            };
            let outcome = async {
                copy_text(&field.text).await?;
                call::<String>(&Request::Delivered {
                    agent: a.agent.clone(),
                    copied: true,
                    auto: false,
                    field: Some(title.clone()),
                })
                .await
            }
            .await;
            note.set(Some(match outcome {
                Ok(_) => format!("Copied. Paste it into {}'s \"{title}\".", a.name),
                Err(e) => e,
            }));
        })
    };
    view! {
        <details id="settings-fields" on:toggle=load>
            <summary>"Settings"</summary>
            {move || match fields.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="muted">{e}</p> }.into_any(),
                Some(Ok(a)) => {
                    let link = a.settings_url.clone().map(|url| view! {
                        <a id="settings-link" href=url target="_blank" rel="noopener">{format!("Open {} settings", a.name)}</a>
                    });
                    let items = a.fields.iter().map(|f| {
                        let (a, title) = (a.clone(), f.title.clone());
                        view! {
                            <li data-field=f.title.clone()>
                                <span class="field-title">{f.title.clone()}</span>
                                <span class="muted">{format!(" {} / {}", f.length, f.limit)}</span>
                                <button class="copy-field" disabled=f.text.is_empty()
                                    on:click=move |_| copy(a.clone(), title.clone())>"Copy"</button>
                            </li>
                        }
                    }).collect_view();
                    view! {
                        <p class="muted">{format!("Paste into {}.", a.settings)} " " {link}</p>
                        <ul class="fields">{items}</ul>
                    }.into_any()
                }
            }}
            <p class="note" role="status">{move || note.get()}</p>
        </details>
    }
}
