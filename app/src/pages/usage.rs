//! `/usage`: the account's metered calls per day (UTC) and service over the last 7, 30 or 90
//! days: a stacked bar chart (see [`crate::chart`]) and the same numbers in a table.
//!
//! The range is in the address (`?days=30`) and switched by plain links, so it works before
//! hydration as well as after.
use super::billing::failure;
use crate::{
    api::{DEFAULT_USAGE_DAYS, USAGE_DAYS, get_usage},
    chart::{UsageChart, calls_text, thousands},
    components::LoggedIn,
    types::billing::{UsageDay, UsageReport},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

/// The range the address asks for, or the default for none (or one the page does not offer).
fn days_from(query: Option<String>) -> u32 {
    query.and_then(|d| d.trim().parse().ok()).filter(|d| USAGE_DAYS.contains(d)).unwrap_or(DEFAULT_USAGE_DAYS)
}

/// `512 B`, `1.5 KiB`, `12.0 MiB`.
fn human_bytes(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `/usage?days=N`
#[component]
pub fn UsagePage() -> impl IntoView {
    view! {
        <Title text="Usage" />
        <LoggedIn>
            <UsageContent />
        </LoggedIn>
    }
}

#[component]
fn UsageContent() -> impl IntoView {
    let query = use_query_map();
    let days = Memo::new(move |_| days_from(query.read().get("days")));
    let report = Resource::new(move || days.get(), get_usage);
    view! {
        <header class="page-header split">
            <div>
                <h1>"Usage"</h1>
                <p class="muted">
                    "Your successful calls through the mesh, per day (UTC) and service: with an API key or "
                    "from a service's “try it”."
                </p>
            </div>
            <RangeSwitch days />
        </header>
        <Suspense fallback=|| view! { <p class="muted">"Loading your usage…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(report) => view! { <Usage report /> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

/// Links to the other ranges: plain links, so they work without the app too.
#[component]
fn RangeSwitch(#[prop(into)] days: Signal<u32>) -> impl IntoView {
    view! {
        // A group, not a <nav>: the page keeps a single navigation landmark.
        <div class="range-switch" role="group" aria-label="Range" data-testid="usage-range">
            {USAGE_DAYS
                .into_iter()
                .map(|n| view! {
                    <a
                        href=format!("/usage?days={n}")
                        aria-current=move || (days.get() == n).then_some("page")
                    >
                        {format!("{n} days")}
                    </a>
                })
                .collect_view()}
        </div>
    }
}

#[component]
fn Usage(report: UsageReport) -> impl IntoView {
    let days = (report.to - report.from).num_days() + 1;
    if report.total_calls == 0 {
        return view! {
            <article class="card" data-testid="usage-empty">
                <p class="empty-state">{format!("No calls in the last {days} days.")}</p>
                <p class="muted">
                    "Your calls show up here as soon as you make them. Create a key with the invoke scope on "
                    "the " <A href="/keys">"API keys"</A> " page and send it as "
                    <code>"Authorization: Bearer w4k_…"</code> " with a request to "
                    <code>"/api/v1/invoke/{service}/{path}"</code>
                    ". Each service's page shows its address with a ready-made curl, and “try it” calls it "
                    "from the portal."
                </p>
                <p class="actions">
                    <A href="/keys" attr:class="button primary">"Create an API key"</A>
                    <A href="/services" attr:class="button">"Your services"</A>
                </p>
            </article>
        }
        .into_any();
    }
    let range = format!("{} to {}, UTC", report.from, report.to);
    view! {
        <article class="card">
            <h2>{format!("{} in the last {days} days", calls_text(report.total_calls))}</h2>
            <p class="muted small">{range}</p>
            <UsageChart report=report.clone() />
        </article>
        <article class="card">
            <h2>"Per day and service"</h2>
            <UsageTable rows=report.days />
        </article>
    }
    .into_any()
}

/// Every day and service with calls, newest day first, and the totals.
#[component]
fn UsageTable(rows: Vec<UsageDay>) -> impl IntoView {
    let mut rows = rows;
    rows.sort_by(|a, b| b.day.cmp(&a.day).then_with(|| a.service_slug.cmp(&b.service_slug)));
    let calls: i64 = rows.iter().map(|r| r.calls).sum();
    let bytes_in: i64 = rows.iter().map(|r| r.bytes_in).sum();
    let bytes_out: i64 = rows.iter().map(|r| r.bytes_out).sum();
    view! {
        <table class="table" data-testid="usage-table">
            <thead>
                <tr>
                    <th>"Day"</th><th>"Service"</th><th class="num">"Calls"</th>
                    <th class="num">"Bytes in"</th><th class="num">"Bytes out"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| view! {
                        <tr>
                            <td>{row.day.to_string()}</td>
                            <td><code>{row.service_slug}</code></td>
                            <td class="num">{thousands(row.calls)}</td>
                            <td class="num" title=format!("{} bytes", thousands(row.bytes_in))>{human_bytes(row.bytes_in)}</td>
                            <td class="num" title=format!("{} bytes", thousands(row.bytes_out))>{human_bytes(row.bytes_out)}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
            <tfoot>
                <tr class="total">
                    <th scope="row" colspan="2">"Total"</th>
                    <td class="num" data-testid="usage-total-calls">{thousands(calls)}</td>
                    <td class="num">{human_bytes(bytes_in)}</td>
                    <td class="num">{human_bytes(bytes_out)}</td>
                </tr>
            </tfoot>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "ssr")]
    use chrono::NaiveDate;

    #[test]
    fn the_range_comes_from_the_address_or_defaults() {
        assert_eq!(days_from(None), 30);
        assert_eq!(days_from(Some("7".into())), 7);
        assert_eq!(days_from(Some("90".into())), 90);
        assert_eq!(days_from(Some("5".into())), 30);
        assert_eq!(days_from(Some("lots".into())), 30);
    }

    #[test]
    fn bytes_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(12 * 1024 * 1024), "12.0 MiB");
    }

    #[cfg(feature = "ssr")]
    mod rendered {
        use super::*;

        fn day(d: u32) -> NaiveDate {
            NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default()
        }

        fn render<V: IntoView + 'static>(view: impl FnOnce() -> V + Send + 'static) -> String {
            let owner = Owner::new();
            owner.with(|| {
                provide_context(leptos_router::location::RequestUrl::new("/usage?days=7"));
                view! { <leptos_router::components::Router>{view()}</leptos_router::components::Router> }
                    .to_html()
            })
        }

        fn usage(d: u32, slug: &str, calls: i64) -> UsageDay {
            UsageDay {
                day: day(d),
                service_id: format!("svc_{slug}").into(),
                service_slug: slug.into(),
                calls,
                bytes_in: calls * 512,
                bytes_out: calls * 2048,
            }
        }

        #[test]
        fn usage_shows_the_chart_and_a_row_per_day_and_service_with_totals() {
            let html = render(|| {
                let report = UsageReport {
                    from: day(16),
                    to: day(22),
                    days: vec![usage(20, "echo", 9), usage(22, "weather", 3), usage(22, "echo", 12)],
                    total_calls: 24,
                };
                view! { <Usage report /> }
            });
            assert!(html.contains("24 calls in the last 7 days"), "{html}");
            assert!(html.contains("data-testid=\"usage-chart\""), "{html}");
            assert_eq!(html.matches("data-day=\"").count(), 7, "{html}");
            // Newest first; the same day by slug.
            let echo_22 = html.find("<td>2026-11-22</td><td><code>echo</code></td><td class=\"num\">12</td>");
            let weather_22 =
                html.find("<td>2026-11-22</td><td><code>weather</code></td><td class=\"num\">3</td>");
            let echo_20 = html.find("<td>2026-11-20</td><td><code>echo</code></td><td class=\"num\">9</td>");
            assert!(echo_22.is_some() && weather_22.is_some() && echo_20.is_some(), "{html}");
            assert!(echo_22 < weather_22 && weather_22 < echo_20, "{html}");
            assert!(html.contains("title=\"6,144 bytes\" class=\"num\">6.0 KiB</td>"), "{html}");
            assert!(html.contains("data-testid=\"usage-total-calls\" class=\"num\">24</td>"), "{html}");
            assert!(
                html.contains("<td class=\"num\">12.0 KiB</td><td class=\"num\">48.0 KiB</td>"),
                "{html}"
            );
        }

        #[test]
        fn no_calls_points_to_keys_and_services() {
            let html = render(|| {
                let report = UsageReport { from: day(16), to: day(22), days: vec![], total_calls: 0 };
                view! { <Usage report /> }
            });
            assert!(html.contains("No calls in the last 7 days."), "{html}");
            assert!(html.contains("href=\"/keys\""), "{html}");
            assert!(html.contains("href=\"/services\""), "{html}");
            assert!(html.contains("/api/v1/invoke/{service}/{path}"), "{html}");
            assert!(!html.contains("usage-chart"), "{html}");
        }

        #[test]
        fn range_switch_marks_the_current_range() {
            let html = render(|| view! { <RangeSwitch days=Signal::stored(7) /> });
            assert!(html.contains("href=\"/usage?days=7\" aria-current=\"page\""), "{html}");
            assert!(html.contains("href=\"/usage?days=30\">"), "{html}");
            assert!(html.contains("href=\"/usage?days=90\">"), "{html}");
        }
    }
}
