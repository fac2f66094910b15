//! `/marketplace/:id`: a listing's page — what it is and who provides it, its description,
//! its plans side by side with a Subscribe form each, what the mesh measured of it, its
//! endpoints and how to call it, and its reviews ([`super::reviews`]).
//!
//! An invitation link to a private plan is this page with `?plan=…&invitation=…`: it adds the
//! plan's terms and a Subscribe form for it. The page asks for the plan with the invitation
//! (`get_invited_plan`); a wrong invitation is told exactly like a plan that does not exist,
//! so a guessed link learns nothing.
use super::{currency, day, latency_ms, listing_badge, plan_price, quota_text, rate_text, thousands};
use crate::{
    AuthContext,
    api::{ReplyToReview, ReviewListing, Subscribe, get_invited_plan, get_listing, list_reviews},
    components::ErrorBanner,
    error::PortalError,
    pages::common::{self, invoke_origin},
    types::{
        ids::{ListingId, PlanId},
        marketplace::{ListingStatus, ListingView, PlanView, Visibility},
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map, use_query_map},
};

/// What a failed load shows: a missing (or unlisted) listing gets a real 404.
fn failure(error: PortalError) -> AnyView {
    common::failure(error, || {
        common::not_found(
            "No such listing",
            "It may have been taken out of the marketplace.",
            "/marketplace",
            "Back to the marketplace",
        )
    })
}

/// `/marketplace/:id`
#[component]
pub fn ListingPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || ListingId::new(params.read().get("id").unwrap_or_default());
    // Created above the Suspense (which re-renders) so that an error that came back in the
    // URL of a plain form post reaches it.
    let subscribe = ServerAction::<Subscribe>::new();
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(_)) = subscribe.value().get() {
            navigate("/subscriptions", Default::default());
        }
    });
    let review = ServerAction::<ReviewListing>::new();
    let reply = ServerAction::<ReplyToReview>::new();
    // Reloaded after a review or reply went through (the average changes with them); a failed
    // one keeps its form and inline error.
    let reload = RwSignal::new(0u32);
    Effect::new(move || {
        if review.value().with(|v| matches!(v, Some(Ok(_)))) {
            reload.update(|n| *n += 1);
        }
    });
    Effect::new(move || {
        if reply.value().with(|v| matches!(v, Some(Ok(_)))) {
            reload.update(|n| *n += 1);
        }
    });
    let query = use_query_map();
    let invite = move || {
        query.with(|q| match (q.get("plan"), q.get("invitation")) {
            (Some(plan), Some(invitation)) if !plan.is_empty() && !invitation.is_empty() => {
                Some(Invite { plan_id: PlanId::new(plan), invitation })
            }
            _ => None,
        })
    };
    let listing = Resource::new(move || (id(), reload.get()), |(id, _)| get_listing(id));
    let reviews = Resource::new(move || (id(), reload.get()), |(id, _)| list_reviews(id));
    // The invited plan's terms, when the page was opened with an invitation.
    let invited_plan = Resource::new(
        move || (id(), invite()),
        |(id, invite)| async move {
            match invite {
                Some(invite) => Some(get_invited_plan(id, invite.plan_id, invite.invitation).await),
                None => None,
            }
        },
    );
    view! {
        <Title text="Marketplace" />
        <p><A href="/marketplace">"← Marketplace"</A></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading the listing…"</p> }>
            {move || Suspend::new(async move {
                match listing.await {
                    Ok(listing) => {
                        let reviews = reviews.await.unwrap_or_default();
                        let invite = match invite() {
                            Some(invite) => Some((invite, invited_plan.await)),
                            None => None,
                        };
                        let provider = listing.provider_id.clone();
                        let rating_tenths = listing.stats.rating_tenths;
                        view! {
                            <Listing listing subscribe invite />
                            <super::reviews::Reviews listing_id=id() provider=provider rating_tenths reviews review reply />
                        }
                        .into_any()
                    }
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

/// A private plan's invitation, as its link carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Invite {
    pub plan_id: PlanId,
    pub invitation: String,
}

/// The invitation the page was opened with, and the plan it names (or why there is none).
pub(super) type Invited = (Invite, Option<Result<PlanView, PortalError>>);

#[component]
fn Listing(
    listing: ListingView,
    subscribe: ServerAction<Subscribe>,
    /// The invitation the page was opened with, if any.
    #[prop(default = None)]
    invite: Option<Invited>,
) -> impl IntoView {
    let status_note = match listing.status {
        ListingStatus::Published => None,
        ListingStatus::Deprecated => Some(format!(
            "Deprecated: it stops serving on {}. No new subscriptions.",
            listing.sunset_at.map(day).unwrap_or_else(|| "its sunset date".into())
        )),
        status => Some(format!("{}: only you see this listing.", status.label())),
    };
    let tags = listing.tags.clone();
    view! {
        <Title text=listing.title.clone() />
        <header class="page-header">
            <h1>{listing.title.clone()}</h1>
            <p class="muted">
                {format!("by {} · {} · ", listing.publisher, listing.category.label())}
                <span class=listing_badge(listing.status) data-testid="listing-status">{listing.status.label()}</span>
            </p>
            <p>{listing.summary.clone()}</p>
            <p class="badges">{tags.into_iter().map(|t| view! { <span class="tag">{t}</span> }).collect_view()}</p>
        </header>
        {status_note.map(|note| view! { <div class="banner note" role="status" data-testid="status-note">{note}</div> })}
        <div class="grid listing-body">
            // Rendered and sanitised by the server (ammonia): safe as it is.
            <article class="card description" data-testid="listing-description" inner_html=listing.description_html.clone() />
            <Stats listing=listing.clone() />
        </div>
        <Plans listing=listing.clone() subscribe invite />
        <HowToCall listing />
    }
}

/// What the mesh measured.
#[component]
fn Stats(listing: ListingView) -> impl IntoView {
    let stats = listing.stats;
    view! {
        <article class="card" data-testid="listing-stats">
            <h2>"At a glance"</h2>
            <dl class="facts">
                <dt>"Available now"</dt>
                <dd>
                    {if stats.available {
                        view! { <span class="badge status-active">"Yes"</span> }.into_any()
                    } else {
                        view! { <span class="badge unavailable">"No"</span> }.into_any()
                    }}
                </dd>
                <dt>"Uptime, last 30 days"</dt>
                <dd data-testid="listing-uptime">{super::uptime_text(stats.uptime_permille)}</dd>
                <dt>"Subscribers"</dt><dd>{thousands(stats.subscribers)}</dd>
                <dt>"Calls, last 30 days"</dt><dd>{thousands(stats.calls_30d)}</dd>
                <dt>"Latency p50"</dt><dd>{latency_ms(stats.p50_us)}</dd>
                <dt>"Latency p95"</dt><dd>{latency_ms(stats.p95_us)}</dd>
                <dt>"Approval"</dt><dd>{listing.approval.label()}</dd>
            </dl>
        </article>
    }
}

/// The plans side by side, each with its Subscribe form (or why there is none).
#[component]
fn Plans(listing: ListingView, subscribe: ServerAction<Subscribe>, invite: Option<Invited>) -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let viewer = auth.account.get_untracked().map(|a| a.id);
    let own = viewer.as_ref() == Some(&listing.provider_id);
    let open = listing.status == ListingStatus::Published;
    let error = Signal::derive(move || {
        subscribe.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned()))
    });
    let (errors, banner) = common::form_errors(error, &["spending_cap"]);
    let cap_error = common::field_error(errors, "spending_cap");
    let invited = invite.map(|(invite, plan)| match plan {
        _ if own => view! { <p class="muted small">"This is your own invitation link."</p> }.into_any(),
        _ if !open => {
            view! { <p class="muted small">"This listing takes no new subscriptions."</p> }.into_any()
        }
        Some(Ok(plan)) => {
            let action = if viewer.is_none() {
                view! { <A href="/login" attr:class="button">"Log in to accept the invitation"</A> }
                    .into_any()
            } else {
                view! { <InvitedForm invite subscribe cap_error /> }.into_any()
            };
            view! { <PlanCard plan>{action}</PlanCard> }.into_any()
        }
        Some(Err(PortalError::NotFound(_))) | None => view! {
            <p class="banner error" role="alert" data-testid="invitation-invalid">
                "This invitation link is not valid: ask the provider for a new one."
            </p>
        }
        .into_any(),
        Some(Err(error)) => view! { <p class="banner error" role="alert">{error.to_string()}</p> }.into_any(),
    });
    let plans = listing.plans;
    view! {
        <section class="card" data-testid="plans">
            <h2>"Plans"</h2>
            <ErrorBanner message=banner />
            {invited.map(|form| view! {
                <div class="invitation" data-testid="invitation">
                    <h3>"Your invitation to a private plan"</h3>
                    <p class="muted small">"The provider invited you to a plan that is not listed publicly."</p>
                    <div class="plans">{form}</div>
                </div>
            })}
            {plans.is_empty().then(|| view! { <p class="muted">"No plans yet."</p> })}
            <div class="plans">
                {plans
                    .into_iter()
                    .map(|plan| {
                        let action = if own {
                            view! { <p class="muted small">"Your own listing."</p> }.into_any()
                        } else if !open {
                            view! { <p class="muted small">"Not taking new subscriptions."</p> }.into_any()
                        } else if viewer.is_none() {
                            view! { <A href="/login" attr:class="button">"Log in to subscribe"</A> }.into_any()
                        } else {
                            view! { <SubscribeForm plan=plan.clone() subscribe cap_error /> }.into_any()
                        };
                        view! { <PlanCard plan>{action}</PlanCard> }
                    })
                    .collect_view()}
            </div>
        </section>
    }
}

/// One plan: its name, price, quota and who may take it.
#[component]
fn PlanCard(plan: PlanView, children: Children) -> impl IntoView {
    view! {
        <article class="plan" data-testid="plan">
            <h3>{plan.name.clone()}</h3>
            <p class="price">{plan_price(&plan)}</p>
            <p class="muted small">{quota_text(&plan)}</p>
            <p class="muted small" data-testid="plan-rate">{rate_text(&plan)}</p>
            {(plan.visibility == Visibility::Private)
                .then(|| view! { <p class="muted small">"Private: by invitation."</p> })}
            {children()}
        </article>
    }
}

/// Subscribe to `plan`, with an optional monthly spending cap in currency units.
#[component]
fn SubscribeForm(
    plan: PlanView,
    subscribe: ServerAction<Subscribe>,
    cap_error: Signal<Option<String>>,
) -> impl IntoView {
    let pending = subscribe.pending();
    let input_id = format!("cap-{}", plan.id);
    let hint = if plan.is_free() {
        "Optional. This plan is free."
    } else {
        "Optional: the most this may cost a month; calls past it are refused."
    };
    view! {
        <ActionForm action=subscribe attr:class="subscribe-form">
            <input type="hidden" name="plan_id" value=plan.id.clone() />
            <CapInput input_id cap_error hint />
            <button type="submit" class="button primary" disabled=pending data-testid="subscribe">
                {move || if pending.get() { "Subscribing…" } else { "Subscribe" }}
            </button>
        </ActionForm>
    }
}

/// Subscribe to the private plan of an invitation link (the invitation travels in the form).
#[component]
fn InvitedForm(
    invite: Invite,
    subscribe: ServerAction<Subscribe>,
    cap_error: Signal<Option<String>>,
) -> impl IntoView {
    let pending = subscribe.pending();
    let input_id = "cap-invited".to_owned();
    view! {
        <ActionForm action=subscribe attr:class="subscribe-form">
            <input type="hidden" name="plan_id" value=invite.plan_id.to_string() />
            <input type="hidden" name="invitation" value=invite.invitation />
            <CapInput input_id cap_error hint="Optional: the most this may cost a month." />
            <button type="submit" class="button primary" disabled=pending data-testid="accept-invitation">
                {move || if pending.get() { "Subscribing…" } else { "Subscribe to the private plan" }}
            </button>
        </ActionForm>
    }
}

/// The spending cap a subscriber may set as they subscribe, with its hint or its error.
#[component]
fn CapInput(input_id: String, cap_error: Signal<Option<String>>, hint: &'static str) -> impl IntoView {
    let help_id = format!("{input_id}-help");
    view! {
        <label for=input_id.clone()>{format!("Spending cap per month ({})", currency().code)}</label>
        <input
            id=input_id
            name="spending_cap"
            type="text"
            inputmode="decimal"
            placeholder="no cap"
            aria-invalid=move || cap_error.get().is_some().to_string()
            aria-describedby=help_id.clone()
        />
        <p id=help_id class="help" class:field-error=move || cap_error.get().is_some()>
            {move || cap_error.get().unwrap_or_else(|| hint.into())}
        </p>
    }
}

/// The endpoints and a curl to call them with.
#[component]
fn HowToCall(listing: ListingView) -> impl IntoView {
    let curl = format!(
        "curl -H \"Authorization: Bearer $WEB4_KEY\" {}/api/v1/invoke/{}/…",
        invoke_origin(),
        listing.invoke_path
    );
    let endpoints = listing.endpoints;
    view! {
        <article class="card" data-testid="how-to-call">
            <h2>"How to call it"</h2>
            {(!endpoints.is_empty()).then(|| view! {
                <table class="table" data-testid="endpoints">
                    <thead><tr><th>"Method"</th><th>"Path"</th><th>"What it does"</th></tr></thead>
                    <tbody>
                        {endpoints
                            .into_iter()
                            .map(|e| view! {
                                <tr>
                                    <td><span class=format!("method method-{}", e.method.to_lowercase())>{e.method.clone()}</span></td>
                                    <td><code>{e.path}</code></td>
                                    <td>{e.summary}</td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            })}
            <p class="muted">"Subscribe, then call it with one of your API keys (invoke scope):"</p>
            <pre class="copyable" data-testid="curl">{curl}</pre>
        </article>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::pages::marketplace::fixtures::{account, listing, render};

    #[test]
    fn a_listing_shows_its_description_plans_stats_and_curl() {
        let html = render("/marketplace/lst_1", Some(account("acc_consumer")), || {
            view! { <Listing listing=listing(ListingStatus::Published) subscribe=ServerAction::new() /> }
        });
        for expected in [
            "<h1>Rain radar</h1>",
            "by acme · Weather",
            "<h1>Radar</h1><p>Precipitation <em>nowcasts</em>.</p>",
            "Hobby",
            "Free",
            "1,000 calls a month · Hard (calls refused)",
            "100 free calls a month, then $0.002 per call",
            "No monthly quota",
            "12,345",
            "12.3 ms",
            "48.0 ms",
            "/radar/{city}",
            "curl -H \"Authorization: Bearer $WEB4_KEY\"",
            "/api/v1/invoke/acme-radar/…",
            "name=\"plan_id\" value=\"pln_free\"",
            "name=\"plan_id\" value=\"pln_pro\"",
            "name=\"spending_cap\"",
        ] {
            assert!(html.contains(expected), "missing {expected:?} in {html}");
        }
        assert_eq!(html.matches("data-testid=\"subscribe\"").count(), 2, "{html}");
        assert!(!html.contains("Log in to subscribe"));
    }

    #[test]
    fn a_visitor_is_asked_to_log_in_and_a_deprecated_listing_shows_its_sunset() {
        let html = render("/marketplace/lst_1", None, || {
            view! { <Listing listing=listing(ListingStatus::Published) subscribe=ServerAction::new() /> }
        });
        assert_eq!(html.matches("Log in to subscribe").count(), 2, "{html}");
        assert!(html.contains("href=\"/login\""));
        assert!(!html.contains("name=\"plan_id\""));

        let html = render("/marketplace/lst_1", Some(account("acc_consumer")), || {
            view! { <Listing listing=listing(ListingStatus::Deprecated) subscribe=ServerAction::new() /> }
        });
        assert!(html.contains("Deprecated: it stops serving on 2026-09-21."), "{html}");
        assert!(!html.contains("data-testid=\"subscribe\""), "{html}");
    }

    #[test]
    fn the_provider_sees_no_subscribe_form_on_their_own_listing() {
        let html = render("/marketplace/lst_1", Some(account("acc_provider")), || {
            view! { <Listing listing=listing(ListingStatus::Published) subscribe=ServerAction::new() /> }
        });
        assert!(html.contains("Your own listing."), "{html}");
        assert!(!html.contains("data-testid=\"subscribe\""), "{html}");
    }
}
