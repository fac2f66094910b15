//! `/services/:id/metrics?window=hour|day|week`: one service's request history: totals,
//! requests and errors, the error rate, latency percentiles, and its top consumers.
use super::{
    ERROR, OK, P50, P95, P99, WindowSwitch, failure, maybe_ms, percent, step_label, window_from, window_label,
};
use crate::{
    api::get_service_metrics,
    chart::thousands,
    components::LoggedIn,
    pages::common,
    series_chart::{Chart, Series, Style, Unit},
    types::{
        ids::ServiceId,
        observability::{SeriesPoint, ServiceMetricsView, Window},
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};

fn not_found() -> AnyView {
    common::not_found(
        "No such service",
        "It may have been deleted, or it belongs to another account.",
        "/services",
        "Back to your services",
    )
}

/// `/services/:id/metrics`
#[component]
pub fn ServiceMetricsPage() -> impl IntoView {
    view! {
        <Title text="Service metrics" />
        <LoggedIn>
            <ServiceMetricsContent />
        </LoggedIn>
    }
}

#[component]
fn ServiceMetricsContent() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| ServiceId::new(params.read().get("id").unwrap_or_default()));
    let window = Memo::new(move |_| window_from(query.read().get("window")));
    let metrics =
        Resource::new(move || (id.get(), window.get()), |(id, window)| get_service_metrics(id, window));
    view! {
        <p><A href=move || format!("/services/{}", id.get())>"← The service"</A></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading the service's metrics…"</p> }>
            {move || Suspend::new(async move {
                match metrics.await {
                    Ok(metrics) => view! { <ServiceMetrics metrics window /> }.into_any(),
                    Err(error) => failure(error, not_found),
                }
            })}
        </Suspense>
    }
}

/// Each step's error rate in percent (none for a step without requests).
fn error_rates(points: &[SeriesPoint]) -> Vec<Option<f64>> {
    points.iter().map(|p| (p.requests > 0).then(|| p.errors as f64 / p.requests as f64 * 100.0)).collect()
}

#[component]
fn ServiceMetrics(metrics: ServiceMetricsView, #[prop(into)] window: Signal<Window>) -> impl IntoView {
    let ServiceMetricsView { service_id, service_name, window: shown, points, totals, top_consumers } =
        metrics;
    let steps: Vec<_> = points.iter().map(|p| p.at).collect();
    let per = step_label(shown);
    let requests = vec![
        Series::new(
            "answered",
            OK,
            points.iter().map(|p| Some(p.requests.saturating_sub(p.errors) as f64)).collect(),
        ),
        Series::new("errors", ERROR, points.iter().map(|p| Some(p.errors as f64)).collect()),
    ];
    let rates = vec![Series::new("error rate", ERROR, error_rates(&points))];
    let latency = vec![
        Series::new("p50", P50, points.iter().map(|p| p.p50_ms).collect()),
        Series::new("p95", P95, points.iter().map(|p| p.p95_ms).collect()),
        Series::new("p99", P99, points.iter().map(|p| p.p99_ms).collect()),
    ];
    let base = format!("/services/{service_id}/metrics");
    let traces = format!("/traces?service={service_id}");
    view! {
        <Title text=format!("Metrics · {service_name}") />
        <header class="page-header split">
            <div>
                <h1>{format!("{service_name}: metrics")}</h1>
                <p class="muted">
                    {format!("{}, UTC. ", window_label(shown))}
                    "Requests as the entry node saw them; latency from their arrival to their answer. "
                    <A href=traces>"See its traces"</A>
                </p>
            </div>
            <WindowSwitch base window />
        </header>
        <section class="stats" aria-label="Totals" data-testid="metrics-totals">
            <div class="card stat"><span class="stat-label">"Requests"</span>
                <span class="stat-figure" data-testid="total-requests">{thousands(totals.requests as i64)}</span></div>
            <div class="card stat"><span class="stat-label">"Error rate"</span>
                <span class="stat-figure">{percent(totals.error_rate)}</span>
                <span class="stat-line">{match totals.errors { 1 => "1 error".to_string(), n => format!("{} errors", thousands(n as i64)) }}</span></div>
            <div class="card stat"><span class="stat-label">"p50"</span><span class="stat-figure">{maybe_ms(totals.p50_ms)}</span></div>
            <div class="card stat"><span class="stat-label">"p95"</span><span class="stat-figure">{maybe_ms(totals.p95_ms)}</span></div>
            <div class="card stat"><span class="stat-label">"p99"</span><span class="stat-figure">{maybe_ms(totals.p99_ms)}</span></div>
        </section>
        <article class="card">
            <Chart title=format!("Requests {per}") steps=steps.clone() series=requests style=Style::StackedBars
                unit=Unit::Count empty="No calls in this window" testid="requests-chart" />
        </article>
        <article class="card">
            <Chart title=format!("Error rate {per}") steps=steps.clone() series=rates style=Style::Lines
                unit=Unit::Percent empty="No calls in this window" testid="error-rate-chart" />
        </article>
        <article class="card">
            <Chart title=format!("Latency {per} (p50, p95, p99)") steps series=latency style=Style::Lines
                unit=Unit::Millis empty="No calls in this window" testid="latency-chart" />
        </article>
        <article class="card">
            <h2>"Top consumers"</h2>
            {if top_consumers.is_empty() {
                view! { <p class="empty-state" data-testid="no-consumers">"No one called it in this window."</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll">
                    <table class="table" data-testid="top-consumers">
                        <thead><tr><th>"Consumer"</th><th class="num">"Calls"</th></tr></thead>
                        <tbody>
                            {top_consumers.into_iter().map(|c| view! {
                                <tr><td>{c.consumer}</td><td class="num">{thousands(c.calls as i64)}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }}
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn point(minute: u32, requests: u64, errors: u64, p50: Option<f64>) -> SeriesPoint {
        SeriesPoint {
            at: Utc.with_ymd_and_hms(2026, 11, 27, 12, minute, 0).single().unwrap_or_default(),
            requests,
            errors,
            p50_ms: p50,
            p95_ms: p50.map(|v| v * 2.0),
            p99_ms: p50.map(|v| v * 3.0),
        }
    }

    #[test]
    fn the_error_rate_is_per_step_and_missing_without_requests() {
        let points = [point(0, 4, 1, Some(2.0)), point(1, 0, 0, None), point(2, 2, 2, Some(1.0))];
        assert_eq!(error_rates(&points), [Some(25.0), None, Some(100.0)]);
    }

    #[cfg(feature = "ssr")]
    mod rendered {
        use super::*;
        use crate::types::observability::{RequestTotals, TopConsumer};

        fn render(metrics: ServiceMetricsView) -> String {
            Owner::new().with(|| {
                provide_context(leptos_router::location::RequestUrl::new(
                    "/services/svc_1/metrics?window=hour",
                ));
                view! {
                    <leptos_router::components::Router>
                        <ServiceMetrics metrics window=Window::Hour />
                    </leptos_router::components::Router>
                }
                .to_html()
            })
        }

        fn metrics(points: Vec<SeriesPoint>, top_consumers: Vec<TopConsumer>) -> ServiceMetricsView {
            let requests = points.iter().map(|p| p.requests).sum();
            let errors = points.iter().map(|p| p.errors).sum();
            ServiceMetricsView {
                service_id: ServiceId::new("svc_1"),
                service_name: "Echo".into(),
                window: Window::Hour,
                points,
                totals: RequestTotals {
                    requests,
                    errors,
                    error_rate: if requests == 0 { 0.0 } else { errors as f64 / requests as f64 },
                    p50_ms: Some(3.25),
                    p95_ms: Some(12.0),
                    p99_ms: None,
                },
                top_consumers,
            }
        }

        #[test]
        fn metrics_show_totals_charts_and_consumers() {
            let html = render(metrics(
                vec![point(0, 4, 1, Some(2.0)), point(1, 0, 0, None), point(2, 6, 0, Some(1.5))],
                vec![TopConsumer { consumer: "you".into(), calls: 10 }],
            ));
            assert!(html.contains("Echo: metrics"), "{html}");
            assert!(
                html.contains("data-testid=\"total-requests\" class=\"stat-figure\">10</span>"),
                "{html}"
            );
            assert!(html.contains(">10 %</span>"), "{html}");
            assert!(html.contains(">3.3 ms</span>") || html.contains(">3.2 ms</span>"), "{html}");
            assert!(html.contains(">—</span>"), "{html}");
            // Bars: answered at 0 and 2, errors at 0.
            assert_eq!(html.matches("class=\"segment\"").count(), 3, "{html}");
            assert_eq!(html.matches("class=\"series-line\"").count(), 4, "{html}");
            assert!(html.contains("<td>you</td><td class=\"num\">10</td>"), "{html}");
            assert!(html.contains("href=\"/services/svc_1/metrics?window=day\""), "{html}");
            assert!(html.contains("href=\"/traces?service=svc_1\""), "{html}");
        }

        #[test]
        fn a_quiet_window_says_so() {
            let html = render(metrics(vec![point(0, 0, 0, None), point(1, 0, 0, None)], vec![]));
            assert_eq!(html.matches("No calls in this window</text>").count(), 3, "{html}");
            assert!(html.contains("No one called it in this window."), "{html}");
        }
    }
}
