//! Exports as downloads (encrypted backup, JSON, CSV, Markdown vault, GraphML, JGF, custom
//! instructions per agent) with a progress bar, and the import of a backup.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser;
use super::ctx::{ctx, Ctx};
use super::session;
use crate::exports;
use crate::text::{count, counted, date};
use vault_core::delivery::DeliveryMethod;
use vault_core::graph::export::instructions::AgentInstructions;
use vault_core::graph::export::ExportFormat;

#[derive(Clone, Copy)]
struct Progress {
    step: RwSignal<Option<(f64, String)>>,
    done: RwSignal<Option<String>>,
}

impl Progress {
    async fn at(&self, fraction: f64, what: &str) {
        self.step.set(Some((fraction, what.to_owned())));
        browser::yield_now().await;
    }
}

fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    }
}

async fn export(ctx: Ctx, progress: Progress, kind: ExportFormat, agent: Option<String>) {
    progress.done.set(None);
    let outcome: Result<String, crate::AppError> = async {
        progress.at(0.1, "Reading your answers…").await;
        let p = ctx.profile.get_untracked().ok_or(crate::AppError::Locked)?;
        let bytes = match kind {
            ExportFormat::Backup => {
                progress.at(0.3, "Collecting the sealed entries…").await;
                session::export_backup().await?
            }
            ExportFormat::Json => {
                progress.at(0.3, "Decrypting every answer…").await;
                session::export_json().await?
            }
            _ => {
                progress.at(0.4, "Writing the graph…").await;
                let mut agents = exports::instructions(&p.graph);
                if let Some(a) = &agent {
                    agents.retain(|x| &x.agent == a);
                }
                let bytes = exports::file(kind, &p.records, &p.graph, &agents)?;
                if kind == ExportFormat::Instructions {
                    progress
                        .at(0.7, "Remembering what each agent was told…")
                        .await;
                    let given = agents
                        .iter()
                        .map(|a| a.delivery(DeliveryMethod::Downloaded))
                        .collect::<Result<Vec<_>, _>>()?;
                    let all = session::record_deliveries(given).await?;
                    let next = p.with_snapshots(all, browser::now_ms());
                    ctx.profile.set(Some(Arc::new(next)));
                    ctx.sync_soon();
                }
                bytes
            }
        };
        progress.at(0.9, "Saving the file…").await;
        let mut name = kind.file_name(&date(browser::now_ms()));
        if let Some(a) = &agent {
            name = name.replace("instructions", &format!("instructions-{a}"));
        }
        browser::download(&bytes, &name, kind.mime())?;
        Ok(format!("Saved {name} ({}).", size(bytes.len())))
    }
    .await;
    progress.step.set(Some((1.0, String::new())));
    match outcome {
        Ok(msg) => progress.done.set(Some(msg)),
        Err(e) => progress.done.set(Some(e.to_string())),
    }
    progress.step.set(None);
    browser::mark("export", kind.id());
}

/// Copies one settings field's text (already cut to that field's limit) and records a
/// delivery of that field only, so alignment counts exactly what can reach the agent's field.
/// The instructions are the ones on screen, so the clipboard holds what the user read.
fn copy_field(
    ctx: Ctx,
    a: Arc<AgentInstructions>,
    title: String,
    status: RwSignal<Option<(String, String)>>,
) {
    spawn_local(async move {
        let outcome = async {
            let p = ctx.profile.get_untracked().ok_or(crate::AppError::Locked)?;
            let field = a.fields.iter().find(|f| f.title == title).ok_or_else(|| {
                crate::AppError::Invalid(format!("{} has no field `{title}`", a.name))
            })?;
            browser::copy_text(&field.text).await?;
            let delivery = a.field_delivery(&title, DeliveryMethod::Copied)?;
            let given = session::record_deliveries(vec![delivery]).await?;
            ctx.profile
                .set(Some(Arc::new(p.with_snapshots(given, browser::now_ms()))));
            ctx.sync_soon();
            Ok::<String, crate::AppError>(format!(
                "Copied {} characters: paste them into {}'s \"{title}\".",
                count(field.length),
                a.name
            ))
        }
        .await;
        let msg = match outcome {
            Ok(msg) => msg,
            Err(e) => e.to_string(),
        };
        status.set(Some((a.agent.clone(), msg)));
        browser::mark("copy-field", &a.agent);
    });
}

#[component]
pub fn ExportView() -> impl IntoView {
    let ctx = ctx();
    browser::mark("view", "export");
    let progress = Progress {
        step: RwSignal::new(None),
        done: RwSignal::new(None),
    };
    let busy = move || progress.step.with(Option::is_some);
    let start = move |kind: ExportFormat, agent: Option<String>| {
        if busy() {
            return;
        }
        spawn_local(export(ctx, progress, kind, agent));
    };
    // Outside the list: a copy records a delivery, which rebuilds the profile and so this
    // list, and the message must outlive that.
    let copied = RwSignal::new(None::<(String, String)>);
    let instructions = move || {
        let p = ctx.profile.get()?;
        let all = exports::instructions(&p.graph);
        Some(all.into_iter().map(|a| {
            let agent = a.agent.clone();
            let status = copied;
            let a = Arc::new(a);
            let link = a.settings_url.clone().map(|url| view! {
                <a class="settings-link small" data-settings-link=a.agent.clone() href=url target="_blank" rel="noopener">
                    {format!("Open {} settings", a.name)}
                </a>
            });
            let fields = a.fields.iter().map(|f| {
                let (shared, title) = (Arc::clone(&a), f.title.clone());
                view! {
                    <div class="field" data-field=f.title.clone()>
                        <div class="field-head"><strong>{f.title.clone()}</strong>
                            <span class="muted small" class:warn={f.length * 10 > f.limit * 9}>{format!("{} / {} characters", count(f.length), count(f.limit))}</span>
                            <button class="ghost small copy-field" disabled=f.text.is_empty()
                                title="Copy this field's text, cut to its limit"
                                on:click=move |_| copy_field(ctx, Arc::clone(&shared), title.clone(), status)>"Copy"</button>
                        </div>
                        // Focusable: the preview scrolls, and a keyboard must reach it.
                        <pre tabindex="0" aria-label=format!("{} preview", f.title)>{f.text.clone()}</pre>
                    </div>
                }
            }).collect_view();
            view! {
                <article class="instr" data-agent=a.agent.clone()>
                    <header>
                        <h3>{a.name.clone()}</h3>
                        <button class="ghost small" data-export-agent=a.agent.clone() on:click=move |_| start(ExportFormat::Instructions, Some(agent.clone()))>"Download"</button>
                    </header>
                    <p class="muted small">{format!("Paste into {} · {} facts", a.settings, a.included.len())} " " {link}</p>
                    {fields}
                    <p class="muted small copy-status" aria-live="polite">{
                        let here = a.agent.clone();
                        move || copied.get().filter(|(who, _)| *who == here).map(|(_, msg)| msg)
                    }</p>
                </article>
            }
        }).collect_view())
    };
    view! {
        <section id="export" class="view" aria-labelledby="export-title">
            <h1 id="export-title">"Export"</h1>
            <div class="exports">
                {ExportFormat::ALL.into_iter().map(|k| view! {
                    <div class="export">
                        <button class="primary" data-export=k.id() disabled=busy on:click=move |_| start(k, None)>{k.label()}</button>
                        <p class="muted small">{k.description()}</p>
                    </div>
                }).collect_view()}
            </div>
            <div class="progress" aria-live="polite">
                {move || progress.step.get().map(|(f, what)| view! {
                    <progress id="export-progress" max="1" value=f></progress>
                    <span>{what}</span>
                })}
                <p id="export-status">{move || progress.done.get()}</p>
            </div>
            <section class="panel">
                <h2>"Custom instructions per agent"</h2>
                <p class="muted small">"Strongest facts first, each field within its limit. Contested facts are left out until you settle them. Downloading marks what each agent was told, so staleness starts again."</p>
                <div class="instructions">{instructions}</div>
            </section>
            <Import/>
        </section>
    }
}

#[component]
fn Import() -> impl IntoView {
    let ctx = ctx();
    let passphrase = RwSignal::new(String::new());
    let result = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let file_ref = NodeRef::<leptos::html::Input>::new();
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let file = file_ref
            .get_untracked()
            .and_then(|i| i.files())
            .and_then(|f| f.get(0));
        let Some(file) = file else {
            result.set(Some("Choose a backup file first.".into()));
            return;
        };
        busy.set(true);
        let pass = passphrase.get_untracked();
        spawn_local(async move {
            let outcome = async {
                let bytes = browser::read_file(&file).await?;
                session::import_backup(bytes, &pass).await
            }
            .await;
            busy.set(false);
            match outcome {
                Ok(done) => {
                    passphrase.set(String::new());
                    result.set(Some(format!(
                        "Imported {} ({} already here{}).",
                        counted(done.added, "answer", "answers"),
                        count(done.present),
                        if done.damaged > 0 {
                            format!(", {} damaged entries skipped", done.damaged)
                        } else {
                            String::new()
                        }
                    )));
                    ctx.set_records(done.records);
                    ctx.sync_soon();
                }
                Err(e) => result.set(Some(e.to_string())),
            }
            browser::mark("import", "done");
        });
    };
    view! {
        <section class="panel" id="import-backup">
            <h2>"Import a backup"</h2>
            <p class="muted small">"Adds the answers of a SelfOS backup that this vault does not hold yet; they sync to your account. The backup opens with the passphrase it was made under."</p>
            <form class="grid" on:submit=submit>
                <label for="import-file">"Backup file"</label>
                <input id="import-file" type="file" accept=".json,application/json" node_ref=file_ref/>
                <label for="import-passphrase">"Its passphrase"</label>
                <input id="import-passphrase" type="password" autocomplete="off" prop:value=move || passphrase.get() on:input=move |e| passphrase.set(event_target_value(&e))/>
                <span></span>
                <button id="import" type="submit" class="primary" disabled=move || busy.get()>{move || if busy.get() { "Importing…" } else { "Import" }}</button>
            </form>
            <p id="import-result" role="status">{move || result.get()}</p>
        </section>
    }
}
