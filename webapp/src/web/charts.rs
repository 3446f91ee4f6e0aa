//! SVG charts drawn by the app: bars with an optional trend line, and lines. Geometry comes
//! from [`crate::charts`]; these only turn it into elements.

use leptos::prelude::*;

use crate::charts::{bars, label_positions, line_path, nice_max, ticks};

const W: f64 = 800.0;
const H: f64 = 180.0;
const LEFT: f64 = 36.0;
const BOTTOM: f64 = 22.0;

/// Tick count for a count axis, so ticks land on whole numbers: 10 -> 0,2,..,10;
/// 20 -> 0,5,..,20; 5 -> 0,1,..,5.
fn int_ticks(max: f64) -> usize {
    if max <= 5.0 {
        return max.max(1.0) as usize;
    }
    let lead = max / 10f64.powf(max.log10().floor());
    if (lead - 2.0).abs() < 1e-9 {
        4
    } else {
        5
    }
}

fn axis(max: f64, count: usize, fmt: fn(f64) -> String) -> impl IntoView {
    ticks(max, count)
        .into_iter()
        .map(|t| {
            let y = (H - BOTTOM) - t / max * (H - BOTTOM - 6.0);
            view! {
                <line class="grid" x1=LEFT x2=W y1=y y2=y/>
                <text class="tick" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">{fmt(t)}</text>
            }
        })
        .collect_view()
}

fn x_labels(labels: &[String], n: usize) -> impl IntoView {
    let plot = W - LEFT;
    let len = labels.len();
    label_positions(len, 6)
        .into_iter()
        .map(|i| {
            let x = LEFT + plot * (i as f64 + 0.5) / n.max(1) as f64;
            let anchor = if i == 0 {
                "start"
            } else if i + 1 == len {
                "end"
            } else {
                "middle"
            };
            view! { <text class="tick" x=x y=H - 6.0 text-anchor=anchor>{labels[i].clone()}</text> }
        })
        .collect_view()
}

fn int(v: f64) -> String {
    format!("{v:.0}")
}

fn percent(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// Bars (e.g. answers per day) with an optional trend line over them.
#[component]
pub fn BarChart(
    id: &'static str,
    title: String,
    values: Vec<f64>,
    labels: Vec<String>,
    #[prop(optional)] trend: Option<Vec<f64>>,
) -> impl IntoView {
    let max = nice_max(values.iter().copied().fold(0.0, f64::max));
    let plot_h = H - BOTTOM - 6.0;
    let rects = bars(&values, W - LEFT, plot_h, max);
    let n = values.len();
    let trend_path = trend.map(|t| line_path(&t, W - LEFT, plot_h, max));
    let desc = format!(
        "{title}: {} values, highest {}",
        n,
        values.iter().copied().fold(0.0, f64::max)
    );
    view! {
        <svg id=id class="chart" viewBox=format!("0 0 {W} {H}") role="img" aria-label=desc>
            {axis(max, int_ticks(max), int)}
            <g transform=format!("translate({LEFT},6)")>
                {rects.into_iter().zip(values).zip(labels.clone()).map(|((r, v), l)| view! {
                    <rect class="bar" x=r.x y=r.y width=r.w height=r.h><title>{format!("{l}: {v}")}</title></rect>
                }).collect_view()}
                {trend_path.map(|d| view! { <path class="trend" d=d/> })}
            </g>
            {x_labels(&labels, n)}
        </svg>
    }
}

/// Several lines over the same x positions, values in [0, 1] shown as percentages.
#[component]
pub fn LineChart(
    id: &'static str,
    title: String,
    /// `(name, colour, values)`
    series: Vec<(String, &'static str, Vec<f64>)>,
    labels: Vec<String>,
) -> impl IntoView {
    let plot_h = H - BOTTOM - 6.0;
    let n = labels.len();
    let desc = format!("{title}: {} series over {} points", series.len(), n);
    let legend = series
        .iter()
        .map(|(name, colour, values)| {
            let last = values.last().copied().unwrap_or(0.0);
            view! {
                <li><span class="swatch" style=format!("background:{colour}")></span>{name.clone()} <span class="muted">{percent(last)}</span></li>
            }
        })
        .collect_view();
    view! {
        <figure class="linechart">
            <svg id=id class="chart" viewBox=format!("0 0 {W} {H}") role="img" aria-label=desc>
                {axis(1.0, 4, percent)}
                <g transform=format!("translate({},6)", LEFT + (W - LEFT) / (2.0 * n.max(1) as f64))>
                    {series.into_iter().map(|(name, colour, values)| view! {
                        <path class="line" d=line_path(&values, (W - LEFT) * (n.saturating_sub(1)) as f64 / n.max(1) as f64, plot_h, 1.0) style=format!("stroke:{colour}")>
                            <title>{name}</title>
                        </path>
                    }).collect_view()}
                </g>
                {x_labels(&labels, n)}
            </svg>
            <figcaption><ul class="legend">{legend}</ul></figcaption>
        </figure>
    }
}
