//! Billing: the open period's draft invoice (recomputed on every load, and every half minute
//! while the page is open), the finalized invoices, how pricing works, and one invoice's page
//! with its downloads and, per line, the calls behind it.
//!
//! The downloads and the line → calls links go straight to the Cloud API
//! (`/api/v1/invoices/…`): the browser's session cookie authenticates them, so they are plain
//! links, marked so the hydrated router leaves them to the browser.
use super::common::{self, when};
use crate::{
    api::{get_invoice, list_invoices, preview_invoice},
    chart::thousands,
    components::LoggedIn,
    error::PortalError,
    types::{
        Page,
        billing::{InvoiceStatus, InvoiceSummary, InvoiceView},
        ids::InvoiceId,
    },
};
use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};

/// How often the hydrated billing page reloads the draft.
const DRAFT_REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

/// What a failed page load shows on the usage, billing and earnings pages: visitors go to log
/// in, a missing invoice gets a real 404.
pub(super) fn failure(error: PortalError) -> AnyView {
    common::failure(error, || {
        common::not_found(
            "No such invoice",
            "It may be mistyped, or it belongs to another account.",
            "/billing",
            "Back to billing",
        )
    })
}

/// A billing period by its month: "November 2026".
pub(super) fn month(period_start: NaiveDate) -> String {
    period_start.format("%B %Y").to_string()
}

/// The Cloud API address of an invoice's export.
fn export_href(id: &str, extension: &str) -> String {
    format!("/api/v1/invoices/{id}/export.{extension}")
}

/// The Cloud API address listing the usage events behind one line of an invoice.
fn line_events_href(id: &str, position: i32) -> String {
    format!("/api/v1/invoices/{id}/lines/{position}/events")
}

// ---------------------------------------------------------------------------------------------
// /billing

/// `/billing`: the current period's draft, past invoices, and how pricing works.
#[component]
pub fn BillingPage() -> impl IntoView {
    view! {
        <Title text="Billing" />
        <LoggedIn>
            <BillingContent />
        </LoggedIn>
    }
}

#[component]
fn BillingContent() -> impl IntoView {
    let query = use_query_map();
    let cursor = move || query.read().get("cursor").filter(|c| !c.is_empty());
    let draft = Resource::new(|| (), |_| preview_invoice());
    let invoices = Resource::new(cursor, list_invoices);
    // Every call changes the draft: reload it now and then while the page is open. Effects run
    // only in the browser, and the interval ends with the page.
    Effect::new(move || {
        let interval = set_interval_with_handle(move || draft.refetch(), DRAFT_REFRESH).ok();
        on_cleanup(move || {
            if let Some(interval) = interval {
                interval.clear();
            }
        });
    });
    view! {
        <header class="page-header">
            <h1>"Billing"</h1>
            <p class="muted">
                "What your calls to priced services cost: this month so far, and the invoices of past months."
            </p>
        </header>
        // A transition, not a suspense: a reload keeps the draft on screen until the new one is in.
        <Transition fallback=|| view! { <p class="muted">"Loading the current period…"</p> }>
            {move || Suspend::new(async move {
                match draft.await {
                    Ok(invoice) => view! { <Draft invoice /> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Transition>
        <Suspense fallback=|| view! { <p class="muted">"Loading your invoices…"</p> }>
            {move || {
                let paged = cursor().is_some();
                Suspend::new(async move {
                    match invoices.await {
                        Ok(page) => view! { <InvoiceList page paged /> }.into_any(),
                        Err(error) => failure(error),
                    }
                })
            }}
        </Suspense>
        <PricingExplained />
    }
}

/// The open period, as it would be invoiced now.
#[component]
fn Draft(invoice: InvoiceView) -> impl IntoView {
    let period = month(invoice.period_start);
    let body = if invoice.lines.is_empty() {
        view! {
            <p class="empty-state">"Nothing to pay for yet this month."</p>
            <p class="muted">
                "Calls to priced services appear here as lines as soon as they are made. Every call, free or "
                "not, is on the " <A href="/usage">"Usage"</A> " page."
            </p>
        }
        .into_any()
    } else {
        view! { <InvoiceLines invoice /> }.into_any()
    };
    view! {
        <article class="card" data-testid="draft-invoice">
            <h2>
                {format!("Current period · {period}")}
                <span class="muted">" · draft, updates live"</span>
            </h2>
            <p class="muted small">
                "Your calls not invoiced yet, priced as they stand now. After the month ends (UTC) they become "
                "a numbered invoice, listed below."
            </p>
            {body}
        </article>
    }
}

/// An invoice's lines and totals. A finalized invoice's lines each link to the calls behind
/// them; a draft's do not (its lines are not fixed yet).
#[component]
fn InvoiceLines(invoice: InvoiceView) -> impl IntoView {
    let currency = invoice.currency.clone();
    let traced = invoice.id.clone();
    let has_trace = traced.is_some();
    let rows = invoice
        .lines
        .into_iter()
        .map(|line| {
            let trace = traced.as_ref().map(|id| {
                let title = format!("The usage events behind this line ({}), as JSON", line.quantity);
                view! {
                    <td>
                        <a href=line_events_href(id.as_str(), line.position) rel="external" title=title>"calls"</a>
                    </td>
                }
            });
            view! {
                <tr data-position=line.position.to_string()>
                    <td><code>{line.service_slug}</code></td>
                    <td>{line.description}</td>
                    <td class="num" data-testid="line-quantity">{thousands(line.quantity)}</td>
                    <td class="num">{currency.format_micros(line.unit_price_micros)}</td>
                    <td class="num" data-testid="line-amount">{currency.format_minor(line.amount_minor)}</td>
                    {trace}
                </tr>
            }
        })
        .collect_view();
    let trace_cell = move || has_trace.then(|| view! { <td></td> });
    view! {
        <table class="table invoice-lines" data-testid="invoice-lines">
            <thead>
                <tr>
                    <th>"Service"</th>
                    <th>"Description"</th>
                    <th class="num">"Quantity"</th>
                    <th class="num">"Unit price"</th>
                    <th class="num">"Amount"</th>
                    {has_trace.then(|| view! { <th>"Trace"</th> })}
                </tr>
            </thead>
            <tbody>{rows}</tbody>
            <tfoot>
                <tr>
                    <th scope="row" colspan="4">"Subtotal"</th>
                    <td class="num" data-testid="invoice-subtotal">{currency.format_minor(invoice.subtotal_minor)}</td>
                    {trace_cell()}
                </tr>
                <tr class="total">
                    <th scope="row" colspan="2">"Total"</th>
                    <td class="num">{format!("{} calls", thousands(invoice.total_calls))}</td>
                    <td></td>
                    <td class="num" data-testid="invoice-total">{currency.format_minor(invoice.total_minor)}</td>
                    {trace_cell()}
                </tr>
            </tfoot>
        </table>
    }
}

#[component]
fn InvoiceList(page: Page<InvoiceSummary>, paged: bool) -> impl IntoView {
    if page.items.is_empty() && !paged {
        return view! {
            <article class="card" data-testid="invoices">
                <h2>"Invoices"</h2>
                <p class="empty-state">"No invoices yet."</p>
                <p class="muted">
                    "Each calendar month's calls are invoiced after it ends (UTC); the invoice then appears "
                    "here, numbered and final, with CSV and JSON downloads."
                </p>
            </article>
        }
        .into_any();
    }
    // A page past the last one (a stale cursor) says so instead of showing an empty table.
    let none_left = page.items.is_empty();
    view! {
        <article class="card" data-testid="invoices">
            <h2>"Invoices"</h2>
            <table class="table" data-testid="invoices-table">
                <thead>
                    <tr>
                        <th>"Number"</th><th>"Period"</th><th class="num">"Calls"</th><th class="num">"Total"</th>
                        <th>"Finalized"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .items
                        .into_iter()
                        .map(|invoice| view! {
                            <tr>
                                <td>
                                    <A href=format!("/billing/invoices/{}", invoice.id)>{invoice.number.clone()}</A>
                                </td>
                                <td>{month(invoice.period_start)}</td>
                                <td class="num">{thousands(invoice.total_calls)}</td>
                                <td class="num">{invoice.currency.format_minor(invoice.total_minor)}</td>
                                <td>{when(invoice.finalized_at)}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
            <common::Pager base="/billing" what="invoices" paged none_left next_cursor=page.next_cursor />
        </article>
    }
    .into_any()
}

#[component]
fn PricingExplained() -> impl IntoView {
    view! {
        <article class="card" data-testid="pricing-explained">
            <h2>"How pricing works"</h2>
            <ul class="notes">
                <li>
                    "Each service sets its own price. Its free calls come first: the first calls you make to it "
                    "in each calendar month (UTC), if it offers any."
                </li>
                <li>
                    "Then graduated tiers: each call costs the price of the tier it falls in, counting the "
                    "month's calls after the free ones (say the next 1,000 at $0.002, the rest at $0.001). "
                    "A flat price is one tier."
                </li>
                <li>
                    "A line is one service's calls at one price. Its amount is quantity × unit price, rounded "
                    "half to even to a whole cent once per line, so a handful of calls at a fraction of a cent "
                    "can come to $0.00."
                </li>
                <li>
                    "Invoices finalize at the end of each calendar month (UTC): numbered, never changed after, "
                    "downloadable as CSV or JSON, and each line traceable to its calls."
                </li>
            </ul>
        </article>
    }
}

// ---------------------------------------------------------------------------------------------
// /billing/invoices/:id

/// `/billing/invoices/:id`: one of the account's finalized invoices (404 for anyone else's).
#[component]
pub fn InvoicePage() -> impl IntoView {
    view! {
        <Title text="Invoice" />
        <LoggedIn>
            <InvoiceContent />
        </LoggedIn>
    }
}

#[component]
fn InvoiceContent() -> impl IntoView {
    let params = use_params_map();
    let id = move || InvoiceId::new(params.read().get("id").unwrap_or_default());
    let invoice = Resource::new(id, get_invoice);
    view! {
        <p><A href="/billing">"← Billing"</A></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading the invoice…"</p> }>
            {move || Suspend::new(async move {
                match invoice.await {
                    Ok(invoice) => view! { <InvoiceDetail invoice /> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn InvoiceDetail(invoice: InvoiceView) -> impl IntoView {
    let number = invoice.number.clone().unwrap_or_else(|| "Draft".into());
    let id = invoice.id.as_ref().map(|id| id.to_string()).unwrap_or_default();
    let status = match invoice.status {
        InvoiceStatus::Draft => "draft",
        InvoiceStatus::Finalized => "finalized",
    };
    let last_day = invoice.period_end.pred_opt().unwrap_or(invoice.period_end);
    let period = format!("{} ({} to {}, UTC)", month(invoice.period_start), invoice.period_start, last_day);
    let finalized = invoice.finalized_at.map(when).unwrap_or_else(|| "not yet".into());
    let total = invoice.currency.format_minor(invoice.total_minor);
    let downloads = invoice.id.is_some().then(|| {
        view! {
            <div class="actions">
                <a class="button" href=export_href(&id, "csv") download="" data-testid="download-csv">
                    "Download CSV"
                </a>
                <a class="button" href=export_href(&id, "json") download="" data-testid="download-json">
                    "Download JSON"
                </a>
            </div>
        }
    });
    view! {
        <Title text=format!("Invoice {number}") />
        <header class="page-header split">
            <div>
                <h1 data-testid="invoice-number">{number.clone()}</h1>
                <p class="muted">{period.clone()}</p>
            </div>
            {downloads}
        </header>
        <article class="card">
            <dl class="facts">
                <dt>"Number"</dt><dd><code>{number}</code></dd>
                <dt>"Status"</dt>
                <dd><span class=format!("badge invoice-{status}") data-testid="invoice-status">{status}</span></dd>
                <dt>"Period"</dt><dd>{period}</dd>
                <dt>"Finalized"</dt><dd>{finalized}</dd>
                <dt>"Calls"</dt><dd>{thousands(invoice.total_calls)}</dd>
                <dt>"Total"</dt><dd><strong>{total}</strong></dd>
            </dl>
        </article>
        <article class="card">
            <h2>"Lines"</h2>
            <p class="muted small">
                "“calls” lists the usage events behind a line (the Cloud API's JSON): each call's invoke id, "
                "time, status and size."
            </p>
            <InvoiceLines invoice />
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "ssr")]
    use crate::types::billing::{Currency, InvoiceLine};
    use chrono::DateTime;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[cfg(feature = "ssr")]
    fn line(
        position: i32,
        slug: &str,
        description: &str,
        quantity: i64,
        micros: i64,
        amount: i64,
    ) -> InvoiceLine {
        InvoiceLine {
            position,
            service_id: format!("svc_{slug}").into(),
            service_slug: slug.into(),
            provider_account_id: "acc_provider".into(),
            plan_id: None,
            description: description.into(),
            quantity,
            unit_price_micros: micros,
            amount_minor: amount,
            first_call: 1,
            last_call: quantity,
        }
    }

    /// November 2026: echo's 100 free calls, then 30 at $0.0025 ($0.075, rounded half to even
    /// to $0.08), and 7 weather calls at $0.01.
    #[cfg(feature = "ssr")]
    fn invoice(finalized: bool) -> InvoiceView {
        let lines = vec![
            line(1, "echo", "Free calls", 100, 0, 0),
            line(2, "echo", "Calls above 100", 30, 2500, 8),
            line(3, "weather", "Calls", 7, 10_000, 7),
        ];
        InvoiceView {
            id: finalized.then(|| "inv_1".into()),
            number: finalized.then(|| "W4-202611-000042".into()),
            account_id: "acc_1".into(),
            status: if finalized { InvoiceStatus::Finalized } else { InvoiceStatus::Draft },
            currency: Currency::usd(),
            period_start: date(2026, 11, 1),
            period_end: date(2026, 12, 1),
            lines,
            total_calls: 137,
            subtotal_minor: 15,
            total_minor: 15,
            finalized_at: finalized.then(|| DateTime::from_timestamp(1_796_083_200, 0).unwrap_or_default()),
        }
    }

    #[test]
    fn periods_times_and_addresses_read_well() {
        assert_eq!(month(date(2026, 11, 1)), "November 2026");
        assert_eq!(
            when(DateTime::from_timestamp(1_796_083_200, 0).unwrap_or_default()),
            "2026-12-01 00:00 UTC"
        );
        assert_eq!(export_href("inv_1", "csv"), "/api/v1/invoices/inv_1/export.csv");
        assert_eq!(line_events_href("inv_1", 3), "/api/v1/invoices/inv_1/lines/3/events");
        assert_eq!(crate::pages::common::encode_query("a+b/c=&"), "a%2Bb%2Fc%3D%26");
    }

    #[cfg(feature = "ssr")]
    mod rendered {
        use super::*;

        /// Renders `view` as the server would inside the app (router context).
        fn render<V: IntoView + 'static>(view: impl FnOnce() -> V + Send + 'static) -> String {
            let owner = Owner::new();
            owner.with(|| {
                provide_context(leptos_router::location::RequestUrl::new("/billing"));
                view! { <leptos_router::components::Router>{view()}</leptos_router::components::Router> }
                    .to_html()
            })
        }

        #[test]
        fn draft_shows_its_period_lines_and_totals_in_dollars() {
            let html = render(|| view! { <Draft invoice=invoice(false) /> });
            assert!(html.contains("Current period · November 2026<span"), "{html}");
            assert!(html.contains(" · draft, updates live"), "{html}");
            for expected in [
                "<td><code>echo</code></td><td>Free calls</td>",
                "<td data-testid=\"line-quantity\" class=\"num\">100</td>",
                "<td class=\"num\">$0.00</td>",
                "<td class=\"num\">$0.0025</td>",
                "<td class=\"num\">$0.01</td>",
                "data-testid=\"line-amount\" class=\"num\">$0.08</td>",
                "data-testid=\"line-amount\" class=\"num\">$0.07</td>",
                "data-testid=\"invoice-subtotal\" class=\"num\">$0.15</td>",
                "data-testid=\"invoice-total\" class=\"num\">$0.15</td>",
                "137 calls",
            ] {
                assert!(html.contains(expected), "missing {expected:?} in {html}");
            }
            // A draft's lines are not fixed: nothing to trace or download yet.
            assert!(!html.contains("/api/v1/invoices/"), "{html}");
            assert!(!html.contains(">Trace</th>"), "{html}");
        }

        #[test]
        fn empty_draft_points_to_usage() {
            let html = render(|| {
                let invoice = InvoiceView { lines: vec![], total_calls: 0, ..invoice(false) };
                view! { <Draft invoice /> }
            });
            assert!(html.contains("Nothing to pay for yet this month."), "{html}");
            assert!(html.contains("href=\"/usage\""), "{html}");
            assert!(!html.contains("invoice-lines"), "{html}");
        }

        #[test]
        fn invoice_page_links_downloads_and_each_line_to_its_calls() {
            let html = render(|| view! { <InvoiceDetail invoice=invoice(true) /> });
            for expected in [
                "data-testid=\"invoice-number\">W4-202611-000042</h1>",
                ">finalized</span>",
                "November 2026 (2026-11-01 to 2026-11-30, UTC)",
                "2026-12-01 00:00 UTC",
                "href=\"/api/v1/invoices/inv_1/export.csv\" download=\"\"",
                "href=\"/api/v1/invoices/inv_1/export.json\" download=\"\"",
                ">Download CSV</a>",
                ">Download JSON</a>",
                "href=\"/api/v1/invoices/inv_1/lines/1/events\" rel=\"external\"",
                "href=\"/api/v1/invoices/inv_1/lines/3/events\" rel=\"external\"",
                "data-testid=\"invoice-total\" class=\"num\">$0.15</td>",
            ] {
                assert!(html.contains(expected), "missing {expected:?} in {html}");
            }
            assert_eq!(html.matches(">calls</a>").count(), 3, "{html}");
        }

        #[test]
        fn invoice_list_links_each_number_to_its_page() {
            let html = render(|| {
                let summary = InvoiceSummary {
                    id: "inv_1".into(),
                    number: "W4-202611-000042".into(),
                    period_start: date(2026, 11, 1),
                    total_calls: 1_234,
                    total_minor: 1_234_567,
                    currency: Currency::usd(),
                    finalized_at: DateTime::from_timestamp(1_796_083_200, 0).unwrap_or_default(),
                };
                let page = Page { items: vec![summary], next_cursor: Some("c/2".into()) };
                view! { <InvoiceList page paged=false /> }
            });
            for expected in [
                "href=\"/billing/invoices/inv_1\">W4-202611-000042</a>",
                "<td>November 2026</td>",
                ">1,234</td>",
                ">$12345.67</td>",
                "2026-12-01 00:00 UTC",
                "href=\"/billing?cursor=c%2F2\"",
            ] {
                assert!(html.contains(expected), "missing {expected:?} in {html}");
            }
        }

        #[test]
        fn no_invoices_says_when_the_first_comes() {
            let html = render(
                || view! { <InvoiceList page=Page { items: vec![], next_cursor: None } paged=false /> },
            );
            assert!(html.contains("No invoices yet."), "{html}");
            assert!(!html.contains("invoices-table"), "{html}");
        }

        #[test]
        fn pricing_is_explained() {
            let html = render(|| view! { <PricingExplained /> });
            for expected in [
                "free calls come first",
                "graduated tiers",
                "half to even",
                "end of each calendar month (UTC)",
            ] {
                assert!(html.contains(expected), "missing {expected:?} in {html}");
            }
        }
    }
}
