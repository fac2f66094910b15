//! The dashboard: the account at a glance (services and their health, calls today, this
//! month's bill, subscriptions, earnings; each card a link to its page), who is logged in,
//! and what to do next.
use crate::{
    AuthContext,
    api::{get_earnings, get_usage, list_services, list_subscriptions, preview_invoice},
    chart::{calls_text, thousands},
    error::PortalError,
    types::{
        AccountView, Role,
        billing::{EarningsView, UsageReport},
        marketplace::{SubscriptionStatus, SubscriptionView},
        services::ServiceView,
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Redirect};

/// How many pages of services the services card reads before it says "more than".
const SERVICE_PAGES: usize = 10;

/// The services card's numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ServiceCounts {
    total: usize,
    healthy: usize,
    /// More services than [`SERVICE_PAGES`] pages hold: `total` is a lower bound.
    more: bool,
}

impl ServiceCounts {
    fn add(&mut self, services: &[ServiceView]) {
        self.total += services.len();
        self.healthy += services.iter().filter(|s| s.health.is_healthy()).count();
    }

    fn total_text(&self) -> String {
        if self.more { format!("{}+", self.total) } else { self.total.to_string() }
    }
}

/// Counts the account's services and the healthy ones, a page at a time.
async fn service_counts() -> Result<ServiceCounts, PortalError> {
    let mut counts = ServiceCounts::default();
    let mut cursor = None;
    for _ in 0..SERVICE_PAGES {
        let page = list_services(cursor).await?;
        counts.add(&page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(counts),
        }
    }
    counts.more = true;
    Ok(counts)
}

/// Today's calls (UTC): the report's last day.
fn calls_today(report: &UsageReport) -> i64 {
    report.days.iter().filter(|d| d.day == report.to).map(|d| d.calls).sum()
}

/// What the open month's lines earned, net of the fee (finalized lines are past months).
fn earned_this_month(earnings: &EarningsView) -> i64 {
    earnings.lines.iter().filter(|l| !l.finalized).map(|l| l.net_minor).sum()
}

/// Subscriptions that are not over: active, waiting for approval, or suspended.
fn current_subscriptions(subscriptions: &[SubscriptionView]) -> (usize, usize) {
    let current = subscriptions.iter().filter(|s| s.status != SubscriptionStatus::Cancelled).count();
    let active = subscriptions.iter().filter(|s| s.status == SubscriptionStatus::Active).count();
    (current, active)
}

/// `/dashboard` (log-in required: visitors are redirected to `/login`).
#[component]
pub fn DashboardPage() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    view! {
        <Title text="Dashboard" />
        {move || match auth.account.get() {
            Some(account) => view! { <Dashboard account /> }.into_any(),
            None => view! { <Redirect path="/login" /> }.into_any(),
        }}
    }
}

/// One step of the getting-started list.
struct Step {
    title: &'static str,
    text: &'static str,
    done: bool,
    /// Where the step is done, when a page of its own does it.
    href: Option<&'static str>,
}

fn next_steps(role: Role) -> Vec<Step> {
    let mut steps =
        vec![Step { title: "Create your account", text: "Done. You are logged in.", done: true, href: None }];
    if role == Role::Operator {
        steps.push(Step {
            title: "Add nodes to the mesh",
            text: "Mint a join token on the Join tokens page, start `server node` with it on another machine, and watch it join on the Nodes page.",
            done: false,
            href: Some("/join-tokens"),
        });
    }
    steps.extend([
        Step {
            title: "Register a service",
            text: "Services → New service: point the platform at an HTTP API you own. It is placed on healthy mesh nodes and callable at /api/v1/invoke/{id}/.",
            done: false,
            href: Some("/services/new"),
        },
        Step {
            title: "Create an API key and call your service",
            text: "API keys: create one with the invoke scope, copy its secret (it is shown once), and send it as Authorization: Bearer w4k_… with your calls.",
            done: false,
            href: Some("/keys"),
        },
        Step {
            title: "Watch your usage and your bill",
            text: "Usage charts your calls per day and service; Billing shows this month's draft invoice and past invoices; Earnings shows what your priced services earned.",
            done: false,
            href: Some("/usage"),
        },
    ]);
    steps
}

/// A card that is a link to its page: a label, a figure, and a line under it.
#[component]
fn StatCard(
    href: &'static str,
    label: &'static str,
    testid: &'static str,
    /// The figure and its line, once loaded (`Err`: the load failed, said briefly).
    figure: Signal<Option<Result<(String, String), String>>>,
) -> impl IntoView {
    view! {
        <A href=href attr:class="card stat" attr:data-testid=testid>
            <span class="stat-label">{label}</span>
            {move || match figure.get() {
                None => view! {
                    <span class="stat-figure muted">"…"</span>
                    <span class="stat-line muted">"Loading"</span>
                }
                .into_any(),
                Some(Ok((figure, line))) => view! {
                    <span class="stat-figure">{figure}</span>
                    <span class="stat-line">{line}</span>
                }
                .into_any(),
                Some(Err(message)) => view! {
                    <span class="stat-figure muted">"—"</span>
                    <span class="stat-line field-error">{message}</span>
                }
                .into_any(),
            }}
        </A>
    }
}

/// A resource's answer as a card's figure, through `show`.
fn figure_of<T: Clone + Send + Sync + 'static>(
    resource: Resource<Result<T, PortalError>>,
    show: impl Fn(&T) -> (String, String) + Send + Sync + 'static,
) -> Signal<Option<Result<(String, String), String>>> {
    Signal::derive(move || {
        resource.get().map(|answer| answer.as_ref().map(&show).map_err(|e| format!("Could not load: {e}")))
    })
}

/// The five cards at the top: each loads on its own and links to its page.
#[component]
fn StatCards() -> impl IntoView {
    let services = Resource::new(|| (), |_| service_counts());
    let usage = Resource::new(|| (), |_| get_usage(7));
    let bill = Resource::new(|| (), |_| preview_invoice());
    let subscriptions = Resource::new(|| (), |_| list_subscriptions());
    let earnings = Resource::new(|| (), |_| get_earnings());
    // With no services the card leads to registering the first one.
    let services_href = move || match services.get() {
        Some(Ok(counts)) if counts.total == 0 => "/services/new",
        _ => "/services",
    };
    let subscriptions_href = move || match subscriptions.get() {
        Some(Ok(list)) if current_subscriptions(&list).0 == 0 => "/marketplace",
        _ => "/subscriptions",
    };
    view! {
        // The figures are rendered on the server (the route waits for them), so the cards are
        // complete before the app hydrates.
        <Suspense fallback=|| view! { <p class="muted">"Loading your figures…"</p> }>
            {move || Suspend::new(async move {
                // Waited for here so the first response has every figure.
                let _ = (services.await, usage.await, bill.await, subscriptions.await, earnings.await);
                view! {
                    <section class="stats" aria-label="At a glance">
                        {move || view! {
                            <StatCard
                                href=services_href()
                                label="Services"
                                testid="card-services"
                                figure=figure_of(services, |c: &ServiceCounts| {
                                    if c.total == 0 {
                                        ("0".into(), "Register your first service →".into())
                                    } else {
                                        (c.total_text(), format!("{} healthy", c.healthy))
                                    }
                                })
                            />
                        }}
                        <StatCard
                            href="/usage"
                            label="Calls today"
                            testid="card-calls"
                            figure=figure_of(usage, |r: &UsageReport| {
                                let today = calls_today(r);
                                let week = format!("{} in the last 7 days", calls_text(r.total_calls));
                                (thousands(today), week)
                            })
                        />
                        <StatCard
                            href="/billing"
                            label="Current bill"
                            testid="card-bill"
                            figure=figure_of(bill, |i: &crate::types::billing::InvoiceView| {
                                let month = i.period_start.format("%B").to_string();
                                (i.currency.format_minor(i.total_minor), format!("{month} so far, draft"))
                            })
                        />
                        {move || view! {
                            <StatCard
                                href=subscriptions_href()
                                label="Subscriptions"
                                testid="card-subscriptions"
                                figure=figure_of(subscriptions, |list: &Vec<SubscriptionView>| {
                                    match current_subscriptions(list) {
                                        (0, _) => ("0".into(), "Browse the marketplace →".into()),
                                        (current, active) => (current.to_string(), format!("{active} active")),
                                    }
                                })
                            />
                        }}
                        <StatCard
                            href="/earnings"
                            label="Earnings"
                            testid="card-earnings"
                            figure=figure_of(earnings, |e: &EarningsView| {
                                (e.currency.format_minor(earned_this_month(e)), "This month, net of the fee".into())
                            })
                        />
                    </section>
                }
            })}
        </Suspense>
    }
}

#[component]
fn Dashboard(account: AccountView) -> impl IntoView {
    let since = account.created_at.format("%e %B %Y").to_string();
    let steps = next_steps(account.role);
    view! {
        <section class="dashboard">
            <header class="page-header">
                <h1>"Dashboard"</h1>
                <p class="muted">
                    "Signed in as " <strong data-testid="account-email">{account.email.clone()}</strong>
                </p>
            </header>
            <StatCards />
            <div class="grid">
                <article class="card">
                    <h2>"Account"</h2>
                    <dl class="facts">
                        <dt>"Email"</dt>
                        <dd>{account.email}</dd>
                        <dt>"Role"</dt>
                        <dd>
                            <span class="badge" data-testid="account-role">{account.role.label()}</span>
                        </dd>
                        <dt>"Member since"</dt>
                        <dd>{since}</dd>
                        <dt>"Account id"</dt>
                        <dd><code>{account.id}</code></dd>
                    </dl>
                </article>
            </div>
            <article class="card">
                <h2>"Getting started"</h2>
                <ol class="steps">
                    {steps
                        .into_iter()
                        .map(|step| {
                            view! {
                                <li class:done=step.done>
                                    <strong>
                                        {match step.href {
                                            Some(href) => view! { <A href=href>{step.title}</A> }.into_any(),
                                            None => step.title.into_any(),
                                        }}
                                    </strong>
                                    <span class="muted">{step.text}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            </article>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::billing::{Currency, EarningsLine, UsageDay};
    use chrono::NaiveDate;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default()
    }

    fn usage(d: u32, slug: &str, calls: i64) -> UsageDay {
        UsageDay {
            day: day(d),
            service_id: format!("svc_{slug}").into(),
            service_slug: slug.into(),
            calls,
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    #[test]
    fn calls_today_are_the_last_days_calls_of_every_service() {
        let report = UsageReport {
            from: day(16),
            to: day(22),
            days: vec![usage(21, "echo", 7), usage(22, "echo", 3), usage(22, "weather", 2)],
            total_calls: 12,
        };
        assert_eq!(calls_today(&report), 5);
        let quiet =
            UsageReport { from: day(16), to: day(22), days: vec![usage(20, "echo", 4)], total_calls: 4 };
        assert_eq!(calls_today(&quiet), 0);
    }

    #[test]
    fn earnings_this_month_are_the_open_lines_net() {
        let line = |month: u32, net: i64, finalized: bool| EarningsLine {
            period_start: NaiveDate::from_ymd_opt(2026, month, 1).unwrap_or_default(),
            service_id: "svc_1".into(),
            service_slug: "echo".into(),
            calls: 1,
            billed_minor: net,
            fee_minor: 0,
            net_minor: net,
            finalized,
        };
        let earnings = EarningsView {
            currency: Currency::usd(),
            fee_bps: 0,
            lines: vec![line(11, 120, false), line(11, 30, false), line(10, 5_000, true)],
            billed_minor: 5_150,
            fee_minor: 0,
            net_minor: 5_150,
        };
        assert_eq!(earned_this_month(&earnings), 150);
    }

    #[test]
    fn service_counts_add_up_pages_and_say_when_there_are_more() {
        let mut counts = ServiceCounts::default();
        assert_eq!(counts.total_text(), "0");
        counts.total = 200;
        counts.more = true;
        assert_eq!(counts.total_text(), "200+");
    }
}
