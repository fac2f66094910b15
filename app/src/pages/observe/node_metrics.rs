//! `/nodes/:id/metrics?window=…` (operator): what one node carried: the invokes it took as
//! the entry node (requests, errors, latency), the envelopes it forwarded for others, and
//! what it dropped, per step and by reason.
use super::{
    ERROR, OK, P50, P95, P99, WindowSwitch,
    drops::{DropTable, reason_series},
    failure, short, step_label, window_from, window_label,
};
use crate::{
    api::get_node_metrics,
    chart::thousands,
    components::LoggedIn,
    pages::common,
    series_chart::{Chart, Series, Style, Unit},
    types::{
        ids::NodeId,
        observability::{NodeMetricsView, NodePoint, Window},
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};

const FORWARDED: &str = "#76b7b2";

fn not_found() -> AnyView {
    common::not_found("No such node", "It may have been removed.", "/nodes", "All nodes")
}

/// `/nodes/:id/metrics`
#[component]
pub fn NodeMetricsPage() -> impl IntoView {
    view! {
        <Title text="Node metrics" />
        <LoggedIn>
            <NodeMetricsContent />
        </LoggedIn>
    }
}

#[component]
fn NodeMetricsContent() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| NodeId::new(params.read().get("id").unwrap_or_default()));
    let window = Memo::new(move |_| window_from(query.read().get("window")));
    let metrics =
        Resource::new(move || (id.get(), window.get()), |(id, window)| get_node_metrics(id, window));
    view! {
        <p><A href=move || format!("/nodes/{}", id.get())>"← The node"</A></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading the node's metrics…"</p> }>
            {move || Suspend::new(async move {
                match metrics.await {
                    Ok(metrics) => view! { <NodeMetrics metrics window /> }.into_any(),
                    Err(error) => failure(error, not_found),
                }
            })}
        </Suspense>
    }
}

/// A count per step, as a series.
fn counts(points: &[NodePoint], pick: impl Fn(&NodePoint) -> u64) -> Vec<Option<f64>> {
    points.iter().map(|p| Some(pick(p) as f64)).collect()
}

#[component]
fn NodeMetrics(metrics: NodeMetricsView, #[prop(into)] window: Signal<Window>) -> impl IntoView {
    let NodeMetricsView { node_id, window: shown, points, drops } = metrics;
    let steps: Vec<_> = points.iter().map(|p| p.at).collect();
    let per = step_label(shown);
    let sum = |pick: fn(&NodePoint) -> u64| thousands(points.iter().map(pick).sum::<u64>() as i64);
    let (requests, errors, forwarded, dropped) =
        (sum(|p| p.requests), sum(|p| p.errors), sum(|p| p.forwarded), sum(|p| p.drops));
    let request_series = vec![
        Series::new("answered", OK, counts(&points, |p| p.requests.saturating_sub(p.errors))),
        Series::new("errors", ERROR, counts(&points, |p| p.errors)),
    ];
    let traffic = vec![
        Series::new("forwarded", FORWARDED, counts(&points, |p| p.forwarded)),
        Series::new("dropped", ERROR, counts(&points, |p| p.drops)),
    ];
    let latency = vec![
        Series::new("p50", P50, points.iter().map(|p| p.p50_ms).collect()),
        Series::new("p95", P95, points.iter().map(|p| p.p95_ms).collect()),
        Series::new("p99", P99, points.iter().map(|p| p.p99_ms).collect()),
    ];
    let by_reason = reason_series(&drops);
    let base = format!("/nodes/{node_id}/metrics");
    view! {
        <Title text=format!("Metrics · node {}", short(node_id.as_str())) />
        <header class="page-header split">
            <div>
                <h1>"Node metrics"</h1>
                <p class="muted"><code>{node_id.to_string()}</code></p>
                <p class="muted">{format!("{}, UTC.", window_label(shown))}</p>
            </div>
            <WindowSwitch base window />
        </header>
        <section class="stats" aria-label="Totals" data-testid="node-totals">
            <div class="card stat"><span class="stat-label">"Requests"</span><span class="stat-figure">{requests}</span>
                <span class="stat-line">"as the entry node"</span></div>
            <div class="card stat"><span class="stat-label">"Errors"</span><span class="stat-figure">{errors}</span></div>
            <div class="card stat"><span class="stat-label">"Forwarded"</span><span class="stat-figure">{forwarded}</span>
                <span class="stat-line">"for other nodes"</span></div>
            <div class="card stat"><span class="stat-label">"Dropped"</span><span class="stat-figure">{dropped}</span></div>
        </section>
        <article class="card">
            <Chart title=format!("Requests {per}") steps=steps.clone() series=request_series style=Style::StackedBars
                unit=Unit::Count empty="No calls in this window" testid="node-requests-chart" />
        </article>
        <article class="card">
            <Chart title=format!("Forwarded and dropped {per}") steps=steps.clone() series=traffic style=Style::Lines
                unit=Unit::Count empty="Nothing forwarded or dropped in this window" testid="node-traffic-chart" />
        </article>
        <article class="card">
            <Chart title=format!("Latency {per} (p50, p95, p99)") steps=steps.clone() series=latency style=Style::Lines
                unit=Unit::Millis empty="No calls in this window" testid="node-latency-chart" />
        </article>
        <article class="card">
            <Chart title=format!("Drops {per} by reason") steps series=by_reason style=Style::StackedBars
                unit=Unit::Count empty="No drops in this window" testid="node-drops-chart" />
        </article>
        <article class="card">
            <h2>"Drops by reason"</h2>
            <DropTable reasons=drops />
            <p class="muted small"><A href="/observability/drops">"The whole mesh's drops"</A></p>
        </article>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::types::observability::DropSeries;
    use chrono::{TimeZone, Utc};

    fn point(minute: u32, requests: u64, forwarded: u64, drops: u64) -> NodePoint {
        NodePoint {
            at: Utc.with_ymd_and_hms(2026, 11, 27, 12, minute, 0).single().unwrap_or_default(),
            requests,
            errors: 0,
            forwarded,
            drops,
            p50_ms: (requests > 0).then_some(1.5),
            p95_ms: (requests > 0).then_some(4.0),
            p99_ms: (requests > 0).then_some(9.0),
        }
    }

    fn render(metrics: NodeMetricsView) -> String {
        Owner::new().with(|| {
            provide_context(leptos_router::location::RequestUrl::new("/nodes/n1/metrics"));
            view! {
                <leptos_router::components::Router>
                    <NodeMetrics metrics window=Window::Hour />
                </leptos_router::components::Router>
            }
            .to_html()
        })
    }

    #[test]
    fn a_node_shows_its_totals_charts_and_drops() {
        let html = render(NodeMetricsView {
            node_id: NodeId::new("12D3KooWentry0000000001"),
            window: Window::Hour,
            points: vec![point(0, 3, 10, 1), point(1, 0, 4, 0)],
            drops: vec![DropSeries { reason: "no_route".into(), total: 1, counts: vec![1, 0] }],
        });
        assert!(html.contains("<code>12D3KooWentry0000000001</code>"), "{html}");
        assert!(html.contains("<span class=\"stat-figure\">14</span>"), "{html}");
        assert_eq!(html.matches("role=\"img\"").count(), 4, "{html}");
        assert!(html.contains("data-testid=\"drop-reasons\""), "{html}");
        assert!(html.contains("href=\"/nodes/12D3KooWentry0000000001/metrics?window=week\""), "{html}");
    }
}
