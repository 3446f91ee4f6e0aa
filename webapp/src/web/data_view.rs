//! Every answer in a searchable table, a page at a time: edit an answer, delete it (the
//! delete syncs to the server and every device), and resolve sync conflicts side by side.

use leptos::prelude::*;
use leptos::task::spawn_local;
use vault_core::sync::Keep;
use vault_core::{Answer, AnswerRecord, RecordId};

use super::browser;
use super::ctx::{ctx, Ctx};
use super::session::{self, Conflict};
use crate::table::{edit_options, edit_value, edited, page, search};
use crate::text::{agent_name, answer_text, count, counted, date_time, question_text};

#[component]
pub fn DataView() -> impl IntoView {
    let ctx = ctx();
    browser::mark("view", "data");
    // Opened from a fact on the overview: its newest answer, found.
    let query = RwSignal::new(
        ctx.search
            .try_update_untracked(std::mem::take)
            .unwrap_or_default(),
    );
    let page_no = RwSignal::new(0usize);
    let editing = RwSignal::new(None::<RecordId>);
    let confirming = RwSignal::new(None::<RecordId>);
    // The answer deleted last, until it is undone or another is deleted.
    let deleted = RwSignal::new(None::<AnswerRecord>);
    let lib = vault_core::cards::builtin();
    let hits = Memo::new(move |_| {
        let q = query.get();
        ctx.profile
            .with(|p| p.as_ref().map(|p| search(lib, &p.records, &q)))
            .unwrap_or_default()
    });
    let rows = move || {
        let p = ctx.profile.get()?;
        let all = hits.get();
        let (slice, pages) = page(&all, page_no.get());
        let shown = page_no.get().min(pages - 1);
        let body = slice
            .iter()
            .filter_map(|&i| p.records.get(i).cloned())
            .map(|r| view! { <Row r=r editing=editing confirming=confirming deleted=deleted/> })
            .collect_view();
        Some(view! {
            <p class="muted small" id="data-count">{format!("{} of {}", count(all.len()), counted(p.records.len(), "answer", "answers"))}</p>
            <div class="table-wrap">
                <table id="records" class="records">
                    <thead><tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Agent"</th>
                        <th scope="col">"Question"</th>
                        <th scope="col">"Answer"</th>
                        <th scope="col"><span class="sr">"Actions"</span></th>
                    </tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
            <nav class="pager" aria-label="Pages">
                <button class="ghost" id="prev-page" disabled={shown == 0} on:click=move |_| page_no.update(|p| *p = p.saturating_sub(1))>"← Newer"</button>
                <span>{format!("Page {} of {pages}", shown + 1)}</span>
                <button class="ghost" id="next-page" disabled={shown + 1 >= pages} on:click=move |_| page_no.update(|p| *p += 1)>"Older →"</button>
            </nav>
        })
    };
    view! {
        <section id="data" class="view" aria-labelledby="data-title">
            <h1 id="data-title">"Your data"</h1>
            <p class="muted">"Every answer you gave, decrypted in this browser only. Deleting one removes it from the server and every device at their next sync."</p>
            <Conflicts/>
            <Undo deleted=deleted/>
            <label for="data-search">"Search answers"</label>
            <input id="data-search" type="search" placeholder="question, answer, agent or id" autocomplete="off"
                prop:value=move || query.get()
                on:input=move |e| { query.set(event_target_value(&e)); page_no.set(0); }/>
            {rows}
        </section>
    }
}

fn apply(ctx: Ctx, id: RecordId, record: Option<AnswerRecord>) {
    let now = browser::now_ms();
    let next = ctx
        .profile
        .with_untracked(|p| p.as_ref().map(|p| p.with_change(&id, record, now)));
    if let Some(next) = next {
        ctx.profile.set(Some(std::sync::Arc::new(next)));
    }
    ctx.sync_soon();
}

/// "Deleted … Undo": focus moves here after a delete (not to another answer's Delete), and
/// Undo writes the answer back as a new version, which syncs like any edit.
#[component]
fn Undo(deleted: RwSignal<Option<AnswerRecord>>) -> impl IntoView {
    let ctx = ctx();
    let lib = vault_core::cards::builtin();
    let undo = move |_| {
        let Some(record) = deleted.get_untracked() else {
            return;
        };
        spawn_local(async move {
            match session::put(record.clone()).await {
                Ok(()) => {
                    deleted.set(None);
                    apply(ctx, record.id, Some(record));
                    ctx.note.set(Some("Restored.".into()));
                }
                Err(e) => ctx.fail(&e),
            }
        });
    };
    move || {
        deleted.get().map(|r| {
            view! {
                <p class="note undo" id="undo" role="status">
                    {format!("Deleted your answer to “{}”. ", question_text(lib, &r))}
                    <button id="undo-delete" class="small" on:click=undo>"Undo"</button>
                </p>
            }
        })
    }
}

#[component]
fn Row(
    r: AnswerRecord,
    editing: RwSignal<Option<RecordId>>,
    confirming: RwSignal<Option<RecordId>>,
    deleted: RwSignal<Option<AnswerRecord>>,
) -> impl IntoView {
    let ctx = ctx();
    let lib = vault_core::cards::builtin();
    let id = r.id;
    let editable = !matches!(r.answer, Answer::Skipped | Answer::Dismissed);
    let record = r.clone();
    let record_for_undo = r.clone();
    let delete = move |_| {
        if confirming.get_untracked() != Some(id) {
            confirming.set(Some(id));
            return;
        }
        let gone = record_for_undo.clone();
        spawn_local(async move {
            match session::delete(id).await {
                Ok(()) => {
                    confirming.set(None);
                    apply(ctx, id, None);
                    deleted.set(Some(gone));
                    // Focus goes to Undo, never to the next answer's Delete.
                    request_animation_frame(|| browser::focus("undo-delete"));
                }
                Err(e) => ctx.fail(&e),
            }
        });
    };
    view! {
        <tr data-record=id.to_string()>
            <td class="nowrap">{date_time(r.captured_at_ms)}</td>
            <td>{agent_name(r.namespace.as_str())}</td>
            <td>{question_text(lib, &r)}</td>
            <td class="answer">
                {move || if editing.get() == Some(id) {
                    view! { <Editor r=record.clone() done=move || editing.set(None)/> }.into_any()
                } else {
                    view! { <span>{answer_text(lib, &record)}</span> }.into_any()
                }}
            </td>
            <td class="actions nowrap">
                {editable.then(|| view! {
                    <button class="ghost small edit" on:click=move |_| editing.set(Some(id))>"Edit"</button>
                })}
                <button class="ghost small delete" class:danger=move || confirming.get() == Some(id)
                    on:click=delete>
                    {move || if confirming.get() == Some(id) { "Confirm delete" } else { "Delete" }}
                </button>
            </td>
        </tr>
    }
}

#[component]
fn Editor(r: AnswerRecord, done: impl Fn() + Copy + Send + 'static) -> impl IntoView {
    let ctx = ctx();
    let lib = vault_core::cards::builtin();
    let opts = edit_options(lib, &r);
    let value = RwSignal::new(edit_value(&r));
    let error = RwSignal::new(None::<String>);
    let input = match &r.answer {
        Answer::Choice { .. } | Answer::Pairwise { .. } => view! {
            <select class="edit-value" aria-label="New answer" on:change=move |e| value.set(event_target_value(&e))>
                {opts.iter().map(|o| { let sel = o.value == value.get_untracked(); view! { <option value=o.value.clone() selected=sel>{o.label.clone()}</option> } }).collect_view()}
            </select>
        }.into_any(),
        Answer::YesNo { .. } => view! {
            <select class="edit-value" aria-label="New answer" on:change=move |e| value.set(event_target_value(&e))>
                <option value="yes" selected=value.get_untracked() == "yes">"Yes"</option>
                <option value="no" selected=value.get_untracked() == "no">"No"</option>
            </select>
        }.into_any(),
        Answer::Scale { min, max, .. } => view! {
            <input class="edit-value" type="number" min=*min max=*max aria-label="New answer" prop:value=move || value.get() on:input=move |e| value.set(event_target_value(&e))/>
        }.into_any(),
        _ => view! {
            <input class="edit-value" type="text" aria-label="New answer" prop:value=move || value.get() on:input=move |e| value.set(event_target_value(&e))/>
        }.into_any(),
    };
    let save = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        match edited(lib, &r, &value.get_untracked()) {
            Err(msg) => error.set(Some(msg)),
            Ok(next) => {
                let id = next.id;
                spawn_local(async move {
                    match session::put(next.clone()).await {
                        Ok(()) => {
                            done();
                            apply(ctx, id, Some(next));
                        }
                        Err(e) => error.set(Some(e.to_string())),
                    }
                });
            }
        }
    };
    view! {
        <form class="editor" on:submit=save>
            {input}
            <button type="submit" class="primary small save">"Save"</button>
            <button type="button" class="ghost small" on:click=move |_| done()>"Cancel"</button>
            <span class="error small" role="alert">{move || error.get()}</span>
        </form>
    }
}

#[component]
fn Conflicts() -> impl IntoView {
    let ctx = ctx();
    let list = RwSignal::new(Vec::<(String, Option<AnswerRecord>, Option<AnswerRecord>)>::new());
    let load = move || {
        spawn_local(async move {
            if let Ok(c) = session::conflicts().await {
                list.set(
                    c.into_iter()
                        .map(
                            |Conflict {
                                 key,
                                 losing,
                                 current,
                             }| (key, losing, current),
                        )
                        .collect(),
                );
            }
        })
    };
    Effect::new(move |_| {
        ctx.profile.track();
        load();
    });
    let lib = vault_core::cards::builtin();
    let side = move |title: &'static str, r: &Option<AnswerRecord>| {
        let body = match r {
            Some(r) => format!(
                "{} — {} ({})",
                question_text(lib, r),
                answer_text(lib, r),
                date_time(r.captured_at_ms)
            ),
            None => "(deleted)".into(),
        };
        view! { <div class="side"><h3>{title}</h3><p>{body}</p></div> }
    };
    move || {
        let items = list.get();
        (!items.is_empty()).then(|| view! {
            <section class="panel conflicts" id="conflicts">
                <h2>{crate::text::counted(items.len(), "sync conflict", "sync conflicts")}</h2>
                <p class="muted small">"Two devices changed the same answer before syncing. The newer change won; the other is kept here until you choose."</p>
                {items.into_iter().map(|(key, losing, current)| {
                    let (k1, k2) = (key.clone(), key.clone());
                    let resolve = move |key: String, keep: Keep| {
                        spawn_local(async move {
                            match session::resolve(key, keep).await {
                                Ok(records) => { ctx.set_records(records); ctx.sync_soon(); }
                                Err(e) => ctx.fail(&e),
                            }
                        });
                    };
                    view! {
                        <div class="conflict" data-conflict=key.clone()>
                            {side("Kept (newer)", &current)}
                            {side("Other version", &losing)}
                            <div class="choose">
                                <button class="primary small" on:click=move |_| resolve(k1.clone(), Keep::Current)>"Keep newer"</button>
                                <button class="ghost small" on:click=move |_| resolve(k2.clone(), Keep::Losing)>"Keep other"</button>
                            </div>
                        </div>
                    }
                }).collect_view()}
            </section>
        })
    }
}
