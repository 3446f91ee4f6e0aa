//! The overview: headline figures, answers over time, coverage by dimension, alignment per
//! agent, strongest and weakest nodes, and what changed since the last export.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use vault_core::delivery::DeliveryMethod;
use vault_core::graph::{AgentAlignment, Changes, NodeSummary};

use super::browser;
use super::charts::BarChart;
use super::ctx::{ctx, Ctx};
use super::session;
use crate::charts::moving_average;
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
                {stats(&p)}
                {activity(&p)}
                <div class="two">
                    {alignment(ctx, &p)}
                    {coverage(&p)}
                </div>
                <div class="two">
                    {node_list(ctx, "strongest", "Strongest", "What your answers establish most firmly.", &p.overview.strongest)}
                    {node_list(ctx, "weakest", "Weakest", "Fading or disputed: the next cards ask about these.", &p.overview.weakest)}
                </div>
                {changes(&p.changes, p.since)}
            </section>
        }
        .into_any()
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
            {stat("stat-known", noun(known, "fact known", "facts known"), count(known), format!("of {}", counted(p.graph.node_count(), "node", "nodes")))}
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
            <p class="muted small">"How much of your profile each assistant was actually given: in the chat, in its settings, over MCP or as downloaded instructions (docs/METRICS.md)."</p>
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
            view! {
                <li>
                    <button class="link" on:click=move |_| { ctx.focus.set(Some(node.clone())); ctx.go(View::Graph); }>
                        {n.label.clone()}
                    </button>
                    <span class="meter thin"><span style=format!("width:{:.0}%", n.strength * 100.0)></span></span>
                    <span class="num">{pct(n.strength)}</span>
                    <span class="muted small">{format!("{} for · {} against", n.supports, n.contradicts)}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="panel" id=id>
            <h2>{title}</h2>
            <p class="muted small">{help}</p>
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
