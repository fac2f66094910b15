//! `/observability/drops?window=…` (operator): envelopes the mesh dropped, per reason over
//! time, each reason explained. It answers "why was this call dropped?": a failed trace's
//! error links here. Also the drops-by-reason pieces the node metrics page shares.
use super::{ObserveTabs, WindowSwitch, failure, reason_colour, step_label, window_from, window_label};
use crate::{
    api::get_mesh_drops,
    chart::thousands,
    components::LoggedIn,
    series_chart::{Chart, Series, Style, Unit},
    types::observability::{DropSeries, DropsView},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What a drop reason means, for a reader who wants to know why a call was lost.
pub(super) fn reason_help(reason: &str) -> &'static str {
    match reason {
        "no_route" => {
            "No node on the way knew a route to the destination (a node left, or the mesh is split)."
        }
        "hop_limit" => "The envelope crossed as many nodes as it may without arriving.",
        "blocked" => "The sender or the next hop is blocked by the operator.",
        "loop" => "The envelope came back to a node it had already crossed.",
        "expired" => {
            "The envelope was too old (or dated in the future) when it arrived: a slow path or a skewed clock."
        }
        "bad_signature" => "A signature did not verify: the envelope was altered on the way.",
        "replay" => "The same envelope was seen twice within the replay window.",
        "backpressure" => "The next hop's queue was full: the node was overloaded.",
        "malformed" => "The bytes were not a well-formed envelope.",
        "unanswered" => "The request reached its destination, but the service there never answered.",
        _ => "",
    }
}

/// One stacked-bar series per reason, in the view's order (most drops first).
pub(super) fn reason_series(reasons: &[DropSeries]) -> Vec<Series> {
    reasons
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Series::new(
                r.reason.replace('_', " "),
                reason_colour(i),
                r.counts.iter().map(|c| Some(*c as f64)).collect(),
            )
        })
        .collect()
}

/// The reasons with their totals and meaning; `None` (nothing to show) without drops.
#[component]
pub(super) fn DropTable(reasons: Vec<DropSeries>) -> impl IntoView {
    let rows: Vec<DropSeries> = reasons.into_iter().filter(|r| r.total > 0).collect();
    if rows.is_empty() {
        return view! { <p class="empty-state" data-testid="no-drops">"No drops in this window: every envelope got where it was going."</p> }
            .into_any();
    }
    view! {
        <div class="table-scroll">
        <table class="table" data-testid="drop-reasons">
            <thead><tr><th>"Reason"</th><th class="num">"Drops"</th><th>"What it means"</th></tr></thead>
            <tbody>
                {rows.into_iter().enumerate().map(|(i, r)| view! {
                    <tr>
                        <td><span class="swatch" style=format!("background:{}", reason_colour(i))></span>" "
                            {r.reason.replace('_', " ")}</td>
                        <td class="num">{thousands(r.total as i64)}</td>
                        <td class="wrap muted">{reason_help(&r.reason)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}

/// `/observability/drops`
#[component]
pub fn MeshDropsPage() -> impl IntoView {
    view! {
        <Title text="Mesh drops" />
        <LoggedIn>
            <DropsContent />
        </LoggedIn>
    }
}

#[component]
fn DropsContent() -> impl IntoView {
    let query = use_query_map();
    let window = Memo::new(move |_| window_from(query.read().get("window")));
    let drops = Resource::new(move || window.get(), get_mesh_drops);
    view! {
        <ObserveTabs current="/observability/drops" />
        <header class="page-header split">
            <div>
                <h1>"Mesh drops"</h1>
                <p class="muted">
                    "Envelopes the mesh's nodes dropped, by reason: why a call answered "
                    <code>"mesh_dropped"</code> " or timed out. Each node's page has its own."
                </p>
            </div>
            <WindowSwitch base="/observability/drops".to_string() window />
        </header>
        <Suspense fallback=|| view! { <p class="muted">"Loading the drops…"</p> }>
            {move || Suspend::new(async move {
                match drops.await {
                    Ok(drops) => view! { <Drops drops /> }.into_any(),
                    Err(error) => failure(error, || ().into_any()),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Drops(drops: DropsView) -> impl IntoView {
    let DropsView { window, steps, reasons } = drops;
    let total: u64 = reasons.iter().map(|r| r.total).sum();
    let series = reason_series(&reasons);
    view! {
        <article class="card">
            <p class="muted" data-testid="drops-total">
                {format!("{}, UTC: {} dropped.", window_label(window), thousands(total as i64))}
            </p>
            <Chart title=format!("Drops {} by reason", step_label(window)) steps series style=Style::StackedBars
                unit=Unit::Count empty="No drops in this window" testid="drops-chart" />
        </article>
        <article class="card">
            <h2>"By reason"</h2>
            <DropTable reasons />
        </article>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::types::observability::Window;
    use chrono::{TimeZone, Utc};

    fn render(drops: DropsView) -> String {
        Owner::new().with(|| view! { <Drops drops /> }.to_html())
    }

    fn steps(n: usize) -> Vec<chrono::DateTime<Utc>> {
        let start = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).single().unwrap_or_default();
        (0..n).map(|i| start + chrono::Duration::minutes(i as i64)).collect()
    }

    #[test]
    fn drops_stack_per_reason_with_a_legend_and_a_table() {
        let html = render(DropsView {
            window: Window::Hour,
            steps: steps(3),
            reasons: vec![
                DropSeries { reason: "no_route".into(), total: 5, counts: vec![2, 0, 3] },
                DropSeries { reason: "backpressure".into(), total: 1, counts: vec![1, 0, 0] },
            ],
        });
        assert!(html.contains("Last hour, UTC: 6 dropped."), "{html}");
        assert_eq!(html.matches("class=\"segment\"").count(), 3, "{html}");
        assert!(html.contains("data-series=\"no route\""), "{html}");
        assert!(html.contains("No node on the way knew a route"), "{html}");
        assert!(html.contains("<td class=\"num\">5</td>"), "{html}");
    }

    #[test]
    fn no_drops_says_so() {
        let html = render(DropsView { window: Window::Day, steps: steps(3), reasons: vec![] });
        assert!(html.contains("No drops in this window</text>"), "{html}");
        assert!(html.contains("data-testid=\"no-drops\""), "{html}");
    }
}
