//! The root: provides the shared state ([`Ctx`]) and shows the unlock screen until the vault
//! is open, then the shell (`shell`, from the vault's module).

use leptos::prelude::*;

use super::browser;
use super::ctx::{Ctx, SyncState};
use crate::routes::View;

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx {
        profile: RwSignal::new(None),
        view: RwSignal::new(View::from_path(&browser::path())),
        sync: RwSignal::new(SyncState::default()),
        username: RwSignal::new(String::new()),
        focus: RwSignal::new(None),
        search: RwSignal::new(String::new()),
        note: RwSignal::new(None),
        proposals: RwSignal::new(Vec::new()),
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
