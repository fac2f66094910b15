//! Queries of the service registry. Every query that reads or changes one service takes the
//! owner's account id, so no code path can reach another account's service by its id.
use super::entities::{
    service_placements::{self, Entity as Placements},
    services::{self, Entity as Services},
};
use app::types::{
    ids::{AccountId, NodeId, ServiceId},
    services::{HealthStatus, ServiceStatus},
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};

/// Inserts a service.
pub async fn insert(db: &impl ConnectionTrait, service: services::Model) -> Result<(), DbErr> {
    services::ActiveModel::from(service).insert(db).await.map(|_| ())
}

/// How many services the account has registered.
pub async fn count_of(db: &impl ConnectionTrait, account: &AccountId) -> Result<u64, DbErr> {
    Services::find().filter(services::Column::AccountId.eq(account)).count(db).await
}

/// The account's service with this id.
pub async fn owned(
    db: &impl ConnectionTrait,
    account: &AccountId,
    id: &ServiceId,
) -> Result<Option<services::Model>, DbErr> {
    Services::find_by_id(id.clone()).filter(services::Column::AccountId.eq(account)).one(db).await
}

/// A page of the account's services, newest first (ids are UUIDv7: time-ordered), starting
/// after the id `before` when given.
pub async fn page(
    db: &impl ConnectionTrait,
    account: &AccountId,
    before: Option<&str>,
    limit: u64,
) -> Result<Vec<services::Model>, DbErr> {
    let mut query = Services::find().filter(services::Column::AccountId.eq(account));
    if let Some(before) = before {
        query = query.filter(services::Column::Id.lt(before));
    }
    query.order_by_desc(services::Column::Id).limit(limit).all(db).await
}

/// Every service (the placement loop's view).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<services::Model>, DbErr> {
    Services::find().order_by_asc(services::Column::Id).all(db).await
}

/// Replaces a service row (its owner unchanged).
pub async fn update(db: &impl ConnectionTrait, service: services::Model) -> Result<(), DbErr> {
    let account = service.account_id.clone();
    let id = service.id.clone();
    let active = sea_orm::IntoActiveModel::into_active_model(service).reset_all();
    Services::update_many()
        .set(active)
        .filter(services::Column::Id.eq(id))
        .filter(services::Column::AccountId.eq(account))
        .exec(db)
        .await
        .map(|_| ())
}

/// Bumps the generation of the account's service's proxy secret; returns the new one, or
/// `None` when the account has no such service.
pub async fn rotate_proxy_secret(
    db: &impl ConnectionTrait,
    account: &AccountId,
    id: &ServiceId,
) -> Result<Option<i32>, DbErr> {
    let res = Services::update_many()
        .col_expr(
            services::Column::ProxySecretGeneration,
            sea_orm::sea_query::Expr::col(services::Column::ProxySecretGeneration).add(1),
        )
        .filter(services::Column::Id.eq(id))
        .filter(services::Column::AccountId.eq(account))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Ok(None);
    }
    Ok(owned(db, account, id).await?.map(|s| s.proxy_secret_generation))
}

/// Deletes the account's service if it is inactive; returns whether it did.
pub async fn delete_inactive(
    db: &impl ConnectionTrait,
    account: &AccountId,
    id: &ServiceId,
) -> Result<bool, DbErr> {
    let res = Services::delete_many()
        .filter(services::Column::Id.eq(id))
        .filter(services::Column::AccountId.eq(account))
        .filter(services::Column::Status.eq(ServiceStatus::Inactive))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Records whether a service has a healthy placement.
pub async fn set_availability(
    db: &impl ConnectionTrait,
    id: &ServiceId,
    unhealthy_since: Option<DateTime<Utc>>,
    available: bool,
) -> Result<(), DbErr> {
    Services::update_many()
        .col_expr(services::Column::UnhealthySince, Expr::value(unhealthy_since))
        .col_expr(services::Column::Available, Expr::value(available))
        .filter(services::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Every placement.
pub async fn placements(db: &impl ConnectionTrait) -> Result<Vec<service_placements::Model>, DbErr> {
    Placements::find().all(db).await
}

/// The placements of the services `ids` (one page's: never every tenant's).
pub async fn placements_of_all(
    db: &impl ConnectionTrait,
    ids: &[&ServiceId],
) -> Result<Vec<service_placements::Model>, DbErr> {
    Placements::find().filter(service_placements::Column::ServiceId.is_in(ids.iter().copied())).all(db).await
}

/// The placements of one service.
pub async fn placements_of(
    db: &impl ConnectionTrait,
    service: &ServiceId,
) -> Result<Vec<service_placements::Model>, DbErr> {
    Placements::find().filter(service_placements::Column::ServiceId.eq(service)).all(db).await
}

/// Places a service on a node (health unknown until its first check).
pub async fn place(
    db: &impl ConnectionTrait,
    service: &ServiceId,
    node: &NodeId,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    service_placements::ActiveModel::from(service_placements::Model {
        service_id: service.clone(),
        node_id: node.clone(),
        health: app::types::services::HealthStatus::Unknown,
        output: "not checked yet".into(),
        checked_at: None,
        placed_at: at,
    })
    .insert(db)
    .await
    .map(|_| ())
}

/// Removes a placement.
pub async fn unplace(db: &impl ConnectionTrait, service: &ServiceId, node: &NodeId) -> Result<(), DbErr> {
    Placements::delete_many()
        .filter(service_placements::Column::ServiceId.eq(service))
        .filter(service_placements::Column::NodeId.eq(node))
        .exec(db)
        .await
        .map(|_| ())
}

/// Records a health check's result on a placement (ignored if the placement moved away).
/// Forgets every placement's health of `service` (its upstream or check changed).
pub async fn reset_health(db: &impl ConnectionTrait, service: &ServiceId) -> Result<(), DbErr> {
    Placements::update_many()
        .col_expr(service_placements::Column::Health, Expr::value(HealthStatus::Unknown))
        .col_expr(service_placements::Column::Output, Expr::value(""))
        .col_expr(service_placements::Column::CheckedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(service_placements::Column::ServiceId.eq(service))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn record_health(
    db: &impl ConnectionTrait,
    service: &ServiceId,
    node: &NodeId,
    health: HealthStatus,
    output: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    Placements::update_many()
        .col_expr(service_placements::Column::Health, Expr::value(health))
        .col_expr(service_placements::Column::Output, Expr::value(output))
        .col_expr(service_placements::Column::CheckedAt, Expr::value(Some(at)))
        .filter(service_placements::Column::ServiceId.eq(service))
        .filter(service_placements::Column::NodeId.eq(node))
        .exec(db)
        .await?;
    // The day's tally for uptime: passing and warning count as up, critical as down.
    let up = match health {
        HealthStatus::Passing | HealthStatus::Warning => 1,
        HealthStatus::Critical => 0,
        HealthStatus::Unknown => return Ok(()),
    };
    db.execute(super::statement(
        "INSERT INTO service_health_days (service_id, day, checks, up) VALUES (?, ?, 1, ?) \
         ON CONFLICT (service_id, day) DO UPDATE SET checks = checks + 1, up = up + excluded.up",
        [service.into(), at.date_naive().to_string().into(), up.into()],
    ))
    .await
    .map(|_| ())
}

/// The share of health checks of `service` that found it up since `since` (a day), in
/// thousandths; `None` before any check.
pub async fn uptime_permille(
    db: &impl ConnectionTrait,
    service: &ServiceId,
    since: chrono::NaiveDate,
) -> Result<Option<i64>, DbErr> {
    #[derive(FromQueryResult)]
    struct Tally {
        checks: Option<i64>,
        up: Option<i64>,
    }
    let row = Tally::find_by_statement(super::statement(
        "SELECT SUM(checks) AS checks, SUM(up) AS up FROM service_health_days \
         WHERE service_id = ? AND day >= ?",
        [service.into(), since.to_string().into()],
    ))
    .one(db)
    .await?;
    Ok(row.and_then(|t| match (t.checks, t.up) {
        (Some(checks), Some(up)) if checks > 0 => Some(up * 1000 / checks),
        _ => None,
    }))
}

/// Forgets daily health tallies older than `before`.
pub async fn prune_health_days(db: &impl ConnectionTrait, before: chrono::NaiveDate) -> Result<u64, DbErr> {
    let done = db
        .execute(super::statement(
            "DELETE FROM service_health_days WHERE day < ?",
            [before.to_string().into()],
        ))
        .await?;
    Ok(done.rows_affected())
}
