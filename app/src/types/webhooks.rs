//! Signed webhooks on the wire: endpoints that receive an account's events by HTTP POST, signed
//! after the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256>`), their deliveries and every attempt of each.
//!
//! The body of every delivery is JSON:
//! `{"type": <topic>, "timestamp": <published at, RFC 3339>, "seq": <sequence number>,
//! "msg_id": <the publisher's message id or null>, "data": <the message's data>}` — `data` is the
//! JSON value when the message's data is JSON, else the text as a JSON string. `webhook-id` is
//! `evt_<seq>`: the same for every delivery of one message (retries and replays), so receivers
//! can deduplicate.
use super::ids::{WebhookDeliveryId, WebhookId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An endpoint to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewWebhook {
    /// Where deliveries are POSTed: an `http(s)` URL the platform's egress policy allows.
    pub url: String,
    /// 1–10 topic filters (`*` one segment, `>` the rest), on topics the account may read:
    /// its `acct.<id>.…` topics, `platform.…` and its dead letters.
    pub filters: Vec<String>,
    /// Up to 256 characters.
    #[serde(default)]
    pub description: String,
    /// Deliver at once (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Changes to an endpoint: only the fields given change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookUpdate {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub filters: Option<Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
}

/// Turning an endpoint back on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnableWebhook {
    /// Deliver again every matching message since the endpoint's last success (or since it
    /// started failing); without it, delivery resumes with messages published from now on.
    #[serde(default)]
    pub replay_missed: bool,
}

/// Delivering again the messages of an endpoint from a point on: give `since_seq` or
/// `since`, not both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReplayWebhook {
    /// Messages with a larger sequence number than this.
    #[serde(default)]
    pub since_seq: Option<i64>,
    /// Messages published at or after this time (RFC 3339).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
}

/// What a bulk replay queued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Replayed {
    /// New deliveries created.
    pub deliveries: u64,
}

/// Whether an endpoint receives deliveries.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case"))]
pub enum WebhookStatus {
    Enabled,
    /// By its owner, or by the platform after failing continuously (see `disabled_reason`).
    Disabled,
}

/// An endpoint as its owner sees it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookView {
    pub id: WebhookId,
    pub url: String,
    pub filters: Vec<String>,
    pub description: String,
    pub status: WebhookStatus,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Since when every attempt has failed (none while the last one succeeded).
    pub failing_since: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// The last sequence number of the log the endpoint has been matched against.
    pub cursor: i64,
    pub created_at: DateTime<Utc>,
}

/// An endpoint with its signing secret: the answer of create and rotate, the only time the
/// secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookCreated {
    pub webhook: WebhookView,
    /// `whsec_<base64 key>`: verify deliveries with it (any Standard Webhooks library).
    pub secret: String,
}

/// Where a delivery stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case"))]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// A 2xx answered it.
    Succeeded,
    /// Every attempt of the retry schedule failed (or the endpoint was re-enabled without
    /// replay while it waited).
    Failed,
}

/// One delivery of one message to one endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookDeliveryView {
    pub id: WebhookDeliveryId,
    pub webhook_id: WebhookId,
    /// The `webhook-id` header: `evt_<seq>`.
    pub message_id: String,
    pub seq: i64,
    pub topic: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// One attempt of a delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookAttemptView {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// Why there is no status: `timeout`, `connect`, `egress_refused`, `broken_answer`.
    pub error: Option<String>,
    pub latency_ms: u64,
    /// The first KiB of the receiver's answer, as text.
    pub response_snippet: String,
}

/// Which deliveries a list returns, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct DeliveriesQuery {
    /// Only deliveries in this status.
    #[serde(default)]
    pub status: Option<DeliveryStatus>,
    /// 1–100 (default 20).
    #[serde(default)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

impl DeliveryStatus {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        [DeliveryStatus::Pending, DeliveryStatus::Succeeded, DeliveryStatus::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// The portal's webhooks page: the account's endpoints, and one just created by a plain form
/// post (with its secret, once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksView {
    pub endpoints: Vec<WebhookView>,
    pub created: Option<WebhookCreated>,
}

/// The portal's page of one endpoint: a page of its deliveries (newest first, in `status`
/// when given), each with its attempts (oldest first), and a secret just rotated by a plain
/// form post, once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDetailView {
    pub webhook: WebhookView,
    pub deliveries: Vec<(WebhookDeliveryView, Vec<WebhookAttemptView>)>,
    pub next_cursor: Option<String>,
    pub status: Option<DeliveryStatus>,
    pub rotated: Option<WebhookCreated>,
}
