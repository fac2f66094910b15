//! The webhooks use cases: one method each, every one scoped to the caller's account, taking
//! typed input and answering views (the Cloud API and, later, the portal call the same ones).
use super::{WebhooksError, in_flight::InFlight, signing::WebhookSecrets};
use crate::{
    db::{
        self,
        entities::{webhook_deliveries, webhook_endpoints},
    },
    egress::EgressPolicy,
    events::{Events, topics},
    pagination,
};
use app::types::{
    Page,
    events::MessageView,
    ids::{AccountId, WebhookDeliveryId, WebhookId},
    webhooks::{
        DeliveriesQuery, DeliveryStatus, EnableWebhook, NewWebhook, ReplayWebhook, Replayed,
        WebhookAttemptView, WebhookCreated, WebhookDeliveryView, WebhookStatus, WebhookUpdate, WebhookView,
    },
};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};
use std::{sync::Arc, time::Duration};

type Result<T> = std::result::Result<T, WebhooksError>;

/// The most filters an endpoint has.
pub const MAX_FILTERS: usize = 10;
/// The longest URL and description.
pub const MAX_URL: usize = 2048;
pub const MAX_DESCRIPTION: usize = 256;
/// The most deliveries one replay creates.
pub const MAX_REPLAY: usize = 1000;
/// Messages read from the log per query while matching.
pub(super) const PAGE: usize = 500;

/// Retries, limits and timing of webhooks.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// The wait before each retry, in order; after the last, a delivery is `failed`.
    pub retry_schedule: Vec<Duration>,
    /// An endpoint whose every attempt failed for this long is disabled.
    pub disable_after: Duration,
    /// Endpoints one account may have.
    pub max_per_account: u64,
    /// How long one attempt may take, answer included.
    pub timeout: Duration,
    /// Attempts in flight at once, over all endpoints.
    pub max_concurrent: usize,
    /// Attempts in flight at once to one endpoint (a slow receiver holds no more).
    pub max_concurrent_per_endpoint: usize,
    /// How often the dispatcher looks for new messages and due retries.
    pub poll_every: Duration,
    /// Settled deliveries (and their attempts) older than this are forgotten.
    pub keep_deliveries_for: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            retry_schedule: super::retry::default_schedule(),
            disable_after: Duration::from_secs(5 * 24 * 3600),
            max_per_account: 20,
            timeout: Duration::from_secs(15),
            max_concurrent: 64,
            max_concurrent_per_endpoint: 4,
            poll_every: Duration::from_secs(1),
            keep_deliveries_for: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// The webhooks façade (and, through [`Webhooks::start`], the dispatcher).
pub struct Webhooks {
    pub(super) db: DatabaseConnection,
    pub(super) events: Arc<Events>,
    pub(super) egress: Arc<EgressPolicy>,
    pub(super) secrets: WebhookSecrets,
    pub(super) settings: WebhookSettings,
    pub(super) client: reqwest::Client,
    pub(super) in_flight: InFlight,
    pub(super) wake: tokio::sync::Notify,
}

/// The `webhook-id` of every delivery of the message `seq`.
pub fn message_id(seq: i64) -> String {
    format!("evt_{seq}")
}

/// The body every delivery of `message` sends (see `app::types::webhooks`).
pub fn payload(message: &MessageView) -> String {
    let data = serde_json::from_str::<serde_json::Value>(&message.data)
        .unwrap_or_else(|_| serde_json::Value::String(message.data.clone()));
    serde_json::json!({
        "type": message.topic,
        "timestamp": message.published_at,
        "seq": message.seq,
        "msg_id": message.msg_id,
        "data": data,
    })
    .to_string()
}

/// The parsed filters of an endpoint as stored.
pub(super) fn parsed(filters: &[String]) -> Result<Vec<topics::Filter>> {
    filters
        .iter()
        .map(|f| {
            topics::Filter::parse(f)
                .map_err(|m| WebhooksError::Internal(anyhow::anyhow!("stored filter {f:?}: {m}")))
        })
        .collect()
}

fn view(row: webhook_endpoints::Model) -> WebhookView {
    WebhookView {
        id: row.id,
        url: row.url,
        filters: row.filters.0,
        description: row.description,
        status: row.status,
        disabled_reason: row.disabled_reason,
        disabled_at: row.disabled_at,
        failing_since: row.failing_since,
        last_success_at: row.last_success_at,
        cursor: row.cursor,
        created_at: row.created_at,
    }
}

fn delivery_view(row: webhook_deliveries::Model) -> Result<WebhookDeliveryView> {
    Ok(WebhookDeliveryView {
        message_id: message_id(row.seq),
        attempts: u32::try_from(row.attempts).map_err(|_| {
            WebhooksError::Internal(anyhow::anyhow!("stored attempts {} out of range", row.attempts))
        })?,
        id: row.id,
        webhook_id: row.endpoint_id,
        seq: row.seq,
        topic: row.topic,
        status: row.status,
        next_attempt_at: row.next_attempt_at,
        created_at: row.created_at,
    })
}

/// A new pending delivery of `message` to `endpoint`, due now.
pub(super) fn new_delivery(
    endpoint: &webhook_endpoints::Model,
    seq: i64,
    topic: String,
    payload: String,
    now: DateTime<Utc>,
) -> webhook_deliveries::Model {
    webhook_deliveries::Model {
        id: WebhookDeliveryId::new(uuid::Uuid::now_v7().to_string()),
        endpoint_id: endpoint.id.clone(),
        account_id: endpoint.account_id.clone(),
        seq,
        topic,
        payload,
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(now),
        created_at: now,
    }
}

impl Webhooks {
    pub fn new(
        db: DatabaseConnection,
        events: Arc<Events>,
        egress: Arc<EgressPolicy>,
        secrets: WebhookSecrets,
        settings: WebhookSettings,
    ) -> Self {
        // Built like the executor's clients: the egress resolver, no proxies, no redirects.
        let client = crate::egress::client_builder(egress.clone())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent("web4-webhooks/1")
            .build()
            .expect("a TLS backend is compiled in");
        Self {
            db,
            events,
            egress,
            secrets,
            settings,
            client,
            in_flight: InFlight::default(),
            wake: tokio::sync::Notify::new(),
        }
    }

    /// Checks an endpoint's URL, filters and description.
    fn check(&self, account: &AccountId, url: &str, filters: &[String], description: &str) -> Result<()> {
        if url.len() > MAX_URL {
            return Err(WebhooksError::field("url", &format!("At most {MAX_URL} bytes.")));
        }
        if let Err(refusal) = self.egress.check_url(url) {
            return Err(WebhooksError::field(
                "url",
                &format!("Deliveries can never reach this URL: {refusal}"),
            ));
        }
        if filters.is_empty() || filters.len() > MAX_FILTERS {
            return Err(WebhooksError::field("filters", &format!("1 to {MAX_FILTERS} topic filters.")));
        }
        for filter in filters {
            topics::readable(account, filter)?;
        }
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(WebhooksError::field("description", &format!("Up to {MAX_DESCRIPTION} characters.")));
        }
        Ok(())
    }

    async fn endpoint(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        account: &AccountId,
        id: &WebhookId,
    ) -> Result<webhook_endpoints::Model> {
        db::webhooks::endpoint(db, account, id).await?.ok_or(WebhooksError::NotFound("webhook endpoint"))
    }

    /// Creates an endpoint that receives messages published from now on; answers its secret,
    /// the only time it is shown.
    pub async fn create(&self, account: &AccountId, input: NewWebhook) -> Result<WebhookCreated> {
        self.check(account, &input.url, &input.filters, &input.description)?;
        if db::webhooks::count_endpoints(&self.db, account).await? >= self.settings.max_per_account {
            return Err(WebhooksError::LimitReached(self.settings.max_per_account));
        }
        let now = Utc::now();
        let row = webhook_endpoints::Model {
            id: WebhookId::new(uuid::Uuid::now_v7().to_string()),
            account_id: account.clone(),
            url: input.url,
            filters: webhook_endpoints::Filters(input.filters),
            description: input.description,
            status: if input.enabled { WebhookStatus::Enabled } else { WebhookStatus::Disabled },
            disabled_reason: (!input.enabled).then(|| "Disabled by its owner.".to_owned()),
            disabled_at: (!input.enabled).then_some(now),
            failing_since: None,
            last_success_at: None,
            secret_generation: 1,
            cursor: self.events.last_seq().await?,
            created_at: now,
        };
        db::webhooks::insert_endpoint(&self.db, row.clone()).await?;
        let secret = self.secrets.secret(&row.id, row.secret_generation);
        Ok(WebhookCreated { webhook: view(row), secret })
    }

    /// The account's endpoints, newest first.
    pub async fn list(&self, account: &AccountId) -> Result<Vec<WebhookView>> {
        Ok(db::webhooks::endpoints(&self.db, account).await?.into_iter().map(view).collect())
    }

    pub async fn get(&self, account: &AccountId, id: &WebhookId) -> Result<WebhookView> {
        Ok(view(self.endpoint(&self.db, account, id).await?))
    }

    /// Changes an endpoint's URL, filters or description.
    pub async fn update(
        &self,
        account: &AccountId,
        id: &WebhookId,
        input: WebhookUpdate,
    ) -> Result<WebhookView> {
        let txn = self.db.begin().await?;
        let mut row = self.endpoint(&txn, account, id).await?;
        if let Some(url) = input.url {
            row.url = url;
        }
        if let Some(filters) = input.filters {
            row.filters = webhook_endpoints::Filters(filters);
        }
        if let Some(description) = input.description {
            row.description = description;
        }
        self.check(account, &row.url, &row.filters.0, &row.description)?;
        db::webhooks::save_endpoint(&txn, row.clone()).await?;
        txn.commit().await?;
        Ok(view(row))
    }

    /// Deletes an endpoint with its deliveries and their attempts.
    pub async fn delete(&self, account: &AccountId, id: &WebhookId) -> Result<()> {
        if db::webhooks::delete_endpoint(&self.db, account, id).await? {
            Ok(())
        } else {
            Err(WebhooksError::NotFound("webhook endpoint"))
        }
    }

    /// A new signing secret (the old one stops at once); answers it, the only time it is shown.
    pub async fn rotate_secret(&self, account: &AccountId, id: &WebhookId) -> Result<WebhookCreated> {
        let txn = self.db.begin().await?;
        let mut row = self.endpoint(&txn, account, id).await?;
        row.secret_generation = row.secret_generation.saturating_add(1);
        db::webhooks::save_endpoint(&txn, row.clone()).await?;
        txn.commit().await?;
        let secret = self.secrets.secret(&row.id, row.secret_generation);
        Ok(WebhookCreated { webhook: view(row), secret })
    }

    /// Stops deliveries (pending ones wait; see [`Webhooks::enable`]).
    pub async fn disable(&self, account: &AccountId, id: &WebhookId) -> Result<WebhookView> {
        let txn = self.db.begin().await?;
        let mut row = self.endpoint(&txn, account, id).await?;
        if row.status == WebhookStatus::Enabled {
            row.status = WebhookStatus::Disabled;
            row.disabled_reason = Some("Disabled by its owner.".into());
            row.disabled_at = Some(Utc::now());
            db::webhooks::save_endpoint(&txn, row.clone()).await?;
        }
        txn.commit().await?;
        Ok(view(row))
    }

    /// Turns an endpoint back on. With `replay_missed`, every matching message since its last
    /// success (or since it was created, if it never had one) is delivered again, and what was
    /// published while it was off follows; without, it resumes with messages published from
    /// now on. Deliveries still waiting are marked failed either way (a replay sends them
    /// again as new deliveries).
    pub async fn enable(
        &self,
        account: &AccountId,
        id: &WebhookId,
        input: EnableWebhook,
    ) -> Result<WebhookView> {
        // The log is read before the transaction: the database has one connection, which the
        // transaction holds.
        let before = self.endpoint(&self.db, account, id).await?;
        if before.status == WebhookStatus::Enabled {
            return Ok(view(before));
        }
        let (missed, last_seq) = if input.replay_missed {
            let since = before.last_success_at.unwrap_or(before.created_at);
            let after = self.events.seq_before(account, since).await?;
            (self.matching(&before, after).await?, None)
        } else {
            (Vec::new(), Some(self.events.last_seq().await?))
        };
        let txn = self.db.begin().await?;
        let mut row = self.endpoint(&txn, account, id).await?;
        if row.status == WebhookStatus::Enabled {
            return Ok(view(row));
        }
        db::webhooks::fail_pending(&txn, &row.id).await?;
        row.status = WebhookStatus::Enabled;
        row.disabled_reason = None;
        row.disabled_at = None;
        row.failing_since = None;
        if let Some(seq) = last_seq {
            row.cursor = seq;
        }
        db::webhooks::save_endpoint(&txn, row.clone()).await?;
        Self::queue(&txn, &row, missed).await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(view(row))
    }

    /// The endpoint's matching messages after `after_seq` up to its cursor (those after the
    /// cursor are delivered anyway), at most [`MAX_REPLAY`].
    async fn matching(
        &self,
        endpoint: &webhook_endpoints::Model,
        after_seq: i64,
    ) -> Result<Vec<MessageView>> {
        let filters = parsed(&endpoint.filters.0)?;
        let mut cursor = after_seq;
        let mut found = Vec::new();
        'pages: while cursor < endpoint.cursor {
            let page = self.events.after(&endpoint.account_id, cursor, PAGE).await?;
            let Some(last) = page.last() else { break };
            cursor = last.seq;
            for message in page {
                if message.seq > endpoint.cursor || found.len() >= MAX_REPLAY {
                    break 'pages;
                }
                if filters.iter().any(|f| f.matches(&message.topic)) {
                    found.push(message);
                }
            }
        }
        Ok(found)
    }

    /// New deliveries of `messages` to `endpoint`.
    async fn queue(
        db: &impl sea_orm::ConnectionTrait,
        endpoint: &webhook_endpoints::Model,
        messages: Vec<MessageView>,
    ) -> Result<u64> {
        let now = Utc::now();
        let count = messages.len() as u64;
        for message in messages {
            let body = payload(&message);
            db::webhooks::insert_delivery(db, new_delivery(endpoint, message.seq, message.topic, body, now))
                .await?;
        }
        Ok(count)
    }

    /// Delivers again the endpoint's matching messages after a sequence number or since a
    /// time (new deliveries: the same `webhook-id`, a fresh timestamp and signature).
    pub async fn replay(
        &self,
        account: &AccountId,
        id: &WebhookId,
        input: ReplayWebhook,
    ) -> Result<Replayed> {
        let endpoint = self.endpoint(&self.db, account, id).await?;
        let after = match (input.since_seq, input.since) {
            (Some(_), Some(_)) => {
                return Err(WebhooksError::field("since", "Give since_seq or since, not both."));
            }
            (None, None) => return Err(WebhooksError::field("since", "Give since_seq or since.")),
            (Some(seq), None) => seq.max(0),
            (None, Some(time)) => self.events.seq_before(account, time).await?,
        };
        let messages = self.matching(&endpoint, after).await?;
        let txn = self.db.begin().await?;
        let deliveries = Self::queue(&txn, &endpoint, messages).await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(Replayed { deliveries })
    }

    /// Delivers one delivery's message again (a new delivery with the same body and
    /// `webhook-id`, a fresh timestamp and signature).
    pub async fn replay_delivery(
        &self,
        account: &AccountId,
        id: &WebhookId,
        delivery: &WebhookDeliveryId,
    ) -> Result<WebhookDeliveryView> {
        let endpoint = self.endpoint(&self.db, account, id).await?;
        let old = db::webhooks::delivery(&self.db, account, id, delivery)
            .await?
            .ok_or(WebhooksError::NotFound("delivery"))?;
        let row = new_delivery(&endpoint, old.seq, old.topic, old.payload, Utc::now());
        db::webhooks::insert_delivery(&self.db, row.clone()).await?;
        self.wake.notify_one();
        delivery_view(row)
    }

    /// A page of the endpoint's deliveries, newest first.
    pub async fn deliveries(
        &self,
        account: &AccountId,
        id: &WebhookId,
        query: DeliveriesQuery,
    ) -> Result<Page<WebhookDeliveryView>> {
        let before = pagination::before(query.cursor.as_deref())
            .map_err(|e| WebhooksError::field("cursor", &e.to_string()))?;
        let limit = pagination::limit(query.limit);
        self.endpoint(&self.db, account, id).await?;
        let rows = db::webhooks::deliveries(&self.db, account, id, query.status, before, limit).await?;
        let page = pagination::finish(rows, limit, |r| &r.id, Ok);
        let items =
            page.items.into_iter().map(|r: Result<_>| r.and_then(delivery_view)).collect::<Result<_>>()?;
        Ok(Page { items, next_cursor: page.next_cursor })
    }

    /// Every attempt of one delivery, oldest first.
    pub async fn attempts(
        &self,
        account: &AccountId,
        id: &WebhookId,
        delivery: &WebhookDeliveryId,
    ) -> Result<Vec<WebhookAttemptView>> {
        db::webhooks::delivery(&self.db, account, id, delivery)
            .await?
            .ok_or(WebhooksError::NotFound("delivery"))?;
        db::webhooks::attempts(&self.db, delivery)
            .await?
            .into_iter()
            .map(|a| {
                let bad = |what: &str| {
                    WebhooksError::Internal(anyhow::anyhow!("stored attempt {what} out of range"))
                };
                Ok(WebhookAttemptView {
                    attempted_at: a.attempted_at,
                    status_code: a
                        .status_code
                        .map(|s| u16::try_from(s).map_err(|_| bad("status")))
                        .transpose()?,
                    error: a.error,
                    latency_ms: u64::try_from(a.latency_ms).map_err(|_| bad("latency"))?,
                    response_snippet: a.response_snippet,
                })
            })
            .collect()
    }
}
