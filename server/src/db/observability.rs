//! Queries of the observability context: the per-minute rollups (written by the flusher,
//! read by the charts, pruned past the retention) and the top consumers of a service.
use super::entities::{
    accounts,
    node_rollups::{self, Entity as NodeRollups},
    service_rollups::{self, Entity as ServiceRollups},
    usage_events::{self, Entity as Usage},
};
use app::types::ids::{AccountId, NodeId, ServiceId};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};

/// Rows per INSERT statement (8 columns each: far below SQLite's bound-parameter limit).
const ROWS_PER_STATEMENT: usize = 500;

/// Appends service rollups.
pub async fn insert_service_rollups(
    db: &impl ConnectionTrait,
    rows: Vec<service_rollups::ActiveModel>,
) -> Result<(), DbErr> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        ServiceRollups::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Appends node rollups.
pub async fn insert_node_rollups(
    db: &impl ConnectionTrait,
    rows: Vec<node_rollups::ActiveModel>,
) -> Result<(), DbErr> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        NodeRollups::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

/// The rollups of `account`'s service since `since`, oldest first.
pub async fn service_rollups(
    db: &impl ConnectionTrait,
    account: &AccountId,
    service: &ServiceId,
    since: DateTime<Utc>,
) -> Result<Vec<service_rollups::Model>, DbErr> {
    ServiceRollups::find()
        .filter(service_rollups::Column::AccountId.eq(account))
        .filter(service_rollups::Column::ServiceId.eq(service))
        .filter(service_rollups::Column::Minute.gte(since))
        .order_by_asc(service_rollups::Column::Minute)
        .all(db)
        .await
}

/// A node's rollups since `since`, oldest first.
pub async fn node_rollups(
    db: &impl ConnectionTrait,
    node: &NodeId,
    since: DateTime<Utc>,
) -> Result<Vec<node_rollups::Model>, DbErr> {
    NodeRollups::find()
        .filter(node_rollups::Column::NodeId.eq(node))
        .filter(node_rollups::Column::Minute.gte(since))
        .order_by_asc(node_rollups::Column::Minute)
        .all(db)
        .await
}

/// Every node's drops since `since`: (minute, drops by reason), rows without drops left out.
pub async fn drops_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, node_rollups::DropCounts)>, DbErr> {
    NodeRollups::find()
        .select_only()
        .column(node_rollups::Column::Minute)
        .column(node_rollups::Column::Drops)
        .filter(node_rollups::Column::Minute.gte(since))
        .filter(node_rollups::Column::Drops.ne("{}"))
        .order_by_asc(node_rollups::Column::Minute)
        .into_tuple()
        .all(db)
        .await
}

/// Deletes rollups of minutes before `before`; answers how many rows went.
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let services =
        ServiceRollups::delete_many().filter(service_rollups::Column::Minute.lt(before)).exec(db).await?;
    let nodes = NodeRollups::delete_many().filter(node_rollups::Column::Minute.lt(before)).exec(db).await?;
    Ok(services.rows_affected + nodes.rows_affected)
}

/// The accounts that called `owner`'s service most since `since` (from the usage events),
/// with their emails, most calls first.
pub async fn top_consumers(
    db: &impl ConnectionTrait,
    owner: &AccountId,
    service: &ServiceId,
    since: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<(AccountId, String, i64)>, DbErr> {
    let counts: Vec<(AccountId, i64)> = Usage::find()
        .select_only()
        .column(usage_events::Column::PayerAccountId)
        .column_as(usage_events::Column::Calls.sum(), "calls")
        .filter(usage_events::Column::ProviderAccountId.eq(owner))
        .filter(usage_events::Column::ServiceId.eq(service))
        .filter(usage_events::Column::OccurredAt.gte(since))
        .group_by(usage_events::Column::PayerAccountId)
        .order_by_desc(Expr::cust("calls"))
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    let ids: Vec<AccountId> = counts.iter().map(|(id, _)| id.clone()).collect();
    let emails: std::collections::HashMap<AccountId, String> = accounts::Entity::find()
        .select_only()
        .column(accounts::Column::Id)
        .column(accounts::Column::Email)
        .filter(accounts::Column::Id.is_in(ids))
        .into_tuple::<(AccountId, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(counts
        .into_iter()
        .map(|(id, calls)| {
            let email = emails.get(&id).cloned().unwrap_or_else(|| id.as_str().to_owned());
            (id, email, calls)
        })
        .collect())
}
