//! The embedded KV store on the platform's SQLite: durable once a write is answered, and
//! transactional, so a revision is assigned, a compare-and-swap checked and a quota counted
//! in the same transaction as the write (SQLite has one writer; the pool one connection).
use super::{
    MemoryError,
    store::{Bucket, BucketSpec, Entry, Expect, KvStore},
    validation::Key,
    watch::{self, Backlog, Change, Feed, Filter, Watch},
};
use crate::db::{
    self,
    entities::{kv_buckets, kv_entries},
    memory::Scope,
};
use app::types::{
    ids::{AccountId, BucketId},
    memory::KvOperation,
};
use chrono::Utc;
use sea_orm::{DatabaseConnection, TransactionTrait};
use std::time::Duration;

/// KV buckets in SQLite (tables `kv_buckets`, `kv_entries`).
pub struct SqliteKv {
    db: DatabaseConnection,
    /// Every committed entry, for watchers.
    feed: Feed,
    /// Held from a write's first read to its publication, so the feed carries each bucket's
    /// entries in revision order (watchers rely on it). It costs no concurrency: SQLite has
    /// one writer, and the pool one connection.
    writing: tokio::sync::Mutex<()>,
}

impl SqliteKv {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db, feed: Feed::default(), writing: tokio::sync::Mutex::new(()) }
    }
}

/// The backlog of a watcher: kept entries, read with a connection of its own handle.
struct Entries(DatabaseConnection);

#[async_trait::async_trait]
impl Backlog for Entries {
    async fn after(
        &self,
        bucket: &Bucket,
        filter: &Filter,
        after: u64,
        limit: u64,
    ) -> Result<Vec<Entry>, MemoryError> {
        let keys = match filter {
            Filter::Key(key) => db::memory::Keys::Exactly(key.as_str()),
            Filter::Prefix(prefix) => db::memory::Keys::StartingWith(prefix),
        };
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        db::memory::entries_after(&self.0, scope(bucket), keys, after, limit)
            .await?
            .into_iter()
            .map(Entry::try_from)
            .collect()
    }

    async fn revision(&self, bucket: &Bucket) -> Result<u64, MemoryError> {
        let found = db::memory::find_bucket(&self.0, &bucket.account_id, &bucket.name).await?;
        Ok(Bucket::try_from(found.ok_or(MemoryError::BucketNotFound)?)?.revision)
    }
}

/// What one write does to a key.
struct Write {
    operation: KvOperation,
    value: Vec<u8>,
    ttl: Option<Duration>,
    expect: Expect,
    /// For the sweeper: write only if the head is this revision and has expired.
    expired_revision: Option<u64>,
    max_live_keys: u64,
}

fn scope(bucket: &Bucket) -> Scope<'_> {
    Scope { account: &bucket.account_id, bucket: &bucket.id }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Whether a head entry holds a readable value at `now`.
fn is_live(head: &kv_entries::Model, now: i64) -> bool {
    head.operation == KvOperation::Put && head.expires_at_ms.is_none_or(|at| at > now)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl SqliteKv {
    /// One write: check the precondition against the key's head, count the quota, take the
    /// bucket's next revision and append — all in one transaction.
    async fn write(&self, bucket: &Bucket, key: &Key, write: Write) -> Result<Option<Entry>, MemoryError> {
        let _in_order = self.writing.lock().await;
        let txn = self.db.begin().await?;
        let scope = scope(bucket);
        let now = Utc::now();
        let now_ms = now.timestamp_millis();
        let head = db::memory::head(&txn, scope, key.as_str()).await?;
        let current = match &head {
            Some(h) => {
                u64::try_from(h.revision).map_err(|_| anyhow::anyhow!("kv entry with a negative revision"))?
            }
            None => 0,
        };
        let live = head.as_ref().is_some_and(|h| is_live(h, now_ms));
        if let Some(expired) = write.expired_revision {
            // The sweeper's view may be stale: a put or touch since then wins.
            if current != expired || live || head.as_ref().is_none_or(|h| h.operation != KvOperation::Put) {
                return Ok(None);
            }
        }
        match (write.operation, write.expect) {
            (KvOperation::Delete, _) if !live => return Err(MemoryError::KeyNotFound),
            (KvOperation::Purge, _) if head.is_none() => return Err(MemoryError::KeyNotFound),
            (_, Expect::Absent) if live => return Err(MemoryError::KeyExists { current_revision: current }),
            (_, Expect::Revision(expected)) if expected != current => {
                return Err(MemoryError::RevisionMismatch { expected, current_revision: current });
            }
            _ => {}
        }
        // `live_keys` counts keys whose newest entry is a put (expired or not), so the count
        // changes exactly when a write changes whether the head is a put.
        let counted = head.as_ref().is_some_and(|h| h.operation == KvOperation::Put);
        let live_delta = match (counted, write.operation == KvOperation::Put) {
            (false, true) => 1,
            (true, false) => -1,
            _ => 0,
        };
        if live_delta > 0
            && db::memory::live_keys(&txn, &bucket.account_id).await? >= write.max_live_keys as i64
        {
            return Err(MemoryError::KeyLimitReached(write.max_live_keys));
        }
        let revision =
            db::memory::next_revision(&txn, scope, live_delta).await?.ok_or(MemoryError::BucketNotFound)?;
        let entry = kv_entries::Model {
            bucket_id: bucket.id.clone(),
            revision,
            key: key.as_str().to_owned(),
            value: write.value,
            operation: write.operation,
            is_head: true,
            ttl_ms: write.ttl.map(millis),
            expires_at_ms: write.ttl.map(|ttl| now_ms.saturating_add(millis(ttl))),
            created_at: now,
        };
        let purge = write.operation == KvOperation::Purge;
        db::memory::append(&txn, scope, entry.clone(), purge).await?;
        if !purge {
            db::memory::trim_history(&txn, scope, key.as_str(), i64::from(bucket.history)).await?;
        }
        txn.commit().await?;
        let entry = Entry::try_from(entry)?;
        self.feed.publish(Change { bucket: bucket.id.clone(), entry: entry.clone() });
        Ok(Some(entry))
    }

    async fn written(&self, bucket: &Bucket, key: &Key, write: Write) -> Result<Entry, MemoryError> {
        self.write(bucket, key, write).await?.ok_or_else(|| {
            MemoryError::Internal(anyhow::anyhow!("a kv write without precondition was skipped"))
        })
    }

    fn marker(operation: KvOperation) -> Write {
        Write {
            operation,
            value: Vec::new(),
            ttl: None,
            expect: Expect::Anything,
            expired_revision: None,
            max_live_keys: u64::MAX,
        }
    }
}

#[async_trait::async_trait]
impl KvStore for SqliteKv {
    async fn create_bucket(
        &self,
        account: &AccountId,
        spec: BucketSpec,
        max_buckets: u64,
    ) -> Result<Bucket, MemoryError> {
        let txn = self.db.begin().await?;
        if db::memory::count_buckets(&txn, account).await? >= max_buckets {
            return Err(MemoryError::BucketLimitReached(max_buckets));
        }
        let row = kv_buckets::Model {
            id: BucketId::new(uuid::Uuid::now_v7().to_string()),
            account_id: account.clone(),
            name: spec.name.clone(),
            history: i64::from(spec.history),
            max_value_bytes: i64::from(spec.max_value_bytes),
            last_revision: 0,
            live_keys: 0,
            created_at: Utc::now(),
        };
        match db::memory::insert_bucket(&txn, row.clone()).await {
            Err(err) if db::is_unique_violation(&err) => return Err(MemoryError::BucketExists(spec.name)),
            other => other?,
        }
        txn.commit().await?;
        row.try_into()
    }

    async fn bucket(&self, account: &AccountId, name: &str) -> Result<Bucket, MemoryError> {
        db::memory::find_bucket(&self.db, account, name).await?.ok_or(MemoryError::BucketNotFound)?.try_into()
    }

    async fn buckets(&self, account: &AccountId) -> Result<Vec<Bucket>, MemoryError> {
        db::memory::list_buckets(&self.db, account).await?.into_iter().map(Bucket::try_from).collect()
    }

    async fn delete_bucket(&self, bucket: &Bucket) -> Result<(), MemoryError> {
        match db::memory::delete_bucket(&self.db, scope(bucket)).await? {
            true => Ok(()),
            false => Err(MemoryError::BucketNotFound),
        }
    }

    async fn get(&self, bucket: &Bucket, key: &Key) -> Result<Option<Entry>, MemoryError> {
        match db::memory::head(&self.db, scope(bucket), key.as_str()).await? {
            Some(head) if is_live(&head, now_ms()) => Ok(Some(head.try_into()?)),
            _ => Ok(None),
        }
    }

    async fn put(
        &self,
        bucket: &Bucket,
        key: &Key,
        value: Vec<u8>,
        ttl: Option<Duration>,
        expect: Expect,
        max_live_keys: u64,
    ) -> Result<Entry, MemoryError> {
        let write =
            Write { operation: KvOperation::Put, value, ttl, expect, expired_revision: None, max_live_keys };
        self.written(bucket, key, write).await
    }

    async fn delete(&self, bucket: &Bucket, key: &Key) -> Result<Entry, MemoryError> {
        self.written(bucket, key, Self::marker(KvOperation::Delete)).await
    }

    async fn purge(&self, bucket: &Bucket, key: &Key) -> Result<Entry, MemoryError> {
        self.written(bucket, key, Self::marker(KvOperation::Purge)).await
    }

    async fn keys(
        &self,
        bucket: &Bucket,
        prefix: &str,
        after: Option<&Key>,
        limit: u64,
    ) -> Result<Vec<String>, MemoryError> {
        let after = after.map(Key::as_str);
        Ok(db::memory::keys(&self.db, scope(bucket), prefix, after, now_ms(), limit).await?)
    }

    async fn history(&self, bucket: &Bucket, key: &Key) -> Result<Vec<Entry>, MemoryError> {
        db::memory::history(&self.db, scope(bucket), key.as_str())
            .await?
            .into_iter()
            .map(Entry::try_from)
            .collect()
    }

    async fn touch(&self, bucket: &Bucket, key: &Key, ttl: Option<Duration>) -> Result<Entry, MemoryError> {
        let now = now_ms();
        let head = match db::memory::head(&self.db, scope(bucket), key.as_str()).await? {
            Some(head) if is_live(&head, now) => head,
            _ => return Err(MemoryError::KeyNotFound),
        };
        let ttl_ms = match (ttl, head.ttl_ms) {
            (Some(ttl), _) => millis(ttl),
            (None, Some(own)) => own,
            (None, None) => {
                return Err(MemoryError::field(
                    "ttl_seconds",
                    "This value has no TTL of its own: give ttl_seconds.",
                ));
            }
        };
        let expires_at_ms = now.saturating_add(ttl_ms);
        // A write between the read and here moved the head: the caller touched a value
        // that is no longer current, which reads as a conflict with the new revision.
        if !db::memory::set_expiry(&self.db, scope(bucket), key.as_str(), head.revision, expires_at_ms)
            .await?
        {
            let current = self.get(bucket, key).await?.map_or(0, |e| e.revision);
            let expected = u64::try_from(head.revision).unwrap_or_default();
            return Err(MemoryError::RevisionMismatch { expected, current_revision: current });
        }
        Entry::try_from(kv_entries::Model { expires_at_ms: Some(expires_at_ms), ..head })
    }

    async fn expire_due(&self, limit: u64) -> Result<usize, MemoryError> {
        let due = db::memory::due_for_expiry(&self.db, now_ms(), limit).await?;
        let mut written = 0;
        for item in due {
            let bucket = Bucket {
                id: item.bucket_id,
                account_id: item.account_id,
                name: String::new(),
                // Only the history is read by a write; the rest does not matter here.
                history: u32::try_from(item.history).map_err(|_| anyhow::anyhow!("bad kv history"))?,
                max_value_bytes: 0,
                revision: 0,
                live_keys: 0,
                created_at: Utc::now(),
            };
            let key = Key::parse(&item.key)?;
            let revision =
                u64::try_from(item.revision).map_err(|_| anyhow::anyhow!("negative kv revision"))?;
            let write = Write { expired_revision: Some(revision), ..Self::marker(KvOperation::Expire) };
            if self.write(&bucket, &key, write).await?.is_some() {
                written += 1;
            }
        }
        Ok(written)
    }

    async fn watch(
        &self,
        bucket: &Bucket,
        filter: Filter,
        from: Option<u64>,
        buffer: usize,
    ) -> Result<Watch, MemoryError> {
        // Subscribed before anything is read: a write committed after the read below is on
        // the feed (see `watch`).
        let live = self.feed.subscribe();
        let from = match from {
            Some(revision) => Ok(revision),
            None => Err(self.bucket(&bucket.account_id, &bucket.name).await?.revision),
        };
        Ok(watch::start(live, Entries(self.db.clone()), bucket.clone(), filter, from, buffer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnectionTrait;

    /// A store on a fresh database with one account and a bucket keeping 3 revisions.
    async fn store() -> (tempfile::TempDir, SqliteKv, Bucket) {
        let dir = tempfile::tempdir().unwrap();
        let db = db::connect(&format!("sqlite://{}", dir.path().join("kv.db").display())).await.unwrap();
        crate::startup::migrate(&db).await.unwrap();
        let account = AccountId::new("0192-account");
        let new = db::accounts::NewAccount {
            id: &account,
            email: "a@example.com",
            password_hash: "x",
            now: Utc::now(),
        };
        db::accounts::insert(&db, new).await.unwrap();
        let kv = SqliteKv::new(db);
        let spec = BucketSpec { name: "b".into(), history: 3, max_value_bytes: 100 };
        let bucket = kv.create_bucket(&account, spec, 10).await.unwrap();
        (dir, kv, bucket)
    }

    /// Moves every expiry into the past, as if the TTLs had run out.
    async fn run_out(kv: &SqliteKv) {
        kv.db
            .execute_unprepared("UPDATE kv_entries SET expires_at_ms = 1 WHERE expires_at_ms IS NOT NULL")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_expired_value_reads_absent_at_once_and_the_sweep_writes_one_tombstone() {
        let (_dir, kv, bucket) = store().await;
        let key = Key::parse("k").unwrap();
        let ttl = Some(Duration::from_secs(60));
        for value in [b"1", b"2", b"3"] {
            kv.put(&bucket, &key, value.to_vec(), ttl, Expect::Anything, 10).await.unwrap();
        }
        run_out(&kv).await;

        assert_eq!(kv.get(&bucket, &key).await.unwrap(), None, "absent before any sweep");
        assert_eq!(kv.expire_due(100).await.unwrap(), 1);
        assert_eq!(kv.expire_due(100).await.unwrap(), 0, "a second pass finds nothing");

        let history = kv.history(&bucket, &key).await.unwrap();
        let operations: Vec<_> = history.iter().map(|e| e.operation).collect();
        assert_eq!(operations, [KvOperation::Put, KvOperation::Put, KvOperation::Expire], "trimmed to 3");
        assert_eq!(history.last().map(|e| e.revision), Some(4));
        assert_eq!(kv.bucket(&bucket.account_id, "b").await.unwrap().live_keys, 0);
    }

    #[tokio::test]
    async fn a_put_over_an_expired_value_is_a_create_and_the_sweep_leaves_it_alone() {
        let (_dir, kv, bucket) = store().await;
        let key = Key::parse("k").unwrap();
        kv.put(&bucket, &key, b"old".to_vec(), Some(Duration::from_secs(60)), Expect::Anything, 1)
            .await
            .unwrap();
        run_out(&kv).await;

        // Quota 1 is already taken by the expired value itself, which this write replaces.
        let fresh = kv.put(&bucket, &key, b"new".to_vec(), None, Expect::Absent, 1).await.unwrap();

        assert_eq!(fresh.revision, 2);
        assert_eq!(kv.expire_due(100).await.unwrap(), 0);
        assert_eq!(kv.get(&bucket, &key).await.unwrap().map(|e| e.value), Some(b"new".to_vec()));
        assert_eq!(kv.bucket(&bucket.account_id, "b").await.unwrap().live_keys, 1);
        let other = Key::parse("other").unwrap();
        let refused = kv.put(&bucket, &other, b"x".to_vec(), None, Expect::Anything, 1).await;
        assert!(matches!(refused, Err(MemoryError::KeyLimitReached(1))), "{refused:?}");
    }
}
