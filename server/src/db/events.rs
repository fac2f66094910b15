//! Queries of the event log: messages, durable consumers and their unsettled deliveries.
//! Every query of an account's data takes its id.
use super::entities::{
    event_consumers::{self, Entity as Consumers},
    event_deliveries::{self, Entity as Deliveries},
    event_messages::{self, Entity as Messages},
};
use super::statement;
use app::types::ids::{AccountId, ConsumerId};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Value,
};

/// Stores a message; answers it with its sequence number.
pub async fn insert_message(
    db: &impl ConnectionTrait,
    message: event_messages::ActiveModel,
) -> Result<event_messages::Model, DbErr> {
    message.insert(db).await
}

/// The account's message with `msg_id` published at or after `since`, if any.
pub async fn recent_with_msg_id(
    db: &impl ConnectionTrait,
    account: &AccountId,
    msg_id: &str,
    since: DateTime<Utc>,
) -> Result<Option<event_messages::Model>, DbErr> {
    Messages::find()
        .filter(event_messages::Column::AccountId.eq(account))
        .filter(event_messages::Column::MsgId.eq(msg_id))
        .filter(event_messages::Column::PublishedAt.gte(since))
        .order_by_asc(event_messages::Column::Seq)
        .one(db)
        .await
}

/// The account's messages after `after_seq` in order, at most `limit` (callers match topics
/// against their filter themselves).
pub async fn messages_after(
    db: &impl ConnectionTrait,
    account: &AccountId,
    after_seq: i64,
    limit: u64,
) -> Result<Vec<event_messages::Model>, DbErr> {
    Messages::find()
        .filter(event_messages::Column::AccountId.eq(account))
        .filter(event_messages::Column::Seq.gt(after_seq))
        .order_by_asc(event_messages::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// The account's messages before `before_seq`, newest first, at most `limit` (callers match
/// topics themselves).
pub async fn messages_before(
    db: &impl ConnectionTrait,
    account: &AccountId,
    before_seq: i64,
    limit: u64,
) -> Result<Vec<event_messages::Model>, DbErr> {
    Messages::find()
        .filter(event_messages::Column::AccountId.eq(account))
        .filter(event_messages::Column::Seq.lt(before_seq))
        .order_by_desc(event_messages::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// One of the account's messages.
pub async fn message(
    db: &impl ConnectionTrait,
    account: &AccountId,
    seq: i64,
) -> Result<Option<event_messages::Model>, DbErr> {
    Messages::find()
        .filter(event_messages::Column::AccountId.eq(account))
        .filter(event_messages::Column::Seq.eq(seq))
        .one(db)
        .await
}

#[derive(FromQueryResult)]
struct Seq {
    seq: Option<i64>,
}

/// The newest sequence number of the log (0 when empty).
pub async fn last_seq(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row =
        Seq::find_by_statement(statement("SELECT MAX(seq) AS seq FROM event_messages", [])).one(db).await?;
    Ok(row.and_then(|r| r.seq).unwrap_or(0))
}

/// The last sequence number before the account's first message published at or after `time`
/// (where a replay or a consumer from `time` starts).
pub async fn seq_before(
    db: &impl ConnectionTrait,
    account: &AccountId,
    time: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let row = Seq::find_by_statement(statement(
        "SELECT MIN(seq) AS seq FROM event_messages WHERE account_id = ? AND published_at >= ?",
        [account.into(), time.into()],
    ))
    .one(db)
    .await?;
    match row.and_then(|r| r.seq) {
        Some(first) => Ok(first - 1),
        None => last_seq(db).await,
    }
}

/// Deletes messages published before `before`; answers how many.
pub async fn delete_older_than(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(Messages::delete_many()
        .filter(event_messages::Column::PublishedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

#[derive(FromQueryResult)]
struct Owner {
    account_id: AccountId,
}

/// Keeps each account's newest `keep` messages; answers how many were deleted.
pub async fn keep_newest(db: &impl ConnectionTrait, keep: u64) -> Result<u64, DbErr> {
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    let over = Owner::find_by_statement(statement(
        "SELECT account_id FROM event_messages GROUP BY account_id HAVING COUNT(*) > ?",
        [keep.into()],
    ))
    .all(db)
    .await?;
    let mut deleted = 0;
    for owner in over {
        let account: Value = (&owner.account_id).into();
        deleted += db
            .execute(statement(
                "DELETE FROM event_messages WHERE account_id = ? AND seq <= \
                 (SELECT seq FROM event_messages WHERE account_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                [account.clone(), account, keep.into()],
            ))
            .await?
            .rows_affected();
    }
    Ok(deleted)
}

/// Keeps each account's newest messages whose data add up to at most `max_bytes`; answers how
/// many were deleted.
pub async fn keep_within_bytes(db: &impl ConnectionTrait, max_bytes: u64) -> Result<u64, DbErr> {
    let max = i64::try_from(max_bytes).unwrap_or(i64::MAX);
    let over = Owner::find_by_statement(statement(
        "SELECT account_id FROM event_messages GROUP BY account_id \
         HAVING SUM(LENGTH(CAST(data AS BLOB))) > ?",
        [max.into()],
    ))
    .all(db)
    .await?;
    let mut deleted = 0;
    for owner in over {
        let account: Value = (&owner.account_id).into();
        // The newest message whose running total (newest first) passes the limit, and every
        // older one, go.
        deleted += db
            .execute(statement(
                "DELETE FROM event_messages WHERE account_id = ? AND seq <= (\
                   SELECT seq FROM (\
                     SELECT seq, SUM(LENGTH(CAST(data AS BLOB))) OVER (ORDER BY seq DESC) AS total \
                     FROM event_messages WHERE account_id = ?\
                   ) WHERE total > ? ORDER BY seq DESC LIMIT 1)",
                [account.clone(), account, max.into()],
            ))
            .await?
            .rows_affected();
    }
    Ok(deleted)
}

// ---- consumers ----

pub async fn insert_consumer(
    db: &impl ConnectionTrait,
    consumer: event_consumers::Model,
) -> Result<(), DbErr> {
    event_consumers::ActiveModel::from(consumer).insert(db).await.map(|_| ())
}

/// The account's consumer called `name`.
pub async fn consumer(
    db: &impl ConnectionTrait,
    account: &AccountId,
    name: &str,
) -> Result<Option<event_consumers::Model>, DbErr> {
    Consumers::find()
        .filter(event_consumers::Column::AccountId.eq(account))
        .filter(event_consumers::Column::Name.eq(name))
        .one(db)
        .await
}

/// The account's consumers by name.
pub async fn consumers(
    db: &impl ConnectionTrait,
    account: &AccountId,
) -> Result<Vec<event_consumers::Model>, DbErr> {
    Consumers::find()
        .filter(event_consumers::Column::AccountId.eq(account))
        .order_by_asc(event_consumers::Column::Name)
        .all(db)
        .await
}

pub async fn count_consumers(db: &impl ConnectionTrait, account: &AccountId) -> Result<u64, DbErr> {
    Consumers::find().filter(event_consumers::Column::AccountId.eq(account)).count(db).await
}

/// Deletes the account's consumer (its deliveries go with it); false when there was none.
pub async fn delete_consumer(
    db: &impl ConnectionTrait,
    account: &AccountId,
    name: &str,
) -> Result<bool, DbErr> {
    let result = Consumers::delete_many()
        .filter(event_consumers::Column::AccountId.eq(account))
        .filter(event_consumers::Column::Name.eq(name))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub async fn set_cursor(db: &impl ConnectionTrait, consumer: &ConsumerId, cursor: i64) -> Result<(), DbErr> {
    Consumers::update_many()
        .col_expr(event_consumers::Column::Cursor, sea_orm::sea_query::Expr::value(cursor))
        .filter(event_consumers::Column::Id.eq(consumer))
        .exec(db)
        .await
        .map(|_| ())
}

// ---- deliveries ----

/// The consumer's deliveries due again at `now`, oldest message first.
pub async fn due_deliveries(
    db: &impl ConnectionTrait,
    consumer: &ConsumerId,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<event_deliveries::Model>, DbErr> {
    Deliveries::find()
        .filter(event_deliveries::Column::ConsumerId.eq(consumer))
        .filter(event_deliveries::Column::DueAt.lte(now))
        .order_by_asc(event_deliveries::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

pub async fn delivery(
    db: &impl ConnectionTrait,
    consumer: &ConsumerId,
    seq: i64,
) -> Result<Option<event_deliveries::Model>, DbErr> {
    Deliveries::find_by_id((consumer.clone(), seq)).one(db).await
}

/// Records a delivery (new or again).
pub async fn save_delivery(
    db: &impl ConnectionTrait,
    delivery: event_deliveries::Model,
) -> Result<(), DbErr> {
    let exists =
        Deliveries::find_by_id((delivery.consumer_id.clone(), delivery.seq)).one(db).await?.is_some();
    let active = event_deliveries::ActiveModel::from(delivery).reset_all();
    if exists { active.update(db).await.map(|_| ()) } else { active.insert(db).await.map(|_| ()) }
}

/// Settles a delivery; false when there was none.
pub async fn delete_delivery(
    db: &impl ConnectionTrait,
    consumer: &ConsumerId,
    seq: i64,
) -> Result<bool, DbErr> {
    Ok(Deliveries::delete_by_id((consumer.clone(), seq)).exec(db).await?.rows_affected > 0)
}

/// How many deliveries the consumer has not settled.
pub async fn pending(db: &impl ConnectionTrait, consumer: &ConsumerId) -> Result<u64, DbErr> {
    Deliveries::find().filter(event_deliveries::Column::ConsumerId.eq(consumer)).count(db).await
}
