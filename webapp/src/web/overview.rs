//! The overview: what SelfOS knows about the user in sentences, headline figures, answers
//! over time, alignment per agent, coverage by dimension, the most and least certain facts,
//! and what changed since the last export.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use vault_core::delivery::DeliveryMethod;
use vault_core::graph::context;
use vault_core::graph::{AgentAlignment, Changes, NodeSummary};
use vault_core::RecordId;

use super::browser;
use super::charts::BarChart;
use super::ctx::{ctx, Ctx};
use super::session;
use crate::charts::moving_average;
use crate::drawing::Drawing;
use crate::profile::{Profile, Since};
use crate::routes::View;
use crate::text::{agent_name, ago, count, counted, date, noun, pct, rate};

/// Days of activity the overview's chart shows.
const CHART_DAYS: usize = 90;

#[component]
pub fn Overview() -> impl IntoView {
    let ctx = ctx();
    move || {
        let Some(p) = ctx.profile.get() else {
            return view! { <p>"Locked."</p> }.into_any();
        };
        // Marked on the next frame: the overview is in the DOM, with its handlers, then.
        request_animation_frame(|| browser::mark("view", "overview"));
        view! {
            <section id="overview" class="view" aria-labelledby="overview-title">
                <h1 id="overview-title">"Your profile"</h1>
                <Known p=p.clone()/>
                {stats(&p)}
                {activity(&p)}
                <div class="two">
                    {alignment(ctx, &p)}
                    {coverage(&p)}
                </div>
                <div class="two">
                    {node_list(ctx, "most-certain", "Most certain", "What your answers settle most firmly.", &p.overview.most_certain)}
                    {node_list(ctx, "least-certain", "Least certain", "Fading or disputed: the next cards ask about these.", &p.overview.least_certain)}
                </div>
                {changes(&p.changes, p.since)}
            </section>
        }
        .into_any()
    }
}

/// How many facts the overview states before "Show all".
const FACTS_SHOWN: usize = 8;

/// "What SelfOS knows about you": what every agent is told, in the sentences it is told in
/// (vault-core's one context writer), each with how sure SelfOS is and two ways to correct
/// it: change its newest answer (in Data) or forget it (its answers are deleted, synced).
#[component]
fn Known(p: Arc<Profile>) -> impl IntoView {
    let lib = vault_core::cards::builtin();
    let facts = context::known_facts(&p.graph, lib);
    let all = RwSignal::new(false);
    let confirming = RwSignal::new(None::<String>);
    let total = facts.len();
    let body = if facts.is_empty() {
        view! {
            <p class="empty" id="known-empty">"Nothing yet. Answer a few cards while your AI is working (the first ones ask how you like answers): what SelfOS learns shows here in plain words."</p>
        }
        .into_any()
    } else {
        let items = facts
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                let hidden = move || i >= FACTS_SHOWN && !all.get();
                view! { <FactItem f=f p=p.clone() confirming=confirming hidden=hidden/> }
            })
            .collect_view();
        let more = (total > FACTS_SHOWN).then(|| {
            view! {
                <button class="link" id="known-all" on:click=move |_| all.update(|a| *a = !*a)>
                    {move || if all.get() { "Show fewer".to_owned() } else { format!("Show all {total}") }}
                </button>
            }
        });
        view! {
            <p class="muted small">"In the words your assistants are given. Something wrong? Change the answer behind it, or forget it."</p>
            <ol class="facts" id="known-facts">{items}</ol>
            {more}
        }
        .into_any()
    };
    view! {
        <section class="panel known" id="known" aria-labelledby="known-title">
            <h2 id="known-title">"What SelfOS knows about you"</h2>
            {body}
        </section>
    }
}

/// One fact of [`Known`]: its sentence, how sure, and Change / Forget.
#[component]
fn FactItem(
    f: context::Fact,
    p: Arc<Profile>,
    confirming: RwSignal<Option<String>>,
    hidden: impl Fn() -> bool + Send + Sync + 'static,
) -> impl IntoView {
    let ctx = ctx();
    let ids: Vec<RecordId> = f
        .records
        .iter()
        .filter_map(|r| RecordId::parse(r).ok())
        .collect();
    // The newest answer behind the fact: the one a correction changes.
    let newest = ids
        .iter()
        .filter_map(|id| p.record(id))
        .max_by_key(|r| r.captured_at_ms)
        .map(|r| r.id.to_string());
    let node = f.node.clone();
    let is_confirming = {
        let node = node.clone();
        move || confirming.get().as_deref() == Some(node.as_str())
    };
    let sentence = f.sentence.clone();
    let forget = {
        let is_confirming = is_confirming.clone();
        move |_| {
            if !is_confirming() {
                confirming.set(Some(node.clone()));
                return;
            }
            confirming.set(None);
            let (ids, sentence) = (ids.clone(), sentence.clone());
            spawn_local(async move {
                let mut gone = Vec::new();
                let failed = 'delete: {
                    for id in &ids {
                        if let Err(e) = session::delete(*id).await {
                            break 'delete Some(e);
                        }
                        gone.push(*id);
                    }
                    None
                };
                // One rebuild of the profile for all the answers deleted (a fact can rest on
                // dozens), not one per answer.
                let kept = ctx.profile.with_untracked(|p| {
                    p.as_ref().map(|p| {
                        p.records
                            .iter()
                            .filter(|r| !gone.contains(&r.id))
                            .cloned()
                            .collect::<Vec<_>>()
                    })
                });
                if let Some(records) = kept {
                    ctx.set_records(records);
                }
                ctx.sync_soon();
                if let Some(e) = failed {
                    return ctx.fail(&e);
                }
                ctx.note.set(Some(format!(
                    "Forgotten: “{sentence}” Its {} left your profile here and leave the server and your other devices at the next sync.",
                    counted(ids.len(), "answer", "answers")
                )));
            });
        }
    };
    let danger = is_confirming.clone();
    let change = newest.map(|id| {
        view! {
            <button class="ghost small" data-change="" title="Open the newest answer behind it, to edit it"
                on:click=move |_| { ctx.search.set(id.clone()); ctx.go(View::Data); }>"Change"</button>
        }
    });
    view! {
        <li data-node=f.node.clone() class:hidden=hidden>
            <span class="sentence">{f.sentence.clone()}</span>
            <span class="certainty small" data-strength=format!("{:.2}", f.strength)
                title=format!("{} sure, from {}", pct(f.strength), counted(f.records.len(), "answer", "answers"))>
                {context::certainty(f.strength)}
            </span>
            <span class="actions">
                {change}
                <button class="ghost small" data-forget="" class:danger=danger
                    on:click=forget>
                    {move || if is_confirming() { "Confirm: forget it" } else { "Forget" }}
                </button>
            </span>
        </li>
    }
}

fn stat(id: &'static str, label: &'static str, value: String, hint: String) -> impl IntoView {
    view! {
        <div class="stat" id=id>
            <span class="value">{value}</span>
            <span class="label">{label}</span>
            <span class="hint muted">{hint}</span>
        </div>
    }
}

fn stats(p: &Profile) -> impl IntoView {
    let o = &p.overview;
    let known = p
        .graph
        .nodes()
        .filter(|n| !n.is_dimension() && n.metrics.strength >= vault_core::graph::alignment::KNOWN)
        .count();
    view! {
        <div class="stats">
            {stat("stat-answers", noun(o.answered as usize, "answer", "answers"), count(o.answered as usize), format!("{} skipped", o.skipped))}
            {stat("stat-streak", "day streak", o.current_streak_days.to_string(), format!("longest {}", o.longest_streak_days))}
            {stat("stat-rate", "per day", rate(o.answers_per_day_30d), "last 30 days".into())}
            {stat("stat-known", noun(known, "fact known", "facts known"), count(known), format!("in a graph of {}", counted(p.graph.nodes().filter(|n| Drawing::drawn(n)).count(), "node", "nodes")))}
            {stat("stat-contradictions", noun(o.contradictions, "contradiction", "contradictions"), o.contradictions.to_string(), "to be re-asked".into())}
        </div>
    }
}

fn activity(p: &Profile) -> impl IntoView {
    let days = &p.overview.per_day;
    let recent = &days[days.len().saturating_sub(CHART_DAYS)..];
    let values: Vec<f64> = recent.iter().map(|d| f64::from(d.answered)).collect();
    let labels: Vec<String> = recent.iter().map(|d| d.date[5..].to_string()).collect();
    let trend = moving_average(&values, 7);
    view! {
        <section class="panel">
            <h2>"Answers over time"</h2>
            <p class="muted small">"Answers per day over the last " {counted(recent.len(), "day", "days")} ", with the 7-day average."</p>
            <BarChart id="chart-answers" title="Answers per day".into() values=values labels=labels trend=trend/>
        </section>
    }
}

fn metric(label: &'static str, v: f64, title: &'static str) -> impl IntoView {
    view! {
        <div class="metric" title=title>
            <span class="label">{label}</span>
            <span class="meter"><span style=format!("width:{:.0}%", v.clamp(0.0, 1.0) * 100.0)></span></span>
            <span class="num">{pct(v)}</span>
        </div>
    }
}

/// One line on what the agent was given: how often, how last, and when.
fn delivery_line(a: &AgentAlignment, now: u64) -> String {
    match (a.last_export_ms, a.last_delivery_method) {
        (Some(t), Some(method)) => format!(
            "{} · last {} {}",
            counted(a.deliveries as usize, "delivery", "deliveries"),
            method.describe(),
            ago(t, now)
        ),
        (Some(t), None) => format!("instructions exported {}", ago(t, now)),
        _ => "never given your profile yet".into(),
    }
}

/// Copies this agent's instructions now and records the delivery (synced), so alignment
/// counts it on every device.
fn deliver_now(ctx: Ctx, agent: String) {
    spawn_local(async move {
        let outcome = async {
            let p = ctx.profile.get_untracked().ok_or(crate::AppError::Locked)?;
            let mut all = crate::exports::instructions(&p.graph);
            all.retain(|x| x.agent == agent);
            let Some(instructions) = all.first() else {
                return Err(crate::AppError::Invalid(format!(
                    "nothing to tell {} yet",
                    agent_name(&agent)
                )));
            };
            browser::copy_text(&instructions.to_text()).await?;
            let delivery = instructions.delivery(DeliveryMethod::Copied)?;
            let given = session::record_deliveries(vec![delivery]).await?;
            ctx.profile
                .set(Some(Arc::new(p.with_snapshots(given, browser::now_ms()))));
            ctx.sync_soon();
            Ok::<String, crate::AppError>(format!(
                "Copied {}'s instructions: paste them into its {}.",
                agent_name(&agent),
                instructions.settings
            ))
        }
        .await;
        ctx.note.set(Some(match outcome {
            Ok(msg) => msg,
            Err(e) => e.to_string(),
        }));
    });
}

fn agent_card(ctx: Ctx, a: &AgentAlignment) -> impl IntoView {
    let now = browser::now_ms();
    let agent = a.agent.clone();
    let rating = a.self_rating.as_ref().map(|r| {
        view! {
            <p class="small self-rating" title="Your answer to the card \"How well does this assistant understand you?\"">
                {format!("You say it understands you: {}", r.label.to_lowercase())}
            </p>
        }
    });
    view! {
        <article class="agent" data-agent=a.agent.clone()>
            <header>
                <h3>{agent_name(&a.agent)}</h3>
                <span class="big" title="Share of your current profile this agent was actually given">{pct(a.alignment)}</span>
            </header>
            <p class="small explain">{format!(
                "{} of what {} would be told about you now was actually given to it; it fades as time passes and your answers change.",
                pct(a.alignment),
                agent_name(&a.agent)
            )}</p>
            {rating}
            {metric("Knowledge", a.knowledge, "How much of the profile is known, priority-weighted")}
            {metric("Coverage", a.coverage, "Share of the profile's facets this agent's instructions can state (priority-weighted)")}
            {metric("Consistency", a.consistency, "Share of answers that agree with each facet's leading value")}
            {metric("Confidence", a.confidence, "Mean strength of the facets that are known")}
            {metric("Staleness", a.staleness, "How much of what it would be told now differs from what it was told")}
            <p class="muted small delivery">{format!("{} here · {}", counted(a.answers as usize, "answer", "answers"), delivery_line(a, now))}</p>
            <p class="actions">
                <button class="deliver" data-deliver=a.agent.clone() on:click=move |_| deliver_now(ctx, agent.clone())>
                    {format!("Copy for {}", agent_name(&a.agent))}
                </button>
                <button class="link" on:click=move |_| ctx.go(View::Export)>"Other ways…"</button>
            </p>
        </article>
    }
}

fn alignment(ctx: Ctx, p: &Profile) -> impl IntoView {
    view! {
        <section class="panel" id="alignment">
            <h2>"Alignment per agent"</h2>
            <p class="muted small">"How much of your profile each assistant was actually given: in the chat, in its settings, over MCP or as downloaded instructions."</p>
            <div class="agents">
                {p.alignment.iter().map(|a| agent_card(ctx, a)).collect_view()}
            </div>
            {p.alignment.is_empty().then(|| view! { <p class="muted">"No agent yet: answers arrive from the extension."</p> })}
        </section>
    }
}

fn coverage(p: &Profile) -> impl IntoView {
    let agents: Vec<&AgentAlignment> = p.alignment.iter().collect();
    let dims = p.overview.dimensions.clone();
    view! {
        <section class="panel" id="coverage">
            <h2>"Coverage by dimension"</h2>
            <p class="muted small">"Share of each dimension's facets that are known, per agent; the bar is the dimension's strength."</p>
            <table class="coverage">
                <thead><tr>
                    <th scope="col">"Dimension"</th>
                    {agents.iter().map(|a| view! { <th scope="col">{agent_name(&a.agent)}</th> }).collect_view()}
                </tr></thead>
                <tbody>
                    {dims.into_iter().map(|d| {
                        let dim_id = d.dimension.clone();
                        let cells = agents.iter().map(|a| {
                            let c = a.by_dimension.iter().find(|x| x.dimension == dim_id).map_or(0.0, |x| x.coverage);
                            view! { <td class="heat" style=format!("--v:{:.2}", c)>{pct(c)}</td> }
                        }).collect_view();
                        view! {
                            <tr data-dimension=d.dimension.clone()>
                                <th scope="row">
                                    {d.label.clone()}
                                    <span class="meter thin"><span style=format!("width:{:.0}%", d.strength * 100.0)></span></span>
                                </th>
                                {cells}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

fn node_list(
    ctx: Ctx,
    id: &'static str,
    title: &'static str,
    help: &'static str,
    nodes: &[NodeSummary],
) -> impl IntoView {
    let items = nodes
        .iter()
        .map(|n| {
            let node = n.id.clone();
            // "Science: New to it" reads as two parts, the topic and the value; the
            // certainty stands apart so "98 %" is not read as "98 % new to it".
            let (topic, value) = n
                .label
                .split_once(": ")
                .map_or((String::new(), n.label.clone()), |(t, v)| (t.to_owned(), v.to_owned()));
            view! {
                <li data-node=n.id.clone()>
                    <button class="link" title="Show it in the graph" on:click=move |_| { ctx.focus.set(Some(node.clone())); ctx.go(View::Graph); }>
                        {(!topic.is_empty()).then(|| view! { <span class="topic">{topic}</span> })}
                        <span class="value">{value}</span>
                    </button>
                    <span class="certainty" title="How sure SelfOS is, from how many answers agree and how recent they are">
                        <span class="meter thin"><span style=format!("width:{:.0}%", n.strength * 100.0)></span></span>
                        <span class="num">{format!("{} sure", pct(n.strength))}</span>
                    </span>
                    <span class="muted small">{format!("{} for · {} against", n.supports, n.contradicts)}</span>
                </li>
            }
        })
        .collect_view();
    let empty = nodes.is_empty().then(|| {
        view! { <p class="muted empty">"Nothing yet: this fills in as you answer cards."</p> }
    });
    view! {
        <section class="panel" id=id>
            <h2>{title}</h2>
            <p class="muted small">{help}</p>
            {empty}
            <ol class="nodes">{items}</ol>
        </section>
    }
}

fn change_list(title: &'static str, items: Vec<String>) -> impl IntoView {
    (!items.is_empty()).then(|| {
        view! {
            <div class="change">
                <h3>{title}</h3>
                <ul>{items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul>
            </div>
        }
    })
}

fn changes(c: &Changes, since: Since) -> impl IntoView {
    let heading = match since {
        Since::LastExport(t) => format!("What changed since your last export ({})", date(t)),
        Since::Window(t) => format!("What changed this week (since {}; no export yet)", date(t)),
    };
    let moved = |list: &[vault_core::graph::NodeChange]| -> Vec<String> {
        list.iter()
            .map(|n| format!("{}: {} → {}", n.label, pct(n.before), pct(n.after)))
            .collect()
    };
    let lib = vault_core::cards::builtin();
    let leaders: Vec<String> = c
        .leader_changes
        .iter()
        .filter(|l| l.from.is_some())
        .map(|l| {
            format!(
                "{} → {}{}",
                l.from.clone().unwrap_or_default(),
                l.to.clone().unwrap_or_else(|| "nothing".into()),
                l.agent
                    .as_ref()
                    .map(|a| format!(" ({})", agent_name(a)))
                    .unwrap_or_default(),
            )
        })
        .collect();
    let facet = |key: &String| -> String {
        let (id, agent) = key
            .split_once('@')
            .map_or((key.as_str(), None), |(f, a)| (f, Some(a)));
        let label = lib.facet(id).map_or(id.to_owned(), |f| f.label.clone());
        match agent {
            Some(a) => format!("{label} ({})", agent_name(a)),
            None => label,
        }
    };
    let new_contradictions: Vec<String> = c.new_contradictions.iter().map(facet).collect();
    let resolved: Vec<String> = c.resolved_contradictions.iter().map(facet).collect();
    let nothing = c.new_answers == 0
        && c.new_nodes.is_empty()
        && c.strengthened.is_empty()
        && c.weakened.is_empty()
        && leaders.is_empty();
    view! {
        <section class="panel" id="changes">
            <h2>{heading}</h2>
            <p>{format!("{}.", counted(c.new_answers as usize, "new answer", "new answers"))}</p>
            {nothing.then(|| view! { <p class="muted">"Nothing else moved."</p> })}
            <div class="changes">
                {change_list("New", c.new_nodes.iter().map(|n| format!("{} ({})", n.label, pct(n.after))).collect())}
                {change_list("Stronger", moved(&c.strengthened))}
                {change_list("Weaker", moved(&c.weakened))}
                {change_list("Changed your mind", leaders)}
                {change_list("New contradictions", new_contradictions)}
                {change_list("Resolved", resolved)}
            </div>
        </section>
    }
}
