//! Queries on failed log-in attempts (the throttle's memory).
use super::entities::login_failures::{self, Entity as LoginFailures};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// Records one failure for `(scope, key)` at `at`.
pub async fn record(
    db: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    LoginFailures::insert(login_failures::ActiveModel {
        id: NotSet,
        scope: Set(scope.to_owned()),
        key: Set(key.to_owned()),
        failed_at: Set(at),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Times of the failures for `(scope, key)` since `since`, oldest first, at most `limit`
/// of the newest (older ones cannot change the throttle's answer).
pub async fn since(
    db: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    since: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<DateTime<Utc>>, DbErr> {
    let mut times: Vec<DateTime<Utc>> = LoginFailures::find()
        .select_only()
        .column(login_failures::Column::FailedAt)
        .filter(login_failures::Column::Scope.eq(scope))
        .filter(login_failures::Column::Key.eq(key))
        .filter(login_failures::Column::FailedAt.gt(since))
        .order_by_desc(login_failures::Column::FailedAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    times.reverse();
    Ok(times)
}

/// Forgets the failures for `(scope, key)` (after a successful log-in to that account).
pub async fn clear(db: &impl ConnectionTrait, scope: &str, key: &str) -> Result<(), DbErr> {
    LoginFailures::delete_many()
        .filter(login_failures::Column::Scope.eq(scope))
        .filter(login_failures::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes every failure older than `before`; returns how many went.
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let res =
        LoginFailures::delete_many().filter(login_failures::Column::FailedAt.lt(before)).exec(db).await?;
    Ok(res.rows_affected)
}
