//! What the marketplace grants the invoke path: rebuilt after every change to a subscription
//! or a listing's state (see `services::entitlements`).
use super::{Marketplace, MarketplaceError, views::is_listed};
use crate::{
    billing,
    db::{self, entities},
    services::entitlements::{Grant, Listed, Picture, month_of, next_month_start},
};
use app::types::{
    ids::{ListingId, PlanId},
    marketplace::ListingStatus,
};
use chrono::Utc;
use std::{collections::HashMap, sync::Arc};

type Result<T, E = MarketplaceError> = std::result::Result<T, E>;

impl Marketplace {
    /// Rebuilds what the invoke path grants: every subscription not cancelled, every listed
    /// service, and the month's calls so far.
    pub async fn refresh(&self) -> Result<()> {
        let _one = self.refreshing.lock().await;
        let now = Utc::now();
        let subscriptions = db::marketplace::live_subscriptions(&self.db).await?;
        let listed = db::marketplace::search(&self.db, None, None, None).await?;
        let mut listing_ids: Vec<ListingId> = subscriptions.iter().map(|s| s.listing_id.clone()).collect();
        listing_ids.extend(listed.iter().map(|f| f.id.clone()));
        listing_ids.sort();
        listing_ids.dedup();
        let listings = db::marketplace::listings_by_id(&self.db, &listing_ids).await?;
        // Every plan of the subscribed listings: a subscriber may have been on another this month.
        let subscribed: Vec<ListingId> = subscriptions.iter().map(|s| s.listing_id.clone()).collect();
        let plans: HashMap<PlanId, entities::plans::Model> =
            db::marketplace::plans_of_all(&self.db, &subscribed)
                .await?
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect();
        let mut picture = Picture {
            exponent: billing::currency().exponent,
            prices: plans.iter().map(|(id, p)| (id.clone(), p.pricing.clone())).collect(),
            ..Picture::default()
        };
        for listing in listings.values().filter(|l| is_listed(l.status)) {
            picture.listed.insert(
                listing.service_id.clone(),
                Listed { listing: listing.id.clone(), title: listing.title.clone() },
            );
        }
        for s in subscriptions {
            let (Some(listing), Some(plan)) = (listings.get(&s.listing_id), plans.get(&s.plan_id)) else {
                continue;
            };
            let grant = Grant {
                subscription: s.id,
                listing: listing.id.clone(),
                listing_title: listing.title.clone(),
                plan: plan.id.clone(),
                status: s.status,
                quota: plan.quota_per_month.map(|q| (q, plan.quota_kind)),
                cap_minor: s.spending_cap_minor,
                rate_per_minute: plan.rate_per_minute.and_then(|r| u32::try_from(r).ok()),
                sunset_at: listing.sunset_at.filter(|_| listing.status == ListingStatus::Deprecated),
            };
            picture
                .grants
                .entry(listing.service_id.clone())
                .or_default()
                .insert(s.account_id, Arc::new(grant));
        }
        let calls = db::marketplace::plan_calls_since(
            &self.db,
            next_month_start(month_of(now)) - chrono::Months::new(1),
        )
        .await?;
        self.runtime.entitlements().replace(picture, &calls, now);
        Ok(())
    }
}
