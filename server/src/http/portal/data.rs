//! The portal's memory and events: the [`PortalPort`](app::port::PortalPort) methods over
//! [`Memory`](crate::memory::Memory) (the KV browser) and [`Events`](crate::events::Events)
//! (messages, consumers, dead letters). Translation only: typed fields are read here, errors
//! come from the one classification.
use super::{
    PortalAdapter,
    errors::{form_error, portal_error},
    marketplace_forms::whole,
    respond::redirect_plain_form,
};
use app::{
    error::PortalError,
    types::{
        events::{EventsOverview, Published},
        memory::{BucketView, KvBrowserView, KvEntryView, KvOpenedKey, KvPut, KvShownRevision, NewBucket},
    },
};
use base64::Engine;
use std::collections::BTreeMap;

/// A KV browser's address: the bucket, and the key opened in it.
fn kv_path(bucket: &str, key: Option<&str>) -> String {
    let bucket = urlencoding(bucket);
    match key {
        Some(key) => format!("/kv/{bucket}?key={}", urlencoding(key)),
        None => format!("/kv/{bucket}"),
    }
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A revision as the browser shows it: its value as text when it is UTF-8.
fn shown(entry: KvEntryView) -> KvShownRevision {
    let bytes = entry
        .value
        .as_deref()
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .unwrap_or_default();
    KvShownRevision {
        revision: entry.revision,
        operation: entry.operation,
        size: bytes.len(),
        text: entry.value.is_some().then(|| String::from_utf8(bytes).ok()).flatten(),
        created_at: entry.created_at,
        expires_at: entry.expires_at,
    }
}

impl PortalAdapter {
    pub(super) async fn list_kv_buckets_impl(&self) -> Result<Vec<BucketView>, PortalError> {
        let account = self.account().await?;
        self.state.memory.list_buckets(&account.id).await.map_err(portal_error)
    }

    pub(super) async fn create_kv_bucket_impl(
        &self,
        name: String,
        history: String,
    ) -> Result<BucketView, PortalError> {
        let account = self.account().await?;
        let mut errors = BTreeMap::new();
        let history = whole(&mut errors, "history", &history);
        if !errors.is_empty() {
            return Err(form_error(errors));
        }
        let input = NewBucket { name: name.trim().to_owned(), history, max_value_bytes: None };
        let bucket = self.state.memory.create_bucket(&account.id, input).await.map_err(portal_error)?;
        redirect_plain_form(&kv_path(&bucket.name, None));
        Ok(bucket)
    }

    pub(super) async fn browse_kv_impl(
        &self,
        bucket: String,
        prefix: String,
        cursor: Option<String>,
        key: Option<String>,
    ) -> Result<KvBrowserView, PortalError> {
        let account = self.account().await?;
        let memory = &self.state.memory;
        let view = memory.get_bucket(&account.id, &bucket).await.map_err(portal_error)?;
        let keys = memory
            .list_keys(&account.id, &bucket, Some(&prefix), cursor.as_deref(), None)
            .await
            .map_err(portal_error)?;
        let opened = match key.filter(|k| !k.is_empty()) {
            Some(key) => match memory.history(&account.id, &bucket, &key).await {
                Ok(history) => {
                    Some(KvOpenedKey { key, revisions: history.into_iter().rev().map(shown).collect() })
                }
                Err(crate::memory::MemoryError::KeyNotFound) => None,
                Err(err) => return Err(portal_error(err)),
            },
            None => None,
        };
        Ok(KvBrowserView { bucket: view, prefix, keys, opened })
    }

    pub(super) async fn put_kv_impl(
        &self,
        bucket: String,
        key: String,
        value: String,
        ttl_seconds: String,
        expected_revision: String,
    ) -> Result<KvEntryView, PortalError> {
        let account = self.account().await?;
        let mut errors = BTreeMap::new();
        let ttl_seconds = whole(&mut errors, "ttl_seconds", &ttl_seconds);
        let expected_revision = whole(&mut errors, "expected_revision", &expected_revision);
        if !errors.is_empty() {
            return Err(form_error(errors));
        }
        let input = KvPut {
            value: base64::engine::general_purpose::STANDARD.encode(value.as_bytes()),
            ttl_seconds,
            create_only: expected_revision.is_none(),
            expected_revision,
        };
        let entry = self.state.memory.put(&account.id, &bucket, &key, input).await.map_err(portal_error)?;
        redirect_plain_form(&kv_path(&bucket, Some(&key)));
        Ok(entry)
    }

    pub(super) async fn delete_kv_impl(&self, bucket: String, key: String) -> Result<(), PortalError> {
        let account = self.account().await?;
        self.state.memory.delete(&account.id, &bucket, &key).await.map_err(portal_error)?;
        redirect_plain_form(&kv_path(&bucket, None));
        Ok(())
    }

    pub(super) async fn get_events_overview_impl(
        &self,
        filter: Option<String>,
    ) -> Result<EventsOverview, PortalError> {
        let account = self.account().await?;
        self.state.events.overview(&account.id, filter.as_deref()).await.map_err(portal_error)
    }

    pub(super) async fn republish_dead_letter_impl(&self, seq: i64) -> Result<Published, PortalError> {
        let account = self.account().await?;
        let published = self.state.events.republish(&account.id, seq).await.map_err(portal_error)?;
        redirect_plain_form("/events");
        Ok(published)
    }
}
