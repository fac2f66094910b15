//! Who calls what: a subscription's calls per day, to its two parties, and the consumer's
//! subscriptions page (plans it may change to, calls per day) in a few queries.
use super::{Marketplace, MarketplaceError, views, views::is_listed};
use crate::db;
use app::types::{
    ids::{AccountId, ListingId, SubscriptionId},
    marketplace::{ConsumerSubscription, PlanView, SubscriptionActivity, SubscriptionDay, Visibility},
};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

type Result<T, E = MarketplaceError> = std::result::Result<T, E>;

/// How many days `subscription_activity` reports, today included.
const ACTIVITY_DAYS: i64 = 30;

impl Marketplace {
    /// The subscription's calls per day over the last 30 days, to its consumer or to the
    /// listing's provider.
    pub async fn subscription_activity(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> Result<SubscriptionActivity> {
        let (row, ..) = self.visible_subscription(account, id).await?;
        self.activity(&row.id, &row.account_id, &row.listing_id, row.created_at).await
    }

    /// The consumer's subscriptions, each with the public plans it may change to (none once
    /// its listing left the marketplace) and its calls per day: the portal's page in a few
    /// queries.
    pub async fn consumer_subscriptions(&self, account: &AccountId) -> Result<Vec<ConsumerSubscription>> {
        let subscriptions = self.list_subscriptions(account).await?;
        let listing_ids: Vec<ListingId> =
            subscriptions.iter().map(|s| s.listing_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let listings = db::marketplace::listings_by_id(&self.db, &listing_ids).await?;
        let mut plans: BTreeMap<ListingId, Vec<PlanView>> = BTreeMap::new();
        for plan in db::marketplace::plans_of_all(&self.db, &listing_ids).await? {
            let listed = listings.get(&plan.listing_id).is_some_and(|l| is_listed(l.status));
            if listed && plan.visibility == Visibility::Public {
                plans.entry(plan.listing_id.clone()).or_default().push(views::plan_view(&plan));
            }
        }
        let mut out = Vec::with_capacity(subscriptions.len());
        for subscription in subscriptions {
            let activity = self
                .activity(
                    &subscription.id,
                    &subscription.consumer_id,
                    &subscription.listing_id,
                    subscription.created_at,
                )
                .await?;
            let plans = plans.get(&subscription.listing_id).cloned().unwrap_or_default();
            out.push(ConsumerSubscription { subscription, plans, activity });
        }
        Ok(out)
    }

    /// A subscription's calls per day over the last `ACTIVITY_DAYS` days (since it began).
    pub(super) async fn activity(
        &self,
        id: &SubscriptionId,
        consumer: &AccountId,
        listing: &ListingId,
        began: DateTime<Utc>,
    ) -> Result<SubscriptionActivity> {
        let to = Utc::now().date_naive();
        let from = to - Duration::days(ACTIVITY_DAYS - 1);
        let since = from.and_time(NaiveTime::MIN).and_utc().max(began);
        let rows = db::marketplace::plan_days(&self.db, consumer, listing, since).await?;
        let days = rows
            .into_iter()
            .map(|d| {
                let day = NaiveDate::parse_from_str(&d.day, "%Y-%m-%d")
                    .map_err(|e| anyhow::anyhow!("usage day {:?} is unreadable: {e}", d.day))?;
                Ok(SubscriptionDay { day, calls: d.calls, errors: d.errors })
            })
            .collect::<Result<Vec<_>>>()?;
        let total_calls = days.iter().map(|d| d.calls).sum();
        Ok(SubscriptionActivity { subscription_id: id.clone(), from, to, days, total_calls })
    }
}
