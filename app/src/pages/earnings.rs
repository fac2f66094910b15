//! `/earnings`: what the account's priced services billed their callers, the platform's fee
//! and the net, per period and service; the open month's lines move until its invoices are
//! final.
use super::billing::{failure, month};
use crate::{
    api::get_earnings,
    chart::thousands,
    components::LoggedIn,
    types::billing::{EarningsLine, EarningsView},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Basis points as a percentage: `2000` → `20%`, `250` → `2.5%`, `1234` → `12.34%`.
fn percent(bps: u32) -> String {
    match bps % 100 {
        0 => format!("{}%", bps / 100),
        cents if cents % 10 == 0 => format!("{}.{}%", bps / 100, cents / 10),
        cents => format!("{}.{cents:02}%", bps / 100),
    }
}

/// `/earnings`
#[component]
pub fn EarningsPage() -> impl IntoView {
    view! {
        <Title text="Earnings" />
        <LoggedIn>
            <EarningsContent />
        </LoggedIn>
    }
}

#[component]
fn EarningsContent() -> impl IntoView {
    let earnings = Resource::new(|| (), |_| get_earnings());
    view! {
        <header class="page-header">
            <h1>"Earnings"</h1>
            <p class="muted">"What your priced services billed their callers, the platform's fee, and what is yours."</p>
        </header>
        <Suspense fallback=|| view! { <p class="muted">"Loading your earnings…"</p> }>
            {move || Suspend::new(async move {
                match earnings.await {
                    Ok(earnings) => view! { <Earnings earnings /> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Earnings(earnings: EarningsView) -> impl IntoView {
    let fee = percent(earnings.fee_bps);
    if earnings.lines.is_empty() {
        return view! {
            <article class="card" data-testid="earnings-empty">
                <p class="empty-state">"No earnings yet."</p>
                <p class="muted">
                    "Earnings appear here when others (or you) call your priced services. Set a price per call, "
                    "free calls or tiers on a service's settings; every billed call then adds to this month's "
                    "line, which becomes final when the month's invoices are. "
                    {format!("The platform keeps {fee} of what your services bill.")}
                </p>
                <p><A href="/services" attr:class="button">"Your services"</A></p>
            </article>
        }
        .into_any();
    }
    let currency = earnings.currency.clone();
    view! {
        <article class="card">
            <dl class="totals" data-testid="earnings-totals">
                <div>
                    <dt>"Billed"</dt>
                    <dd data-testid="earnings-billed">{currency.format_minor(earnings.billed_minor)}</dd>
                </div>
                <div>
                    <dt>{format!("Platform fee ({fee})")}</dt>
                    <dd data-testid="earnings-fee">{currency.format_minor(earnings.fee_minor)}</dd>
                </div>
                <div>
                    <dt>"Net"</dt>
                    <dd data-testid="earnings-net">{currency.format_minor(earnings.net_minor)}</dd>
                </div>
            </dl>
            <p class="muted small">
                "Open lines are this month's calls priced as they stand now; they become final when the "
                "month's invoices are finalized (after it ends, UTC). The fee is taken per invoice line, "
                "rounded half to even."
            </p>
        </article>
        <article class="card">
            <h2>"Per period and service"</h2>
            <table class="table" data-testid="earnings-table">
                <thead>
                    <tr>
                        <th>"Period"</th><th>"Service"</th><th class="num">"Calls"</th><th class="num">"Billed"</th>
                        <th class="num">"Fee"</th><th class="num">"Net"</th><th></th>
                    </tr>
                </thead>
                <tbody>
                    {earnings
                        .lines
                        .into_iter()
                        .map(|line| view! { <EarningsRow line currency=currency.clone() /> })
                        .collect_view()}
                </tbody>
            </table>
        </article>
    }
    .into_any()
}

#[component]
fn EarningsRow(line: EarningsLine, currency: crate::types::billing::Currency) -> impl IntoView {
    let (state, title) = if line.finalized {
        ("final", "From finalized invoices: it will not change.")
    } else {
        ("open", "This month so far: it changes with every call until the month's invoices are final.")
    };
    view! {
        <tr>
            <td>{month(line.period_start)}</td>
            <td><code title=line.service_id.clone()>{line.service_slug.clone()}</code></td>
            <td class="num">{thousands(line.calls)}</td>
            <td class="num">{currency.format_minor(line.billed_minor)}</td>
            <td class="num">{currency.format_minor(line.fee_minor)}</td>
            <td class="num">{currency.format_minor(line.net_minor)}</td>
            <td><span class=format!("badge earnings-{state}") title=title>{state}</span></td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "ssr")]
    use crate::types::billing::Currency;
    #[cfg(feature = "ssr")]
    use chrono::NaiveDate;

    #[test]
    fn fees_read_as_percentages() {
        assert_eq!(percent(2000), "20%");
        assert_eq!(percent(250), "2.5%");
        assert_eq!(percent(1234), "12.34%");
        assert_eq!(percent(5), "0.05%");
        assert_eq!(percent(0), "0%");
    }

    #[cfg(feature = "ssr")]
    mod rendered {
        use super::*;

        fn render<V: IntoView + 'static>(view: impl FnOnce() -> V + Send + 'static) -> String {
            let owner = Owner::new();
            owner.with(|| {
                provide_context(leptos_router::location::RequestUrl::new("/earnings"));
                view! { <leptos_router::components::Router>{view()}</leptos_router::components::Router> }
                    .to_html()
            })
        }

        fn line(month: u32, slug: &str, billed: i64, fee: i64, finalized: bool) -> EarningsLine {
            EarningsLine {
                period_start: NaiveDate::from_ymd_opt(2026, month, 1).unwrap_or_default(),
                service_id: format!("svc_{slug}").into(),
                service_slug: slug.into(),
                calls: billed * 4,
                billed_minor: billed,
                fee_minor: fee,
                net_minor: billed - fee,
                finalized,
            }
        }

        #[test]
        fn earnings_show_totals_with_the_fee_and_a_row_per_period_and_service() {
            let html = render(|| {
                let earnings = EarningsView {
                    currency: Currency::usd(),
                    fee_bps: 2000,
                    lines: vec![line(11, "echo", 1_250, 250, false), line(10, "echo", 10_000, 2_000, true)],
                    billed_minor: 11_250,
                    fee_minor: 2_250,
                    net_minor: 9_000,
                };
                view! { <Earnings earnings /> }
            });
            for expected in [
                "data-testid=\"earnings-billed\">$112.50</dd>",
                "<dt>Platform fee (20%)</dt>",
                "data-testid=\"earnings-fee\">$22.50</dd>",
                "data-testid=\"earnings-net\">$90.00</dd>",
                "<td>November 2026</td>",
                "<td>October 2026</td>",
                "<td class=\"num\">5,000</td>",
                "<td class=\"num\">$12.50</td><td class=\"num\">$2.50</td><td class=\"num\">$10.00</td>",
                "class=\"badge earnings-open\"",
                ">open</span>",
                ">final</span>",
            ] {
                assert!(html.contains(expected), "missing {expected:?} in {html}");
            }
        }

        #[test]
        fn no_earnings_explains_where_they_come_from() {
            let html = render(|| {
                let earnings = EarningsView {
                    currency: Currency::usd(),
                    fee_bps: 250,
                    lines: vec![],
                    billed_minor: 0,
                    fee_minor: 0,
                    net_minor: 0,
                };
                view! { <Earnings earnings /> }
            });
            assert!(html.contains("No earnings yet."), "{html}");
            assert!(html.contains("when others (or you) call your priced services"), "{html}");
            assert!(html.contains("The platform keeps 2.5% of what your services bill."), "{html}");
            assert!(!html.contains("earnings-table"), "{html}");
        }
    }
}
