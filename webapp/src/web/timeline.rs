//! Timeline and trends: answers per day (or per week over long spans) with the trend, and
//! the strength of the strongest nodes over time (the graph rebuilt as of a dozen dates).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser;
use super::charts::{BarChart, LineChart};
use super::ctx::ctx;
use crate::charts::moving_average;
use crate::drawing::PALETTE;
use crate::profile::{moment_labels, moments, strength_history};
use crate::text::counted;

/// Points on the strength-over-time chart.
const MOMENTS: usize = 12;
/// Nodes on it.
const LINES: usize = 6;

#[component]
pub fn Timeline() -> impl IntoView {
    let ctx = ctx();
    browser::mark("view", "timeline");
    // (labels, series) once computed: a dozen graph builds, done after the first paint.
    let history = RwSignal::new(None::<(Vec<String>, Vec<(String, &'static str, Vec<f64>)>)>);
    Effect::new(move |_| {
        let Some(p) = ctx.profile.get() else { return };
        history.set(None);
        spawn_local(async move {
            browser::yield_now().await;
            let now = browser::now_ms();
            let at = moments(&p.records, now, MOMENTS);
            let top: Vec<(String, String)> = p
                .overview
                .most_certain
                .iter()
                .take(LINES)
                .map(|n| (n.id.clone(), n.label.clone()))
                .collect();
            let ids: Vec<String> = top.iter().map(|t| t.0.clone()).collect();
            let rows = strength_history(&p.records, &ids, &at);
            let series = top
                .into_iter()
                .zip(rows)
                .enumerate()
                .map(|(i, ((_, label), values))| (label, PALETTE[i % PALETTE.len()], values))
                .collect();
            history.set(Some((moment_labels(&at), series)));
        });
    });
    move || {
        let p = ctx.profile.get()?;
        let days = &p.overview.per_day;
        if days.is_empty() {
            return Some(view! {
                <section id="timeline" class="view" aria-labelledby="timeline-title">
                    <h1 id="timeline-title">"Timeline and trends"</h1>
                    <p class="panel empty" id="timeline-empty">"Nothing to chart yet. Answer a few cards while your AI is working: your answers per day and how sure SelfOS is of each fact show here, over time."</p>
                </section>
            }
            .into_any());
        }
        let weekly = days.len() > 120;
        let (values, skipped, labels): (Vec<f64>, Vec<f64>, Vec<String>) = if weekly {
            days.chunks(7)
                .map(|w| {
                    (
                        w.iter().map(|d| f64::from(d.answered)).sum::<f64>(),
                        w.iter().map(|d| f64::from(d.skipped)).sum::<f64>(),
                        w[0].date.clone(),
                    )
                })
                .fold(
                    (Vec::new(), Vec::new(), Vec::new()),
                    |mut acc, (a, s, l)| {
                        acc.0.push(a);
                        acc.1.push(s);
                        acc.2.push(l);
                        acc
                    },
                )
        } else {
            (
                days.iter().map(|d| f64::from(d.answered)).collect(),
                days.iter().map(|d| f64::from(d.skipped)).collect(),
                days.iter().map(|d| d.date[5..].to_string()).collect(),
            )
        };
        let trend = moving_average(&values, if weekly { 4 } else { 7 });
        let unit = if weekly { "week" } else { "day" };
        let total_skipped = skipped.iter().sum::<f64>().abs();
        Some(view! {
            <section id="timeline" class="view" aria-labelledby="timeline-title">
                <h1 id="timeline-title">"Timeline and trends"</h1>
                <section class="panel">
                    <h2>{format!("Answers per {unit}")}</h2>
                    <p class="muted small">{format!("{} from {} to today; the line is the running average. {} skipped or dismissed.", counted(values.len(), unit, &format!("{unit}s")), days[0].date, total_skipped)}</p>
                    <BarChart id="chart-per-day" title=format!("Answers per {unit}") values=values labels=labels.clone() trend=trend/>
                </section>
                <section class="panel">
                    <h2>"How sure SelfOS is of your most certain facts, over time"</h2>
                    <p class="muted small">"Your profile as it stood on each date: certainty rises as your answers agree and fades as they age."</p>
                    {move || match history.get() {
                        None => view! { <p class="muted" id="history-loading"><progress></progress>" Rebuilding the profile at past dates…"</p> }.into_any(),
                        Some((labels, series)) => view! {
                            <LineChart id="chart-strength" title="Node strength over time".into() series=series labels=labels/>
                        }.into_any(),
                    }}
                </section>
            </section>
        }
        .into_any())
    }
}
