//! Queries of signed webhooks: endpoints, their deliveries and the attempts of each. Every
//! query of an account's data takes its id; the dispatcher's scans (due deliveries, enabled
//! endpoints) are the platform's own and answer rows that carry their account.
use super::entities::{
    webhook_attempts::{self, Entity as Attempts},
    webhook_deliveries::{self, Entity as Deliveries},
    webhook_endpoints::{self, Entity as Endpoints},
};
use app::types::{
    ids::{AccountId, WebhookDeliveryId, WebhookId},
    webhooks::{DeliveryStatus, WebhookStatus},
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, Query},
};

// ---- endpoints ----

pub async fn insert_endpoint(db: &impl ConnectionTrait, row: webhook_endpoints::Model) -> Result<(), DbErr> {
    webhook_endpoints::ActiveModel::from(row).insert(db).await.map(|_| ())
}

/// Writes every column of an endpoint read before.
pub async fn save_endpoint(db: &impl ConnectionTrait, row: webhook_endpoints::Model) -> Result<(), DbErr> {
    webhook_endpoints::ActiveModel::from(row).reset_all().update(db).await.map(|_| ())
}

/// One of the account's endpoints.
pub async fn endpoint(
    db: &impl ConnectionTrait,
    account: &AccountId,
    id: &WebhookId,
) -> Result<Option<webhook_endpoints::Model>, DbErr> {
    Endpoints::find()
        .filter(webhook_endpoints::Column::AccountId.eq(account))
        .filter(webhook_endpoints::Column::Id.eq(id))
        .one(db)
        .await
}

/// The account's endpoints, newest first (an account has few: the limit is small).
pub async fn endpoints(
    db: &impl ConnectionTrait,
    account: &AccountId,
) -> Result<Vec<webhook_endpoints::Model>, DbErr> {
    Endpoints::find()
        .filter(webhook_endpoints::Column::AccountId.eq(account))
        .order_by_desc(webhook_endpoints::Column::Id)
        .all(db)
        .await
}

pub async fn count_endpoints(db: &impl ConnectionTrait, account: &AccountId) -> Result<u64, DbErr> {
    Endpoints::find().filter(webhook_endpoints::Column::AccountId.eq(account)).count(db).await
}

/// Deletes one of the account's endpoints with its deliveries; false when there was none.
pub async fn delete_endpoint(
    db: &impl ConnectionTrait,
    account: &AccountId,
    id: &WebhookId,
) -> Result<bool, DbErr> {
    let result = Endpoints::delete_many()
        .filter(webhook_endpoints::Column::AccountId.eq(account))
        .filter(webhook_endpoints::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Every enabled endpoint of the platform (the dispatcher's scan).
pub async fn enabled_endpoints(db: &impl ConnectionTrait) -> Result<Vec<webhook_endpoints::Model>, DbErr> {
    Endpoints::find()
        .filter(webhook_endpoints::Column::Status.eq(WebhookStatus::Enabled))
        .order_by_asc(webhook_endpoints::Column::Id)
        .all(db)
        .await
}

pub async fn set_cursor(db: &impl ConnectionTrait, id: &WebhookId, cursor: i64) -> Result<(), DbErr> {
    Endpoints::update_many()
        .col_expr(webhook_endpoints::Column::Cursor, Expr::value(cursor))
        .filter(webhook_endpoints::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

// ---- deliveries ----

pub async fn insert_delivery(db: &impl ConnectionTrait, row: webhook_deliveries::Model) -> Result<(), DbErr> {
    webhook_deliveries::ActiveModel::from(row).insert(db).await.map(|_| ())
}

/// Writes every column of a delivery read before.
pub async fn save_delivery(db: &impl ConnectionTrait, row: webhook_deliveries::Model) -> Result<(), DbErr> {
    webhook_deliveries::ActiveModel::from(row).reset_all().update(db).await.map(|_| ())
}

/// One delivery of the account's endpoint.
pub async fn delivery(
    db: &impl ConnectionTrait,
    account: &AccountId,
    endpoint: &WebhookId,
    id: &WebhookDeliveryId,
) -> Result<Option<webhook_deliveries::Model>, DbErr> {
    Deliveries::find()
        .filter(webhook_deliveries::Column::AccountId.eq(account))
        .filter(webhook_deliveries::Column::EndpointId.eq(endpoint))
        .filter(webhook_deliveries::Column::Id.eq(id))
        .one(db)
        .await
}

/// A page of the endpoint's deliveries, newest first: `limit + 1` rows before the id `before`.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    account: &AccountId,
    endpoint: &WebhookId,
    status: Option<DeliveryStatus>,
    before: Option<String>,
    limit: u64,
) -> Result<Vec<webhook_deliveries::Model>, DbErr> {
    let mut query = Deliveries::find()
        .filter(webhook_deliveries::Column::AccountId.eq(account))
        .filter(webhook_deliveries::Column::EndpointId.eq(endpoint));
    if let Some(status) = status {
        query = query.filter(webhook_deliveries::Column::Status.eq(status));
    }
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::Column::Id.lt(before));
    }
    query.order_by_desc(webhook_deliveries::Column::Id).limit(limit + 1).all(db).await
}

/// Pending deliveries of enabled endpoints due at `now`, the longest waiting first.
pub async fn due_deliveries(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<webhook_deliveries::Model>, DbErr> {
    let enabled = Query::select()
        .column(webhook_endpoints::Column::Id)
        .from(Endpoints)
        .and_where(webhook_endpoints::Column::Status.eq(WebhookStatus::Enabled))
        .to_owned();
    Deliveries::find()
        .filter(webhook_deliveries::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_deliveries::Column::NextAttemptAt.lte(now))
        .filter(webhook_deliveries::Column::EndpointId.in_subquery(enabled))
        .order_by_asc(webhook_deliveries::Column::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await
}

/// Marks the endpoint's pending deliveries failed; answers how many.
pub async fn fail_pending(db: &impl ConnectionTrait, endpoint: &WebhookId) -> Result<u64, DbErr> {
    Ok(Deliveries::update_many()
        .col_expr(webhook_deliveries::Column::Status, Expr::value(DeliveryStatus::Failed))
        .col_expr(webhook_deliveries::Column::NextAttemptAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(webhook_deliveries::Column::EndpointId.eq(endpoint))
        .filter(webhook_deliveries::Column::Status.eq(DeliveryStatus::Pending))
        .exec(db)
        .await?
        .rows_affected)
}

/// The endpoint's deliveries of messages in `(after_seq, up_to_seq]`, the newest of each
/// message (what a replay sends again).
pub async fn deliveries_between(
    db: &impl ConnectionTrait,
    account: &AccountId,
    endpoint: &WebhookId,
    after_seq: i64,
    up_to_seq: i64,
    limit: u64,
) -> Result<Vec<webhook_deliveries::Model>, DbErr> {
    Deliveries::find()
        .filter(webhook_deliveries::Column::AccountId.eq(account))
        .filter(webhook_deliveries::Column::EndpointId.eq(endpoint))
        .filter(webhook_deliveries::Column::Seq.gt(after_seq))
        .filter(webhook_deliveries::Column::Seq.lte(up_to_seq))
        .order_by_asc(webhook_deliveries::Column::Seq)
        .order_by_desc(webhook_deliveries::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Deletes settled deliveries (and their attempts) created before `before`; answers how many.
pub async fn prune_deliveries(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(Deliveries::delete_many()
        .filter(webhook_deliveries::Column::CreatedAt.lt(before))
        .filter(webhook_deliveries::Column::Status.ne(DeliveryStatus::Pending))
        .exec(db)
        .await?
        .rows_affected)
}

// ---- attempts ----

pub async fn insert_attempt(
    db: &impl ConnectionTrait,
    row: webhook_attempts::ActiveModel,
) -> Result<(), DbErr> {
    row.insert(db).await.map(|_| ())
}

/// A delivery's attempts, oldest first (the caller has checked the delivery is the account's).
pub async fn attempts(
    db: &impl ConnectionTrait,
    delivery: &WebhookDeliveryId,
) -> Result<Vec<webhook_attempts::Model>, DbErr> {
    Attempts::find()
        .filter(webhook_attempts::Column::DeliveryId.eq(delivery))
        .order_by_asc(webhook_attempts::Column::Id)
        .all(db)
        .await
}
