//! The memory context's use cases: one method per operation of the Cloud API, each scoped to
//! the calling account (a bucket of another account is not found). Limits are checked here
//! and in [`super::validation`]; the store does the atomic part.
use super::{
    MemoryError,
    store::{Bucket, BucketSpec, Entry, Expect, KvStore},
    validation::{self, Key, MemorySettings},
};
use app::types::{
    Page,
    ids::AccountId,
    memory::{BucketView, KvEntryView, KvOperation, KvPut, KvTouch, NewBucket},
};
use base64::Engine;
use std::sync::Arc;

/// The memory façade.
pub struct Memory {
    store: Arc<dyn KvStore>,
    settings: MemorySettings,
}

impl Memory {
    pub fn new(store: Arc<dyn KvStore>, settings: MemorySettings) -> Self {
        Self { store, settings }
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
