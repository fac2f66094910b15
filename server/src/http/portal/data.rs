//! The portal's memory, events and webhooks: the [`PortalPort`](app::port::PortalPort) methods
//! over [`Memory`](crate::memory::Memory) (the KV browser), [`Events`](crate::events::Events)
//! (messages, consumers, dead letters) and [`Webhooks`](crate::webhooks::Webhooks). Translation only: typed fields are read here, errors
//! come from the one classification.
use super::{
    PortalAdapter,
    errors::{form_error, portal_error},
    marketplace_forms::whole,
    respond::{is_plain_form, redirect_plain_form},
};
use app::{
    error::PortalError,
    types::{
        events::{EventsOverview, Published},
        ids::{AccountId, WebhookDeliveryId, WebhookId},
        memory::{BucketView, KvBrowserView, KvEntryView, KvOpenedKey, KvPut, KvShownRevision, NewBucket},
        webhooks::{
            DeliveriesQuery, DeliveryStatus, EnableWebhook, NewWebhook, ReplayWebhook, Replayed,
            WebhookCreated, WebhookDeliveryView, WebhookDetailView, WebhookView, WebhooksView,
        },
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

/// Session key of a webhook created by a plain form post (with its owner's id): its secret is
/// shown once, on the next load of `/webhooks` (sealed: see [`super::super::flash`]).
const FLASH_WEBHOOK: &str = "flash.webhook";
/// Session key of a webhook secret rotated by a plain form post, shown once on the endpoint's
/// next load (sealed).
const FLASH_WEBHOOK_ROTATED: &str = "flash.webhook_rotated";

impl PortalAdapter {
    pub(super) async fn list_webhooks_impl(&self) -> Result<WebhooksView, PortalError> {
        let account = self.account().await?;
        let endpoints = self.state.webhooks.list(&account.id).await.map_err(portal_error)?;
        let created = self.unflash::<(AccountId, WebhookCreated)>(FLASH_WEBHOOK).await?;
        let created = created.filter(|(owner, _)| *owner == account.id).map(|(_, created)| created);
        Ok(WebhooksView { endpoints, created })
    }

    pub(super) async fn create_webhook_impl(
        &self,
        url: String,
        filters: String,
        description: String,
    ) -> Result<WebhookCreated, PortalError> {
        let account = self.account().await?;
        let filters =
            filters.split([',', '\n']).map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned).collect();
        let input = NewWebhook { url: url.trim().to_owned(), filters, description, enabled: true };
        let created = self.state.webhooks.create(&account.id, input).await.map_err(portal_error)?;
        if is_plain_form() {
            self.flash(FLASH_WEBHOOK, &(&account.id, &created)).await?;
            redirect_plain_form("/webhooks");
        }
        Ok(created)
    }

    pub(super) async fn get_webhook_impl(
        &self,
        id: WebhookId,
        status: Option<String>,
        cursor: Option<String>,
    ) -> Result<WebhookDetailView, PortalError> {
        let account = self.account().await?;
        let webhooks = &self.state.webhooks;
        let webhook = webhooks.get(&account.id, &id).await.map_err(portal_error)?;
        let status = status.as_deref().filter(|s| !s.is_empty()).and_then(DeliveryStatus::parse);
        let query = DeliveriesQuery { status, limit: Some(20), cursor };
        let page = webhooks.deliveries(&account.id, &id, query).await.map_err(portal_error)?;
        let mut deliveries = Vec::with_capacity(page.items.len());
        for delivery in page.items {
            let attempts = webhooks.attempts(&account.id, &id, &delivery.id).await.map_err(portal_error)?;
            deliveries.push((delivery, attempts));
        }
        let rotated = self.unflash::<(AccountId, WebhookCreated)>(FLASH_WEBHOOK_ROTATED).await?;
        let rotated = rotated.filter(|(owner, r)| *owner == account.id && r.webhook.id == id).map(|(_, r)| r);
        Ok(WebhookDetailView { webhook, deliveries, next_cursor: page.next_cursor, status, rotated })
    }

    pub(super) async fn set_webhook_enabled_impl(
        &self,
        id: WebhookId,
        enabled: bool,
        replay_missed: bool,
    ) -> Result<WebhookView, PortalError> {
        let account = self.account().await?;
        let webhooks = &self.state.webhooks;
        let view = if enabled {
            webhooks.enable(&account.id, &id, EnableWebhook { replay_missed }).await
        } else {
            webhooks.disable(&account.id, &id).await
        }
        .map_err(portal_error)?;
        redirect_plain_form(&format!("/webhooks/{id}"));
        Ok(view)
    }

    pub(super) async fn rotate_webhook_secret_impl(
        &self,
        id: WebhookId,
    ) -> Result<WebhookCreated, PortalError> {
        let account = self.account().await?;
        let rotated = self.state.webhooks.rotate_secret(&account.id, &id).await.map_err(portal_error)?;
        if is_plain_form() {
            self.flash(FLASH_WEBHOOK_ROTATED, &(&account.id, &rotated)).await?;
            redirect_plain_form(&format!("/webhooks/{id}"));
        }
        Ok(rotated)
    }

    pub(super) async fn replay_webhook_since_impl(
        &self,
        id: WebhookId,
        since_seq: String,
    ) -> Result<Replayed, PortalError> {
        let account = self.account().await?;
        let mut errors = BTreeMap::new();
        let since_seq = whole(&mut errors, "since_seq", &since_seq);
        if since_seq.is_none() {
            errors.entry("since_seq".into()).or_insert_with(|| "Enter a sequence number.".into());
        }
        if !errors.is_empty() {
            return Err(form_error(errors));
        }
        let input = ReplayWebhook { since_seq, since: None };
        let replayed = self.state.webhooks.replay(&account.id, &id, input).await.map_err(portal_error)?;
        redirect_plain_form(&format!("/webhooks/{id}"));
        Ok(replayed)
    }

    pub(super) async fn replay_webhook_delivery_impl(
        &self,
        id: WebhookId,
        delivery: WebhookDeliveryId,
    ) -> Result<WebhookDeliveryView, PortalError> {
        let account = self.account().await?;
        let again =
            self.state.webhooks.replay_delivery(&account.id, &id, &delivery).await.map_err(portal_error)?;
        redirect_plain_form(&format!("/webhooks/{id}"));
        Ok(again)
    }

    pub(super) async fn delete_webhook_impl(&self, id: WebhookId) -> Result<(), PortalError> {
        let account = self.account().await?;
        self.state.webhooks.delete(&account.id, &id).await.map_err(portal_error)?;
        redirect_plain_form("/webhooks");
        Ok(())
    }
}
