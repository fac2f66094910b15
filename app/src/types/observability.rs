//! Observability on the wire: request history per service and per node (per-minute rollups,
//! kept across restarts), recent invoke traces with their path through the mesh, and drops
//! by reason. A developer sees the services it owns and the calls it made; the operator sees
//! the nodes, the drops and every trace.
use super::ids::{NodeId, ServiceId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How far back a chart reaches. Points are a minute apart for an hour, five minutes for a
/// day and an hour for a week.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Window {
    #[default]
    Hour,
    Day,
    Week,
}

impl Window {
    /// Every window, shortest first.
    pub const ALL: [Window; 3] = [Window::Hour, Window::Day, Window::Week];

    /// The stable machine name (`hour`, `day`, `week`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The whole window, in seconds.
    pub fn span_secs(self) -> u32 {
        match self {
            Window::Hour => 3_600,
            Window::Day => 86_400,
            Window::Week => 7 * 86_400,
        }
    }

    /// The time between two points of a chart, in seconds.
    pub fn step_secs(self) -> u32 {
        match self {
            Window::Hour => 60,
            Window::Day => 300,
            Window::Week => 3_600,
        }
    }
}

/// Requests in one step of a chart. Latencies are those the entry node measured, from the
/// call's arrival to its answer; `None` when the step had no requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SeriesPoint {
    /// The step's start.
    pub at: DateTime<Utc>,
    pub requests: u64,
    /// Answers with a status of 500 or more, and calls the platform could not complete.
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// A window's totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequestTotals {
    pub requests: u64,
    pub errors: u64,
    /// `errors / requests` (0 with no requests).
    pub error_rate: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// One of the accounts that called a service most in the window, from the usage events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TopConsumer {
    /// The consumer's display name (its email), or "you" for the owner's own calls.
    pub consumer: String,
    pub calls: u64,
}

/// A service's request history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceMetricsView {
    pub service_id: ServiceId,
    pub service_name: String,
    pub window: Window,
    /// Oldest first, one per step, steps without requests included.
    pub points: Vec<SeriesPoint>,
    pub totals: RequestTotals,
    /// At most ten, most calls first.
    pub top_consumers: Vec<TopConsumer>,
}

/// What a node carried in one step of a chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodePoint {
    pub at: DateTime<Utc>,
    /// Invokes this node took as the entry node.
    pub requests: u64,
    pub errors: u64,
    /// Envelopes this node forwarded for others.
    pub forwarded: u64,
    /// Envelopes dropped at this node, every reason.
    pub drops: u64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// Drops for one reason over a window (`no_route`, `backpressure`, `hop_limit`, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DropSeries {
    pub reason: String,
    pub total: u64,
    /// One count per step, oldest first, aligned with the view's steps.
    pub counts: Vec<u64>,
}

/// A node's history, for the operator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodeMetricsView {
    pub node_id: NodeId,
    pub window: Window,
    pub points: Vec<NodePoint>,
    pub drops: Vec<DropSeries>,
}

/// Drops by reason across the mesh, for the operator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DropsView {
    pub window: Window,
    /// The steps' starts, oldest first.
    pub steps: Vec<DateTime<Utc>>,
    /// Every reason seen in the window, most drops first.
    pub reasons: Vec<DropSeries>,
}

/// Which traces a list shows.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum TraceStatus {
    /// Every trace.
    #[default]
    Any,
    /// Answered with a status below 400.
    Ok,
    /// Answered 4xx.
    ClientError,
    /// Answered 5xx by the upstream or the platform, or not completed (dropped, timed out).
    Error,
}

/// A trace list's filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct TraceQuery {
    /// Only calls to this service.
    #[serde(default)]
    pub service: Option<ServiceId>,
    #[serde(default)]
    pub status: TraceStatus,
    /// Only calls that took at least this many milliseconds (at most an hour: no call lasts longer).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(maximum = 3_600_000))]
    pub min_ms: Option<u32>,
    /// 1–100 (default 50), newest first.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
}

/// The largest `min_ms` a trace filter takes (an hour: no call lasts longer).
pub const MAX_TRACE_MIN_MS: u32 = 3_600_000;

/// One recorded call, as a list shows it. Never its body, headers or query string.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TraceSummary {
    /// W3C trace id: 32 lowercase hex digits (the caller's, when it sent a `traceparent`).
    pub trace_id: String,
    pub invoke_id: String,
    pub service_id: ServiceId,
    pub service_name: String,
    pub method: String,
    /// The path after the service reference, without the query string.
    pub path: String,
    /// The status the caller got.
    pub status: u16,
    /// The platform's error code when the platform answered instead of the upstream
    /// (`mesh_dropped`, `upstream_timeout`, `egress_refused`, …).
    pub error_code: Option<String>,
    pub started_at: DateTime<Utc>,
    pub duration_ms: f64,
    /// Placements tried.
    pub attempts: u32,
    /// Nodes the answering attempt crossed, entry first.
    pub route: Vec<NodeId>,
}

/// What one span of a trace stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SpanKind {
    /// The entry node: authentication, admission, picking a placement, the answer.
    Gateway,
    /// One attempt at a placement, through the mesh and back.
    Attempt,
    /// The request crossing one link of the mesh (to `node`).
    Hop,
    /// The hosting node's executor, around the upstream call.
    Host,
    /// The upstream's own time, as the hosting node measured it.
    Upstream,
    /// The answer crossing the mesh back to the entry node.
    Reply,
}

/// One timed step of a call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TraceSpan {
    pub kind: SpanKind,
    /// What the timeline shows, e.g. "hop to 12D3…abcd" or "upstream 200".
    pub name: String,
    /// The node it ran on (or reached, for a hop).
    pub node: Option<NodeId>,
    /// Which attempt (1-based) it belongs to; 0 for the gateway.
    pub attempt: u32,
    /// Milliseconds after the call started.
    pub start_ms: f64,
    pub duration_ms: f64,
    /// Why it failed, when it did (a drop reason, a timeout, a refused connect).
    pub error: Option<String>,
}

/// A trace with its timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TraceView {
    pub summary: TraceSummary,
    /// Start order.
    pub spans: Vec<TraceSpan>,
}
