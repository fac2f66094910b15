//! Queries of the marketplace: listings, plans, subscriptions and the full-text index.
use super::entities::{
    listings::{self, Entity as Listings},
    plans::{self, Entity as Plans},
    reviews::{self, Entity as Reviews},
    subscriptions::{self, Entity as Subscriptions},
};
use super::statement;
use app::types::{
    ids::{AccountId, ListingId, PlanId, ReviewId, ServiceId, SubscriptionId},
    marketplace::{Category, ListingStatus, SubscriptionStatus},
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, Value,
};
use std::collections::HashMap;

pub async fn insert_listing(db: &impl ConnectionTrait, listing: listings::Model) -> Result<(), DbErr> {
    listings::ActiveModel::from(listing).insert(db).await.map(|_| ())
}

/// Saves what the provider controls; the browsing figures are [`restat`]'s alone.
pub async fn save_listing(db: &impl ConnectionTrait, listing: listings::Model) -> Result<(), DbErr> {
    use sea_orm::ActiveValue::NotSet;
    let mut active = listings::ActiveModel::from(listing).reset_all();
    (active.has_free_plan, active.lowest_price_micros, active.subscribers) = (NotSet, NotSet, NotSet);
    (active.reviews, active.rating_tenths) = (NotSet, NotSet);
    active.update(db).await.map(|_| ())
}

/// Brings a listing's browsing figures up to date: the plan figures as given, the counts from
/// the subscriptions and reviews.
pub async fn restat(
    db: &impl ConnectionTrait,
    id: &ListingId,
    has_free_plan: bool,
    lowest_price_micros: Option<i64>,
) -> Result<(), DbErr> {
    db.execute(statement(
        "UPDATE listings SET has_free_plan = ?, lowest_price_micros = ?, \
         subscribers = (SELECT COUNT(*) FROM subscriptions WHERE listing_id = listings.id AND status = 'active'), \
         reviews = (SELECT COUNT(*) FROM reviews WHERE listing_id = listings.id), \
         rating_tenths = (SELECT (SUM(rating) * 20 + COUNT(*)) / (COUNT(*) * 2) FROM reviews WHERE listing_id = listings.id) \
         WHERE id = ?",
        [has_free_plan.into(), lowest_price_micros.into(), id.into()],
    ))
    .await
    .map(|_| ())
}

/// One page of the marketplace: listed listings matching `fts` (an FTS5 query made by the
/// domain from the visitor's words; title matches weigh most), a category, a tag, a free plan
/// and a price ceiling, in `order` (an `ORDER BY` the domain chose from a fixed set).
#[allow(clippy::too_many_arguments)]
pub async fn browse(
    db: &impl ConnectionTrait,
    fts: Option<&str>,
    category: Option<Category>,
    tag: Option<&str>,
    free_only: bool,
    max_price_micros: Option<i64>,
    order: &str,
    limit: u64,
    offset: u64,
) -> Result<Vec<listings::Model>, DbErr> {
    let mut values: Vec<Value> = Vec::new();
    let mut sql = match fts {
        Some(query) => {
            values.push(query.into());
            "SELECT l.*, bm25(listings_fts, 0.0, 10.0, 4.0, 1.0, 6.0) AS rank \
             FROM listings_fts JOIN listings l ON l.id = listings_fts.listing_id WHERE listings_fts MATCH ?"
                .to_owned()
        }
        None => "SELECT l.*, 0.0 AS rank FROM listings l WHERE 1 = 1".to_owned(),
    };
    sql.push_str(" AND l.status IN ('published', 'deprecated')");
    if let Some(category) = category {
        sql.push_str(" AND l.category = ?");
        values.push(category.as_str().into());
    }
    if let Some(tag) = tag {
        sql.push_str(" AND EXISTS (SELECT 1 FROM json_each(l.tags) WHERE json_each.value = ?)");
        values.push(tag.into());
    }
    if free_only {
        sql.push_str(" AND l.has_free_plan = 1");
    }
    if let Some(max) = max_price_micros {
        sql.push_str(
            " AND (l.has_free_plan = 1 OR l.lowest_price_micros IS NULL OR l.lowest_price_micros <= ?)",
        );
        values.push(max.into());
    }
    sql.push_str(&format!(" ORDER BY {order} LIMIT ? OFFSET ?"));
    values.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
    values.push(i64::try_from(offset).unwrap_or(i64::MAX).into());
    listings::Model::find_by_statement(statement(&sql, values)).all(db).await
}

pub async fn listing(db: &impl ConnectionTrait, id: &ListingId) -> Result<Option<listings::Model>, DbErr> {
    Listings::find_by_id(id.clone()).one(db).await
}

/// The provider's listing with this id.
pub async fn owned_listing(
    db: &impl ConnectionTrait,
    account: &AccountId,
    id: &ListingId,
) -> Result<Option<listings::Model>, DbErr> {
    Listings::find_by_id(id.clone()).filter(listings::Column::AccountId.eq(account)).one(db).await
}

pub async fn listing_of_service(
    db: &impl ConnectionTrait,
    service: &ServiceId,
) -> Result<Option<listings::Model>, DbErr> {
    Listings::find().filter(listings::Column::ServiceId.eq(service)).one(db).await
}

/// The provider's listings, newest first.
pub async fn listings_of(
    db: &impl ConnectionTrait,
    account: &AccountId,
) -> Result<Vec<listings::Model>, DbErr> {
    Listings::find()
        .filter(listings::Column::AccountId.eq(account))
        .order_by_desc(listings::Column::CreatedAt)
        .all(db)
        .await
}

/// The listings with these ids, by id.
pub async fn listings_by_id(
    db: &impl ConnectionTrait,
    ids: &[ListingId],
) -> Result<HashMap<ListingId, listings::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = Listings::find().filter(listings::Column::Id.is_in(ids.iter().cloned())).all(db).await?;
    Ok(rows.into_iter().map(|l| (l.id.clone(), l)).collect())
}

pub async fn insert_plan(db: &impl ConnectionTrait, plan: plans::Model) -> Result<(), DbErr> {
    plans::ActiveModel::from(plan).insert(db).await.map(|_| ())
}

/// A listing's plans in display order.
pub async fn plans_of(db: &impl ConnectionTrait, listing: &ListingId) -> Result<Vec<plans::Model>, DbErr> {
    Plans::find()
        .filter(plans::Column::ListingId.eq(listing))
        .order_by_asc(plans::Column::Position)
        .all(db)
        .await
}

/// The plans of these listings.
pub async fn plans_of_all(
    db: &impl ConnectionTrait,
    listings: &[ListingId],
) -> Result<Vec<plans::Model>, DbErr> {
    Plans::find()
        .filter(plans::Column::ListingId.is_in(listings.iter().cloned()))
        .order_by_asc(plans::Column::Position)
        .all(db)
        .await
}

pub async fn plan(db: &impl ConnectionTrait, id: &PlanId) -> Result<Option<plans::Model>, DbErr> {
    Plans::find_by_id(id.clone()).one(db).await
}

/// The plans with these ids, by id.
pub async fn plans_by_id(
    db: &impl ConnectionTrait,
    ids: &[PlanId],
) -> Result<HashMap<PlanId, plans::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = Plans::find().filter(plans::Column::Id.is_in(ids.iter().cloned())).all(db).await?;
    Ok(rows.into_iter().map(|p| (p.id.clone(), p)).collect())
}

pub async fn insert_subscription(db: &impl ConnectionTrait, row: subscriptions::Model) -> Result<(), DbErr> {
    subscriptions::ActiveModel::from(row).insert(db).await.map(|_| ())
}

pub async fn save_subscription(db: &impl ConnectionTrait, row: subscriptions::Model) -> Result<(), DbErr> {
    subscriptions::ActiveModel::from(row).reset_all().update(db).await.map(|_| ())
}

pub async fn subscription(
    db: &impl ConnectionTrait,
    id: &SubscriptionId,
) -> Result<Option<subscriptions::Model>, DbErr> {
    Subscriptions::find_by_id(id.clone()).one(db).await
}

/// The consumer's subscriptions, newest first.
pub async fn subscriptions_of(
    db: &impl ConnectionTrait,
    consumer: &AccountId,
) -> Result<Vec<subscriptions::Model>, DbErr> {
    Subscriptions::find()
        .filter(subscriptions::Column::AccountId.eq(consumer))
        .order_by_desc(subscriptions::Column::CreatedAt)
        .all(db)
        .await
}

/// A listing's subscriptions, newest first.
pub async fn subscriptions_to(
    db: &impl ConnectionTrait,
    listing: &ListingId,
) -> Result<Vec<subscriptions::Model>, DbErr> {
    Subscriptions::find()
        .filter(subscriptions::Column::ListingId.eq(listing))
        .order_by_desc(subscriptions::Column::CreatedAt)
        .all(db)
        .await
}

/// Every subscription not cancelled (what the invoke path authorises from).
pub async fn live_subscriptions(db: &impl ConnectionTrait) -> Result<Vec<subscriptions::Model>, DbErr> {
    Subscriptions::find()
        .filter(subscriptions::Column::Status.ne(SubscriptionStatus::Cancelled))
        .all(db)
        .await
}

/// Calls made on plans since `since` (the month's start), per payer and service: per plan, in
/// the order each plan was first used — the order the invoice prices them in.
pub async fn plan_calls_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<HashMap<(AccountId, ServiceId), Vec<(PlanId, i64)>>, DbErr> {
    #[derive(FromQueryResult)]
    struct Calls {
        payer_account_id: AccountId,
        service_id: ServiceId,
        plan_id: PlanId,
        calls: i64,
    }
    let rows = Calls::find_by_statement(statement(
        "SELECT payer_account_id, service_id, plan_id, SUM(calls) AS calls FROM usage_events \
         WHERE plan_id IS NOT NULL AND occurred_at >= ? \
         GROUP BY payer_account_id, service_id, plan_id ORDER BY MIN(occurred_at), plan_id",
        [since.into()],
    ))
    .all(db)
    .await?;
    let mut out: HashMap<(AccountId, ServiceId), Vec<(PlanId, i64)>> = HashMap::new();
    for r in rows {
        out.entry((r.payer_account_id, r.service_id)).or_default().push((r.plan_id, r.calls));
    }
    Ok(out)
}

/// What the mesh measured of a service's billed calls since `since`: how many, and their
/// latency percentiles (microseconds).
#[derive(Clone, Debug, Default, FromQueryResult)]
pub struct CallStats {
    pub calls: i64,
    pub p50_us: Option<i64>,
    pub p95_us: Option<i64>,
}

pub async fn call_stats(
    db: &impl ConnectionTrait,
    service: &ServiceId,
    since: DateTime<Utc>,
) -> Result<CallStats, DbErr> {
    // Percentiles by rank over the window's durations (nearest rank).
    let row = CallStats::find_by_statement(statement(
        "WITH d AS (SELECT duration_us, ROW_NUMBER() OVER (ORDER BY duration_us) AS n, COUNT(*) OVER () AS total \
                    FROM usage_events WHERE service_id = ? AND occurred_at >= ?) \
         SELECT COALESCE(MAX(total), 0) AS calls, \
                MIN(CASE WHEN n >= (total * 50 + 99) / 100 THEN duration_us END) AS p50_us, \
                MIN(CASE WHEN n >= (total * 95 + 99) / 100 THEN duration_us END) AS p95_us FROM d",
        [service.into(), since.into()],
    ))
    .one(db)
    .await?;
    Ok(row.unwrap_or_default())
}

/// A listing found by a search, with its rank (lower is better; 0 without a search).
#[derive(Clone, Debug, FromQueryResult)]
pub struct Found {
    pub id: ListingId,
    pub rank: f64,
}

/// Listings in the marketplace (published or deprecated) matching `fts` (an FTS5 query made
/// by the domain from the visitor's words; `None`: all), a category and a tag. Title matches
/// weigh most, then tags, the summary and the description.
pub async fn search(
    db: &impl ConnectionTrait,
    fts: Option<&str>,
    category: Option<Category>,
    tag: Option<&str>,
) -> Result<Vec<Found>, DbErr> {
    let mut values: Vec<Value> = Vec::new();
    let mut sql = match fts {
        Some(query) => {
            values.push(query.into());
            "SELECT l.id AS id, bm25(listings_fts, 0.0, 10.0, 4.0, 1.0, 6.0) AS rank \
             FROM listings_fts JOIN listings l ON l.id = listings_fts.listing_id \
             WHERE listings_fts MATCH ?"
                .to_owned()
        }
        None => "SELECT l.id AS id, 0.0 AS rank FROM listings l WHERE 1 = 1".to_owned(),
    };
    sql.push_str(" AND l.status IN (?, ?)");
    values.push(ListingStatus::Published.as_str().into());
    values.push(ListingStatus::Deprecated.as_str().into());
    if let Some(category) = category {
        sql.push_str(" AND l.category = ?");
        values.push(category.as_str().into());
    }
    if let Some(tag) = tag {
        sql.push_str(" AND EXISTS (SELECT 1 FROM json_each(l.tags) WHERE json_each.value = ?)");
        values.push(tag.into());
    }
    Found::find_by_statement(statement(&sql, values)).all(db).await
}

/// Each subscription's last metered call: the newest usage event of its consumer on its
/// listing's plans since it began. One index seek per plan (`ix_usage_events_plan`), however
/// many calls the consumer made.
pub async fn last_calls(
    db: &impl ConnectionTrait,
    subscriptions: &[SubscriptionId],
) -> Result<HashMap<SubscriptionId, DateTime<Utc>>, DbErr> {
    #[derive(FromQueryResult)]
    struct Last {
        id: SubscriptionId,
        last: Option<DateTime<Utc>>,
    }
    let mut out = HashMap::new();
    for chunk in subscriptions.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let rows = Last::find_by_statement(statement(
            &format!(
                "SELECT s.id AS id, (SELECT MAX((SELECT u.occurred_at FROM usage_events u \
                   WHERE u.plan_id = p.id AND u.payer_account_id = s.account_id \
                   AND u.occurred_at >= s.created_at ORDER BY u.occurred_at DESC LIMIT 1)) \
                   FROM plans p WHERE p.listing_id = s.listing_id) AS last \
                 FROM subscriptions s WHERE s.id IN ({marks})"
            ),
            chunk.iter().map(Value::from),
        ))
        .all(db)
        .await?;
        out.extend(rows.into_iter().filter_map(|r| Some((r.id, r.last?))));
    }
    Ok(out)
}

/// The payer's metered calls on the listing's plans per day (UTC, `YYYY-MM-DD`) since `since`,
/// with how many the upstream answered with a 5xx status.
#[derive(Clone, Debug, FromQueryResult)]
pub struct PlanDay {
    pub day: String,
    pub calls: i64,
    pub errors: i64,
}

pub async fn plan_days(
    db: &impl ConnectionTrait,
    payer: &AccountId,
    listing: &ListingId,
    since: DateTime<Utc>,
) -> Result<Vec<PlanDay>, DbErr> {
    PlanDay::find_by_statement(statement(
        "SELECT substr(occurred_at, 1, 10) AS day, SUM(calls) AS calls, \
         SUM(CASE WHEN status >= 500 THEN calls ELSE 0 END) AS errors FROM usage_events \
         WHERE plan_id IN (SELECT id FROM plans WHERE listing_id = ?) AND payer_account_id = ? \
         AND occurred_at >= ? GROUP BY day ORDER BY day",
        [listing.into(), payer.into(), since.into()],
    ))
    .all(db)
    .await
}

/// Whether `account` made a metered call on `service` through a subscription.
pub async fn has_plan_call(
    db: &impl ConnectionTrait,
    account: &AccountId,
    service: &ServiceId,
) -> Result<bool, DbErr> {
    #[derive(FromQueryResult)]
    struct Found {
        found: i64,
    }
    let row = Found::find_by_statement(statement(
        "SELECT EXISTS(SELECT 1 FROM usage_events WHERE payer_account_id = ? AND service_id = ? \
         AND plan_id IS NOT NULL) AS found",
        [account.into(), service.into()],
    ))
    .one(db)
    .await?;
    Ok(row.is_some_and(|r| r.found != 0))
}

pub async fn review_of(
    db: &impl ConnectionTrait,
    listing: &ListingId,
    account: &AccountId,
) -> Result<Option<reviews::Model>, DbErr> {
    Reviews::find()
        .filter(reviews::Column::ListingId.eq(listing))
        .filter(reviews::Column::AccountId.eq(account))
        .one(db)
        .await
}

pub async fn review(db: &impl ConnectionTrait, id: &ReviewId) -> Result<Option<reviews::Model>, DbErr> {
    Reviews::find_by_id(id.clone()).one(db).await
}

pub async fn insert_review(db: &impl ConnectionTrait, row: reviews::Model) -> Result<(), DbErr> {
    reviews::ActiveModel::from(row).insert(db).await.map(|_| ())
}

pub async fn save_review(db: &impl ConnectionTrait, row: reviews::Model) -> Result<(), DbErr> {
    reviews::ActiveModel::from(row).reset_all().update(db).await.map(|_| ())
}

/// A listing's reviews, most recently changed first.
pub async fn reviews_of(
    db: &impl ConnectionTrait,
    listing: &ListingId,
) -> Result<Vec<reviews::Model>, DbErr> {
    Reviews::find()
        .filter(reviews::Column::ListingId.eq(listing))
        .order_by_desc(reviews::Column::UpdatedAt)
        .all(db)
        .await
}
