//! `/traces/:trace_id`: one call: its summary (ids, service, status, duration, the route
//! through the mesh) and its hop timeline: a row per span, its bar placed by when it started
//! and how long it took relative to the whole call, with the same numbers in text.
use super::{failure, is_operator, short, traces::status_badge, when_exact};
use crate::{
    api::get_trace,
    components::LoggedIn,
    pages::common,
    series_chart::millis,
    types::observability::{TraceSpan, TraceSummary, TraceView},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

/// The narrowest bar, in percent of the timeline: a span of a few microseconds still shows.
const MIN_BAR: f64 = 0.5;

fn not_found() -> AnyView {
    common::not_found(
        "No such trace",
        "It may have expired (only recent calls are kept), or it is not one of yours.",
        "/traces",
        "Back to your traces",
    )
}

/// The timeline's length: the call's duration, or the last span's end if one ends later
/// (clocks of different nodes); never zero.
pub fn timeline_total(summary_ms: f64, spans: &[TraceSpan]) -> f64 {
    let last_end = spans.iter().map(|s| s.start_ms.max(0.0) + s.duration_ms.max(0.0)).fold(0.0, f64::max);
    let total = summary_ms.max(last_end);
    if total.is_finite() && total > 0.0 { total } else { 1.0 }
}

/// A span's bar as `(left, width)` in percent of `total`: inside the timeline, at least
/// [`MIN_BAR`] wide.
pub fn bar(start_ms: f64, duration_ms: f64, total: f64) -> (f64, f64) {
    let share = |ms: f64| if ms.is_finite() { (ms / total * 100.0).clamp(0.0, 100.0) } else { 0.0 };
    let left = share(start_ms).min(100.0 - MIN_BAR);
    // Cut at the end rather than moved: where a span starts is what a reader compares.
    let width = share(duration_ms).max(MIN_BAR).min(100.0 - left);
    (left, width)
}

/// What kind of step a span is, as the timeline labels it.
fn kind_label(span: &TraceSpan) -> &'static str {
    span.kind.into()
}

/// `/traces/:trace_id`
#[component]
pub fn TracePage() -> impl IntoView {
    view! {
        <Title text="Trace" />
        <LoggedIn>
            <TraceContent />
        </LoggedIn>
    }
}

#[component]
fn TraceContent() -> impl IntoView {
    let params = use_params_map();
    let trace_id = Memo::new(move |_| params.read().get("trace_id").unwrap_or_default());
    let trace = Resource::new(move || trace_id.get(), get_trace);
    view! {
        <p><A href="/traces">"← All traces"</A></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading the trace…"</p> }>
            {move || Suspend::new(async move {
                match trace.await {
                    Ok(trace) => view! { <Trace trace operator=is_operator() /> }.into_any(),
                    Err(error) => failure(error, not_found),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Trace(trace: TraceView, operator: bool) -> impl IntoView {
    let TraceView { summary, spans } = trace;
    let total = timeline_total(summary.duration_ms, &spans);
    view! {
        <Title text=format!("Trace · {} {}", summary.method, summary.path) />
        <header class="page-header">
            <h1><code>{format!("{} {}", summary.method, summary.path)}</code></h1>
            <p class="muted">
                {format!("{} · ", summary.service_name)}
                {status_badge(summary.status, summary.error_code.as_deref())}
                {format!(" · {} · {}", millis(summary.duration_ms), when_exact(summary.started_at))}
            </p>
        </header>
        <article class="card">
            <h2>"Summary"</h2>
            <Summary summary=summary.clone() operator />
        </article>
        <article class="card">
            <h2>"Timeline"</h2>
            <Timeline spans total />
        </article>
    }
}

#[component]
fn Summary(summary: TraceSummary, operator: bool) -> impl IntoView {
    let why = summary.error_code.clone().filter(|_| operator).map(|code| {
        view! {
            " " <A href="/observability/drops" attr:data-testid="why-dropped">
                {format!("Why? See the mesh's drops ({code})")}
            </A>
        }
    });
    let route = summary
        .route
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let label = short(node.as_str());
            let title = node.to_string();
            let name = if operator {
                view! { <A href=format!("/nodes/{node}/metrics") attr:title=title><code>{label}</code></A> }
                    .into_any()
            } else {
                view! { <code title=title>{label}</code> }.into_any()
            };
            view! { {(i > 0).then_some(" → ")} {name} }
        })
        .collect_view();
    view! {
        <dl class="facts" data-testid="trace-summary">
            <dt>"Trace id"</dt><dd><code>{summary.trace_id.clone()}</code></dd>
            <dt>"Invoke id"</dt><dd><code>{summary.invoke_id.clone()}</code></dd>
            <dt>"Service"</dt>
            <dd><A href=format!("/services/{}/metrics", summary.service_id)>{summary.service_name.clone()}</A></dd>
            <dt>"Status"</dt><dd>{status_badge(summary.status, summary.error_code.as_deref())}{why}</dd>
            <dt>"Started"</dt><dd>{when_exact(summary.started_at)}</dd>
            <dt>"Duration"</dt><dd>{millis(summary.duration_ms)}</dd>
            <dt>"Attempts"</dt><dd>{summary.attempts}</dd>
            <dt>"Route"</dt>
            <dd data-testid="trace-route">
                {if summary.route.is_empty() { Some("not recorded") } else { None }}
                {route}
            </dd>
        </dl>
    }
}

/// The hop timeline: a row per span, with a bar positioned by its start and duration.
#[component]
fn Timeline(spans: Vec<TraceSpan>, total: f64) -> impl IntoView {
    if spans.is_empty() {
        return view! { <p class="empty-state">"This trace has no recorded steps."</p> }.into_any();
    }
    let rows = spans
        .into_iter()
        .map(|span| {
            let (left, width) = bar(span.start_ms, span.duration_ms, total);
            let failed = span.error.is_some();
            let kind = kind_label(&span);
            let node = span.node.clone().map(|n| {
                let label = short(n.as_str());
                view! { " on " <code title=n.to_string()>{label}</code> }
            });
            let attempt = (span.attempt > 0).then(|| format!(" · attempt {}", span.attempt));
            let numbers = format!("+{} · {}", millis(span.start_ms), millis(span.duration_ms));
            let tip = format!("{}: starts at {}, takes {}", span.name, millis(span.start_ms), millis(span.duration_ms));
            view! {
                <li class="span-row" class:failed=failed data-kind=kind>
                    <div class="span-label">
                        <span class=format!("badge span-kind kind-{kind}")>{kind}</span>
                        " " <span class="span-name">{span.name.clone()}</span>
                        <span class="muted small">{node}{attempt}</span>
                    </div>
                    <div class="span-track" aria-hidden="true">
                        <div class="span-bar" style=format!("left:{left:.2}%;width:{width:.2}%") title=tip></div>
                    </div>
                    <div class="span-numbers num">{numbers}</div>
                    {span.error.map(|error| view! {
                        <div class="span-error" role="note">{format!("failed: {error}")}</div>
                    })}
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="timeline" data-testid="timeline">
            <div class="timeline-scale muted small" aria-hidden="true">
                <span>"0 ms"</span>
                <span>{millis(total / 2.0)}</span>
                <span>{millis(total)}</span>
            </div>
            <ol class="spans" aria-label=format!("Steps of the call, over {}", millis(total))>{rows}</ol>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ids::NodeId, observability::SpanKind};

    fn span(kind: SpanKind, start_ms: f64, duration_ms: f64, error: Option<&str>) -> TraceSpan {
        TraceSpan {
            kind,
            name: format!("{} step", <&str>::from(kind)),
            node: Some(NodeId::new("12D3KooWhost00000000002")),
            attempt: u32::from(kind != SpanKind::Gateway),
            start_ms,
            duration_ms,
            error: error.map(str::to_owned),
        }
    }

    #[test]
    fn bars_sit_where_their_span_started_and_last_as_long() {
        assert_eq!(bar(0.0, 10.0, 10.0), (0.0, 100.0));
        assert_eq!(bar(2.5, 5.0, 10.0), (25.0, 50.0));
        assert_eq!(bar(9.0, 1.0, 10.0), (90.0, 10.0));
        // Tiny spans still show; one at the very end stays inside.
        assert_eq!(bar(5.0, 0.0, 10.0), (50.0, MIN_BAR));
        assert_eq!(bar(10.0, 0.0, 10.0), (100.0 - MIN_BAR, MIN_BAR));
        // Past the end (another node's clock) or before the start: clamped.
        assert_eq!(bar(8.0, 5.0, 10.0), (80.0, 20.0));
        assert_eq!(bar(-1.0, 2.0, 10.0), (0.0, 20.0));
        assert_eq!(bar(f64::NAN, f64::NAN, 10.0), (0.0, MIN_BAR));
    }

    #[test]
    fn the_timeline_covers_the_call_and_every_span() {
        let spans = [span(SpanKind::Gateway, 0.0, 10.0, None), span(SpanKind::Upstream, 4.0, 8.0, None)];
        assert_eq!(timeline_total(10.0, &spans), 12.0);
        assert_eq!(timeline_total(20.0, &spans), 20.0);
        assert_eq!(timeline_total(0.0, &[]), 1.0);
    }

    #[cfg(feature = "ssr")]
    mod rendered {
        use super::*;
        use crate::types::ids::ServiceId;
        use chrono::{TimeZone, Utc};

        fn trace(error_code: Option<&str>, spans: Vec<TraceSpan>) -> TraceView {
            TraceView {
                summary: TraceSummary {
                    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
                    invoke_id: "inv_1".into(),
                    service_id: ServiceId::new("svc_1"),
                    service_name: "Echo".into(),
                    method: "GET".into(),
                    path: "/hello".into(),
                    status: if error_code.is_some() { 502 } else { 200 },
                    error_code: error_code.map(str::to_owned),
                    started_at: Utc.with_ymd_and_hms(2026, 11, 27, 12, 30, 5).single().unwrap_or_default(),
                    duration_ms: 20.0,
                    attempts: 1,
                    route: vec![
                        NodeId::new("12D3KooWentry0000000001"),
                        NodeId::new("12D3KooWhost00000000002"),
                    ],
                },
                spans,
            }
        }

        fn render(trace: TraceView, operator: bool) -> String {
            Owner::new().with(|| {
                provide_context(leptos_router::location::RequestUrl::new("/traces/4bf92f3577b34da6a3ce929d0e0e4736"));
                view! { <leptos_router::components::Router><Trace trace operator /></leptos_router::components::Router> }
                    .to_html()
            })
        }

        #[test]
        fn a_trace_shows_its_summary_and_a_row_per_span() {
            let html = render(
                trace(
                    None,
                    vec![
                        span(SpanKind::Gateway, 0.0, 20.0, None),
                        span(SpanKind::Hop, 1.0, 4.0, None),
                        span(SpanKind::Upstream, 5.0, 10.0, None),
                    ],
                ),
                false,
            );
            assert_eq!(html.matches("class=\"span-row\"").count(), 3, "{html}");
            assert!(html.contains("style=\"left:25.00%;width:50.00%;\""), "{html}");
            assert!(html.contains("+5.0 ms · 10 ms"), "{html}");
            assert!(html.contains("<code>4bf92f3577b34da6a3ce929d0e0e4736</code>"), "{html}");
            // The route: short ids, the full one in the title.
            assert!(html.contains("<code title=\"12D3KooWentry0000000001\">…00000001</code>"), "{html}");
            assert!(!html.contains("why-dropped"), "{html}");
        }

        #[test]
        fn a_failed_span_is_marked_and_the_operator_is_pointed_at_the_drops() {
            let html = render(
                trace(
                    Some("mesh_dropped"),
                    vec![
                        span(SpanKind::Gateway, 0.0, 20.0, None),
                        span(SpanKind::Hop, 1.0, 2.0, Some("no_route")),
                    ],
                ),
                true,
            );
            assert!(html.contains("class=\"span-row failed\""), "{html}");
            assert!(html.contains("failed: no_route"), "{html}");
            assert!(html.contains("data-testid=\"why-dropped\""), "{html}");
            assert!(html.contains("href=\"/nodes/12D3KooWentry0000000001/metrics\""), "{html}");
        }
    }
}
