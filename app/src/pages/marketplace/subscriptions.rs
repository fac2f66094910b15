//! `/subscriptions`: the consumer's subscriptions — what each is to, its plan and state, this
//! month's calls against the quota and spending against the cap, how to call it, and Cancel.
use super::{currency, plan_price, subscription_badge, thousands};
use crate::{
    api::{CancelSubscription, list_subscriptions},
    components::LoggedIn,
    pages::common::failure,
    types::marketplace::{SubscriptionStatus, SubscriptionView},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

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
    let cancel = ServerAction::<CancelSubscription>::new();
    let subscriptions = Resource::new(move || cancel.version().get(), |_| list_subscriptions());
    let cancel_error = move || cancel.value().get().and_then(Result::err).map(|e| e.to_string());
    view! {
        <header class="page-header">
            <h1>"Subscriptions"</h1>
            <p class="muted">
                "The marketplace APIs you subscribe to. Call them with one of your "
                <A href="/keys">"API keys"</A> "; calls count against the plan's quota and your cap."
            </p>
        </header>
        {move || cancel_error().map(|m| view! { <div class="banner error" role="alert">{m}</div> })}
        <Suspense fallback=|| view! { <p class="muted">"Loading your subscriptions…"</p> }>
            {move || Suspend::new(async move {
                match subscriptions.await {
                    Ok(items) => view! { <SubscriptionList items cancel /> }.into_any(),
                    Err(error) => failure(error, || ().into_any()),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SubscriptionList(items: Vec<SubscriptionView>, cancel: ServerAction<CancelSubscription>) -> impl IntoView {
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
    view! {
        <article class="card">
            <table class="table" data-testid="subscriptions-table">
                <thead>
                    <tr>
                        <th>"Listing"</th><th>"Plan"</th><th>"Status"</th><th>"Calls this month"</th>
                        <th>"Spent"</th><th>"Invoke path"</th><th></th>
                    </tr>
                </thead>
                <tbody>
                    {items.into_iter().map(|subscription| view! { <SubscriptionRow subscription cancel /> }).collect_view()}
                </tbody>
            </table>
        </article>
    }
    .into_any()
}

/// "250 of 1,000" with a bar, or "250 (no quota)".
fn calls_text(subscription: &SubscriptionView) -> String {
    let calls = thousands(subscription.usage.calls);
    match subscription.plan.quota_per_month {
        Some(quota) => format!("{calls} of {}", thousands(quota)),
        None => format!("{calls} (no quota)"),
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

#[component]
fn SubscriptionRow(
    subscription: SubscriptionView,
    cancel: ServerAction<CancelSubscription>,
) -> impl IntoView {
    let pending = cancel.pending();
    let calls = calls_text(&subscription);
    let spent = spent_text(&subscription);
    let quota = subscription.plan.quota_per_month;
    let cancellable = subscription.status != SubscriptionStatus::Cancelled;
    view! {
        <tr data-testid="subscription-row">
            <td><A href=format!("/marketplace/{}", subscription.listing_id)>{subscription.listing_title.clone()}</A></td>
            <td>{subscription.plan.name.clone()}<br /><span class="muted small">{plan_price(&subscription.plan)}</span></td>
            <td>
                <span class=subscription_badge(subscription.status) data-testid="subscription-status">
                    {subscription.status.label()}
                </span>
            </td>
            <td>
                {calls}
                {quota.map(|q| view! {
                    <progress class="quota" max=q.to_string() value=subscription.usage.calls.min(q).to_string()></progress>
                })}
            </td>
            <td>{spent}</td>
            <td><code>{format!("/api/v1/invoke/{}/", subscription.invoke_path)}</code></td>
            <td>
                {cancellable.then(|| view! {
                    <ActionForm action=cancel attr:class="revoke-form">
                        <input type="hidden" name="id" value=subscription.id.clone() />
                        <label class="check small">
                            <input type="checkbox" required />
                            " Yes, stop my calls to it"
                        </label>
                        <button type="submit" class="button small danger" disabled=pending>"Cancel"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::pages::marketplace::fixtures::{render, subscription};

    #[test]
    fn a_subscription_shows_usage_against_quota_and_cap_and_can_be_cancelled() {
        let html = render("/subscriptions", None, || {
            let items =
                vec![subscription(SubscriptionStatus::Active), subscription(SubscriptionStatus::Cancelled)];
            view! { <SubscriptionList items cancel=ServerAction::new() /> }
        });
        for expected in [
            "href=\"/marketplace/lst_1\"",
            "Rain radar",
            "Hobby",
            "250 of 1,000",
            "<progress",
            "$1.30 of $25.00",
            "/api/v1/invoke/acme-radar/",
            ">Active</span>",
            ">Cancelled</span>",
            "<input type=\"checkbox\" required",
        ] {
            assert!(html.contains(expected), "missing {expected:?} in {html}");
        }
        // Only the live one can be cancelled.
        assert_eq!(html.matches(">Cancel</button>").count(), 1, "{html}");
    }

    #[test]
    fn no_subscriptions_points_to_the_marketplace() {
        let html = render(
            "/subscriptions",
            None,
            || view! { <SubscriptionList items=vec![] cancel=ServerAction::new() /> },
        );
        assert!(html.contains("You have no subscriptions yet."), "{html}");
        assert!(html.contains("href=\"/marketplace\""), "{html}");
    }
}
