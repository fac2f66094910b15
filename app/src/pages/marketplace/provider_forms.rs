//! The provider's forms on `/listings`: a new listing, a plan for a listing, the listing's
//! moves (publish, deprecate, unpublish) and what to do with a subscriber. Each is an
//! `ActionForm` that also works as a plain form post.
use crate::{
    api::{ActOnListing, ActOnSubscription, CreateListing, CreatePlan},
    components::ErrorBanner,
    error::PortalError,
    pages::common,
    types::{
        ids::ListingId,
        marketplace::{Category, ListingStatus, QuotaKind, SubscriptionStatus, SubscriptionView, Visibility},
        services::ServiceView,
    },
};
use leptos::prelude::*;
use leptos_router::components::A;

/// The page's actions, created once above its Suspense boundaries (which re-render) so that an
/// error that came back in the URL of a plain form post reaches them.
#[derive(Clone, Copy)]
pub(super) struct ProviderActions {
    pub create_listing: ServerAction<CreateListing>,
    pub create_plan: ServerAction<CreatePlan>,
    pub act: ServerAction<ActOnListing>,
    pub act_on_subscription: ServerAction<ActOnSubscription>,
    /// The listing whose plan or move was last submitted from the hydrated app: its error is
    /// shown there. After a plain form post it is unknown, and the error is shown at the top.
    pub target: RwSignal<Option<ListingId>>,
}

impl ProviderActions {
    pub(super) fn new() -> Self {
        Self {
            create_listing: ServerAction::new(),
            create_plan: ServerAction::new(),
            act: ServerAction::new(),
            act_on_subscription: ServerAction::new(),
            target: RwSignal::new(None),
        }
    }
}

/// The new-listing form's fields, as the server reports errors for them.
const LISTING_FIELDS: [&str; 6] = ["service_id", "title", "summary", "description", "category", "tags"];
/// The plan form's fields.
pub(super) const PLAN_FIELDS: [&str; 7] = [
    "name",
    "free_calls_per_month",
    "price_per_call",
    "quota_per_month",
    "rate_per_minute",
    "quota_kind",
    "visibility",
];

/// One text input with its label and its inline error (or hint).
#[component]
fn TextField(
    /// The element id (unique on the page).
    id: String,
    /// The posted name, e.g. `form[title]`.
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    error: Signal<Option<String>>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let help = format!("{id}-help");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type="text"
                placeholder=placeholder
                required=required
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=help.clone()
            />
            <p id=help class="help" class:field-error=move || error.get().is_some()>
                {move || error.get().unwrap_or_else(|| hint.into())}
            </p>
        </div>
    }
}

/// "List one of your services": a draft listing.
#[component]
pub(super) fn NewListingForm(
    actions: ProviderActions,
    services: Vec<ServiceView>,
    #[prop(into)] error: Signal<Option<PortalError>>,
) -> impl IntoView {
    let create = actions.create_listing;
    let (errors, banner) = common::form_errors(error, &LISTING_FIELDS);
    let field = move |name: &'static str| common::field_error(errors, name);
    let (service_error, category_error, description_error) =
        (field("service_id"), field("category"), field("description"));
    let pending = create.pending();
    if services.is_empty() {
        return view! {
            <p class="muted" data-testid="no-services">
                "Only http services can be listed, and you have none yet. "
                <A href="/services/new">"Register one"</A> " first."
            </p>
        }
        .into_any();
    }
    view! {
        <ActionForm action=create attr:class="service-form" attr:data-testid="new-listing-form">
            <ErrorBanner message=banner />
            <div class="form-grid">
                <div class="field">
                    <label for="listing-service">"Service"</label>
                    <select
                        id="listing-service"
                        name="form[service_id]"
                        required
                        aria-invalid=move || service_error.get().is_some().to_string()
                    >
                        {services
                            .into_iter()
                            .map(|s| view! { <option value=s.id.clone()>{format!("{} ({})", s.name, s.slug)}</option> })
                            .collect_view()}
                    </select>
                    <p class="help" class:field-error=move || service_error.get().is_some()>
                        {move || service_error.get().unwrap_or_else(|| "One of your http services; one listing each.".into())}
                    </p>
                </div>
                <div class="field">
                    <label for="listing-category">"Category"</label>
                    <select
                        id="listing-category"
                        name="form[category]"
                        required
                        aria-invalid=move || category_error.get().is_some().to_string()
                    >
                        {Category::all()
                            .iter()
                            .map(|c| view! { <option value=c.as_str()>{c.label()}</option> })
                            .collect_view()}
                    </select>
                    <p class="help field-error">{move || category_error.get()}</p>
                </div>
                <TextField id="listing-title".into() name="form[title]" label="Title" required=true
                    hint="3 to 80 characters." error=field("title") placeholder="e.g. Rain radar" />
                <TextField id="listing-tags".into() name="form[tags]" label="Tags"
                    hint="Comma-separated, up to 10: weather, maps" error=field("tags") />
            </div>
            <TextField id="listing-summary".into() name="form[summary]" label="Summary" required=true
                hint="One line, up to 160 characters: what it does." error=field("summary") />
            <div class="field">
                <label for="listing-description">"Description (Markdown)"</label>
                <textarea
                    id="listing-description"
                    name="form[description]"
                    rows="6"
                    aria-invalid=move || description_error.get().is_some().to_string()
                ></textarea>
                <p class="help" class:field-error=move || description_error.get().is_some()>
                    {move || description_error.get().unwrap_or_else(|| "What it does, how to use it, what it answers.".into())}
                </p>
            </div>
            <button type="submit" class="button primary" disabled=pending data-testid="create-listing">
                "Create listing"
            </button>
        </ActionForm>
    }
    .into_any()
}

/// "Add plan" to `listing`.
#[component]
pub(super) fn AddPlanForm(
    actions: ProviderActions,
    listing: ListingId,
    #[prop(into)] error: Signal<Option<PortalError>>,
) -> impl IntoView {
    let create = actions.create_plan;
    let target = actions.target;
    let (errors, banner) = common::form_errors(error, &PLAN_FIELDS);
    let field = move |name: &'static str| common::field_error(errors, name);
    let id = {
        let listing = listing.clone();
        move |name: &str| format!("plan-{name}-{listing}")
    };
    let open = move || error.with(Option::is_some);
    let pending = create.pending();
    let on_submit = {
        let listing = listing.clone();
        move |_| target.set(Some(listing.clone()))
    };
    view! {
        <details class="edit add-plan" open=open>
            <summary>"Add plan"</summary>
            <ActionForm action=create attr:class="service-form" attr:data-testid="add-plan-form">
                <ErrorBanner message=banner />
                <input type="hidden" name="listing_id" value=listing.clone() />
                <div class="form-grid">
                    <TextField id=id("name") name="form[name]" label="Name" required=true
                        hint="Unique within the listing, e.g. Free or Pro." error=field("name") />
                    <TextField id=id("free") name="form[free_calls_per_month]" label="Free calls per month"
                        hint="Empty: none." error=field("free_calls_per_month") placeholder="0" />
                    <TextField id=id("price") name="form[price_per_call]" label="Price per call (USD)"
                        hint="e.g. 0.002. Empty or 0: free." error=field("price_per_call") placeholder="0" />
                    <TextField id=id("quota") name="form[quota_per_month]" label="Quota per month"
                        hint="Calls a month; empty: no quota." error=field("quota_per_month") />
                    <TextField id=id("rate") name="form[rate_per_minute]" label="Rate limit per minute"
                        hint="Calls a minute per subscriber; empty: no limit." error=field("rate_per_minute") />
                    <div class="field">
                        <label for=id("kind")>"Past the quota"</label>
                        <select id=id("kind") name="form[quota_kind]">
                            {QuotaKind::all().iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
                        </select>
                        <p class="help field-error">{field("quota_kind")}</p>
                    </div>
                    <div class="field">
                        <label for=id("visibility")>"Visibility"</label>
                        <select id=id("visibility") name="form[visibility]">
                            {Visibility::all().iter().map(|v| view! { <option value=v.as_str()>{v.label()}</option> }).collect_view()}
                        </select>
                        <p class="help field-error">{field("visibility")}</p>
                    </div>
                </div>
                <button type="submit" class="button" disabled=pending on:click=on_submit data-testid="add-plan">
                    "Add plan"
                </button>
            </ActionForm>
        </details>
    }
}

/// Publish, deprecate (with a sunset date) or unpublish, as the status allows.
#[component]
pub(super) fn ListingMoves(
    actions: ProviderActions,
    listing: ListingId,
    status: ListingStatus,
) -> impl IntoView {
    let act = actions.act;
    let target = actions.target;
    let pending = act.pending();
    let mark = {
        let listing = listing.clone();
        move |_| target.set(Some(listing.clone()))
    };
    let simple = {
        let (listing, mark) = (listing.clone(), mark.clone());
        move |action: &'static str, label: &'static str, class: &'static str| {
            let mark = mark.clone();
            view! {
                <ActionForm action=act attr:class="inline">
                    <input type="hidden" name="id" value=listing.clone() />
                    <input type="hidden" name="action" value=action />
                    <button type="submit" class=class disabled=pending on:click=mark data-testid=action>{label}</button>
                </ActionForm>
            }
        }
    };
    let can_publish = matches!(status, ListingStatus::Draft | ListingStatus::Unpublished);
    let published = status == ListingStatus::Published;
    let listed = matches!(status, ListingStatus::Published | ListingStatus::Deprecated);
    let sunset_id = format!("sunset-{listing}");
    view! {
        <div class="actions listing-moves">
            {can_publish.then({
                let simple = simple.clone();
                move || simple("publish", "Publish", "button primary small")
            })}
            {published.then(|| {
                let mark = mark.clone();
                view! {
                    <ActionForm action=act attr:class="inline deprecate-form">
                        <input type="hidden" name="id" value=listing.clone() />
                        <input type="hidden" name="action" value="deprecate" />
                        <label for=sunset_id.clone() class="small">"Sunset on"</label>
                        <input id=sunset_id.clone() type="date" name="sunset" required />
                        <button type="submit" class="button small" disabled=pending on:click=mark data-testid="deprecate">
                            "Deprecate"
                        </button>
                    </ActionForm>
                }
            })}
            {listed.then(|| simple("unpublish", "Unpublish", "button small danger"))}
        </div>
    }
}

/// The provider's buttons for one subscriber, as its status allows.
#[component]
pub(super) fn SubscriberMoves(actions: ProviderActions, subscription: SubscriptionView) -> impl IntoView {
    let act = actions.act_on_subscription;
    let pending = act.pending();
    // The action's wire names (`SubscriberAction` in snake case) and their labels.
    let moves: &[(&str, &str)] = match subscription.status {
        SubscriptionStatus::Pending => &[("approve", "Approve"), ("reject", "Reject")],
        SubscriptionStatus::Active => &[("suspend", "Suspend")],
        SubscriptionStatus::Suspended => &[("resume", "Reinstate")],
        SubscriptionStatus::Cancelled => &[],
    };
    let id = subscription.id;
    moves
        .iter()
        .map(|(name, label)| {
            let id = id.clone();
            view! {
                <ActionForm action=act attr:class="inline">
                    <input type="hidden" name="id" value=id.clone() />
                    <input type="hidden" name="action" value=*name />
                    // Rejecting is final (the consumer must subscribe again): it takes a tick.
                    {(*name == "reject").then(|| view! {
                        <label class="check small"><input type="checkbox" required />" Reject for good"</label>
                    })}
                    <button type="submit" class=if *name == "reject" { "button small danger" } else { "button small" } disabled=pending>{*label}</button>
                </ActionForm>
            }
        })
        .collect_view()
}
