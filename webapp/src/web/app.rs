//! The root: the unlock screen until the vault is open, then the header (navigation, sync
//! status, lock) and the current view. State the views share lives in [`Ctx`].

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser;
use super::session;
use crate::profile::Profile;
use crate::routes::View;
use crate::AppError;

/// Sync as the header shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncState {
    pub busy: bool,
    pub last_ok_ms: Option<u64>,
    pub error: Option<String>,
    pub pending: usize,
}

/// Shared, copyable handles to the app's state.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub profile: RwSignal<Option<Arc<Profile>>>,
    pub view: RwSignal<View>,
    pub sync: RwSignal<SyncState>,
    pub username: RwSignal<String>,
    /// A node the graph view should select (set from the overview's lists).
    pub focus: RwSignal<Option<String>>,
    /// A short message for the status line.
    pub note: RwSignal<Option<String>>,
}

impl Ctx {
    pub fn go(&self, view: View) {
        if self.view.get_untracked() != view {
            browser::push_path(&view.path());
            self.note.set(None);
            self.view.set(view);
        }
    }

    /// Installs a new profile built from `records` (keeping the export snapshots).
    pub fn set_records(&self, records: Vec<vault_core::AnswerRecord>) {
        let snapshots = self
            .profile
            .with_untracked(|p| p.as_ref().map(|p| p.snapshots.clone()))
            .unwrap_or_default();
        self.profile.set(Some(Arc::new(Profile::build(
            records,
            browser::now_ms(),
            snapshots,
        ))));
    }

    /// One sync round in the background; the header shows how it went.
    pub fn sync_soon(&self) {
        let ctx = *self;
        if ctx.sync.get_untracked().busy {
            return;
        }
        ctx.sync.update(|s| s.busy = true);
        spawn_local(async move {
            let outcome = session::sync_now().await;
            let pending = session::pending().await.unwrap_or(0);
            match outcome {
                Ok(done) => {
                    if done.report.conflicts > 0 {
                        ctx.note.set(Some(format!(
                            "{}: two devices changed the same answer. Choose a side in Data.",
                            crate::text::counted(
                                done.report.conflicts,
                                "sync conflict",
                                "sync conflicts"
                            )
                        )));
                    }
                    if let Some(records) = done.records {
                        ctx.set_records(records);
                    }
                    ctx.sync.set(SyncState {
                        busy: false,
                        last_ok_ms: Some(browser::now_ms()),
                        error: None,
                        pending: done.pending,
                    });
                }
                Err(e) => ctx.sync.update(|s| {
                    s.busy = false;
                    s.error = Some(e.to_string());
                    s.pending = pending;
                }),
            }
            browser::mark(
                "sync",
                if ctx.sync.get_untracked().error.is_some() {
                    "error"
                } else {
                    "ok"
                },
            );
        });
    }

    pub fn fail(&self, e: &AppError) {
        self.note.set(Some(e.to_string()));
    }
}

pub fn ctx() -> Ctx {
    expect_context::<Ctx>()
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx {
        profile: RwSignal::new(None),
        view: RwSignal::new(View::from_path(&browser::path())),
        sync: RwSignal::new(SyncState::default()),
        username: RwSignal::new(String::new()),
        focus: RwSignal::new(None),
        note: RwSignal::new(None),
    };
    provide_context(ctx);
    let _ = window_event_listener(leptos::ev::popstate, move |_| {
        ctx.view.set(View::from_path(&browser::path()));
    });
    view! {
        <Show
            when=move || ctx.profile.with(Option::is_some)
            fallback=|| view! { <super::unlock::UnlockScreen/> }
        >
            <super::lazy::Unlocked/>
        </Show>
    }
}

/// The unlocked app: header, status lines and the current view. It lives in the vault's
/// module (see `lazy`), which is loaded by the time a profile exists.
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
                >{v.label()}</a>
            }).collect_view()}
        </nav>
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
