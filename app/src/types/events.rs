//! The event log on the wire: publishing, replaying, durable consumers and their deliveries.
//!
//! Topics are dot-separated segments of `A–Z a–z 0–9 _ -`. An account publishes under
//! `acct.<its id>.…`; `platform.…` (what the platform says about the account's resources) and
//! `dlq.<consumer>` (dead letters) are written by the platform only. A filter may use `*` for
//! one segment and `>` (last) for one or more. Every account sees its own messages only.
use super::ids::ConsumerId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A message to publish on a topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewMessage {
    /// The payload, as text (up to 256 KiB; JSON is usual).
    pub data: String,
    /// Publishing the same id again within two minutes stores nothing and answers the first
    /// message's sequence number (`duplicate: true`). Up to 128 characters.
    #[serde(default)]
    pub msg_id: Option<String>,
    /// Up to 16 headers, names up to 64 and values up to 1024 characters.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// What a publish stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Published {
    pub seq: i64,
    pub topic: String,
    /// The message id was seen within the window: nothing new was stored.
    pub duplicate: bool,
}

/// A stored message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MessageView {
    pub seq: i64,
    pub topic: String,
    pub data: String,
    pub headers: BTreeMap<String, String>,
    pub msg_id: Option<String>,
    pub published_at: DateTime<Utc>,
}

/// Which messages a replay returns: those after a sequence number or a time, on topics the
/// filter matches. Reading never moves a consumer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct ReplayQuery {
    /// A topic filter (`>` by default: everything the account may see).
    #[serde(default)]
    pub filter: Option<String>,
    /// Messages with a larger sequence number than this.
    #[serde(default)]
    pub after_seq: Option<i64>,
    /// Messages published at or after this time (RFC 3339).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// 1–100 (default 100).
    #[serde(default)]
    pub limit: Option<u64>,
}

/// Where a new consumer starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "from")]
pub enum DeliverFrom {
    /// Every message still kept.
    All,
    /// Only messages published after the consumer was made.
    #[default]
    New,
    /// Messages with a sequence number of at least `seq`.
    Seq { seq: i64 },
    /// Messages published at or after `time`.
    Time { time: DateTime<Utc> },
}

/// A durable consumer to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewConsumer {
    /// Unique in the account: 1–64 of `A–Z a–z 0–9 _ -`.
    pub name: String,
    /// The topics it receives (wildcards allowed).
    pub filter: String,
    #[serde(default)]
    pub deliver: DeliverFrom,
    /// How long a fetched message waits for its ack before it is delivered again
    /// (100 ms – 12 h; default 30 s).
    #[serde(default)]
    pub ack_wait_ms: Option<u32>,
    /// The wait before each redelivery, in order (the last repeats); replaces `ack_wait_ms`
    /// after the first delivery. Up to 10 steps of 100 ms – 12 h.
    #[serde(default)]
    pub backoff_ms: Option<Vec<u32>>,
    /// Deliveries before the message goes to `dlq.<name>` (1–100; default 5).
    #[serde(default)]
    pub max_deliver: Option<u32>,
}

/// A durable consumer and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConsumerView {
    pub id: ConsumerId,
    pub name: String,
    pub filter: String,
    pub ack_wait_ms: u32,
    pub backoff_ms: Vec<u32>,
    pub max_deliver: u32,
    /// The last sequence number it has been handed (or skipped as not matching).
    pub cursor: i64,
    /// Delivered and not yet acknowledged or terminated.
    pub pending: u64,
    /// Messages after its cursor that its filter matches: not yet handed out (counted over the
    /// next 10 000 messages of the account at most).
    pub lag: u64,
    /// The dead-letter topic of its messages.
    pub dead_letter_topic: String,
    pub created_at: DateTime<Utc>,
}

/// How many messages a fetch may return.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FetchRequest {
    /// 1–100 (default 10).
    #[serde(default)]
    pub batch: Option<u32>,
}

/// A message handed to a consumer: settle it with ack, nak or term.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub message: MessageView,
    /// 1 on the first delivery.
    pub delivery: u32,
    /// When it is delivered again unless settled.
    pub ack_by: DateTime<Utc>,
}

/// Settling a delivery: `ack` (done), `nak` (deliver again, after `delay_ms` if given) or
/// `term` (never again: it goes to the dead-letter topic with `reason`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Settle {
    #[serde(default)]
    pub delay_ms: Option<u32>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// The header names a dead letter carries: why, after how many deliveries, and where from.
pub mod dead_letter {
    pub const REASON: &str = "dlq-reason";
    pub const DELIVERIES: &str = "dlq-deliveries";
    pub const TOPIC: &str = "dlq-topic";
    pub const SEQ: &str = "dlq-seq";
    pub const CONSUMER: &str = "dlq-consumer";
}

/// The portal's events page: the newest messages, the consumers with their lag, and the
/// newest dead letters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsOverview {
    /// Newest first.
    pub recent: Vec<MessageView>,
    pub consumers: Vec<ConsumerView>,
    /// Newest first; each names its reason, delivery count, topic and sequence in its headers.
    pub dead_letters: Vec<MessageView>,
}
