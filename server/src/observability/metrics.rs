//! Metrics through the `metrics` facade, rendered in the Prometheus text format.
//!
//! One recorder per process ([`handle`]): several servers in one process (the tests) share it,
//! so every series names what it is about (a service id, a node id) and nothing per server.
//! Series that stop being updated disappear after [`IDLE_TIMEOUT`] (a deleted service's, a
//! forgotten node's).
//!
//! Labels are bounded on purpose: `service` is the service's id (never the path: a flood of
//! unique paths adds no series), `node` a node id, `reason`/`code_class`/`outcome`/`level`/
//! `state` closed sets. Nothing per API key or per consumer.
//!
//! ## Who may read `/metrics`
//!
//! Decided: on the main listener, only a bearer API key (`read` scope) of the operator's
//! account, authenticated as on the Cloud API (failed keys throttled per address); no key:
//! 401; any other account's key: 404, the endpoint is not revealed. Operators who run a
//! local Prometheus can set `metrics_bind` (e.g. `127.0.0.1:9464`): a second listener that
//! serves `/metrics` alone, **without authentication** — bind it to loopback or a private
//! network only. With `metrics = false` nothing is recorded and `/metrics` answers 404.
use super::InvokeRecord;
use metrics::{Counter, Histogram, counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::MetricKindMask;
use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::Duration,
};

/// Invokes answered, by service and status class (`2xx`, `4xx`, `5xx`).
pub const INVOKE_REQUESTS: &str = "web4_invoke_requests_total";
/// Invokes the platform answered instead of the upstream, by service and error code.
pub const INVOKE_ERRORS: &str = "web4_invoke_errors_total";
/// Invoke latency at the entry node, by service.
pub const INVOKE_DURATION: &str = "web4_invoke_duration_seconds";
/// Invokes taken by each entry node.
pub const NODE_INVOKES: &str = "web4_node_invokes_total";
/// Calls refused before the upstream: quota, spending cap, plan rate, concurrency.
pub const INVOKE_REFUSALS: &str = "web4_invoke_refusals_total";
pub const MESH_FORWARDED: &str = "web4_mesh_envelopes_forwarded_total";
pub const MESH_DELIVERED: &str = "web4_mesh_envelopes_delivered_total";
pub const MESH_ORIGINATED: &str = "web4_mesh_envelopes_originated_total";
/// Envelopes dropped by a node, by reason (`backpressure` is one).
pub const MESH_DROPS: &str = "web4_mesh_drops_total";
/// A call's request crossing one link of the mesh, by the node it reached (from the signed hop
/// times of the answering attempt; across machines this includes their clocks' skew).
pub const MESH_HOP_DURATION: &str = "web4_mesh_hop_duration_seconds";
/// Most requests a node ever had in flight to one peer.
pub const MESH_PEAK_IN_FLIGHT: &str = "web4_mesh_peak_in_flight";
/// Trust transitions the control plane applied, by the level reached.
pub const TRUST_TRANSITIONS: &str = "web4_node_trust_transitions_total";
/// Registered nodes by state (`online`, `degraded`, `offline`).
pub const NODES: &str = "web4_nodes";
/// Usage events written by the meter.
pub const USAGE_RECORDED: &str = "web4_usage_events_recorded_total";
/// Time to write one batch of usage events.
pub const USAGE_BATCH_DURATION: &str = "web4_usage_batch_duration_seconds";
/// Webhook attempts by outcome (`succeeded`, `retrying`, `failed`).
pub const WEBHOOK_DELIVERIES: &str = "web4_webhook_deliveries_total";

/// The Prometheus text format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// Series not updated for this long are dropped from the output.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// Histogram buckets of every `_seconds` metric: 1 ms to a minute.
const LATENCY_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// What observability records and for how long (metrics and history; traces have their own).
#[derive(Clone, Debug)]
pub struct ObservabilitySettings {
    /// Record metrics and rollups (on by default; benchmarks turn it off to measure the cost).
    pub metrics: bool,
    /// A second, unauthenticated listener serving only `/metrics`.
    pub metrics_bind: Option<SocketAddr>,
    /// How often the per-minute rollups are written.
    pub rollup_flush_every: Duration,
    /// How long rollups are kept.
    pub rollup_retention: Duration,
    /// Where traces are exported (OTLP over HTTP), if anywhere.
    pub otlp: Option<super::otlp::OtlpSettings>,
}

impl Default for ObservabilitySettings {
    fn default() -> Self {
        Self {
            metrics: true,
            metrics_bind: None,
            rollup_flush_every: Duration::from_secs(60),
            rollup_retention: Duration::from_secs(8 * 24 * 3600),
            otlp: None,
        }
    }
}

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder's handle, installing it on first use; `None` when another
/// recorder was installed first (metrics then go there).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .expect("the bucket list is not empty")
                .idle_timeout(MetricKindMask::ALL, Some(IDLE_TIMEOUT))
                .build_recorder();
            let handle = recorder.handle();
            if let Err(err) = metrics::set_global_recorder(recorder) {
                tracing::warn!(error = %err, "another metrics recorder is installed: /metrics stays empty");
                return None;
            }
            // Histograms buffer samples until drained: drain them even when nobody scrapes.
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            });
            if let Err(err) = spawned {
                tracing::warn!(error = %err, "cannot start the metrics upkeep thread");
            }
            Some(handle)
        })
        .as_ref()
}

/// `2xx`, `4xx`, `5xx` (and `1xx`/`3xx`) of a status.
pub fn code_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// One service's series that every call updates, looked up once and kept for a while: building
/// a metric's key (labels, hashing, the registry's lookup) costs more than updating it.
struct ServiceSeries {
    /// By status class: 1xx, 2xx, 3xx, 4xx, 5xx (registered on first use).
    requests: [OnceLock<Counter>; 5],
    duration: Histogram,
}

/// One node's series that every call updates.
struct NodeSeries {
    invokes: Counter,
    hop: Histogram,
}

/// Handles are dropped from these caches well before [`IDLE_TIMEOUT`]: a series the recorder
/// dropped as idle must be looked up again, not updated through a stale handle.
const HANDLE_TTL: Duration = Duration::from_secs(600);

fn service_series(service: &str) -> Arc<ServiceSeries> {
    static CACHE: OnceLock<moka::sync::Cache<String, Arc<ServiceSeries>>> = OnceLock::new();
    let cache = CACHE
        .get_or_init(|| moka::sync::Cache::builder().max_capacity(100_000).time_to_live(HANDLE_TTL).build());
    if let Some(found) = cache.get(service) {
        return found;
    }
    let series = Arc::new(ServiceSeries {
        requests: Default::default(),
        duration: histogram!(INVOKE_DURATION, "service" => service.to_owned()),
    });
    cache.insert(service.to_owned(), series.clone());
    series
}

fn node_series(node: &crate::mesh::NodeId) -> Arc<NodeSeries> {
    static CACHE: OnceLock<moka::sync::Cache<crate::mesh::NodeId, Arc<NodeSeries>>> = OnceLock::new();
    let cache = CACHE
        .get_or_init(|| moka::sync::Cache::builder().max_capacity(10_000).time_to_live(HANDLE_TTL).build());
    cache.get_with(*node, || {
        let label = node.to_string();
        Arc::new(NodeSeries {
            invokes: counter!(NODE_INVOKES, "node" => label.clone()),
            hop: histogram!(MESH_HOP_DURATION, "node" => label),
        })
    })
}

/// Counts one finished invoke.
pub fn invoke_finished(record: &InvokeRecord<'_>) {
    let service = record.service.as_str();
    let series = service_series(service);
    let class = code_class(record.status);
    let slot = usize::from(class.as_bytes()[0] - b'1').min(4);
    series.requests[slot]
        .get_or_init(|| counter!(INVOKE_REQUESTS, "service" => service.to_owned(), "code_class" => class))
        .increment(1);
    series.duration.record(record.duration.as_secs_f64());
    if let Some(reason) = record.error_code {
        counter!(INVOKE_ERRORS, "service" => service.to_owned(), "reason" => reason).increment(1);
    }
    if let Some(node) = &record.entry {
        node_series(node).invokes.increment(1);
    }
    if let Some(answered) = record.attempts.iter().rfind(|a| a.error.is_none()) {
        for link in answered.hops.windows(2) {
            let ((_, from), (to, at)) = (link[0], link[1]);
            node_series(&to).hop.record(at.saturating_sub(from).as_secs_f64());
        }
    }
}

/// Counts a call refused before it was made (quota, spending cap, plan rate, concurrency).
pub fn refused(reason: &'static str) {
    counter!(INVOKE_REFUSALS, "reason" => reason).increment(1);
}

/// Counts a trust transition the control plane applied.
pub fn trust_transition(level: &'static str) {
    counter!(TRUST_TRANSITIONS, "level" => level).increment(1);
}

/// Counts a batch of usage events written, and its time.
pub fn usage_batch(events: u64, took: Duration) {
    counter!(USAGE_RECORDED).increment(events);
    histogram!(USAGE_BATCH_DURATION).record(took.as_secs_f64());
}

/// Counts one webhook attempt by its outcome.
pub fn webhook_attempt(outcome: &'static str) {
    counter!(WEBHOOK_DELIVERIES, "outcome" => outcome).increment(1);
}

/// Whether `reason` is one the mesh counts: hosted nodes report their drops, and a reason
/// made up by one must not become a series (or a rollup key) of its own.
pub fn known_drop_reason(reason: &str) -> bool {
    crate::mesh::DropReason::ALL.iter().any(|r| r.as_str() == reason)
}

/// A node's cumulative counters, as read at scrape time.
#[derive(Clone, Debug, Default)]
pub struct NodeCounters {
    pub node: String,
    pub forwarded: u64,
    pub delivered: u64,
    pub originated: u64,
    /// Embedded nodes only (hosted nodes do not report it).
    pub peak_in_flight: Option<u64>,
    pub drops: Vec<(String, u64)>,
}

/// Publishes the mesh's counters read at scrape time.
pub fn mesh(nodes: &[NodeCounters], states: &[(&'static str, u64)]) {
    for n in nodes {
        let node = n.node.clone();
        counter!(MESH_FORWARDED, "node" => node.clone()).absolute(n.forwarded);
        counter!(MESH_DELIVERED, "node" => node.clone()).absolute(n.delivered);
        counter!(MESH_ORIGINATED, "node" => node.clone()).absolute(n.originated);
        if let Some(peak) = n.peak_in_flight {
            gauge!(MESH_PEAK_IN_FLIGHT, "node" => node.clone()).set(peak as f64);
        }
        for (reason, count) in &n.drops {
            counter!(MESH_DROPS, "node" => node.clone(), "reason" => reason.clone()).absolute(*count);
        }
    }
    for (state, count) in states {
        gauge!(NODES, "state" => *state).set(*count as f64);
    }
}

/// The Prometheus text of every series.
pub fn render() -> String {
    handle().map(PrometheusHandle::render).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_fall_in_their_class() {
        assert_eq!(code_class(200), "2xx");
        assert_eq!(code_class(204), "2xx");
        assert_eq!(code_class(404), "4xx");
        assert_eq!(code_class(503), "5xx");
    }
}
