//! The selected node's panel: how sure it is, the answers behind it (for or against), the
//! linked nodes, and the raw figures behind a "Details" toggle, from the graph now or as of
//! a past date.

use std::sync::Arc;

use leptos::prelude::*;

use crate::text::{agent_name, answer_text, date, pct, question_text};
use crate::web::ctx::ctx;
use vault_core::graph::context::certainty;
use vault_core::graph::KnowledgeGraph;

#[component]
pub(super) fn NodeDetails(
    id: String,
    /// The graph as of a past date, when the history control picked one.
    past: RwSignal<Option<Arc<KnowledgeGraph>>>,
    on_pick: impl Fn(String) + Copy + Send + 'static,
) -> impl IntoView {
    let ctx = ctx();
    let lib = vault_core::cards::builtin();
    move || {
        let p = ctx.profile.get()?;
        let then = past.get();
        let graph = then.as_deref().unwrap_or(&p.graph);
        let n = graph.node(&id)?;
        let m = &n.metrics;
        let dim = lib
            .dimensions
            .iter()
            .find(|d| d.id == n.dimension)
            .map_or(n.dimension.clone(), |d| d.label.clone());
        let neighbours: Vec<(String, String)> = graph
            .neighbours(&id)
            .into_iter()
            .take(8)
            .map(|(o, _)| (o.id.clone(), o.label.clone()))
            .collect();
        let evidence = graph.evidence(&id);
        let total = evidence.len();
        let items = evidence
            .into_iter()
            .take(40)
            .map(|e| {
                let (q, a) = p
                    .record(&e.record)
                    .map(|r| (question_text(lib, r), answer_text(lib, r)))
                    .unwrap_or_default();
                view! {
                    <li class={if e.polarity > 0 { "for" } else { "against" }} data-record=e.record.to_string()>
                        <span class="pol" aria-label={if e.polarity > 0 { "supports" } else { "contradicts" }}>{if e.polarity > 0 { "+" } else { "−" }}</span>
                        <span class="q">{q}</span>
                        <span class="a">{a}</span>
                        <span class="muted small">{format!("{} · {}", date(e.at_ms), agent_name(&e.agent))}</span>
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <div class="details" id="node-details" data-node=id.clone()>
                <h2>{n.label.clone()}</h2>
                <p class="muted small">{format!("{}{}", dim, n.agent.as_ref().map(|a| format!(" · for {}", agent_name(a))).unwrap_or_default())}</p>
                <p class="sure">{format!("{} sure ({}) · {} for, {} against", pct(m.strength), certainty(m.strength), m.supports, m.contradicts)}</p>
                {m.contested.then(|| view! { <p class="warn">"Your recent answers disagree here; a card will ask again."</p> })}
                <h3>{format!("Your answers behind it ({total})")}</h3>
                <ol class="evidence" id="evidence">{items}</ol>
                <h3>"Linked"</h3>
                <ul class="chips">
                    {neighbours.into_iter().map(|(nid, label)| view! {
                        <li><button class="chip" on:click=move |_| on_pick(nid.clone())>{label}</button></li>
                    }).collect_view()}
                </ul>
                <details class="figures-more">
                    <summary>"Details"</summary>
                    <dl class="figures">
                        <dt>"Kind"</dt><dd>{n.kind.as_str()}</dd>
                        <dt title="How much your answers agree">"Consistency"</dt><dd>{pct(m.consistency)}</dd>
                        <dt title="How recent the answers are">"Recency"</dt><dd>{pct(m.recency)}</dd>
                        <dt title="How central it is in your graph (PageRank)">"Centrality"</dt><dd>{format!("{:.4}", m.pagerank)}</dd>
                    </dl>
                </details>
            </div>
        })
    }
}
