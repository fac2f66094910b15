//! `/subscriptions`: the consumer's subscriptions — what each is to, its plan and state, this
//! month's calls against the quota and spending against the cap (with the 75/90/100 % alert),
//! how to call it, and what the consumer may change: the plan (at once, same API keys), the
//! spending cap (set or removed), or Cancel (after a confirmation).
use super::{currency, plan_price, subscription_badge, thousands};
use crate::{
    api::{CancelSubscription, ChangePlan, SetSpendingCap, list_my_subscriptions},
    components::LoggedIn,
    error::PortalError,
    pages::common::{configured_invoke_origin, failure},
    types::{
        ids::SubscriptionId,
        marketplace::{
            ConsumerSubscription, ListingStatus, PlanView, SubscriptionActivity, SubscriptionStatus,
            SubscriptionView,
        },
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// The page's actions, created above its Suspense (which re-renders) so that an error that
/// came back in the URL of a plain form post reaches them.
#[derive(Clone, Copy)]
struct SubscriptionActions {
    cancel: ServerAction<CancelSubscription>,
    change_plan: ServerAction<ChangePlan>,
    set_cap: ServerAction<SetSpendingCap>,
    /// The subscription whose form was last submitted from the hydrated app: its errors are
    /// shown there; after a plain form post it is unknown and they are shown at the top.
    target: RwSignal<Option<SubscriptionId>>,
}

impl SubscriptionActions {
    fn new() -> Self {
        Self {
            cancel: ServerAction::new(),
            change_plan: ServerAction::new(),
            set_cap: ServerAction::new(),
            target: RwSignal::new(None),
        }
    }

    fn plan_error(self) -> Option<PortalError> {
        self.change_plan.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned()))
    }

    fn cap_error(self) -> Option<PortalError> {
        self.set_cap.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned()))
    }

    fn cancel_error(self) -> Option<PortalError> {
        self.cancel.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned()))
    }

    /// What `error` says about `field` (or as a whole) when `id`'s form was the one submitted.
    fn error_for(
        self,
        id: SubscriptionId,
        error: fn(Self) -> Option<PortalError>,
        field: &'static str,
    ) -> Signal<Option<String>> {
        Signal::derive(move || {
            self.target
                .with(|t| t.as_ref() == Some(&id))
                .then(|| error(self))
                .flatten()
                .map(|e| e.field_error(field).unwrap_or_else(|| e.to_string()))
        })
    }
}

/// `/subscriptions`
#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    view! {
        <Title text="Subscriptions" />
        <LoggedIn>
            <SubscriptionsContent />
        </LoggedIn>
    }
}

#[component]
fn SubscriptionsContent() -> impl IntoView {
    let actions = SubscriptionActions::new();
    // Reloaded only after a change went through, so a failed form keeps its inline error.
    let reload = RwSignal::new(0u32);
    let bump = move || reload.update(|n| *n += 1);
    Effect::new(move || {
        if actions.cancel.value().with(|v| matches!(v, Some(Ok(_)))) {
            bump();
        }
    });
    Effect::new(move || {
        if actions.change_plan.value().with(|v| matches!(v, Some(Ok(_)))) {
            bump();
        }
    });
    Effect::new(move || {
        if actions.set_cap.value().with(|v| matches!(v, Some(Ok(_)))) {
            bump();
        }
    });
    let subscriptions = Resource::new(move || reload.get(), |_| list_my_subscriptions());
    // Errors whose subscription is unknown (a plain form post came back with one) go on top,
    // except field errors of the cap form, which every cap field could claim.
    let untargeted = move || {
        if actions.target.with(Option::is_some) {
            return None;
        }
        [actions.cancel_error(), actions.plan_error(), actions.cap_error()].into_iter().flatten().next().map(
            |e| {
                ["spending_cap", "plan_id"]
                    .into_iter()
                    .find_map(|f| e.field_error(f))
                    .unwrap_or_else(|| e.to_string())
            },
        )
    };
    view! {
        <header class="page-header">
            <h1>"Subscriptions"</h1>
            <p class="muted">
                "The marketplace APIs you subscribe to. Call them with one of your "
                <A href="/keys">"API keys"</A> "; calls count against the plan's quota and your cap."
            </p>
        </header>
        {move || untargeted().map(|m| view! { <div class="banner error" role="alert" data-testid="subscriptions-error">{m}</div> })}
        <Suspense fallback=|| view! { <p class="muted">"Loading your subscriptions…"</p> }>
            {move || Suspend::new(async move {
                match subscriptions.await {
                    Ok(items) => view! { <SubscriptionList items actions /> }.into_any(),
                    Err(error) => failure(error, || ().into_any()),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SubscriptionList(items: Vec<ConsumerSubscription>, actions: SubscriptionActions) -> impl IntoView {
    if items.is_empty() {
        return view! {
            <article class="card" data-testid="subscriptions-empty">
                <p class="empty-state">"You have no subscriptions yet."</p>
                <p class="muted">
                    "Find an API in the " <A href="/marketplace">"marketplace"</A>
                    ", pick a plan and subscribe: it shows up here with its usage."
                </p>
            </article>
        }
        .into_any();
    }
    items
        .into_iter()
        .map(|ConsumerSubscription { subscription, plans, activity }| view! { <SubscriptionCard subscription plans activity actions /> })
        .collect_view()
        .into_any()
}

/// "250 of 1,000 calls", or "250 calls (no quota)".
fn calls_text(subscription: &SubscriptionView) -> String {
    let calls = thousands(subscription.usage.calls);
    match subscription.plan.quota_per_month {
        Some(quota) => format!("{calls} of {} calls", thousands(quota)),
        None => format!("{calls} calls (no quota)"),
    }
}

/// "$1.30 of $25.00", or "$1.30 (no cap)".
fn spent_text(subscription: &SubscriptionView) -> String {
    let currency = currency();
    let spent = currency.format_minor(subscription.usage.spent_minor);
    match subscription.spending_cap_minor {
        Some(cap) => format!("{spent} of {}", currency.format_minor(cap)),
        None => format!("{spent} (no cap)"),
    }
}

/// A subscription's calls per day as bars, one per day of the window (empty days too), each
/// with its date, calls and errors as a tooltip; the total is said in words for everyone.
#[component]
fn CallsPerDay(activity: SubscriptionActivity) -> impl IntoView {
    const BAR: i64 = 6;
    const HEIGHT: i64 = 32;
    let days: Vec<(chrono::NaiveDate, i64, i64)> = crate::chart::days_of(activity.from, activity.to)
        .map(|day| {
            let found = activity.days.iter().find(|d| d.day == day);
            (day, found.map_or(0, |d| d.calls), found.map_or(0, |d| d.errors))
        })
        .collect();
    let max = days.iter().map(|(_, calls, _)| *calls).max().unwrap_or(0).max(1);
    let width = BAR * i64::try_from(days.len()).unwrap_or(0);
    let summary =
        format!("{} in the last {} days", crate::chart::calls_text(activity.total_calls), days.len());
    view! {
        <figure class="calls-per-day" data-testid="calls-per-day">
            <svg width=width height=HEIGHT viewBox=format!("0 0 {width} {HEIGHT}") role="img" aria-label=summary.clone()>
                {days
                    .into_iter()
                    .enumerate()
                    .map(|(i, (day, calls, errors))| {
                        let h = if calls == 0 { 1 } else { (calls * HEIGHT / max).max(2) };
                        let x = i64::try_from(i).unwrap_or(0) * BAR;
                        let class = if errors > 0 { "bar has-errors" } else if calls == 0 { "bar empty" } else { "bar" };
                        view! {
                            <rect class=class x=x y=HEIGHT - h width=BAR - 1 height=h>
                                <title>{format!("{day}: {} ({errors} errors)", crate::chart::calls_text(calls))}</title>
                            </rect>
                        }
                    })
                    .collect_view()}
            </svg>
            <figcaption class="muted small">{summary}</figcaption>
        </figure>
    }
}

/// The alert a person reads for the 75/90/100 % level (of the quota or the cap, whichever is
/// further along).
fn alert_text(percent: u8) -> String {
    if percent >= 100 {
        "100 % of your quota or spending cap is used this month: calls are refused (or billed as \
         overage on a soft quota) until it resets or you change the plan or cap."
            .to_owned()
    } else {
        format!("{percent} % of your quota or spending cap is used this month.")
    }
}

/// A cap in minor units as the input shows it ("25.00").
fn cap_input(cap: Option<i64>) -> String {
    let currency = currency();
    cap.map(|c| currency.format_minor(c).trim_start_matches(|ch: char| !ch.is_ascii_digit()).to_owned())
        .unwrap_or_default()
}

#[component]
fn SubscriptionCard(
    subscription: SubscriptionView,
    plans: Vec<PlanView>,
    activity: SubscriptionActivity,
    actions: SubscriptionActions,
) -> impl IntoView {
    let id = subscription.id.clone();
    let mine = {
        let id = id.clone();
        move || actions.target.with(|t| t.as_ref() == Some(&id))
    };
    let live = subscription.status != SubscriptionStatus::Cancelled;
    let quota = subscription.plan.quota_per_month;
    let cap = subscription.spending_cap_minor;
    let usage = subscription.usage.clone();
    let alert = usage.alert_percent.filter(|_| live);
    let resets = usage.resets_at.map(|at| format!("Resets {}", at.format("%Y-%m-%d")));
    let others: Vec<PlanView> = plans.into_iter().filter(|p| p.id != subscription.plan.id).collect();
    let (calls, spent) = (calls_text(&subscription), spent_text(&subscription));
    let plan_line = format!("Plan {} · {}", subscription.plan.name, plan_price(&subscription.plan));
    let invoke = format!(
        "{}/api/v1/invoke/{}/",
        configured_invoke_origin().unwrap_or_default(),
        subscription.invoke_path
    );
    let cancel_error = {
        let mine = mine.clone();
        move || if mine() { actions.cancel_error().map(|e| e.to_string()) } else { None }
    };
    view! {
        <article class="card subscription-card" data-testid="subscription-row" data-subscription=id.to_string()>
            <header class="page-header split">
                <div>
                    <h2>
                        <A href=format!("/marketplace/{}", subscription.listing_id)>{subscription.listing_title.clone()}</A>
                        " "
                        <span class=subscription_badge(subscription.status) data-testid="subscription-status">
                            {subscription.status.label()}
                        </span>
                    </h2>
                    <p class="muted small" data-testid="subscription-plan">
                        {plan_line}
                    </p>
                </div>
                <code class="small">{invoke}</code>
            </header>
            {(live && subscription.listing_status == ListingStatus::Deprecated).then(|| view! {
                <div class="banner usage-alert alert-90" role="status" data-testid="deprecation-notice">
                    {match subscription.sunset_at {
                        Some(at) => format!("This API is deprecated by its provider: calls stop on {}. Find a replacement in the marketplace.", at.format("%Y-%m-%d")),
                        None => "This API is deprecated by its provider. Find a replacement in the marketplace.".to_owned(),
                    }}
                </div>
            })}
            {alert.map(|p| view! {
                <div class=format!("banner usage-alert alert-{p}") role="status" data-testid="usage-alert">
                    {alert_text(p)}
                </div>
            })}
            <dl class="facts usage" data-testid="subscription-usage">
                <dt>"Calls this month"</dt>
                <dd data-testid="usage-calls">
                    {calls}
                    {quota.map(|q| view! {
                        <progress class="quota" max=q.to_string() value=usage.calls.min(q).to_string() aria-label="Calls against the quota"></progress>
                    })}
                </dd>
                <dt>"Spent this month"</dt>
                <dd data-testid="usage-spent">
                    {spent}
                    {cap.map(|c| view! {
                        <progress class="quota" max=c.max(1).to_string() value=usage.spent_minor.min(c).to_string() aria-label="Spending against the cap"></progress>
                    })}
                </dd>
                {resets.map(|r| view! { <dt>"Month"</dt><dd class="muted">{r}</dd> })}
                <dt>"Last 30 days"</dt>
                <dd><CallsPerDay activity /></dd>
                <dt>"Last call"</dt>
                <dd data-testid="usage-last-call">{usage.last_called_at.map_or_else(|| "None yet".to_owned(), crate::pages::common::when)}</dd>
            </dl>
            {live.then(|| view! {
                <div class="subscription-forms">
                    <ChangePlanForm id=id.clone() plans=others.clone() actions />
                    <CapForm id=id.clone() cap actions />
                    <div class="field">
                        {move || cancel_error().map(|m| view! { <div class="banner error" role="alert">{m}</div> })}
                        <CancelForm id=id.clone() actions />
                    </div>
                </div>
            })}
        </article>
    }
}

/// Another public plan of the listing: takes effect at once, with the same API keys.
#[component]
fn ChangePlanForm(id: SubscriptionId, plans: Vec<PlanView>, actions: SubscriptionActions) -> impl IntoView {
    let action = actions.change_plan;
    let pending = action.pending();
    let select_id = format!("plan-{id}");
    let help_id = format!("{select_id}-help");
    let error = actions.error_for(id.clone(), SubscriptionActions::plan_error, "plan_id");
    if plans.is_empty() {
        return view! { <p class="muted small">"No other plan to change to."</p> }.into_any();
    }
    let mark = {
        let id = id.clone();
        move |_| actions.target.set(Some(id.clone()))
    };
    view! {
        <ActionForm action attr:class="field change-plan-form">
            <input type="hidden" name="id" value=id.to_string() />
            <label for=select_id.clone()>"Change plan"</label>
            <div class="row">
                <select id=select_id name="plan_id" required aria-describedby=help_id.clone()>
                    {plans.into_iter().map(|p| {
                        let label = format!("{} — {}", p.name, plan_price(&p));
                        view! { <option value=p.id.to_string()>{label}</option> }
                    }).collect_view()}
                </select>
                <button type="submit" class="button small" disabled=pending on:click=mark data-testid="change-plan">
                    {move || if pending.get() { "Changing…" } else { "Change plan" }}
                </button>
            </div>
            <p id=help_id class="help" class:field-error=move || error.get().is_some()>
                {move || error.get().unwrap_or_else(|| "Takes effect at once; your API keys keep working.".into())}
            </p>
        </ActionForm>
    }
    .into_any()
}

/// Sets the monthly cap, or removes it.
#[component]
fn CapForm(id: SubscriptionId, cap: Option<i64>, actions: SubscriptionActions) -> impl IntoView {
    let action = actions.set_cap;
    let pending = action.pending();
    let input_id = format!("cap-{id}");
    let help_id = format!("{input_id}-help");
    let error = actions.error_for(id.clone(), SubscriptionActions::cap_error, "spending_cap");
    let mark = {
        let id = id.clone();
        move |_| actions.target.set(Some(id.clone()))
    };
    let label = format!("Monthly spending cap ({})", currency().code);
    let remove_id = id.clone();
    let remove_mark = mark.clone();
    view! {
        <div class="field cap-forms">
            <ActionForm action attr:class="cap-form">
                <input type="hidden" name="id" value=id.to_string() />
                <label for=input_id.clone()>{label}</label>
                <div class="row">
                    <input
                        id=input_id
                        name="spending_cap"
                        type="text"
                        inputmode="decimal"
                        placeholder="no cap"
                        value=cap_input(cap)
                        aria-invalid=move || error.get().is_some().to_string()
                        aria-describedby=help_id.clone()
                    />
                    <button type="submit" class="button small" disabled=pending on:click=mark data-testid="set-cap">
                        {move || if pending.get() { "Saving…" } else { "Save cap" }}
                    </button>
                </div>
                <p id=help_id class="help" class:field-error=move || error.get().is_some()>
                    {move || error.get().unwrap_or_else(|| "Calls past it are refused this month. Leave empty for no cap.".into())}
                </p>
            </ActionForm>
            {cap.is_some().then(|| view! {
                <ActionForm action attr:class="inline">
                    <input type="hidden" name="id" value=remove_id.to_string() />
                    <input type="hidden" name="spending_cap" value="" />
                    <button type="submit" class="button small" disabled=pending on:click=remove_mark data-testid="remove-cap">
                        "Remove cap"
                    </button>
                </ActionForm>
            })}
        </div>
    }
}

/// Cancel, once the person ticks that they mean it.
#[component]
fn CancelForm(id: SubscriptionId, actions: SubscriptionActions) -> impl IntoView {
    let cancel = actions.cancel;
    let pending = cancel.pending();
    let check_id = format!("confirm-cancel-{id}");
    let mark = {
        let id = id.clone();
        move |_| actions.target.set(Some(id.clone()))
    };
    view! {
        <ActionForm action=cancel attr:class="revoke-form">
            <input type="hidden" name="id" value=id.to_string() />
            <input id=check_id.clone() type="checkbox" required />
            <label for=check_id class="small">" Yes, stop my calls to it"</label>
            " "
            <button type="submit" class="button small danger" disabled=pending on:click=mark data-testid="cancel-subscription">
                {move || if pending.get() { "Cancelling…" } else { "Cancel subscription" }}
            </button>
        </ActionForm>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::pages::marketplace::fixtures::{plan, render, subscription};
    use crate::types::marketplace::SubscriptionDay;

    fn item(status: SubscriptionStatus) -> ConsumerSubscription {
        ConsumerSubscription {
            subscription: subscription(status),
            plans: vec![plan("pln_free", "Hobby", 0, Some(1_000)), plan("pln_pro", "Pro", 2_000, None)],
            activity: SubscriptionActivity {
                subscription_id: "sub_1".into(),
                from: day(1),
                to: day(30),
                days: vec![
                    SubscriptionDay { day: day(3), calls: 40, errors: 0 },
                    SubscriptionDay { day: day(30), calls: 10, errors: 2 },
                ],
                total_calls: 50,
            },
        }
    }

    fn day(n: u32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, n).unwrap_or_default()
    }

    #[test]
    fn calls_per_day_are_bars_for_every_day_of_the_window() {
        let html = render("/subscriptions", None, || {
            view! { <SubscriptionList items=vec![item(SubscriptionStatus::Active)] actions=SubscriptionActions::new() /> }
        });
        assert_eq!(html.matches("<rect").count(), 30, "{html}");
        assert!(html.contains("50 calls in the last 30 days"), "{html}");
        assert!(html.contains("2026-11-03: 40 calls (0 errors)"), "{html}");
        assert!(
            html.contains("2026-11-30: 10 calls (2 errors)") && html.contains("bar has-errors"),
            "{html}"
        );
    }

    #[test]
    fn a_subscription_shows_usage_against_quota_and_cap_and_can_be_changed_or_cancelled() {
        let html = render("/subscriptions", None, || {
            let items = vec![item(SubscriptionStatus::Active), item(SubscriptionStatus::Cancelled)];
            view! { <SubscriptionList items actions=SubscriptionActions::new() /> }
        });
        for expected in [
            "href=\"/marketplace/lst_1\"",
            "Rain radar",
            "Plan Hobby · Free",
            "250 of 1,000 calls",
            "<progress",
            "$1.30 of $25.00",
            "/api/v1/invoke/acme-radar/",
            ">Active</span>",
            ">Cancelled</span>",
            "type=\"checkbox\" required",
            "name=\"plan_id\"",
            "<option value=\"pln_pro\">Pro — 100 free calls a month, then $0.002 per call</option>",
            "Takes effect at once; your API keys keep working.",
            "name=\"spending_cap\"",
            "value=\"25.00\"",
            "Remove cap",
        ] {
            assert!(html.contains(expected), "missing {expected:?} in {html}");
        }
        // The current plan is not offered, and only the live subscription can be changed.
        assert!(!html.contains("<option value=\"pln_free\""), "{html}");
        assert_eq!(html.matches("Cancel subscription</button>").count(), 1, "{html}");
        assert_eq!(html.matches("data-testid=\"change-plan\"").count(), 1, "{html}");
    }

    #[test]
    fn the_usage_alert_names_its_level() {
        let html = render("/subscriptions", None, || {
            let mut near = item(SubscriptionStatus::Active);
            near.subscription.usage.alert_percent = Some(90);
            let mut over = item(SubscriptionStatus::Active);
            over.subscription.usage.alert_percent = Some(100);
            view! { <SubscriptionList items=vec![near, over] actions=SubscriptionActions::new() /> }
        });
        assert!(html.contains("alert-90") && html.contains("90 % of your quota or spending cap"), "{html}");
        assert!(html.contains("alert-100") && html.contains("calls are refused"), "{html}");
    }

    #[test]
    fn a_deprecated_listing_tells_its_subscribers_when_calls_stop() {
        let html = render("/subscriptions", None, || {
            let mut item = item(SubscriptionStatus::Active);
            item.subscription.listing_status = ListingStatus::Deprecated;
            item.subscription.sunset_at = chrono::DateTime::from_timestamp(1_800_000_000, 0);
            view! { <SubscriptionList items=vec![item] actions=SubscriptionActions::new() /> }
        });
        assert!(html.contains("deprecation-notice") && html.contains("calls stop on 2027-01-15"), "{html}");
        assert!(html.contains("Last call") && html.contains("None yet"), "{html}");
    }

    #[test]
    fn no_subscriptions_points_to_the_marketplace() {
        let html = render(
            "/subscriptions",
            None,
            || view! { <SubscriptionList items=vec![] actions=SubscriptionActions::new() /> },
        );
        assert!(html.contains("You have no subscriptions yet."), "{html}");
        assert!(html.contains("href=\"/marketplace\""), "{html}");
    }
}
