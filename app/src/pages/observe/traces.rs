//! `/traces?service=…&status=…&min_ms=…`: the recent calls the account may see (calls to its
//! services and calls it made; the operator: every call), newest first, filtered by a plain
//! GET form. Each row opens the trace's timeline.
use super::{ObserveTabs, failure, when_exact};
use crate::{
    api::{list_services, list_traces},
    components::LoggedIn,
    pages::common::encode_query,
    series_chart::millis,
    types::{
        ids::ServiceId,
        observability::{MAX_TRACE_MIN_MS, TraceQuery, TraceStatus, TraceSummary},
        services::ServiceView,
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map, params::ParamsMap};
use std::str::FromStr;

/// The statuses the filter offers, with their labels.
const STATUSES: [(TraceStatus, &str); 4] = [
    (TraceStatus::Any, "Any status"),
    (TraceStatus::Ok, "OK (below 400)"),
    (TraceStatus::ClientError, "Client errors (4xx)"),
    (TraceStatus::Error, "Errors (5xx, dropped, timed out)"),
];

/// The filter the address asks for; anything it cannot read is left out.
pub(super) fn trace_query(params: &ParamsMap) -> TraceQuery {
    let get = |name: &str| params.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    TraceQuery {
        service: get("service").map(ServiceId::new),
        status: get("status").and_then(|s| TraceStatus::from_str(&s).ok()).unwrap_or_default(),
        min_ms: get("min_ms").and_then(|m| m.parse::<u32>().ok()).map(|m| m.min(MAX_TRACE_MIN_MS)),
        limit: None,
    }
}

/// A trace's status as a badge: the HTTP status, and the platform's error code when it
/// answered instead of the upstream.
pub(super) fn status_badge(status: u16, error_code: Option<&str>) -> AnyView {
    let class = match status {
        0..400 => "badge http-ok",
        400..500 => "badge http-warn",
        _ => "badge http-error",
    };
    view! {
        <span class=class>{status}</span>
        {error_code.map(|code| view! { " " <code class="error-code">{code.to_owned()}</code> })}
    }
    .into_any()
}

/// `/traces`
#[component]
pub fn TracesPage() -> impl IntoView {
    view! {
        <Title text="Traces" />
        <LoggedIn>
            <TracesContent />
        </LoggedIn>
    }
}

#[component]
fn TracesContent() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(trace_query));
    let traces = Resource::new(move || query.get(), list_traces);
    let services = Resource::new(|| (), |_| list_services(None));
    view! {
        <ObserveTabs current="/traces" />
        <header class="page-header">
            <h1>"Traces"</h1>
            <p class="muted">
                "Recent calls to your services and calls you made: where each went through the mesh and "
                "how long every step took. Bodies, headers and query strings are never kept."
            </p>
        </header>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let services = services.await.map(|page| page.items).unwrap_or_default();
                view! { <FilterForm query=query.get() services /> }
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p class="muted">"Loading traces…"</p> }>
            {move || Suspend::new(async move {
                let filtered = query.get() != TraceQuery::default();
                match traces.await {
                    Ok(traces) => view! { <TraceList traces filtered /> }.into_any(),
                    Err(error) => failure(error, || ().into_any()),
                }
            })}
        </Suspense>
    }
}

/// The filter: a plain GET to this page, filled from the address.
#[component]
fn FilterForm(query: TraceQuery, services: Vec<ServiceView>) -> impl IntoView {
    let min_ms = query.min_ms.map(|m| m.to_string()).unwrap_or_default();
    view! {
        <form method="get" action="/traces" role="search" class="card search-form" data-testid="trace-filter">
            <div class="search-line">
                <div class="field grow">
                    <label for="trace-service">"Service"</label>
                    <select id="trace-service" name="service">
                        <option value="" selected=query.service.is_none()>"All services"</option>
                        {services
                            .into_iter()
                            .map(|s| {
                                let selected = query.service.as_ref() == Some(&s.id);
                                view! { <option value=s.id.to_string() selected=selected>{s.name}</option> }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="trace-status">"Status"</label>
                    <select id="trace-status" name="status">
                        {STATUSES
                            .into_iter()
                            .map(|(status, label)| {
                                let value: &'static str = status.into();
                                view! { <option value=value selected=query.status == status>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="trace-min-ms">"Slower than (ms)"</label>
                    <input id="trace-min-ms" name="min_ms" type="number" min="0" max=MAX_TRACE_MIN_MS step="1" inputmode="numeric"
                        value=min_ms placeholder="any" />
                </div>
                <button type="submit" class="button primary">"Filter"</button>
            </div>
        </form>
    }
}

#[component]
fn TraceList(traces: Vec<TraceSummary>, filtered: bool) -> impl IntoView {
    if traces.is_empty() {
        return if filtered {
            view! {
                <article class="card" data-testid="traces-empty">
                    <p class="empty-state">"No traces match this filter."</p>
                    <p class="muted"><a href="/traces">"Show every trace"</a></p>
                </article>
            }
            .into_any()
        } else {
            view! {
                <article class="card" data-testid="traces-empty">
                    <p class="empty-state">"No traces yet: call one of your services, then come back."</p>
                    <p class="muted">
                        "Every call through " <code>"/api/v1/invoke/{service}/{path}"</code>
                        " is traced, the ones from a service's “try it” too. "
                        <A href="/services">"Your services"</A>
                    </p>
                </article>
            }
            .into_any()
        };
    }
    view! {
        <article class="card">
            <div class="table-scroll">
            <table class="table traces" data-testid="traces-table">
                <thead>
                    <tr>
                        <th>"Time"</th><th>"Service"</th><th>"Request"</th><th>"Status"</th>
                        <th class="num">"Duration"</th><th class="num">"Attempts"</th><th class="num">"Hops"</th>
                    </tr>
                </thead>
                <tbody>
                    {traces.into_iter().map(|t| view! { <TraceRow trace=t /> }).collect_view()}
                </tbody>
            </table>
            </div>
        </article>
    }
    .into_any()
}

#[component]
fn TraceRow(trace: TraceSummary) -> impl IntoView {
    let href = format!("/traces/{}", encode_query(&trace.trace_id));
    let hops = trace.route.len().saturating_sub(1);
    let route_title = trace.route.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(" → ");
    let failed = trace.status >= 500;
    view! {
        <tr class:failed=failed data-trace=trace.trace_id.clone()>
            <td><A href=href.clone()>{when_exact(trace.started_at)}</A></td>
            <td><A href=format!("/services/{}/metrics", trace.service_id)>{trace.service_name.clone()}</A></td>
            <td class="wrap"><A href=href attr:title=format!("trace {}", trace.trace_id)>
                <code>{format!("{} {}", trace.method, trace.path)}</code>
            </A></td>
            <td>{status_badge(trace.status, trace.error_code.as_deref())}</td>
            <td class="num">{millis(trace.duration_ms)}</td>
            <td class="num">{trace.attempts}</td>
            <td class="num" title=route_title>{hops}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> ParamsMap {
        let mut map = ParamsMap::new();
        for (k, v) in pairs {
            map.insert(k.to_string(), (*v).to_owned());
        }
        map
    }

    #[test]
    fn the_filter_comes_from_the_address() {
        assert_eq!(trace_query(&params(&[])), TraceQuery::default());
        assert_eq!(
            trace_query(&params(&[("service", "svc_1"), ("status", "error"), ("min_ms", "250")])),
            TraceQuery {
                service: Some(ServiceId::new("svc_1")),
                status: TraceStatus::Error,
                min_ms: Some(250),
                limit: None
            }
        );
        // An empty form: nothing filtered.
        assert_eq!(
            trace_query(&params(&[("service", ""), ("status", "any"), ("min_ms", "")])),
            TraceQuery::default()
        );
        assert_eq!(trace_query(&params(&[("status", "bogus"), ("min_ms", "-3")])), TraceQuery::default());
    }

    #[cfg(feature = "ssr")]
    mod rendered {
        use super::*;
        use crate::types::ids::NodeId;
        use chrono::{TimeZone, Utc};

        pub(crate) fn summary(status: u16, error_code: Option<&str>) -> TraceSummary {
            TraceSummary {
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
                invoke_id: "inv_1".into(),
                service_id: ServiceId::new("svc_1"),
                service_name: "Echo".into(),
                method: "GET".into(),
                path: "/hello".into(),
                status,
                error_code: error_code.map(str::to_owned),
                started_at: Utc.with_ymd_and_hms(2026, 11, 27, 12, 30, 5).single().unwrap_or_default(),
                duration_ms: 4.25,
                attempts: 1,
                route: vec![NodeId::new("12D3KooWentry0000000001"), NodeId::new("12D3KooWhost00000000002")],
            }
        }

        fn render<V: IntoView + 'static>(view: impl FnOnce() -> V + Send + 'static) -> String {
            Owner::new().with(|| {
                provide_context(leptos_router::location::RequestUrl::new("/traces"));
                view! { <leptos_router::components::Router>{view()}</leptos_router::components::Router> }
                    .to_html()
            })
        }

        #[test]
        fn a_row_per_trace_linking_to_its_timeline() {
            let html = render(|| {
                view! { <TraceList traces=vec![summary(200, None), summary(502, Some("mesh_dropped"))] filtered=false /> }
            });
            assert_eq!(html.matches("data-trace=").count(), 2, "{html}");
            assert!(html.contains("href=\"/traces/4bf92f3577b34da6a3ce929d0e0e4736\""), "{html}");
            assert!(html.contains("2026-11-27 12:30:05 UTC"), "{html}");
            assert!(html.contains("<code>GET /hello</code>"), "{html}");
            assert!(html.contains("4.3 ms") || html.contains("4.2 ms"), "{html}");
            assert!(html.contains("<code class=\"error-code\">mesh_dropped</code>"), "{html}");
            assert!(html.contains("class=\"badge http-error\">502</span>"), "{html}");
            // One hop between the entry and the host.
            assert!(html.contains("class=\"num\">1</td></tr>"), "{html}");
        }

        #[test]
        fn no_traces_says_what_to_do() {
            let html = render(|| view! { <TraceList traces=vec![] filtered=false /> });
            assert!(html.contains("No traces yet: call one of your services, then come back."), "{html}");
            let html = render(|| view! { <TraceList traces=vec![] filtered=true /> });
            assert!(html.contains("No traces match this filter."), "{html}");
        }

        #[test]
        fn the_form_keeps_the_filter() {
            let html = render(|| {
                let query = TraceQuery {
                    service: Some(ServiceId::new("svc_2")),
                    status: TraceStatus::Error,
                    min_ms: Some(100),
                    limit: None,
                };
                view! { <FilterForm query services=vec![] /> }
            });
            assert!(html.contains("method=\"get\" action=\"/traces\""), "{html}");
            assert!(html.contains("<option value=\"error\" selected"), "{html}");
            assert!(html.contains("value=\"100\""), "{html}");
        }
    }
}
