//! What the marketplace tells the event log: a listing's new state to its provider (and a
//! deprecation to every live subscriber), a subscription's change to both its parties.
use super::{Marketplace, MarketplaceError};
use crate::{
    db::{self, entities},
    events::platform,
};
use app::types::{
    ids::AccountId,
    marketplace::{ListingAction, SubscriptionStatus},
};

type Result<T, E = MarketplaceError> = std::result::Result<T, E>;

impl Marketplace {
    /// Tells the provider about its listing's new state and, on a deprecation, every live
    /// subscriber when calls stop.
    pub(super) async fn tell_listing(
        &self,
        row: &entities::listings::Model,
        action: ListingAction,
    ) -> Result<()> {
        let topic = match action {
            ListingAction::Publish => platform::LISTING_PUBLISHED,
            ListingAction::Deprecate => platform::LISTING_DEPRECATED,
            ListingAction::Unpublish => platform::LISTING_UNPUBLISHED,
        };
        let data = serde_json::json!({
            "listing_id": row.id,
            "title": row.title,
            "status": row.status,
            "sunset_at": row.sunset_at,
        });
        self.events.emit(&row.account_id, topic, data.clone()).await;
        if action == ListingAction::Deprecate {
            let subscribers: Vec<AccountId> = db::marketplace::subscriptions_to(&self.db, &row.id)
                .await?
                .into_iter()
                .filter(|s| s.status != SubscriptionStatus::Cancelled)
                .map(|s| s.account_id)
                .collect();
            self.events.emit_to(&subscribers, platform::DEPRECATION_NOTICE, data).await;
        }
        Ok(())
    }

    /// Tells a subscription's consumer and the listing's provider what changed.
    pub(super) async fn tell_subscription(
        &self,
        row: &entities::subscriptions::Model,
        listing: &entities::listings::Model,
        change: &str,
    ) {
        let data = serde_json::json!({
            "subscription_id": row.id,
            "listing_id": listing.id,
            "listing_title": listing.title,
            "plan_id": row.plan_id,
            "status": row.status,
            "change": change,
        });
        self.events
            .emit_to([&row.account_id, &listing.account_id], platform::SUBSCRIPTION_CHANGED, data)
            .await;
    }
}
