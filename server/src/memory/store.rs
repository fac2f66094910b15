//! The KV store the façade calls, shaped after NATS JetStream KV (buckets with per-bucket
//! revisions and bounded history; get, put, create, update on a revision, delete markers,
//! purge, keys, history) so a NATS backend could implement it without touching callers. The
//! embedded implementation is [`super::sqlite::SqliteKv`].
use super::{MemoryError, validation::Key};
use crate::db::entities::{kv_buckets, kv_entries};
use anyhow::Context;
use app::types::{
    ids::{AccountId, BucketId},
    memory::KvOperation,
};
use chrono::{DateTime, Utc};
use futures::Stream;
use std::{pin::Pin, time::Duration};

/// A bucket of one account, as the store resolved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub id: BucketId,
    pub account_id: AccountId,
    pub name: String,
    pub history: u32,
    pub max_value_bytes: u32,
    /// The newest revision written in the bucket.
    pub revision: u64,
    pub live_keys: u64,
    pub created_at: DateTime<Utc>,
}

/// What a new bucket is.
#[derive(Clone, Debug)]
pub struct BucketSpec {
    pub name: String,
    pub history: u32,
    pub max_value_bytes: u32,
}

/// One revision of a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub revision: u64,
    pub operation: KvOperation,
    /// Empty for markers.
    pub value: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// When a write may happen (JetStream's `Put`, `Create`, `Update`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Always.
    Anything,
    /// Only if the key holds no value (never written, deleted, purged or expired).
    Absent,
    /// Only if the key's current revision is this one (0: never written).
    Revision(u64),
}

/// The store of KV buckets. Every bucket operation takes a [`Bucket`] resolved for its
/// account, and the implementation re-checks the account when it writes.
#[async_trait::async_trait]
pub trait KvStore: Send + Sync {
    /// Creates a bucket; `max_buckets` is the account's quota.
    async fn create_bucket(
        &self,
        account: &AccountId,
        spec: BucketSpec,
        max_buckets: u64,
    ) -> Result<Bucket, MemoryError>;
    /// The account's bucket called `name` (another account's is not found).
    async fn bucket(&self, account: &AccountId, name: &str) -> Result<Bucket, MemoryError>;
    async fn buckets(&self, account: &AccountId) -> Result<Vec<Bucket>, MemoryError>;
    /// Deletes the bucket and every entry in it.
    async fn delete_bucket(&self, bucket: &Bucket) -> Result<(), MemoryError>;
    /// The key's current value (`None` when absent, deleted, purged or expired).
    async fn get(&self, bucket: &Bucket, key: &Key) -> Result<Option<Entry>, MemoryError>;
    /// Writes a value when `expect` holds; `max_live_keys` is the account's quota.
    async fn put(
        &self,
        bucket: &Bucket,
        key: &Key,
        value: Vec<u8>,
        ttl: Option<Duration>,
        expect: Expect,
        max_live_keys: u64,
    ) -> Result<Entry, MemoryError>;
    /// Writes a delete marker (the history stays); not found when the key holds no value.
    async fn delete(&self, bucket: &Bucket, key: &Key) -> Result<Entry, MemoryError>;
    /// Removes the key's history and leaves a purge marker; not found for a key never written.
    async fn purge(&self, bucket: &Bucket, key: &Key) -> Result<Entry, MemoryError>;
    /// Up to `limit` keys holding values, after `after`, starting with `prefix`, in byte order.
    async fn keys(
        &self,
        bucket: &Bucket,
        prefix: &str,
        after: Option<&Key>,
        limit: u64,
    ) -> Result<Vec<String>, MemoryError>;
    /// The key's kept revisions, oldest first (at most the bucket's `history`, markers too).
    async fn history(&self, bucket: &Bucket, key: &Key) -> Result<Vec<Entry>, MemoryError>;
    /// Pushes a value's expiry to `ttl` from now (its own TTL when `None`), keeping its
    /// revision.
    async fn touch(&self, bucket: &Bucket, key: &Key, ttl: Option<Duration>) -> Result<Entry, MemoryError>;
    /// Writes an expiry marker for up to `limit` values whose TTL ran out; how many it wrote.
    async fn expire_due(&self, limit: u64) -> Result<usize, MemoryError>;
    /// Follows the bucket's changes to keys `filter` matches: with `from`, every kept entry
    /// after that revision in order, then `CaughtUp`, then live entries; without,
    /// `CaughtUp` at the bucket's current revision and live entries after it. At most
    /// `buffer` events wait for the client; past it the stream ends with
    /// `Lagged` (see [`super::watch::Event`]).
    async fn watch(
        &self,
        bucket: &Bucket,
        filter: Filter,
        from: Option<u64>,
        buffer: usize,
    ) -> Result<Watch, MemoryError>;
}

impl TryFrom<kv_buckets::Model> for Bucket {
    type Error = MemoryError;

    /// A stored row out of its range is a fault, never a default.
    fn try_from(row: kv_buckets::Model) -> Result<Self, MemoryError> {
        let bad = |what: &str| format!("kv bucket {} has a bad {what}", row.id);
        Ok(Bucket {
            history: u32::try_from(row.history)
                .ok()
                .filter(|h| (1..=64).contains(h))
                .with_context(|| bad("history"))?,
            max_value_bytes: u32::try_from(row.max_value_bytes).with_context(|| bad("max_value_bytes"))?,
            revision: u64::try_from(row.last_revision).with_context(|| bad("last_revision"))?,
            live_keys: u64::try_from(row.live_keys).with_context(|| bad("live_keys"))?,
            id: row.id,
            account_id: row.account_id,
            name: row.name,
            created_at: row.created_at,
        })
    }
}

impl TryFrom<kv_entries::Model> for Entry {
    type Error = MemoryError;

    fn try_from(row: kv_entries::Model) -> Result<Self, MemoryError> {
        let revision = u64::try_from(row.revision)
            .ok()
            .filter(|r| *r > 0)
            .with_context(|| format!("kv entry of bucket {} has a bad revision", row.bucket_id))?;
        let expires_at = match row.expires_at_ms {
            None => None,
            Some(ms) => Some(
                DateTime::from_timestamp_millis(ms)
                    .with_context(|| format!("kv entry {revision} has a bad expiry"))?,
            ),
        };
        Ok(Entry {
            key: row.key,
            revision,
            operation: row.operation,
            value: row.value,
            created_at: row.created_at,
            expires_at,
        })
    }
}

/// Which keys of the bucket a watcher follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// One key.
    Key(Key),
    /// Keys starting with this (empty: every key).
    Prefix(String),
}

impl Filter {
    pub fn matches(&self, key: &str) -> bool {
        match self {
            Filter::Key(k) => k.as_str() == key,
            Filter::Prefix(p) => key.starts_with(p.as_str()),
        }
    }
}

/// What a watcher receives from the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Entry(Entry),
    /// Every change up to `revision` has been sent; live changes follow.
    CaughtUp {
        revision: u64,
    },
    /// The watcher fell behind and ends here; `last_revision` is the last one it was sent.
    Lagged {
        last_revision: u64,
    },
}

/// A watcher's events; it ends after `Lagged`, or when the store fails.
pub type Watch = Pin<Box<dyn Stream<Item = Event> + Send>>;
