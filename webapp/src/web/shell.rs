//! The unlocked app's frame: the header (navigation, sync status, lock), the status lines and
//! the current view. It lives in the vault's module (see `lazy`), which is loaded by the time
//! a profile exists.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser;
use super::ctx::{ctx, SyncState};
use super::session;
use crate::routes::View;

/// Renders the shell (a split function returns this; see `lazy`).
pub fn shell() -> AnyView {
    view! { <Shell/> }.into_any()
}

#[component]
fn Shell() -> impl IntoView {
    let ctx = ctx();
    // Sync every five minutes while unlocked.
    let every =
        set_interval_with_handle(move || ctx.sync_soon(), std::time::Duration::from_secs(300)).ok();
    on_cleanup(move || {
        if let Some(handle) = every {
            handle.clear();
        }
    });
    // Once the first view is on screen and the browser is idle, fetch the other views'
    // modules: switching views is then instant, and they are cached for offline use.
    request_animation_frame(|| request_idle_callback(super::lazy::prefetch));
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <span class="brand" aria-label="SelfOS">"Self" <b>"OS"</b></span>
            <Nav/>
            <SyncBadge/>
            <button id="lock" class="ghost" on:click=move |_| {
                spawn_local(async move {
                    session::lock().await;
                    ctx.profile.set(None);
                    ctx.sync.set(SyncState::default());
                });
            }>"Lock"</button>
        </header>
        <p class="note" role="status" id="note" hidden=move || ctx.note.with(Option::is_none)>
            {move || ctx.note.get()}
            <button class="ghost small" aria-label="Dismiss" on:click=move |_| ctx.note.set(None)>"×"</button>
        </p>
        <p class="note sync-error" id="sync-error" role="status" hidden=move || ctx.sync.with(|s| s.error.is_none())>
            {move || ctx.sync.with(|s| s.error.clone())}
        </p>
        <main id="main" tabindex="-1">
            {move || match ctx.view.get() {
                View::Overview => view! { <super::overview::Overview/> }.into_any(),
                other => super::lazy::view_of(other),
            }}
        </main>
    }
}

#[component]
fn Nav() -> impl IntoView {
    let ctx = ctx();
    view! {
        <nav aria-label="Views">
            {View::ALL.into_iter().map(|v| view! {
                <a
                    href=v.path()
                    data-view=v.id()
                    aria-current=move || (ctx.view.get() == v).then_some("page")
                    on:click=move |e| { e.prevent_default(); ctx.go(v); }
                >
                    {v.label()}
                    {(v == View::Proposals).then(|| view! { <PendingBadge/> })}
                </a>
            }).collect_view()}
        </nav>
    }
}

/// The number of proposals waiting for the user, beside the Proposals link (hidden at 0).
#[component]
fn PendingBadge() -> impl IntoView {
    let ctx = ctx();
    let count = move || {
        ctx.proposals
            .with(|p| vault_core::proposal::pending_count(p))
    };
    view! {
        <span
            id="proposals-count"
            class="badge"
            hidden=move || count() == 0
            aria-label=move || crate::text::counted(count(), "proposal waiting", "proposals waiting")
        >{count}</span>
    }
}

#[component]
fn SyncBadge() -> impl IntoView {
    let ctx = ctx();
    let text = move || {
        let s = ctx.sync.get();
        if s.busy {
            "Syncing…".to_string()
        } else if let Some(e) = &s.error {
            let short = if e.contains("reach") {
                "Offline"
            } else {
                "Sync failed"
            };
            format!(
                "{short}{}",
                if s.pending > 0 {
                    format!(" · {} waiting", s.pending)
                } else {
                    String::new()
                }
            )
        } else if let Some(t) = s.last_ok_ms {
            format!("Synced {}", crate::text::ago(t, browser::now_ms()))
        } else {
            "Not synced yet".into()
        }
    };
    view! {
        <button
            id="sync-status"
            class="sync"
            class:bad=move || ctx.sync.with(|s| s.error.is_some())
            title=move || ctx.sync.with(|s| s.error.clone().unwrap_or_else(|| "Sync now".into()))
            on:click=move |_| ctx.sync_soon()
        >{text}</button>
    }
}
