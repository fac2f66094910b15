//! Queries of the memory context: KV buckets and the revisions of their keys. Every query that
//! reads or writes a bucket's entries is scoped by the account through [`Scope`], so a bucket
//! id of another account matches nothing. Only the sweeper looks across accounts (it is the
//! platform's, not a tenant's, and it writes through the same scoped functions).
use super::entities::{
    kv_buckets::{self, Entity as Buckets},
    kv_entries::{self, Entity as Entries},
};
use super::statement;
use app::types::ids::{AccountId, BucketId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder,
};

/// A bucket of an account: what every entry query is scoped by.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    pub account: &'a AccountId,
    pub bucket: &'a BucketId,
}

/// The SQL that keeps an entry query inside its account's bucket (binds bucket, account).
const IN_SCOPE: &str = "bucket_id = (SELECT id FROM kv_buckets WHERE id = ? AND account_id = ?)";

fn scope_values(scope: Scope<'_>) -> [sea_orm::Value; 2] {
    [scope.bucket.into(), scope.account.into()]
}

pub async fn insert_bucket(db: &impl ConnectionTrait, bucket: kv_buckets::Model) -> Result<(), DbErr> {
    kv_buckets::ActiveModel::from(bucket).insert(db).await.map(|_| ())
}

pub async fn count_buckets(db: &impl ConnectionTrait, account: &AccountId) -> Result<u64, DbErr> {
    Buckets::find().filter(kv_buckets::Column::AccountId.eq(account.clone())).count(db).await
}

/// The account's buckets by name.
pub async fn list_buckets(
    db: &impl ConnectionTrait,
    account: &AccountId,
) -> Result<Vec<kv_buckets::Model>, DbErr> {
    Buckets::find()
        .filter(kv_buckets::Column::AccountId.eq(account.clone()))
        .order_by_asc(kv_buckets::Column::Name)
        .all(db)
        .await
}

pub async fn find_bucket(
    db: &impl ConnectionTrait,
    account: &AccountId,
    name: &str,
) -> Result<Option<kv_buckets::Model>, DbErr> {
    Buckets::find()
        .filter(kv_buckets::Column::AccountId.eq(account.clone()))
        .filter(kv_buckets::Column::Name.eq(name))
        .one(db)
        .await
}

/// Deletes a bucket with every entry (cascade); false when the account has no such bucket.
pub async fn delete_bucket(db: &impl ConnectionTrait, scope: Scope<'_>) -> Result<bool, DbErr> {
    let result = db
        .execute(statement("DELETE FROM kv_buckets WHERE id = ? AND account_id = ?", scope_values(scope)))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Keys whose newest entry is a put, over all the account's buckets (the live-key quota).
pub async fn live_keys(db: &impl ConnectionTrait, account: &AccountId) -> Result<i64, DbErr> {
    #[derive(FromQueryResult)]
    struct Total {
        total: i64,
    }
    let total = Total::find_by_statement(statement(
        "SELECT COALESCE(SUM(live_keys), 0) AS total FROM kv_buckets WHERE account_id = ?",
        [account.into()],
    ))
    .one(db)
    .await?;
    Ok(total.map_or(0, |t| t.total))
}

/// Takes the bucket's next revision and changes its live-key count by `live_delta`; `None`
/// when the bucket is gone. Run inside the writing transaction: that is what makes revisions
/// increase without gaps or repeats under concurrent writers.
pub async fn next_revision(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    live_delta: i64,
) -> Result<Option<i64>, DbErr> {
    #[derive(FromQueryResult)]
    struct Revision {
        last_revision: i64,
    }
    let revision = Revision::find_by_statement(statement(
        "UPDATE kv_buckets SET last_revision = last_revision + 1, live_keys = live_keys + ? \
         WHERE id = ? AND account_id = ? RETURNING last_revision",
        [live_delta.into(), scope.bucket.into(), scope.account.into()],
    ))
    .one(db)
    .await?;
    Ok(revision.map(|r| r.last_revision))
}

/// A key's newest entry.
pub async fn head(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    key: &str,
) -> Result<Option<kv_entries::Model>, DbErr> {
    let [bucket, account] = scope_values(scope);
    Entries::find()
        .from_raw_sql(statement(
            &format!("SELECT * FROM kv_entries WHERE {IN_SCOPE} AND key = ? AND is_head = 1"),
            [bucket, account, key.into()],
        ))
        .one(db)
        .await
}

/// Makes `entry` the key's newest: the previous head is demoted, or, for a purge, every
/// earlier entry of the key removed.
pub async fn append(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    entry: kv_entries::Model,
    purge: bool,
) -> Result<(), DbErr> {
    let [bucket, account] = scope_values(scope);
    let sql = if purge {
        format!("DELETE FROM kv_entries WHERE {IN_SCOPE} AND key = ?")
    } else {
        format!("UPDATE kv_entries SET is_head = 0 WHERE {IN_SCOPE} AND key = ? AND is_head = 1")
    };
    db.execute(statement(&sql, [bucket, account, entry.key.as_str().into()])).await?;
    kv_entries::ActiveModel::from(entry).insert(db).await.map(|_| ())
}

/// Keeps a key's newest `history` entries and removes the older ones.
pub async fn trim_history(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    key: &str,
    history: i64,
) -> Result<(), DbErr> {
    let [bucket, account] = scope_values(scope);
    let [bucket2, account2] = scope_values(scope);
    db.execute(statement(
        &format!(
            "DELETE FROM kv_entries WHERE {IN_SCOPE} AND key = ? AND revision < \
             (SELECT revision FROM kv_entries WHERE {IN_SCOPE} AND key = ? ORDER BY revision DESC LIMIT 1 OFFSET ?)"
        ),
        [bucket, account, key.into(), bucket2, account2, key.into(), (history - 1).into()],
    ))
    .await
    .map(|_| ())
}

/// Moves the expiry of a key's head (`touch`); false when `revision` is no longer the head.
pub async fn set_expiry(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    key: &str,
    revision: i64,
    expires_at_ms: i64,
) -> Result<bool, DbErr> {
    let [bucket, account] = scope_values(scope);
    let result = db
        .execute(statement(
            &format!(
                "UPDATE kv_entries SET expires_at_ms = ? WHERE {IN_SCOPE} AND key = ? AND revision = ? AND is_head = 1"
            ),
            [expires_at_ms.into(), bucket, account, key.into(), revision.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Up to `limit` keys after `after` that start with `prefix` and hold an unexpired value,
/// in byte order. Keys are ASCII below `DEL`, so `[prefix, prefix + DEL)` is exactly the keys
/// starting with `prefix`, which the head index serves as a range.
pub async fn keys(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    prefix: &str,
    after: Option<&str>,
    now_ms: i64,
    limit: u64,
) -> Result<Vec<String>, DbErr> {
    #[derive(FromQueryResult)]
    struct Key {
        key: String,
    }
    let [bucket, account] = scope_values(scope);
    let lower = after.filter(|a| *a >= prefix).unwrap_or(prefix);
    let keys = Key::find_by_statement(statement(
        &format!(
            "SELECT key FROM kv_entries WHERE {IN_SCOPE} AND is_head = 1 AND operation = 'put' \
             AND key {} ? AND key < ? AND (expires_at_ms IS NULL OR expires_at_ms > ?) ORDER BY key LIMIT ?",
            if after.is_some_and(|a| a >= prefix) { ">" } else { ">=" }
        ),
        [
            bucket,
            account,
            lower.into(),
            format!("{prefix}\u{7f}").into(),
            now_ms.into(),
            (limit as i64).into(),
        ],
    ))
    .all(db)
    .await?;
    Ok(keys.into_iter().map(|k| k.key).collect())
}

/// A key's kept entries, oldest first.
pub async fn history(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    key: &str,
) -> Result<Vec<kv_entries::Model>, DbErr> {
    let [bucket, account] = scope_values(scope);
    Entries::find()
        .from_raw_sql(statement(
            &format!("SELECT * FROM kv_entries WHERE {IN_SCOPE} AND key = ? ORDER BY revision"),
            [bucket, account, key.into()],
        ))
        .all(db)
        .await
}

/// A value whose TTL ran out and has no expiry tombstone yet.
#[derive(Debug, FromQueryResult)]
pub struct Due {
    pub account_id: AccountId,
    pub bucket_id: BucketId,
    pub key: String,
    pub revision: i64,
    /// The bucket's history setting (the marker is trimmed to it like any write).
    pub history: i64,
}

/// Up to `limit` expired values of any account, oldest expiry first (the sweeper's work).
pub async fn due_for_expiry(db: &impl ConnectionTrait, now_ms: i64, limit: u64) -> Result<Vec<Due>, DbErr> {
    Due::find_by_statement(statement(
        "SELECT b.account_id, e.bucket_id, e.key, e.revision, b.history FROM kv_entries e \
         JOIN kv_buckets b ON b.id = e.bucket_id \
         WHERE e.is_head = 1 AND e.operation = 'put' AND e.expires_at_ms IS NOT NULL AND e.expires_at_ms <= ? \
         ORDER BY e.expires_at_ms LIMIT ?",
        [now_ms.into(), (limit as i64).into()],
    ))
    .all(db)
    .await
}

/// Which keys a watcher's backlog holds.
#[derive(Clone, Copy, Debug)]
pub enum Keys<'a> {
    Exactly(&'a str),
    StartingWith(&'a str),
}

/// Up to `limit` kept entries of the bucket after revision `after`, oldest first, of the keys
/// `keys` selects (a watcher's backlog; the primary key serves the revision range).
pub async fn entries_after(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    keys: Keys<'_>,
    after: i64,
    limit: u64,
) -> Result<Vec<kv_entries::Model>, DbErr> {
    let [bucket, account] = scope_values(scope);
    let (condition, low, high) = match keys {
        Keys::Exactly(key) => ("key = ? AND key = ?", key.to_owned(), key.to_owned()),
        // Keys are ASCII below `DEL` (see `keys`).
        Keys::StartingWith(prefix) => ("key >= ? AND key < ?", prefix.to_owned(), format!("{prefix}\u{7f}")),
    };
    Entries::find()
        .from_raw_sql(statement(
            &format!(
                "SELECT * FROM kv_entries WHERE {IN_SCOPE} AND revision > ? AND {condition} \
                 ORDER BY revision LIMIT ?"
            ),
            [bucket, account, after.into(), low.into(), high.into(), (limit as i64).into()],
        ))
        .all(db)
        .await
}
