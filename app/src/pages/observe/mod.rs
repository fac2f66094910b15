//! The observability pages: a service's request history (`service_metrics`), the traces list
//! and one trace's hop timeline (`traces`, `trace`), and for the operator a node's history
//! (`node_metrics`) and the mesh's drops by reason (`drops`). The charts are
//! [`crate::series_chart::Chart`]s; the window is in the address (`?window=day`) and switched
//! by plain links, the trace filter is a GET form: all of it works before hydration.
mod drops;
mod node_metrics;
mod service_metrics;
mod trace;
mod traces;

pub use drops::MeshDropsPage;
pub use node_metrics::NodeMetricsPage;
pub use service_metrics::ServiceMetricsPage;
pub use trace::TracePage;
pub use traces::TracesPage;

use crate::{AuthContext, chart::PALETTE, error::PortalError, types::Role, types::observability::Window};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::{A, Redirect};
use std::str::FromStr;

/// The colours the pages give their series: requests, errors, and the latency percentiles.
const OK: &str = "#4e79a7";
const ERROR: &str = "#e15759";
const P50: &str = "#59a14f";
const P95: &str = "#f28e2b";
const P99: &str = "#b07aa1";

/// A colour per drop reason (by its place, most drops first).
fn reason_colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// The window the address asks for (`?window=day`), the hour for none or one unknown.
fn window_from(query: Option<String>) -> Window {
    query.and_then(|w| Window::from_str(w.trim()).ok()).unwrap_or_default()
}

/// "Last hour", "Last day", "Last week".
fn window_label(window: Window) -> &'static str {
    match window {
        Window::Hour => "Last hour",
        Window::Day => "Last 24 hours",
        Window::Week => "Last 7 days",
    }
}

/// "per minute", "per 5 minutes", "per hour": what one step of a chart covers.
fn step_label(window: Window) -> &'static str {
    match window {
        Window::Hour => "per minute",
        Window::Day => "per 5 minutes",
        Window::Week => "per hour",
    }
}

/// A time with seconds, as the trace pages show it.
fn when_exact(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `…` and the last eight characters of a long id (the full id goes in a `title`).
fn short(id: &str) -> String {
    match id.char_indices().rev().nth(7) {
        Some((at, _)) if id.len() > 14 => format!("…{}", &id[at..]),
        _ => id.to_owned(),
    }
}

/// A share as the pages show it: `0 %`, `2.5 %`, `33 %`.
fn percent(rate: f64) -> String {
    crate::series_chart::Unit::Percent.format(rate * 100.0)
}

/// A latency that may be unknown (no requests): `—`.
fn maybe_ms(ms: Option<f64>) -> String {
    ms.map(crate::series_chart::millis).unwrap_or_else(|| "—".into())
}

/// Whether the logged-in account is the operator (who sees the drops pages).
fn is_operator() -> bool {
    use_context::<AuthContext>().is_some_and(|auth| {
        auth.account.with_untracked(|a| a.as_ref().is_some_and(|a| a.role == Role::Operator))
    })
}

/// Links to the other windows of `base` (`base?window=…`): plain links, so they work without
/// the app too.
#[component]
fn WindowSwitch(base: String, #[prop(into)] window: Signal<Window>) -> impl IntoView {
    view! {
        // A group, not a <nav>: the page keeps a single navigation landmark.
        <div class="range-switch" role="group" aria-label="Window" data-testid="window-switch">
            {Window::ALL
                .into_iter()
                .map(|w| view! {
                    <a
                        href=format!("{base}?window={}", w.as_str())
                        aria-current=move || (window.get() == w).then_some("page")
                    >
                        {window_label(w)}
                    </a>
                })
                .collect_view()}
        </div>
    }
}

/// The operator's tabs over the observability pages that are not about one thing: the traces
/// and the mesh's drops. A developer has only the traces, so no tabs.
#[component]
fn ObserveTabs(current: &'static str) -> impl IntoView {
    let tabs = [("/traces", "Traces"), ("/observability/drops", "Mesh drops")];
    is_operator().then(|| {
        view! {
            <div class="tabs" role="group" aria-label="Observability" data-testid="observe-tabs">
                {tabs
                    .into_iter()
                    .map(|(href, label)| view! {
                        <a href=href aria-current=(href == current).then_some("page")>{label}</a>
                    })
                    .collect_view()}
            </div>
        }
    })
}

/// What a failed observability page shows: visitors go to log in; developers are told the
/// operator's pages are not theirs; a missing thing gets a 404 from `not_found`.
fn failure(error: PortalError, not_found: impl FnOnce() -> AnyView) -> AnyView {
    match error {
        PortalError::Unauthenticated => view! { <Redirect path="/login" /> }.into_any(),
        PortalError::Forbidden => view! {
            <section class="empty">
                <p class="code">"403"</p>
                <h1>"Operators only"</h1>
                <p>"Nodes and the mesh's drops are the platform operator's to watch."</p>
                <A href="/traces" attr:class="button">"Your traces"</A>
            </section>
        }
        .into_any(),
        other => super::common::failure(other, not_found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_comes_from_the_address() {
        assert_eq!(window_from(None), Window::Hour);
        assert_eq!(window_from(Some("day".into())), Window::Day);
        assert_eq!(window_from(Some(" week ".into())), Window::Week);
        assert_eq!(window_from(Some("year".into())), Window::Hour);
    }

    #[test]
    fn ids_and_numbers_read_well() {
        assert_eq!(short("12D3KooWabcdefghijklmnop"), "…ijklmnop");
        assert_eq!(short("embedded-1"), "embedded-1");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(0.025), "2.5 %");
        assert_eq!(percent(1.0 / 3.0), "33 %");
        assert_eq!(maybe_ms(None), "—");
        assert_eq!(maybe_ms(Some(3.21)), "3.2 ms");
    }
}
