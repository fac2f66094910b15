//! The memory context's use cases: one method per operation of the Cloud API, each scoped to
//! the calling account (a bucket of another account is not found). Limits are checked here
//! and in [`super::validation`]; the store does the atomic part.
use super::{
    MemoryError,
    store::{Bucket, BucketSpec, Entry, Expect, KvStore},
    validation::{self, Key, MemorySettings},
    watch::{Event, Filter, Watched},
};
use app::types::{
    Page,
    ids::AccountId,
    memory::{BucketView, KvEntryView, KvOperation, KvPut, KvTouch, NewBucket},
};
use base64::Engine;
use futures::{StreamExt, stream::BoxStream};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

/// The memory façade.
pub struct Memory {
    store: Arc<dyn KvStore>,
    settings: MemorySettings,
    /// Watchers open per account.
    watchers: Arc<Mutex<HashMap<AccountId, u32>>>,
}

/// One open watcher of an account: its slot is given back when the watch stream is dropped
/// (the client went away, or the watcher ended).
struct WatcherSlot {
    account: AccountId,
    watchers: Arc<Mutex<HashMap<AccountId, u32>>>,
}

impl Drop for WatcherSlot {
    fn drop(&mut self) {
        let mut watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(open) = watchers.get_mut(&self.account) {
            *open -= 1;
            if *open == 0 {
                watchers.remove(&self.account);
            }
        }
    }
}

/// Where a watcher starts and which keys it follows, as a client asks.
#[derive(Clone, Debug, Default)]
pub struct WatchRequest<'a> {
    /// One key…
    pub key: Option<&'a str>,
    /// …or the keys starting with this (neither: every key).
    pub prefix: Option<&'a str>,
    /// Send every kept change after this revision first (none: live changes only).
    pub from_revision: Option<u64>,
}

impl Memory {
    pub fn new(store: Arc<dyn KvStore>, settings: MemorySettings) -> Self {
        Self { store, settings, watchers: Arc::default() }
    }

    /// The limits and timings of the context.
    pub fn settings(&self) -> &MemorySettings {
        &self.settings
    }

    /// Follows a bucket's changes (see [`super::watch`]): at most `max_watchers` open per
    /// account; the slot is taken once the bucket is found and given back when the stream
    /// is dropped.
    #[tracing::instrument(skip_all, fields(account = %account, bucket = %bucket), err(level = "debug"))]
    pub async fn watch(
        &self,
        account: &AccountId,
        bucket: &str,
        request: WatchRequest<'_>,
    ) -> Result<BoxStream<'static, Watched>, MemoryError> {
        let filter = match (request.key, request.prefix) {
            (Some(_), Some(_)) => {
                return Err(MemoryError::field("prefix", "Give either key or prefix, not both."));
            }
            (Some(key), None) => Filter::Key(Key::parse(key)?),
            (None, prefix) => Filter::Prefix(validation::prefix(prefix.unwrap_or_default())?.to_owned()),
        };
        // Revisions are stored as SQLite integers (i64): a larger one names no revision.
        if request.from_revision.is_some_and(|r| i64::try_from(r).is_err()) {
            return Err(MemoryError::field("from_revision", format!("At most {}.", i64::MAX)));
        }
        let bucket = self.bucket(account, bucket).await?;
        let slot = self.take_watcher_slot(account)?;
        let events =
            self.store.watch(&bucket, filter, request.from_revision, self.settings.watch_buffer).await?;
        Ok(events
            .map(move |event| {
                let _open = &slot;
                match event {
                    Event::Entry(entry) => Watched::Change(entry_view(&bucket, entry)),
                    Event::CaughtUp { revision } => Watched::CaughtUp { revision },
                    Event::Lagged { last_revision } => Watched::Lagged { last_revision },
                }
            })
            .boxed())
    }

    fn take_watcher_slot(&self, account: &AccountId) -> Result<WatcherSlot, MemoryError> {
        let max = self.settings.max_watchers;
        let mut watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
        let open = watchers.entry(account.clone()).or_default();
        if *open >= max {
            return Err(MemoryError::WatcherLimitReached(max));
        }
        *open += 1;
        Ok(WatcherSlot { account: account.clone(), watchers: self.watchers.clone() })
    }

    /// Starts the expiry sweeper (aborted with the server's other background tasks).
    pub fn start_sweeper(&self) -> tokio::task::JoinHandle<()> {
        super::sweeper::start(self.store.clone(), self.settings.sweep_interval)
    }

    #[tracing::instrument(skip_all, fields(account = %account), err(level = "debug"))]
    pub async fn create_bucket(
        &self,
        account: &AccountId,
        input: NewBucket,
    ) -> Result<BucketView, MemoryError> {
        let mut errors = std::collections::BTreeMap::new();
        let name = validation::bucket_name(&input.name).map_err(|e| collect(&mut errors, e)).ok();
        let history = validation::history(input.history).map_err(|e| collect(&mut errors, e)).ok();
        let max =
            validation::max_value_bytes(input.max_value_bytes).map_err(|e| collect(&mut errors, e)).ok();
        let (Some(name), Some(history), Some(max_value_bytes)) = (name, history, max) else {
            return Err(MemoryError::Invalid(errors));
        };
        let spec = BucketSpec { name: name.to_owned(), history, max_value_bytes };
        Ok(bucket_view(self.store.create_bucket(account, spec, self.settings.max_buckets).await?))
    }

    pub async fn list_buckets(&self, account: &AccountId) -> Result<Vec<BucketView>, MemoryError> {
        Ok(self.store.buckets(account).await?.into_iter().map(bucket_view).collect())
    }

    pub async fn get_bucket(&self, account: &AccountId, bucket: &str) -> Result<BucketView, MemoryError> {
        Ok(bucket_view(self.bucket(account, bucket).await?))
    }

    #[tracing::instrument(skip_all, fields(account = %account, bucket = %bucket), err(level = "debug"))]
    pub async fn delete_bucket(&self, account: &AccountId, bucket: &str) -> Result<(), MemoryError> {
        let bucket = self.bucket(account, bucket).await?;
        self.store.delete_bucket(&bucket).await
    }

    /// A page of the keys holding values, by prefix, in byte order; the cursor is the last
    /// key of the previous page.
    pub async fn list_keys(
        &self,
        account: &AccountId,
        bucket: &str,
        prefix: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Page<String>, MemoryError> {
        let bucket = self.bucket(account, bucket).await?;
        let prefix = validation::prefix(prefix.unwrap_or_default())?;
        let after = match cursor.filter(|c| !c.is_empty()) {
            Some(cursor) => Some(Key::parse(cursor).map_err(|_| MemoryError::BadCursor)?),
            None => None,
        };
        let limit = crate::pagination::limit(limit);
        let keys = self.store.keys(&bucket, prefix, after.as_ref(), limit + 1).await?;
        Ok(crate::pagination::finish(keys, limit, |k| k, |k| k))
    }

    pub async fn get(
        &self,
        account: &AccountId,
        bucket: &str,
        key: &str,
    ) -> Result<KvEntryView, MemoryError> {
        let (bucket, key) = self.key(account, bucket, key).await?;
        let entry = self.store.get(&bucket, &key).await?.ok_or(MemoryError::KeyNotFound)?;
        Ok(entry_view(&bucket, entry))
    }

    /// Put, create (`create_only`) or compare-and-swap (`expected_revision`).
    #[tracing::instrument(skip_all, fields(account = %account, bucket = %bucket), err(level = "debug"))]
    pub async fn put(
        &self,
        account: &AccountId,
        bucket: &str,
        key: &str,
        input: KvPut,
    ) -> Result<KvEntryView, MemoryError> {
        let (bucket, key) = self.key(account, bucket, key).await?;
        let value = validation::value(&input.value, bucket.max_value_bytes)?;
        let ttl = validation::ttl(input.ttl_seconds)?;
        let expect = match (input.create_only, input.expected_revision) {
            (true, Some(_)) => {
                return Err(MemoryError::field(
                    "expected_revision",
                    "Give either create_only or expected_revision, not both.",
                ));
            }
            (true, None) => Expect::Absent,
            (false, Some(revision)) => Expect::Revision(revision),
            (false, None) => Expect::Anything,
        };
        let max_keys = self.settings.max_live_keys;
        let entry = self.store.put(&bucket, &key, value, ttl, expect, max_keys).await?;
        Ok(entry_view(&bucket, entry))
    }

    /// Writes a delete marker: the key reads as absent, its history stays.
    #[tracing::instrument(skip_all, fields(account = %account, bucket = %bucket), err(level = "debug"))]
    pub async fn delete(
        &self,
        account: &AccountId,
        bucket: &str,
        key: &str,
    ) -> Result<KvEntryView, MemoryError> {
        let (bucket, key) = self.key(account, bucket, key).await?;
        Ok(entry_view(&bucket, self.store.delete(&bucket, &key).await?))
    }

    /// Removes the key's history, leaving one purge marker.
    #[tracing::instrument(skip_all, fields(account = %account, bucket = %bucket), err(level = "debug"))]
    pub async fn purge(
        &self,
        account: &AccountId,
        bucket: &str,
        key: &str,
    ) -> Result<KvEntryView, MemoryError> {
        let (bucket, key) = self.key(account, bucket, key).await?;
        Ok(entry_view(&bucket, self.store.purge(&bucket, &key).await?))
    }

    /// Pushes the value's expiry back (its revision stays).
    pub async fn touch(
        &self,
        account: &AccountId,
        bucket: &str,
        key: &str,
        input: KvTouch,
    ) -> Result<KvEntryView, MemoryError> {
        let (bucket, key) = self.key(account, bucket, key).await?;
        let ttl = validation::ttl(input.ttl_seconds)?;
        Ok(entry_view(&bucket, self.store.touch(&bucket, &key, ttl).await?))
    }

    /// The key's kept revisions, oldest first; not found for a key with none.
    pub async fn history(
        &self,
        account: &AccountId,
        bucket: &str,
        key: &str,
    ) -> Result<Vec<KvEntryView>, MemoryError> {
        let (bucket, key) = self.key(account, bucket, key).await?;
        let entries = self.store.history(&bucket, &key).await?;
        if entries.is_empty() {
            return Err(MemoryError::KeyNotFound);
        }
        Ok(entries.into_iter().map(|e| entry_view(&bucket, e)).collect())
    }

    async fn bucket(&self, account: &AccountId, name: &str) -> Result<Bucket, MemoryError> {
        // A name that cannot exist is simply not found (the path is not a form to correct).
        validation::bucket_name(name).map_err(|_| MemoryError::BucketNotFound)?;
        self.store.bucket(account, name).await
    }

    async fn key(&self, account: &AccountId, bucket: &str, key: &str) -> Result<(Bucket, Key), MemoryError> {
        let key = Key::parse(key)?;
        Ok((self.bucket(account, bucket).await?, key))
    }
}

fn collect(errors: &mut std::collections::BTreeMap<String, String>, err: MemoryError) {
    if let MemoryError::Invalid(fields) = err {
        errors.extend(fields);
    }
}

fn bucket_view(bucket: Bucket) -> BucketView {
    BucketView {
        name: bucket.name,
        history: bucket.history,
        max_value_bytes: bucket.max_value_bytes,
        revision: bucket.revision,
        live_keys: bucket.live_keys,
        created_at: bucket.created_at,
    }
}

fn entry_view(bucket: &Bucket, entry: Entry) -> KvEntryView {
    let value = (entry.operation == KvOperation::Put)
        .then(|| base64::engine::general_purpose::STANDARD.encode(&entry.value));
    KvEntryView {
        bucket: bucket.name.clone(),
        key: entry.key,
        revision: entry.revision,
        operation: entry.operation,
        value,
        created_at: entry.created_at,
        expires_at: entry.expires_at,
    }
}
