//! Proposals: what AI agents (through `selfos mcp`) proposed to add to the profile. Each
//! waiting one shows the agent, the statement and its reason, with Accept, Edit (then
//! Accept) and Reject; decided ones are listed below as history. Accepting writes the
//! statement as a free-text answer filed under the agent (vault-core's
//! `Vault::decide_proposal`); the decision syncs like any other change.

use leptos::prelude::*;
use leptos::task::spawn_local;
use vault_core::proposal::{Decision, ProposalRecord, ProposalStatus};
use vault_core::RecordId;

use super::browser;
use super::ctx::{ctx, Ctx};
use super::session;
use crate::text::{agent_name, date_time};

#[component]
pub fn ProposalsView() -> impl IntoView {
    let ctx = ctx();
    browser::mark("view", "proposals");
    let pending = move || {
        ctx.proposals.with(|all| {
            let mut p: Vec<ProposalRecord> = all
                .iter()
                .filter(|p| p.status == ProposalStatus::Pending)
                .cloned()
                .collect();
            p.sort_by_key(|p| std::cmp::Reverse(p.proposed_at_ms));
            p
        })
    };
    let decided = move || {
        ctx.proposals.with(|all| {
            let mut p: Vec<ProposalRecord> = all
                .iter()
                .filter(|p| p.status != ProposalStatus::Pending)
                .cloned()
                .collect();
            p.sort_by_key(|p| std::cmp::Reverse(p.proposed_at_ms));
            p
        })
    };
    view! {
        <section id="proposals" class="view" aria-labelledby="proposals-title">
            <h1 id="proposals-title">"Proposals"</h1>
            <p class="muted">
                "AI agents you connected to SelfOS (with selfos mcp) can propose something they learned about you. Nothing changes in your profile until you accept it. Accepted facts are told to every agent; rejected ones are kept so the same agent does not ask again."
            </p>
            <Show
                when=move || ctx.proposals.with(|p| p.iter().any(|p| p.status == ProposalStatus::Pending))
                fallback=|| view! { <p id="proposals-empty" class="muted">"Nothing waiting for you."</p> }
            >
                <ul class="proposals" id="proposals-pending">
                    {move || pending().into_iter().map(|p| view! { <Pending p=p/> }).collect_view()}
                </ul>
            </Show>
            <Show when=move || !decided().is_empty()>
                <h2>"Decided"</h2>
                <ul class="proposals decided" id="proposals-history">
                    {move || decided().into_iter().map(|p| {
                        let added = added_as(ctx, &p);
                        view! {
                        <li data-proposal=p.id.to_string() data-status=p.status.as_str()>
                            <p class="statement">{p.statement.clone()}</p>
                            {added.map(|t| view! { <p class="added">"Added in your words: " {t}</p> })}
                            <p class="muted small">
                                {format!(
                                    "{} · from {} · proposed {} UTC",
                                    if p.status == ProposalStatus::Accepted { "Accepted" } else { "Rejected" },
                                    agent_name(p.agent.as_str()),
                                    date_time(p.proposed_at_ms)
                                )}
                            </p>
                        </li>
                        }
                    }).collect_view()}
                </ul>
            </Show>
        </section>
    }
}

/// The words an accepted proposal was added in, when the user edited them (the answer it
/// became, `ProposalRecord::answer_id`).
fn added_as(ctx: Ctx, p: &ProposalRecord) -> Option<String> {
    if p.status != ProposalStatus::Accepted {
        return None;
    }
    let id = p.answer_id();
    ctx.profile.with_untracked(|profile| {
        let record = profile.as_ref()?.records.iter().find(|r| r.id == id)?;
        match &record.answer {
            vault_core::Answer::ShortText { text } if text != &p.statement => Some(text.clone()),
            _ => None,
        }
    })
}

/// Writes the decision, then shows the vault as it now stands and syncs.
fn decide(
    ctx: Ctx,
    id: RecordId,
    decision: Decision,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
) {
    busy.set(true);
    spawn_local(async move {
        match session::decide(id, decision).await {
            Ok((records, proposals)) => {
                error.set(None);
                ctx.set_records(records);
                ctx.proposals.set(proposals);
                ctx.sync_soon();
            }
            Err(e) => error.set(Some(e.to_string())),
        }
        busy.set(false);
    });
}

#[component]
fn Pending(p: ProposalRecord) -> impl IntoView {
    let ctx = ctx();
    let id = p.id;
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let editing = RwSignal::new(false);
    let text = RwSignal::new(p.statement.clone());
    let field = format!("proposal-edit-{id}");
    let field_for = field.clone();
    let agent = agent_name(p.agent.as_str());
    let meta = format!(
        "From {agent}{} · {} UTC",
        p.dimension
            .as_deref()
            .map(|d| format!(" · about {d}"))
            .unwrap_or_default(),
        date_time(p.proposed_at_ms)
    );
    let accept = move |_| {
        let edited = editing.get_untracked().then(|| text.get_untracked());
        decide(ctx, id, Decision::Accept { edited }, busy, error);
    };
    let reject = move |_| decide(ctx, id, Decision::Reject, busy, error);
    view! {
        <li class="panel proposal" data-proposal=id.to_string() data-status="pending">
            <p class="by"><strong>{agent.clone()}</strong>" proposes:"</p>
            <Show
                when=move || editing.get()
                fallback={
                    let statement = p.statement.clone();
                    move || view! { <p class="statement">{statement.clone()}</p> }
                }
            >
                <label for=field_for.clone()>"Your words"</label>
                <textarea id=field.clone() data-edit-text="" rows="3"
                    prop:value=move || text.get()
                    on:input=move |e| text.set(event_target_value(&e))></textarea>
            </Show>
            {p.reason.clone().map(|r| view! { <p class="reason muted">"Why: " {r}</p> })}
            <p class="muted small">{meta}</p>
            <p class="error" role="alert" hidden=move || error.with(Option::is_none)>{move || error.get()}</p>
            <div class="actions">
                <button class="primary" data-accept="" disabled=move || busy.get() on:click=accept>
                    {move || if editing.get() { "Accept my words" } else { "Accept" }}
                </button>
                <button data-edit="" hidden=move || editing.get() disabled=move || busy.get()
                    on:click=move |_| editing.set(true)>"Edit"</button>
                <button class="ghost" data-reject="" disabled=move || busy.get() on:click=reject>"Reject"</button>
            </div>
        </li>
    }
}
