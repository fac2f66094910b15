//! Queries of API keys and idempotency records. Every query of a key takes its owner's
//! account id, except the lookup by hash that authenticates a request.
use super::entities::{
    accounts,
    api_keys::{self, Entity as Keys},
    idempotency_records::{self, Entity as Records},
};
use app::types::ids::{AccountId, KeyId};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};

/// Inserts a key.
pub async fn insert(db: &impl ConnectionTrait, key: api_keys::Model) -> Result<(), DbErr> {
    api_keys::ActiveModel::from(key).insert(db).await.map(|_| ())
}

/// The key with this hash and its owner (authentication).
pub async fn by_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<(api_keys::Model, accounts::Model)>, DbErr> {
    let Some(key) = Keys::find().filter(api_keys::Column::KeyHash.eq(hash)).one(db).await? else {
        return Ok(None);
    };
    let owner = accounts::Entity::find_by_id(key.account_id.clone()).one(db).await?;
    Ok(owner.map(|owner| (key, owner)))
}

/// The account's key with this id.
pub async fn owned(
    db: &impl ConnectionTrait,
    account: &AccountId,
    id: &KeyId,
) -> Result<Option<api_keys::Model>, DbErr> {
    Keys::find_by_id(id.clone()).filter(api_keys::Column::AccountId.eq(account)).one(db).await
}

/// A page of the account's keys, newest first, after the id `before` when given.
pub async fn page(
    db: &impl ConnectionTrait,
    account: &AccountId,
    before: Option<&str>,
    limit: u64,
) -> Result<Vec<api_keys::Model>, DbErr> {
    let mut query = Keys::find().filter(api_keys::Column::AccountId.eq(account));
    if let Some(before) = before {
        query = query.filter(api_keys::Column::Id.lt(before));
    }
    query.order_by_desc(api_keys::Column::Id).limit(limit).all(db).await
}

/// Marks the account's key revoked (once: a second revoke keeps the first time).
pub async fn revoke(
    db: &impl ConnectionTrait,
    account: &AccountId,
    id: &KeyId,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    Keys::update_many()
        .col_expr(api_keys::Column::RevokedAt, Expr::value(Some(at)))
        .filter(api_keys::Column::Id.eq(id))
        .filter(api_keys::Column::AccountId.eq(account))
        .filter(api_keys::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map(|_| ())
}

/// The account's keys not revoked yet that `parents` minted.
pub async fn live_children(
    db: &impl ConnectionTrait,
    account: &AccountId,
    parents: &[KeyId],
) -> Result<Vec<api_keys::Model>, DbErr> {
    Keys::find()
        .filter(api_keys::Column::AccountId.eq(account))
        .filter(api_keys::Column::ParentKeyId.is_in(parents.iter().cloned()))
        .filter(api_keys::Column::RevokedAt.is_null())
        .all(db)
        .await
}

/// How many keys the account holds that are not revoked.
pub async fn live_count(db: &impl ConnectionTrait, account: &AccountId) -> Result<u64, DbErr> {
    Keys::find()
        .filter(api_keys::Column::AccountId.eq(account))
        .filter(api_keys::Column::RevokedAt.is_null())
        .count(db)
        .await
}

/// Records when a key was last used.
pub async fn touch(db: &impl ConnectionTrait, id: &KeyId, at: DateTime<Utc>) -> Result<(), DbErr> {
    Keys::update_many()
        .col_expr(api_keys::Column::LastUsedAt, Expr::value(Some(at)))
        .filter(api_keys::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Starts an idempotent request: inserts its record (no response yet). `false` when the
/// account already has a record under this key.
pub async fn begin_idempotent(
    db: &impl ConnectionTrait,
    account: &AccountId,
    key: &str,
    request_hash: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let inserted = idempotency_records::ActiveModel::from(idempotency_records::Model {
        account_id: account.clone(),
        key: key.to_owned(),
        request_hash: request_hash.to_owned(),
        status: None,
        headers: None,
        body: None,
        created_at: at,
    })
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The account's record under this key.
pub async fn idempotent(
    db: &impl ConnectionTrait,
    account: &AccountId,
    key: &str,
) -> Result<Option<idempotency_records::Model>, DbErr> {
    Records::find_by_id((account.clone(), key.to_owned())).one(db).await
}

/// Stores the response of an idempotent request.
pub async fn finish_idempotent(
    db: &impl ConnectionTrait,
    account: &AccountId,
    key: &str,
    status: u16,
    headers: serde_json::Value,
    body: Option<Vec<u8>>,
) -> Result<(), DbErr> {
    Records::update_many()
        .col_expr(idempotency_records::Column::Status, Expr::value(i32::from(status)))
        .col_expr(idempotency_records::Column::Headers, Expr::value(headers))
        .col_expr(idempotency_records::Column::Body, Expr::value(body))
        .filter(idempotency_records::Column::AccountId.eq(account))
        .filter(idempotency_records::Column::Key.eq(key))
        .exec(db)
        .await
        .map(|_| ())
}

/// Forgets one record (its request failed in a way worth retrying, or it expired).
pub async fn forget_idempotent(
    db: &impl ConnectionTrait,
    account: &AccountId,
    key: &str,
) -> Result<(), DbErr> {
    Records::delete_many()
        .filter(idempotency_records::Column::AccountId.eq(account))
        .filter(idempotency_records::Column::Key.eq(key))
        .exec(db)
        .await
        .map(|_| ())
}

/// Deletes records created before `before`; returns how many.
pub async fn purge_idempotent(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    Records::delete_many()
        .filter(idempotency_records::Column::CreatedAt.lt(before))
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// Forgets one record only while its request is unanswered (a dropped first request).
pub async fn release_idempotent(
    db: &impl ConnectionTrait,
    account: &AccountId,
    key: &str,
) -> Result<(), DbErr> {
    Records::delete_many()
        .filter(idempotency_records::Column::AccountId.eq(account))
        .filter(idempotency_records::Column::Key.eq(key))
        .filter(idempotency_records::Column::Status.is_null())
        .exec(db)
        .await
        .map(|_| ())
}
