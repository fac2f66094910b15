//! The answers: listings, plans and subscriptions as the API and the portal show them.
use super::{markdown, validation};
use crate::db::entities::{listings, plans, reviews, subscriptions};
use app::types::marketplace::{
    ListingStats, ListingStatus, ListingSummary, ListingView, PlanView, ReviewView, SubscriptionUsage,
    SubscriptionView, Visibility,
};

pub fn plan_view(p: &plans::Model) -> PlanView {
    PlanView {
        id: p.id.clone(),
        listing_id: p.listing_id.clone(),
        name: p.name.clone(),
        pricing: p.pricing.clone(),
        quota_per_month: p.quota_per_month,
        quota_kind: p.quota_kind,
        visibility: p.visibility,
        rate_per_minute: p.rate_per_minute.and_then(|r| u32::try_from(r).ok()),
    }
}

/// Whether the listing is in the marketplace (visitors see it).
pub fn is_listed(status: ListingStatus) -> bool {
    matches!(status, ListingStatus::Published | ListingStatus::Deprecated)
}

/// A listing's page. Visitors see its public plans; its provider sees every plan.
pub fn listing_view(
    l: listings::Model,
    plans: &[plans::Model],
    stats: ListingStats,
    invoke_path: String,
    for_provider: bool,
) -> ListingView {
    let endpoints = l
        .openapi
        .as_deref()
        .map(|doc| validation::endpoints(doc, &mut Default::default()))
        .unwrap_or_default();
    ListingView {
        description_html: markdown::render(&l.description),
        plans: plans
            .iter()
            .filter(|p| for_provider || p.visibility == Visibility::Public)
            .map(plan_view)
            .collect(),
        endpoints,
        stats,
        invoke_path,
        id: l.id,
        service_id: l.service_id,
        provider_id: l.account_id,
        publisher: l.publisher,
        title: l.title,
        summary: l.summary,
        description: l.description,
        category: l.category,
        tags: l.tags.0,
        status: l.status,
        approval: l.approval,
        sunset_at: l.sunset_at,
        published_at: l.published_at,
        created_at: l.created_at,
        updated_at: l.updated_at,
    }
}

/// Whether a public plan is free, and the lowest first paid per-call price of the public
/// plans (`None` when every one is free).
pub fn plan_figures(plans: &[plans::Model]) -> (bool, Option<i64>) {
    let public = plans.iter().filter(|p| p.visibility == Visibility::Public);
    let has_free_plan = public.clone().any(|p| plan_view(p).is_free());
    let lowest =
        public.filter_map(|p| p.pricing.tiers.iter().map(|t| t.price_per_call_micros).find(|m| *m > 0)).min();
    (has_free_plan, lowest)
}

/// A listing in search results.
pub fn summary(l: &listings::Model) -> ListingSummary {
    ListingSummary {
        id: l.id.clone(),
        title: l.title.clone(),
        summary: l.summary.clone(),
        publisher: l.publisher.clone(),
        category: l.category,
        tags: l.tags.0.clone(),
        status: l.status,
        has_free_plan: l.has_free_plan,
        lowest_price_micros: l.lowest_price_micros,
        subscribers: l.subscribers,
        reviews: l.reviews,
        rating_tenths: l.rating_tenths,
        published_at: l.published_at,
    }
}

/// A subscription with its listing, plan and this month's use.
pub fn subscription_view(
    s: subscriptions::Model,
    listing: &listings::Model,
    plan: &plans::Model,
    usage: SubscriptionUsage,
    invoke_path: String,
    consumer_email: String,
) -> SubscriptionView {
    SubscriptionView {
        id: s.id,
        listing_id: s.listing_id,
        listing_title: listing.title.clone(),
        listing_status: listing.status,
        sunset_at: listing.sunset_at,
        service_id: listing.service_id.clone(),
        consumer_id: s.account_id,
        consumer_email,
        plan: plan_view(plan),
        status: s.status,
        spending_cap_minor: s.spending_cap_minor,
        usage,
        invoke_path,
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

pub fn review_view(r: reviews::Model) -> ReviewView {
    ReviewView {
        id: r.id,
        listing_id: r.listing_id,
        author_id: r.account_id,
        rating: i64::from(r.rating),
        body: r.body,
        reply: r.reply,
        replied_at: r.replied_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}
