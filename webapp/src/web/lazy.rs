//! What the first visit does not download: the code behind split points, loaded on demand.
//!
//! A first visit should download only what it takes to show the sign-in form. Everything
//! else sits behind split points: `xtask` cuts the linked module at the functions marked
//! `#[wasm_split(name)]` here (the `wasm_split_helpers` protocol Leptos uses for `#[lazy]`),
//! so each split's code, and whatever only it uses, lands in its own `.wasm` file that
//! shares the main module's memory and function table; code two splits share goes into a
//! chunk both load. Calling a split function the first time fetches and instantiates its
//! files; later calls are plain calls.
//!
//! - `vault`: opening the vault (keys, IndexedDB records, sync), the profile, the app's
//!   shell and the overview. A returning visit (a vault in this browser, so the files are in
//!   its cache) asks for it as soon as the form shows; a first visit when the person starts
//!   on the form ([`preload_vault`]). Either way it has usually arrived by the time they
//!   submit.
//! - `views`: the graph, timeline, data, export, proposals and settings views, fetched in the
//!   background once the first view is on screen ([`prefetch`]), which also puts them in
//!   the offline cache, or when one is opened, whichever comes first.
//!
//! Two splits, not one a view: every view needs the vault first, and each split point
//! multiplies the chunks `wasm-split` makes for code shared between splits (with one a view
//! there were 49 files, 29 of them fetched to open the vault); with two there are three.
//!
//! Split functions return a render function or a boxed future rather than a view, so the
//! loaded result is a value a [`LocalResource`] can hold. Loading is `fallible`: a file that
//! cannot be fetched (offline before it was ever cached) becomes a message with a retry
//! button instead of aborting the module, and a retry fetches afresh.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{wasm_split, SplitLoaderError};

use super::browser;
use super::ctx::Ctx;
use crate::routes::View;
use crate::AppError;

/// A split's module could not be fetched or instantiated.
#[derive(Debug, Clone, Copy)]
pub struct LoadFailed;

impl From<SplitLoaderError> for LoadFailed {
    fn from(_: SplitLoaderError) -> Self {
        LoadFailed
    }
}

impl From<LoadFailed> for AppError {
    fn from(_: LoadFailed) -> Self {
        AppError::NotDownloaded
    }
}

/// Renders a loaded view.
pub type Render = fn() -> AnyView;

/// Work that runs in a split's module.
pub type Task<T> = Pin<Box<dyn Future<Output = T>>>;

// ---- vault: opening the vault, the shell and the overview -------------------------------

#[wasm_split(vault, fallible, wasm_split_path = ::leptos::wasm_split)]
pub fn open_vault(
    ctx: Ctx,
    username: String,
    passphrase: String,
) -> Result<Task<Result<(), AppError>>, LoadFailed> {
    Ok(Box::pin(super::unlock::open(ctx, username, passphrase)))
}

#[wasm_split(vault, fallible, wasm_split_path = ::leptos::wasm_split)]
fn shell() -> Result<Render, LoadFailed> {
    Ok(super::shell::shell)
}

/// Starts fetching the vault's module (once; a failed fetch is tried again next time).
pub fn preload_vault() {
    spawn_local(async {
        let _ = shell().await;
    });
}

/// The unlocked app: the shell from the vault's module (loaded already when a vault opened).
#[component]
pub fn Unlocked() -> impl IntoView {
    loaded("the app", shell)
}

// ---- views: the other views ----------------------------------------------------------------------

/// Renders `view`. Every view but the overview is in the views' module; asking for one loads
/// that module.
#[wasm_split(views, fallible, wasm_split_path = ::leptos::wasm_split)]
fn in_views_module(view: View) -> Result<Render, LoadFailed> {
    Ok(match view {
        View::Overview => overview,
        View::Graph => || view! { <super::graph::GraphView/> }.into_any(),
        View::Timeline => || view! { <super::timeline::Timeline/> }.into_any(),
        View::Data => || view! { <super::data_view::DataView/> }.into_any(),
        View::Export => || view! { <super::export_view::ExportView/> }.into_any(),
        View::Proposals => || view! { <super::proposals_view::ProposalsView/> }.into_any(),
        View::Settings => || view! { <super::settings_view::SettingsView/> }.into_any(),
    })
}

fn overview() -> AnyView {
    view! { <super::overview::Overview/> }.into_any()
}

/// Loads (once) the module of `view`; the overview comes with the shell.
async fn load(view: View) -> Result<Render, LoadFailed> {
    match view {
        View::Overview => Ok(overview),
        other => in_views_module(other).await,
    }
}

/// `view`, once its module is loaded.
pub fn view_of(view: View) -> AnyView {
    loaded(view.label(), move || load(view))
}

/// Loads the views' module in the background, then has the offline cache keep every module
/// this page loaded. A failure is ignored here: a view whose module is still missing loads,
/// or explains itself, when it is opened.
pub fn prefetch() {
    spawn_local(async {
        let _ = in_views_module(View::Graph).await;
        browser::cache_loaded_modules().await;
    });
}

/// What `load` renders: a loading line until the module is there, then the view, or a
/// message with a retry button if the module cannot be fetched.
fn loaded<F>(what: &'static str, load: impl Fn() -> F + 'static) -> AnyView
where
    F: Future<Output = Result<Render, LoadFailed>> + 'static,
{
    let module = LocalResource::new(load);
    let shown = move || {
        Suspend::new(async move {
            match module.await {
                Ok(render) => render(),
                Err(LoadFailed) => {
                    browser::mark("load-failed", what);
                    view! {
                        <section class="view load-failed" id="load-failed" role="alert">
                            <p>
                                "SelfOS could not download " {what} " from the server. Your data \
                                 is safe in this browser; check the connection and try again, or \
                                 reload the page if SelfOS was just updated."
                            </p>
                            <button id="load-retry" on:click=move |_| module.refetch()>"Try again"</button>
                        </section>
                    }
                    .into_any()
                }
            }
        })
    };
    view! {
        <Suspense fallback=|| view! { <p class="loading muted" role="status">"Loading…"</p> }>
            {shown}
        </Suspense>
    }
    .into_any()
}

// ---- benchmark hooks ----------------------------------------------------------------------
// They measure code of the views' module (see `web::layout_tick_ms` and its neighbours), so
// they are split points into that module too.

#[wasm_split(views, fallible, wasm_split_path = ::leptos::wasm_split)]
pub fn layout_tick_ms(n: usize) -> Result<f64, LoadFailed> {
    let mut l = crate::layout::Layout::new(n, &crate::layout::sample(n));
    for _ in 0..20 {
        l.tick();
    }
    let t = browser::perf_now();
    for _ in 0..40 {
        l.tick();
    }
    Ok((browser::perf_now() - t) / 40.0)
}

#[wasm_split(views, fallible, wasm_split_path = ::leptos::wasm_split)]
pub fn graph_draw_ms(n: usize, fast: bool) -> Result<f64, LoadFailed> {
    Ok(super::graph::bench::draw_ms(n, 60, fast))
}

#[wasm_split(views, fallible, wasm_split_path = ::leptos::wasm_split)]
pub fn graph_animation(n: usize, ms: i32) -> Result<Task<Vec<f64>>, LoadFailed> {
    Ok(Box::pin(super::graph::bench::animate(n, ms)))
}
