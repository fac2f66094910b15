//! The dispatcher: a background task that, every `poll_every` (or at once when a use case
//! queued something), matches each enabled endpoint against the log after its cursor and
//! persists a delivery per matching message (so a restart resumes where it stopped), then
//! sends the due deliveries — each attempt its own task, at most `max_concurrent` in flight and
//! `max_concurrent_per_endpoint` per endpoint, so a slow receiver holds a few slots and never
//! the others' — and records every attempt: success, a retry after the jittered backoff, or
//! `failed` when the schedule is exhausted; an endpoint whose every attempt failed for
//! `disable_after` is disabled.
use super::{
    Webhooks, WebhooksError,
    application::{PAGE, new_delivery, parsed, payload},
    retry,
    signing::{self, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER},
};
use crate::{
    db::{
        self,
        entities::{webhook_attempts, webhook_deliveries, webhook_endpoints},
    },
    egress::refusal_in,
};
use app::types::webhooks::{DeliveryStatus, WebhookStatus};
use chrono::Utc;
use sea_orm::{ActiveValue::NotSet, Set, TransactionTrait};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

type Result<T> = std::result::Result<T, WebhooksError>;

/// The most bytes of an answer kept in the attempt log.
pub const SNIPPET_BYTES: usize = 1024;
/// Messages matched per endpoint per pass (the rest wait for the next pass).
const SCAN_PER_PASS: usize = 2000;
/// Due deliveries looked at per pass.
const DUE_PER_PASS: u64 = 512;
/// How often retention runs.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// What one attempt got.
#[derive(Debug)]
struct Outcome {
    status: Option<u16>,
    error: Option<&'static str>,
    latency: Duration,
    snippet: String,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    fn failed(error: &'static str, started: Instant) -> Self {
        Self { status: None, error: Some(error), latency: started.elapsed(), snippet: String::new() }
    }
}

/// The kind of a failed call, never the OS's words (they would make webhooks a port
/// scanner's probe).
fn error_kind(err: &reqwest::Error) -> &'static str {
    if refusal_in(err).is_some() {
        "egress_refused"
    } else if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else {
        "broken_answer"
    }
}

impl Webhooks {
    /// Runs the dispatcher until the task is aborted.
    pub fn start(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let webhooks = self.clone();
        tokio::spawn(async move {
            let slots = Arc::new(tokio::sync::Semaphore::new(webhooks.settings.max_concurrent));
            let mut pruned = Instant::now();
            loop {
                if let Err(err) = webhooks.pass(&slots).await {
                    tracing::warn!(error = %err, "webhook dispatch failed");
                }
                if pruned.elapsed() >= PRUNE_EVERY {
                    pruned = Instant::now();
                    if let Err(err) = webhooks.prune().await {
                        tracing::warn!(error = %err, "webhook retention failed");
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(webhooks.settings.poll_every) => {}
                    () = webhooks.wake.notified() => {}
                }
            }
        })
    }

    /// One pass: new deliveries for every enabled endpoint, then the due ones sent.
    pub async fn pass(self: &Arc<Self>, slots: &Arc<tokio::sync::Semaphore>) -> Result<()> {
        for endpoint in db::webhooks::enabled_endpoints(&self.db).await? {
            if let Err(err) = self.scan(&endpoint).await {
                tracing::warn!(webhook_id = %endpoint.id, error = %err, "matching an endpoint failed");
            }
        }
        self.send_due(slots).await
    }

    /// Persists a delivery per message after the endpoint's cursor that its filters match,
    /// and moves the cursor past what it read.
    async fn scan(&self, endpoint: &webhook_endpoints::Model) -> Result<()> {
        let filters = parsed(&endpoint.filters.0)?;
        let mut cursor = endpoint.cursor;
        let mut read = 0;
        while read < SCAN_PER_PASS {
            let page = self.events.after(&endpoint.account_id, cursor, PAGE).await?;
            let Some(last) = page.last() else { break };
            let next = last.seq;
            let full = page.len() == PAGE;
            read += page.len();
            let now = Utc::now();
            let txn = self.db.begin().await?;
            // Only while still enabled and at the cursor this pass read from: a use case
            // (enable, update) may have moved it meanwhile.
            match db::webhooks::endpoint(&txn, &endpoint.account_id, &endpoint.id).await? {
                Some(current) if current.status == WebhookStatus::Enabled && current.cursor == cursor => {}
                _ => return Ok(()),
            }
            for message in page {
                if filters.iter().any(|f| f.matches(&message.topic)) {
                    let body = payload(&message);
                    let row = new_delivery(endpoint, message.seq, message.topic, body, now);
                    db::webhooks::insert_delivery(&txn, row).await?;
                }
            }
            db::webhooks::set_cursor(&txn, &endpoint.id, next).await?;
            txn.commit().await?;
            cursor = next;
            if !full {
                break;
            }
        }
        Ok(())
    }

    /// Starts an attempt for each due delivery there is a slot for.
    async fn send_due(self: &Arc<Self>, slots: &Arc<tokio::sync::Semaphore>) -> Result<()> {
        let per_endpoint = self.settings.max_concurrent_per_endpoint;
        for delivery in db::webhooks::due_deliveries(&self.db, Utc::now(), DUE_PER_PASS).await? {
            let Ok(slot) = slots.clone().try_acquire_owned() else { break };
            if !self.in_flight.claim(&delivery, per_endpoint) {
                continue;
            }
            let webhooks = self.clone();
            tokio::spawn(async move {
                if let Err(err) = webhooks.attempt(&delivery).await {
                    tracing::warn!(delivery_id = %delivery.id, error = %err, "a webhook attempt was not recorded");
                }
                webhooks.in_flight.release(&delivery);
                drop(slot);
                // The slot may let a waiting delivery go.
                webhooks.wake.notify_one();
            });
        }
        Ok(())
    }

    /// Sends one delivery and records what came of it.
    async fn attempt(&self, delivery: &webhook_deliveries::Model) -> Result<()> {
        let Some(endpoint) =
            db::webhooks::endpoint(&self.db, &delivery.account_id, &delivery.endpoint_id).await?
        else {
            return Ok(());
        };
        if endpoint.status != WebhookStatus::Enabled {
            return Ok(());
        }
        let outcome = self.send(&endpoint, delivery).await;
        self.record(delivery, outcome).await
    }

    async fn send(
        &self,
        endpoint: &webhook_endpoints::Model,
        delivery: &webhook_deliveries::Model,
    ) -> Outcome {
        let started = Instant::now();
        // A literal address never reaches the resolver: checked here (names are checked by
        // the resolver at connect time).
        if self.egress.check_target(&endpoint.url).await.is_err() {
            return Outcome::failed("egress_refused", started);
        }
        let key = self.secrets.key(&endpoint.id, endpoint.secret_generation);
        let msg_id = super::application::message_id(delivery.seq);
        let timestamp = Utc::now().timestamp();
        let signature = signing::sign(&key, &msg_id, timestamp, delivery.payload.as_bytes());
        let sent = self
            .client
            .post(&endpoint.url)
            .header(ID_HEADER, &msg_id)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(delivery.payload.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(err) => return Outcome::failed(error_kind(&err), started),
        };
        let status = response.status().as_u16();
        let mut snippet = Vec::new();
        let mut error = None;
        while snippet.len() < SNIPPET_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => snippet.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(err) => {
                    error = Some(error_kind(&err));
                    break;
                }
            }
        }
        snippet.truncate(SNIPPET_BYTES);
        Outcome {
            status: Some(status),
            // An answer that broke off still has its status; the error only says so.
            error: error.filter(|_| !(200..300).contains(&status)),
            latency: started.elapsed(),
            snippet: String::from_utf8_lossy(&snippet).into_owned(),
        }
    }

    /// Records the attempt, schedules the next one or settles the delivery, and keeps the
    /// endpoint's failure run (disabling it past `disable_after`).
    async fn record(&self, delivery: &webhook_deliveries::Model, outcome: Outcome) -> Result<()> {
        let now = Utc::now();
        let succeeded = outcome.succeeded();
        let attempts = delivery.attempts.saturating_add(1);
        let wait = if succeeded {
            None
        } else {
            retry::wait_after(
                &self.settings.retry_schedule,
                u32::try_from(attempts).unwrap_or(u32::MAX),
                &mut rand::thread_rng(),
            )
        };
        let txn = self.db.begin().await?;
        db::webhooks::insert_attempt(
            &txn,
            webhook_attempts::ActiveModel {
                id: NotSet,
                delivery_id: Set(delivery.id.clone()),
                attempted_at: Set(now),
                status_code: Set(outcome.status.map(i32::from)),
                error: Set(outcome.error.map(str::to_owned)),
                latency_ms: Set(i64::try_from(outcome.latency.as_millis()).unwrap_or(i64::MAX)),
                response_snippet: Set(outcome.snippet),
            },
        )
        .await?;
        let (status, next_attempt_at) = match (succeeded, wait) {
            (true, _) => (DeliveryStatus::Succeeded, None),
            (false, Some(wait)) => (DeliveryStatus::Pending, Some(now + wait)),
            (false, None) => (DeliveryStatus::Failed, None),
        };
        crate::observability::metrics::webhook_attempt(match status {
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Pending => "retrying",
            DeliveryStatus::Failed => "failed",
        });
        let row = webhook_deliveries::Model { attempts, status, next_attempt_at, ..delivery.clone() };
        db::webhooks::save_delivery(&txn, row).await?;
        if let Some(mut endpoint) =
            db::webhooks::endpoint(&txn, &delivery.account_id, &delivery.endpoint_id).await?
        {
            if succeeded {
                endpoint.last_success_at = Some(now);
                endpoint.failing_since = None;
            } else {
                let since = *endpoint.failing_since.get_or_insert(now);
                let limit =
                    chrono::Duration::from_std(self.settings.disable_after).unwrap_or(chrono::Duration::MAX);
                if endpoint.status == WebhookStatus::Enabled && now - since >= limit {
                    endpoint.status = WebhookStatus::Disabled;
                    endpoint.disabled_at = Some(now);
                    endpoint.disabled_reason = Some(format!(
                        "Every delivery attempt failed since {} (for longer than {} s).",
                        since.to_rfc3339(),
                        self.settings.disable_after.as_secs()
                    ));
                    tracing::info!(webhook_id = %endpoint.id, "a failing webhook endpoint was disabled");
                }
            }
            db::webhooks::save_endpoint(&txn, endpoint).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Forgets settled deliveries older than `keep_deliveries_for`; answers how many went.
    pub async fn prune(&self) -> Result<u64> {
        let keep =
            chrono::Duration::from_std(self.settings.keep_deliveries_for).unwrap_or(chrono::Duration::MAX);
        Ok(db::webhooks::prune_deliveries(&self.db, Utc::now() - keep).await?)
    }
}
