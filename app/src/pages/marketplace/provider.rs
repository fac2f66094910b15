//! `/listings`: the provider's listings — a form to list one of their services, and per
//! listing its status and moves, its plans with the form that adds one (a private plan's
//! invitation is shown once, right after), and who subscribes with what the provider may do
//! about each.
use super::{
    day, listing_badge, plan_price,
    provider_forms::{AddPlanForm, ListingMoves, NewListingForm, ProviderActions, SubscriberMoves},
    quota_text, rate_text, subscription_badge, thousands,
};
use crate::{
    api::{list_my_listings, list_services},
    components::LoggedIn,
    error::PortalError,
    pages::common::{failure, when},
    types::{
        marketplace::{CreatedPlan, ListingView, ProviderListing, SubscriptionView},
        services::ServiceKind,
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// The last failure of an action (its `value()`), if any.
fn last_error<T: Send + Sync + 'static>(
    value: MappedSignal<Option<Result<T, PortalError>>>,
) -> Option<PortalError> {
    value.with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned()))
}

/// `/listings`
#[component]
pub fn MyListingsPage() -> impl IntoView {
    view! {
        <Title text="My listings" />
        <LoggedIn>
            <MyListings />
        </LoggedIn>
    }
}

#[component]
fn MyListings() -> impl IntoView {
    let actions = ProviderActions::new();
    // Reloaded only after a change went through: a reload re-renders the listings' forms, and
    // a failed one must keep its inline errors.
    let reload = RwSignal::new(0u32);
    let bump = move || reload.update(|n| *n += 1);
    Effect::new(move || {
        if actions.create_listing.value().with(|v| matches!(v, Some(Ok(_)))) {
            bump();
        }
    });
    Effect::new(move || {
        if actions.create_plan.value().with(|v| matches!(v, Some(Ok(_)))) {
            bump();
        }
    });
    Effect::new(move || {
        if actions.act.value().with(|v| matches!(v, Some(Ok(_)))) {
            bump();
        }
    });
    Effect::new(move || {
        if actions.act_on_subscription.value().with(|v| matches!(v, Some(Ok(_)))) {
            bump();
        }
    });
    let listings = Resource::new(move || reload.get(), |_| list_my_listings());
    let services = Resource::new(|| (), |_| list_services(None));
    // A private plan just created by the hydrated form (its answer) is kept past later
    // failures, so a typo in the next plan does not take away an invitation not yet copied.
    let minted =
        Memo::new(move |last: Option<&Option<CreatedPlan>>| match actions.create_plan.value().get() {
            Some(Ok(created)) if created.invitation.is_some() => Some(created),
            _ => last.cloned().flatten(),
        });
    // Failures whose listing is unknown (a plain form post came back with one) go on top.
    let untargeted = move || {
        if actions.target.with(Option::is_some) {
            return None;
        }
        [
            last_error(actions.create_plan.value()),
            last_error(actions.act.value()),
            last_error(actions.act_on_subscription.value()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| e.to_string())
    };
    let sub_error = move || {
        actions
            .target
            .with(Option::is_some)
            .then(|| last_error(actions.act_on_subscription.value()))
            .flatten()
    };
    view! {
        <header class="page-header">
            <h1>"My listings"</h1>
            <p class="muted">
                "List your http services in the " <A href="/marketplace">"marketplace"</A>
                ": add plans, publish, and see who subscribes."
            </p>
        </header>
        {move || untargeted().map(|m| view! { <div class="banner error" role="alert" data-testid="listings-error">{m}</div> })}
        {move || sub_error().map(|e| view! { <div class="banner error" role="alert">{e.to_string()}</div> })}
        {move || match minted.get() {
            Some(created) => view! { <Invitation created /> }.into_any(),
            None => view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        listings.await.ok().and_then(|v| v.created_plan).map(|created| view! { <Invitation created /> })
                    })}
                </Suspense>
            }
            .into_any(),
        }}
        <article class="card">
            <h2>"New listing"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading your services…"</p> }>
                {move || Suspend::new(async move {
                    match services.await {
                        Ok(page) => {
                            let http = page.items.into_iter().filter(|s| s.kind == ServiceKind::Http).collect::<Vec<_>>();
                            view! { <NewListingForm actions services=http error=Signal::derive(move || last_error(actions.create_listing.value())) /> }.into_any()
                        }
                        Err(error) => failure(error, || ().into_any()),
                    }
                })}
            </Suspense>
        </article>
        <Suspense fallback=|| view! { <p class="muted">"Loading your listings…"</p> }>
            {move || Suspend::new(async move {
                match listings.await {
                    Ok(view) => view! { <ListingList listings=view.listings actions /> }.into_any(),
                    Err(error) => failure(error, || ().into_any()),
                }
            })}
        </Suspense>
    }
}

/// The link a consumer opens to subscribe to a private plan.
fn invitation_link(origin: &str, plan: &crate::types::marketplace::PlanView, invitation: &str) -> String {
    format!(
        "{origin}/marketplace/{}?plan={}&invitation={}",
        plan.listing_id,
        crate::pages::common::encode_query(plan.id.as_str()),
        crate::pages::common::encode_query(invitation)
    )
}

/// A private plan's invitation, shown this once.
#[component]
fn Invitation(created: CreatedPlan) -> impl IntoView {
    let invitation = created.invitation.unwrap_or_default();
    let link = invitation_link(&crate::pages::common::page_origin(), &created.plan, &invitation);
    view! {
        <article class="card secret-once" role="status" data-testid="plan-invitation">
            <h2>{format!("Plan “{}” created — copy its invitation link now", created.plan.name)}</h2>
            <p>
                <strong>"This is the only time the invitation is shown."</strong>
                " Send the link to the consumers you invite: it opens the listing with a Subscribe form for this plan. Only its hash is kept."
            </p>
            <label for="invitation-link">"Invitation link"</label>
            <input id="invitation-link" class="secret" type="text" readonly value=link data-testid="invitation-link" />
            <label for="invitation-secret" class="small">"The invitation alone (for the Cloud API)"</label>
            <input id="invitation-secret" class="secret" type="text" readonly value=invitation />
        </article>
    }
}

#[component]
fn ListingList(listings: Vec<ProviderListing>, actions: ProviderActions) -> impl IntoView {
    if listings.is_empty() {
        return view! {
            <article class="card" data-testid="listings-empty">
                <p class="empty-state">"You have no listings yet."</p>
                <p class="muted">"List one of your services above; it starts as a draft that only you see."</p>
            </article>
        }
        .into_any();
    }
    listings
        .into_iter()
        .map(|ProviderListing { listing, subscribers }| view! { <ListingCard listing subscribers actions /> })
        .collect_view()
        .into_any()
}

#[component]
fn ListingCard(
    listing: ListingView,
    subscribers: Vec<SubscriptionView>,
    actions: ProviderActions,
) -> impl IntoView {
    let id = listing.id.clone();
    let mine = {
        let id = id.clone();
        move || actions.target.with(|t| t.as_ref() == Some(&id))
    };
    let plan_error = {
        let mine = mine.clone();
        Signal::derive(move || if mine() { last_error(actions.create_plan.value()) } else { None })
    };
    let move_error =
        move || if mine() { last_error(actions.act.value()).map(|e| e.to_string()) } else { None };
    let sunset = listing.sunset_at.map(|at| format!(" · sunset {}", day(at)));
    view! {
        <article class="card listing-admin" data-testid="my-listing">
            <header class="page-header split">
                <div>
                    <h2>
                        <A href=format!("/marketplace/{}", listing.id)>{listing.title.clone()}</A> " "
                        <span class=listing_badge(listing.status) data-testid="my-listing-status">{listing.status.label()}</span>
                    </h2>
                    <p class="muted small">{format!("{} · {}", listing.category.label(), listing.summary)}{sunset}</p>
                </div>
                <ListingMoves actions listing=id.clone() status=listing.status />
            </header>
            {move || move_error().map(|m| view! { <div class="banner error" role="alert" data-testid="listing-move-error">{m}</div> })}
            <h3>"Plans"</h3>
            {if listing.plans.is_empty() {
                view! { <p class="muted">"No plans yet: add a public one before publishing."</p> }.into_any()
            } else {
                view! {
                    <table class="table" data-testid="plans-table">
                        <thead><tr><th>"Name"</th><th>"Price"</th><th>"Quota"</th><th>"Rate limit"</th><th>"Visibility"</th></tr></thead>
                        <tbody>
                            {listing.plans.iter().map(|p| view! {
                                <tr>
                                    <td>{p.name.clone()}</td>
                                    <td>{plan_price(p)}</td>
                                    <td>{quota_text(p)}</td>
                                    <td>{rate_text(p)}</td>
                                    <td>{p.visibility.label()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }}
            <AddPlanForm actions listing=id error=plan_error />
            <h3>"Subscribers"</h3>
            <Subscribers subscribers actions />
        </article>
    }
}

#[component]
fn Subscribers(subscribers: Vec<SubscriptionView>, actions: ProviderActions) -> impl IntoView {
    if subscribers.is_empty() {
        return view! { <p class="muted">"No subscribers yet."</p> }.into_any();
    }
    view! {
        <table class="table" data-testid="subscribers-table">
            <thead>
                <tr><th>"Subscriber"</th><th>"Plan"</th><th>"Status"</th><th>"Calls this month"</th><th>"Billed this month"</th><th>"Last call"</th><th>"Since"</th><th>"Actions"</th></tr>
            </thead>
            <tbody>
                {subscribers
                    .into_iter()
                    .map(|s| {
                        let last_call = s.usage.last_called_at.map_or_else(|| "Never".to_owned(), when);
                        view! {
                        <tr data-testid="subscriber-row">
                            <td><span data-testid="subscriber-email">{s.consumer_email.clone()}</span></td>
                            <td>{s.plan.name.clone()}</td>
                            <td><span class=subscription_badge(s.status) data-testid="subscriber-status">{s.status.label()}</span></td>
                            <td class="num">{thousands(s.usage.calls)}</td>
                            <td class="num">{super::currency().format_minor(s.usage.spent_minor)}</td>
                            <td data-testid="subscriber-last-call">{last_call}</td>
                            <td>{when(s.created_at)}</td>
                            <td class="actions"><SubscriberMoves actions subscription=s /></td>
                        </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::{
        pages::marketplace::fixtures::{listing, render, subscription},
        types::marketplace::{ListingStatus, SubscriptionStatus},
    };

    #[test]
    fn a_draft_can_be_published_and_gets_a_plan_form() {
        let html = render("/listings", None, || {
            let listings =
                vec![ProviderListing { listing: listing(ListingStatus::Draft), subscribers: vec![] }];
            view! { <ListingList listings actions=ProviderActions::new() /> }
        });
        for expected in [
            "href=\"/marketplace/lst_1\"",
            ">Draft</span>",
            "name=\"action\" value=\"publish\"",
            "name=\"listing_id\" value=\"lst_1\"",
            "name=\"form[price_per_call]\"",
            "name=\"form[quota_kind]\"",
            "name=\"form[visibility]\"",
            "Private (invitation link)",
            "No subscribers yet.",
        ] {
            assert!(html.contains(expected), "missing {expected:?} in {html}");
        }
        assert!(!html.contains("value=\"unpublish\""), "{html}");
        assert!(!html.contains("type=\"date\""), "{html}");
    }

    #[test]
    fn a_published_listing_can_be_deprecated_with_a_date_and_its_subscribers_managed() {
        let html = render("/listings", None, || {
            let listings = vec![ProviderListing {
                listing: listing(ListingStatus::Published),
                subscribers: vec![
                    subscription(SubscriptionStatus::Pending),
                    subscription(SubscriptionStatus::Active),
                ],
            }];
            view! { <ListingList listings actions=ProviderActions::new() /> }
        });
        for expected in [
            "type=\"date\" name=\"sunset\" required",
            "name=\"action\" value=\"unpublish\"",
            "name=\"action\" value=\"approve\"",
            "name=\"action\" value=\"reject\"",
            "<input type=\"checkbox\" required> Reject for good",
            "name=\"action\" value=\"suspend\"",
            "bea@example.com",
            ">Pending approval</span>",
        ] {
            assert!(html.contains(expected), "missing {expected:?} in {html}");
        }
        assert!(!html.contains("value=\"publish\""), "{html}");
    }

    #[test]
    fn the_new_listing_form_offers_the_services_and_categories() {
        let html = render("/listings", None, || {
            let error: Option<PortalError> = None;
            view! { <NewListingForm actions=ProviderActions::new() services=vec![] error /> }
        });
        assert!(html.contains("Register one"), "{html}");
        assert!(!html.contains("new-listing-form"), "{html}");
    }

    #[test]
    fn an_invitation_is_shown_once_with_its_plan() {
        let html = render("/listings", None, || {
            let plan = crate::pages::marketplace::fixtures::plan("pln_x", "Partners", 0, None);
            view! { <Invitation created=CreatedPlan { plan, invitation: Some("w4i_secret".into()) } /> }
        });
        assert!(html.contains("value=\"w4i_secret\""), "{html}");
        assert!(html.contains("/marketplace/lst_1?plan=pln_x&amp;invitation=w4i_secret"), "{html}");
        assert!(html.contains("Plan “Partners” created"), "{html}");
    }
}
