//! The options page: caps and timing, pauses, auto-lock, the user's own sites (host access
//! asked for that origin only, at that moment), and the sync account.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;

use super::chrome::{call, open_tab, register_site_script, request_origin};
use super::ui::{copy_text, with_user};
use crate::protocol::{Request, SiteHealthView};
use crate::settings::Settings;
use crate::sites::{self, Selectors, SiteAdapter};

/// Entry point of `options.html`.
#[wasm_bindgen]
pub fn start_options() {
    leptos::mount::mount_to_body(Options);
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[component]
fn Options() -> impl IntoView {
    let settings = RwSignal::new(None::<Settings>);
    let note = RwSignal::new(None::<String>);
    let load = move || {
        spawn_local(async move {
            match call::<Settings>(&Request::GetSettings).await {
                Ok(s) => {
                    let new_here = s.username.is_none();
                    settings.set(Some(s));
                    request_animation_frame(move || show_target(new_here));
                }
                Err(e) => note.set(Some(e)),
            }
        })
    };
    load();
    let save = move |s: Settings| {
        spawn_local(async move {
            match call::<Settings>(&Request::SetSettings { settings: s }).await {
                Ok(s) => {
                    settings.set(Some(s));
                    note.set(Some("Saved.".into()));
                }
                Err(e) => note.set(Some(e)),
            }
        })
    };
    view! {
        <main class="options">
            <h1>"SelfOS options"</h1>
            <p class="note" role="status" id="note">{move || note.get()}</p>
            {move || settings.get().map(|s| view! {
                <Timing s=s.clone() save=save/>
                <NewChats s=s.clone() save=save/>
                <Health s=s.clone() save=save note=note/>
                <Sites s=s.clone() note=note reload=load/>
                <Account s=s note=note reload=load/>
            })}
        </main>
    }
}

/// Scrolls to the section the address names once it is rendered (`#account` from the popup's
/// "Set up sync", `#health-<site>` from its site-health line); without an account yet, the
/// caret goes to the account form's first empty field.
fn show_target(new_here: bool) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let hash = doc
        .location()
        .and_then(|l| l.hash().ok())
        .unwrap_or_default();
    let Some(id) = hash.strip_prefix('#').filter(|id| !id.is_empty()) else {
        return;
    };
    let Some(section) = doc.get_element_by_id(id) else {
        return;
    };
    section.scroll_into_view();
    if id != "account" || !new_here {
        return;
    }
    let empty = ["server", "user", "pass"].into_iter().find_map(|field| {
        doc.get_element_by_id(field)
            .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            .filter(|input| input.value().is_empty())
    });
    if let Some(input) = empty {
        let _ = input.focus();
    }
}

#[component]
fn Timing(s: Settings, save: impl Fn(Settings) + Copy + 'static) -> impl IntoView {
    let cap = RwSignal::new(s.daily_cap.to_string());
    let wait = RwSignal::new((s.min_wait_ms / 1000).to_string());
    let lock = RwSignal::new(s.auto_lock_minutes.to_string());
    let with_computer = RwSignal::new(s.lock_on_system_lock);
    let quiet = RwSignal::new(s.quiet_hours.is_some());
    let (q0, q1) = s.quiet_hours.unwrap_or((22, 7));
    let from = RwSignal::new(q0.to_string());
    let to = RwSignal::new(q1.to_string());
    let base = s.clone();
    let apply = move |pause_ms: Option<Option<u64>>| {
        let mut s = base.clone();
        s.daily_cap = cap.get_untracked().trim().parse().unwrap_or(s.daily_cap);
        s.min_wait_ms = wait
            .get_untracked()
            .trim()
            .parse::<f64>()
            .map(|v| (v * 1000.0) as u64)
            .unwrap_or(s.min_wait_ms);
        s.auto_lock_minutes = lock
            .get_untracked()
            .trim()
            .parse()
            .unwrap_or(s.auto_lock_minutes);
        s.lock_on_system_lock = with_computer.get_untracked();
        s.quiet_hours = quiet.get_untracked().then(|| {
            (
                from.get_untracked().parse().unwrap_or(22),
                to.get_untracked().parse().unwrap_or(7),
            )
        });
        if let Some(p) = pause_ms {
            s.paused_until_ms = p;
        }
        save(s);
    };
    let apply2 = apply.clone();
    let apply3 = apply.clone();
    let paused = s
        .paused_until_ms
        .is_some_and(|t| t as f64 > js_sys::Date::now());
    let num = |sig: RwSignal<String>, id: &'static str, label: &'static str| {
        view! {
            <label for=id>{label}</label>
            <input id=id type="number" min="0" prop:value=move || sig.get() on:input=move |e| sig.set(event_target_value(&e))/>
        }
    };
    view! {
        <section>
            <h2>"Cards"</h2>
            <form class="grid" on:submit=move |e| { e.prevent_default(); apply(None); }>
                {num(cap, "cap", "Cards per day")}
                {num(wait, "wait", "Seconds of generation before a card shows")}
                {num(lock, "autolock", "Lock after idle minutes (0: only when the browser closes)")}
                <label for="lock-with-computer">"Lock with the computer"</label>
                <span>
                    <input id="lock-with-computer" type="checkbox" prop:checked=move || with_computer.get() on:change=move |e| with_computer.set(event_target_checked(&e))/>
                    " when this computer's screen locks (where the browser can tell)"
                </span>
                <label for="quiet">"Quiet hours"</label>
                <span>
                    <input id="quiet" type="checkbox" prop:checked=move || quiet.get() on:change=move |e| quiet.set(event_target_checked(&e))/>
                    " from " <input id="quiet-from" class="hour" type="number" min="0" max="23" aria-label="Quiet hours start (hour, 0 to 23)" prop:value=move || from.get() on:input=move |e| from.set(event_target_value(&e))/>
                    " to " <input id="quiet-to" class="hour" type="number" min="0" max="23" aria-label="Quiet hours end (hour, 0 to 23)" prop:value=move || to.get() on:input=move |e| to.set(event_target_value(&e))/>
                </span>
                <span></span><button id="save-timing" type="submit">"Save"</button>
            </form>
            <p>
                {if paused { "Cards are paused. " } else { "" }}
                <button on:click=move |_| apply2(Some(Some(js_sys::Date::now() as u64 + 3_600_000)))>"Pause 1 hour"</button>
                " "
                <button on:click=move |_| apply3(Some(None))>"Resume"</button>
            </p>
        </section>
    }
}

/// Standing consent per agent: its new chats start with the user's context (off by default).
#[component]
fn NewChats(s: Settings, save: impl Fn(Settings) + Copy + 'static) -> impl IntoView {
    let agents = crate::sites::all(&s.custom_sites)
        .map(|site| {
            let on = s.new_chat_context.contains(&site.id);
            let (id, base) = (site.id.clone(), s.clone());
            view! {
                <li>
                    <label>
                        <input type="checkbox" data-agent=site.id.clone() checked=on on:change=move |e| {
                            let mut next = base.clone();
                            next.new_chat_context.retain(|a| *a != id);
                            if event_target_checked(&e) {
                                next.new_chat_context.push(id.clone());
                            }
                            save(next);
                        }/>
                        {site.name}
                    </label>
                </li>
            }
        })
        .collect_view();
    view! {
        <section id="new-chats">
            <h2>"Start new chats with my context"</h2>
            <p>"For the assistants ticked here, a new chat with an empty message box gets what SelfOS knows about you once, marked; Esc removes it, and nothing is sent until you press send. Pausing a site or locking the vault stops it."</p>
            <ul class="sites">{agents}</ul>
        </section>
    }
}

/// Site health: how well SelfOS read each site lately (local samples only), and the user's
/// own selectors for a site that changed its markup, tried before the built-in ones, with a
/// report (selectors and counts, no page content) to copy and send.
#[component]
fn Health(
    s: Settings,
    save: impl Fn(Settings) + Copy + 'static,
    note: RwSignal<Option<String>>,
) -> impl IntoView {
    let views = RwSignal::new(Vec::<SiteHealthView>::new());
    spawn_local(async move {
        views.set(call(&Request::SiteHealth).await.unwrap_or_default());
    });
    let items = sites::all(&s.custom_sites)
        .map(|site| {
            let own = s.site_overrides.get(&site.id).cloned().unwrap_or_default();
            view! { <SiteHealthItem site=site own=own s=s.clone() views=views save=save note=note/> }
        })
        .collect_view();
    view! {
        <section id="health" class="health">
            <h2>"Site health"</h2>
            <p>"How SelfOS read each site lately. Sites change their pages; when a site's stop button or answers are no longer found, cards come late. This record stays on this device."</p>
            <ul>{items}</ul>
        </section>
    }
}

#[component]
fn SiteHealthItem(
    site: SiteAdapter,
    own: Selectors,
    s: Settings,
    views: RwSignal<Vec<SiteHealthView>>,
    save: impl Fn(Settings) + Copy + 'static,
    note: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = site.id.clone();
    let fields = own
        .lists()
        .map(|(name, list)| (name, RwSignal::new(list.join("\n"))));
    let line = {
        let id = id.clone();
        move || {
            views.with(|all| match all.iter().find(|h| h.id == id) {
                None => String::new(),
                Some(h) if h.samples == 0 => "No generation seen yet.".into(),
                Some(h) => h.message.clone().unwrap_or_else(|| {
                    format!(
                        "Read well: {} of the last {} generations by its stop control.",
                        h.by_control, h.samples
                    )
                }),
            })
        }
    };
    let apply = {
        let (id, base) = (id.clone(), s.clone());
        move |reset: bool| {
            let get = |i: usize| lines(&fields[i].1.get_untracked());
            let own = Selectors {
                stop: get(0),
                busy: get(1),
                answer: get(2),
                error: get(3),
                retry: get(4),
                composer: get(5),
            };
            if let Err(e) = own.validate_override().and_then(|()| css_parses(&own)) {
                return note.set(Some(e));
            }
            let mut next = base.clone();
            if reset || own.is_empty() {
                next.site_overrides.remove(&id);
            } else {
                next.site_overrides.insert(id.clone(), own);
            }
            save(next);
        }
    };
    let apply2 = apply.clone();
    let report = {
        let (site, own) = (site.clone(), own.clone());
        move |_| {
            let health = views.with_untracked(|all| all.iter().find(|h| h.id == site.id).cloned());
            let text = serde_json::to_string_pretty(&serde_json::json!({
                "site": site.id,
                "matches": site.matches,
                "selfos": env!("CARGO_PKG_VERSION"),
                "health": health,
                "selectors_in_use": site.selectors.overridden_by(&own),
            }))
            .unwrap_or_default();
            spawn_local(async move {
                note.set(Some(match copy_text(&text).await {
                    Ok(()) => "Report copied: the site's selectors and how they did, nothing from your chats. Paste it into a report to the SelfOS project.".into(),
                    Err(e) => e,
                }));
            });
        }
    };
    let builtin = site.selectors.clone();
    let inputs = fields
        .iter()
        .map(|(name, sig)| {
            let sig = *sig;
            let hint = builtin
                .lists()
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|(_, l)| l.join("\n"))
                .unwrap_or_default();
            view! {
                <label>{format!("{name} (one per line)")}
                    <textarea data-list=*name placeholder=hint prop:value=move || sig.get()
                        on:input=move |e| sig.set(event_target_value(&e))></textarea>
                </label>
            }
        })
        .collect_view();
    let overridden = !own.is_empty();
    view! {
        <li id=format!("health-{id}") data-site=id.clone()>
            <strong>{site.name.clone()}</strong>
            {overridden.then_some(" · your selectors first")}
            <p class="status">{line}</p>
            <details open=overridden>
                <summary>"Edit selectors"</summary>
                <p class="muted">"Yours are tried before the built-in ones (shown greyed). Leave all empty to use only the built-in ones."</p>
                <div class="overrides">{inputs}</div>
                <p class="row">
                    <button class="save-selectors" type="button" on:click=move |_| apply(false)>"Save selectors"</button>
                    <button type="button" on:click=move |_| apply2(true)>"Use built-in only"</button>
                    <button class="report" type="button" on:click=report>"Copy a report"</button>
                </p>
            </details>
        </li>
    }
}

/// Every selector parses as CSS (the browser's own parser): a typo is refused here, with the
/// selector named, rather than silently matching nothing on the site.
fn css_parses(own: &Selectors) -> Result<(), String> {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return Ok(());
    };
    for (name, list) in own.lists() {
        if let Some(bad) = list.iter().find(|s| doc.query_selector(s).is_err()) {
            return Err(format!("The {name} selector `{bad}` is not valid CSS."));
        }
    }
    Ok(())
}

#[component]
fn Sites(
    s: Settings,
    note: RwSignal<Option<String>>,
    reload: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let origin = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let stop = RwSignal::new(String::new());
    let answer = RwSignal::new(String::new());
    let add = move || {
        let (o, n) = (origin.get_untracked(), name.get_untracked());
        let selectors = Selectors {
            stop: lines(&stop.get_untracked()),
            answer: lines(&answer.get_untracked()),
            ..Selectors::default()
        };
        // Validate before asking the browser for anything.
        let site = match SiteAdapter::custom(&o, &n, selectors.clone()) {
            Ok(site) => site,
            Err(e) => return note.set(Some(e.to_string())),
        };
        let host = site.matches[0].trim_end_matches("/*").to_owned();
        spawn_local(async move {
            match request_origin(&host).await {
                Ok(true) => {}
                Ok(false) => return note.set(Some("Access to that site was not granted.".into())),
                Err(e) => return note.set(Some(e)),
            }
            let added: Result<SiteAdapter, String> = call(&Request::AddSite {
                origin: host.clone(),
                name: n,
                selectors,
            })
            .await;
            match added {
                Ok(site) => {
                    let r = register_site_script(&site.id, &host).await;
                    note.set(Some(match r {
                        Ok(()) => format!(
                            "{} added: cards show there from its next page load.",
                            site.name
                        ),
                        Err(e) => format!(
                            "{} added, but the sensor could not be registered: {e}",
                            site.name
                        ),
                    }));
                    reload();
                }
                Err(e) => note.set(Some(e)),
            }
        });
    };
    let custom = s
        .custom_sites
        .into_iter()
        .map(|c| {
            let id = c.id.clone();
            view! {
                <li>{c.name} " (" {c.matches.join(", ")} ") "
                    <button on:click=move |_| {
                        let id = id.clone();
                        spawn_local(async move {
                            let _: Result<Settings, String> = call(&Request::RemoveSite { id }).await;
                            reload();
                        })
                    }>"Remove"</button>
                </li>
            }
        })
        .collect_view();
    view! {
        <section>
            <h2>"Your own sites"</h2>
            <p>"Add an AI chat SelfOS does not know. Without selectors it watches the last answer grow."</p>
            <ul>{custom}</ul>
            <form class="grid" on:submit=move |e| { e.prevent_default(); add(); }>
                <label for="origin">"Address"</label>
                <input id="origin" placeholder="https://chat.example.com" prop:value=move || origin.get() on:input=move |e| origin.set(event_target_value(&e))/>
                <label for="name">"Name"</label>
                <input id="name" prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e))/>
                <label for="stop">"Stop control selectors (one per line, optional)"</label>
                <textarea id="stop" prop:value=move || stop.get() on:input=move |e| stop.set(event_target_value(&e))></textarea>
                <label for="answer">"Answer selectors (optional)"</label>
                <textarea id="answer" prop:value=move || answer.get() on:input=move |e| answer.set(event_target_value(&e))></textarea>
                <span></span><button type="submit">"Add site"</button>
            </form>
        </section>
    }
}

#[component]
fn Account(
    s: Settings,
    note: RwSignal<Option<String>>,
    reload: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let server = RwSignal::new(
        s.server_url
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:8787".into()),
    );
    let user = RwSignal::new(s.username.clone().unwrap_or_default());
    let pass = RwSignal::new(String::new());
    let go = move |create: bool| {
        let r = Request::SignIn {
            server: server.get_untracked(),
            username: user.get_untracked(),
            passphrase: pass.get_untracked(),
            create,
        };
        note.set(Some("Signing in…".into()));
        spawn_local(async move {
            // Host access to the server lets the background reach it without the server
            // having to list this extension's origin for CORS. A refusal is not fatal: a
            // server with SELFOS_ALLOWED_ORIGINS set for this extension works without it.
            if let Some(origin) = server_origin(&server.get_untracked()) {
                let _ = request_origin(&origin).await;
            }
            match call::<String>(&r).await {
                Ok(u) => note.set(Some(format!("Signed in as {u}; syncing."))),
                Err(e) => note.set(Some(e)),
            }
            pass.set(String::new());
            reload();
        });
    };
    let signed_in = s.username.clone();
    let new_here = signed_in.is_none();
    // Once signed in, the dashboard is one click away from here (the popup, which led the
    // new user here, closed when this tab opened).
    let dashboard = s
        .dashboard_url
        .clone()
        .or_else(|| s.server_url.clone())
        .filter(|_| !new_here)
        .map(|url| {
            let url = with_user(&url, signed_in.as_deref());
            view! {
                " "
                <button id="open-dashboard" type="button" class="primary"
                    on:click=move |_| { let url = url.clone(); spawn_local(async move { open_tab(&url).await }) }>
                    "Open dashboard"
                </button>
            }
        });
    view! {
        <section id="account">
            <h2>"Sync account"</h2>
            <p>{match signed_in {
                Some(u) => format!("Signed in as {u}. The server only ever sees ciphertext."),
                None => "New here? Create a sync account with your vault passphrase: your dashboard and other devices get your answers, and the server only ever sees ciphertext.".into(),
            }}{dashboard}</p>
            <form class="grid" on:submit=move |e| { e.prevent_default(); go(false); }>
                <label for="server">"Server"</label>
                <input id="server" prop:value=move || server.get() on:input=move |e| server.set(event_target_value(&e))/>
                <label for="user">"Username"</label>
                <input id="user" autocomplete="username" prop:value=move || user.get() on:input=move |e| user.set(event_target_value(&e))/>
                <label for="pass">"Vault passphrase"</label>
                <input id="pass" type="password" autocomplete="current-password" prop:value=move || pass.get() on:input=move |e| pass.set(event_target_value(&e))/>
                <span></span>
                <span>
                    // Without an account, creating one is the first path; signing in to an
                    // account made elsewhere is the second.
                    <button id="register" type="button" class:primary=new_here on:click=move |_| go(true)>"Create account"</button>
                    " "
                    <button id="signin" type="submit" class:secondary=new_here>"Sign in"</button>
                    {(!new_here).then(|| view! {
                        " "
                        <button type="button" on:click=move |_| spawn_local(async move {
                            let _: Result<Settings, String> = call(&Request::SignOut).await;
                            reload();
                        })>"Sign out"</button>
                    })}
                </span>
            </form>
        </section>
    }
}

/// `scheme://host[:port]` of a server address typed by the user, if it parses.
fn server_origin(url: &str) -> Option<String> {
    let base = vault_core::sync::transport::normalize_base_url(url).ok()?;
    let scheme_end = base.find("://")? + 3;
    let end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    Some(base[..end].to_owned())
}
