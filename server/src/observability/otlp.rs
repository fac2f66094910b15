//! Optional export of every finished invoke's trace to an OpenTelemetry collector (OTLP over
//! HTTP, protobuf or JSON), when the operator sets `otlp_endpoint`. The spans are the ones the
//! portal's trace page shows — the gateway, each attempt, the hops, the hosting node, the
//! upstream, the reply — with the same trace id the caller and the upstream see: the gateway
//! span is the caller's `traceparent` child, and the host span is the parent the upstream's
//! `traceparent` names, so a provider's own exported spans join the platform's.
//!
//! Export runs off the invoke path: spans are handed to the SDK's batch processor (a bounded
//! queue and its own thread); when the collector is slow or down, the queue's overflow is
//! dropped and counted, and calls are never slowed. Spans hold no body, header value, query
//! string or key, like the trace store.
use super::record::InvokeRecord;
use super::trace_context::{host_span_id, new_span_id};
use super::traces::{Stored, spans};
use app::types::observability::{SpanKind, TraceSpan};
use opentelemetry::{
    InstrumentationScope, KeyValue,
    trace::{self, SpanContext, SpanId, Status, TraceContextExt, TraceFlags, TraceId, TraceState},
};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::{
    Resource,
    trace::{
        BatchConfigBuilder, BatchSpanProcessor, Sampler, ShouldSample, SpanData, SpanEvents, SpanLinks,
        SpanProcessor,
    },
};
use std::time::{Duration, SystemTime};

/// How spans are encoded for the collector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// `http/protobuf` (the OTLP default).
    #[default]
    Protobuf,
    /// `http/json`.
    Json,
}

impl std::str::FromStr for OtlpProtocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "http/protobuf" => Ok(Self::Protobuf),
            "http/json" => Ok(Self::Json),
            other => Err(format!("otlp_protocol must be http/protobuf or http/json, not {other:?}")),
        }
    }
}

/// Where and how spans are exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtlpSettings {
    /// The collector's traces URL, e.g. `http://127.0.0.1:4318/v1/traces`.
    pub endpoint: String,
    pub protocol: OtlpProtocol,
    /// The share of calls exported, 0–100, for traces that start here; a call made within a
    /// caller's trace follows the caller's `sampled` flag (OpenTelemetry's parent-based
    /// sampling over a trace-id ratio, so every call of one trace gets the same answer).
    pub sample_percent: u32,
    /// How long spans wait to be sent in a batch (5 s; tests shorten it).
    pub batch_delay: Duration,
}

impl OtlpSettings {
    /// `endpoint` must be an http(s) URL.
    pub fn new(endpoint: &str, protocol: OtlpProtocol) -> anyhow::Result<Self> {
        let url =
            url::Url::parse(endpoint).map_err(|e| anyhow::anyhow!("otlp_endpoint {endpoint:?}: {e}"))?;
        anyhow::ensure!(
            matches!(url.scheme(), "http" | "https") && url.host_str().is_some(),
            "otlp_endpoint {endpoint:?} must be an http(s) URL such as http://127.0.0.1:4318/v1/traces"
        );
        Ok(Self {
            endpoint: endpoint.to_owned(),
            protocol,
            sample_percent: 100,
            batch_delay: Duration::from_secs(5),
        })
    }
}

/// The most spans waiting for the collector; more are dropped (and counted by the SDK, which
/// logs the count).
const QUEUE: usize = 16_384;

/// The exporter: a batch span processor over the OTLP HTTP exporter.
pub struct OtlpExport {
    processor: BatchSpanProcessor,
    scope: InstrumentationScope,
    sampler: Sampler,
}

impl std::fmt::Debug for OtlpExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpExport").finish_non_exhaustive()
    }
}

impl OtlpExport {
    /// Starts the exporter's thread; nothing is sent until a call finishes.
    pub fn start(settings: &OtlpSettings) -> anyhow::Result<Self> {
        let protocol = match settings.protocol {
            OtlpProtocol::Protobuf => Protocol::HttpBinary,
            OtlpProtocol::Json => Protocol::HttpJson,
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(settings.endpoint.clone())
            .with_protocol(protocol)
            .with_timeout(Duration::from_secs(10))
            .build()?;
        let batches = BatchConfigBuilder::default()
            .with_scheduled_delay(settings.batch_delay)
            .with_max_queue_size(QUEUE)
            .build();
        let mut processor = BatchSpanProcessor::builder(exporter).with_batch_config(batches).build();
        processor.set_resource(&Resource::builder().with_service_name("web4-platform").build());
        let scope =
            InstrumentationScope::builder("web4-platform").with_version(env!("CARGO_PKG_VERSION")).build();
        Ok(Self { processor, scope, sampler: sampler(settings.sample_percent) })
    }

    /// Whether the sampler takes this call's trace.
    pub(super) fn takes(&self, record: &InvokeRecord<'_>) -> bool {
        sampled(&self.sampler, record)
    }

    /// Queues the spans of one finished invoke the sampler took (`stored`: what the trace store
    /// keeps of it).
    pub(super) fn export(&self, record: &InvokeRecord<'_>, stored: &Stored) {
        for span in span_data(record, stored, &self.scope) {
            self.processor.on_end(span);
        }
    }

    /// Sends what is queued and stops the exporter's thread (blocks: call it off the runtime).
    pub fn shutdown(&self) {
        if let Err(err) = self.processor.shutdown() {
            tracing::warn!(error = %err, "the OTLP exporter did not shut down cleanly");
        }
    }
}

/// Parent-based over a trace-id ratio: the caller's decision when it sent a `traceparent`,
/// else `percent` of the trace ids.
fn sampler(percent: u32) -> Sampler {
    Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(f64::from(percent.min(100)) / 100.0)))
}

/// Whether `sampler` exports the call's trace.
fn sampled(sampler: &Sampler, record: &InvokeRecord<'_>) -> bool {
    let trace = &record.trace;
    let trace_id = TraceId::from_bytes(trace.trace_id);
    let parent = trace.parent_id.map(|parent| {
        let flags = if trace.sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
        let remote = SpanContext::new(trace_id, SpanId::from_bytes(parent), flags, true, TraceState::NONE);
        opentelemetry::Context::new().with_remote_span_context(remote)
    });
    let decision = sampler
        .should_sample(parent.as_ref(), trace_id, "invoke", &trace::SpanKind::Server, &[], &[])
        .decision;
    decision == trace::SamplingDecision::RecordAndSample
}

/// The invoke's spans as OpenTelemetry span data: the gateway under the caller's span, the
/// attempts under the gateway, a route's hops, host and reply under their attempt, the
/// upstream under the host.
fn span_data(record: &InvokeRecord<'_>, stored: &Stored, scope: &InstrumentationScope) -> Vec<SpanData> {
    let trace = &record.trace;
    let trace_id = TraceId::from_bytes(trace.trace_id);
    let flags = if trace.sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
    let started = SystemTime::from(record.started_at);
    let timeline = spans(stored);
    let attempt_span = |n: u32| record.attempts.get((n as usize).wrapping_sub(1)).map(|a| a.span);
    let common = [
        KeyValue::new("web4.invoke_id", record.invoke_id.to_string()),
        KeyValue::new("web4.service.id", record.service.to_string()),
        KeyValue::new("web4.service.name", record.service_name.to_owned()),
    ];
    timeline
        .iter()
        .map(|span| {
            let (id, parent, kind) = match span.kind {
                SpanKind::Gateway => (trace.span_id, trace.parent_id, trace::SpanKind::Server),
                SpanKind::Attempt => (
                    attempt_span(span.attempt).unwrap_or_else(new_span_id),
                    Some(trace.span_id),
                    trace::SpanKind::Client,
                ),
                SpanKind::Host => (
                    attempt_span(span.attempt).map_or_else(new_span_id, host_span_id),
                    attempt_span(span.attempt),
                    trace::SpanKind::Server,
                ),
                SpanKind::Upstream => {
                    (new_span_id(), attempt_span(span.attempt).map(host_span_id), trace::SpanKind::Client)
                }
                SpanKind::Hop | SpanKind::Reply => {
                    (new_span_id(), attempt_span(span.attempt), trace::SpanKind::Internal)
                }
            };
            let mut attributes = common.to_vec();
            attributes.extend(span_attributes(record, span));
            let start = started + Duration::from_secs_f64(span.start_ms.max(0.0) / 1000.0);
            let status = match (&span.error, span.kind) {
                (Some(error), _) => Status::error(error.clone()),
                (None, SpanKind::Gateway) if record.status >= 500 => Status::error(record.status.to_string()),
                _ => Status::Unset,
            };
            SpanData {
                span_context: SpanContext::new(
                    trace_id,
                    SpanId::from_bytes(id),
                    flags,
                    false,
                    TraceState::NONE,
                ),
                parent_span_id: parent.map_or(SpanId::INVALID, SpanId::from_bytes),
                parent_span_is_remote: span.kind == SpanKind::Gateway && parent.is_some(),
                span_kind: kind,
                name: span.name.clone().into(),
                start_time: start,
                end_time: start + Duration::from_secs_f64(span.duration_ms.max(0.0) / 1000.0),
                attributes,
                dropped_attributes_count: 0,
                events: SpanEvents::default(),
                links: SpanLinks::default(),
                status,
                instrumentation_scope: scope.clone(),
            }
        })
        .collect()
}

/// What a span says beyond its name: the node, the attempt, and on the gateway the request's
/// method, path (never its query) and status.
fn span_attributes(record: &InvokeRecord<'_>, span: &TraceSpan) -> Vec<KeyValue> {
    let mut out = Vec::with_capacity(5);
    if let Some(node) = &span.node {
        out.push(KeyValue::new("web4.node", node.to_string()));
    }
    if span.attempt > 0 {
        out.push(KeyValue::new("web4.attempt", i64::from(span.attempt)));
    }
    if span.kind == SpanKind::Gateway {
        out.push(KeyValue::new("http.request.method", record.method.to_owned()));
        out.push(KeyValue::new(
            "url.path",
            record.path.split(['?', '#']).next().unwrap_or_default().to_owned(),
        ));
        out.push(KeyValue::new("http.response.status_code", i64::from(record.status)));
        if let Some(code) = record.error_code {
            out.push(KeyValue::new("error.type", code));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observability::{AttemptRecord, record::HostTimes, trace_context::TraceContext};
    use app::types::ids::{AccountId, ServiceId};
    use std::time::Instant;

    /// A plain answered call of `service` by `account`, in `trace`.
    fn call<'a>(service: &'a ServiceId, account: &'a AccountId, trace: TraceContext) -> InvokeRecord<'a> {
        InvokeRecord {
            invoke_id: uuid::Uuid::nil(),
            trace,
            service,
            service_name: "echo",
            owner: account,
            payer: account,
            entry: None,
            method: "GET",
            path: "/",
            started_at: chrono::Utc::now(),
            duration: Duration::from_millis(1),
            status: 200,
            error_code: None,
            route: &[],
            attempts: &[],
        }
    }

    #[test]
    fn spans_nest_under_the_callers_and_the_host_is_the_upstreams_parent() {
        let node = || crate::mesh::NodeId::from(&crate::mesh::Keypair::generate_ed25519());
        let (entry, host) = (node(), node());
        let mut attempt = AttemptRecord::new(host, [9; 8], Duration::from_millis(1));
        attempt.duration = Duration::from_millis(8);
        attempt.route = vec![entry, host];
        attempt.host = Some(HostTimes {
            held: Duration::from_millis(4),
            upstream: Some((Duration::from_millis(1), Duration::from_millis(2), 200)),
        });
        let (service, account) = (ServiceId::new("svc_1"), AccountId::new("acc_1"));
        let trace =
            TraceContext { trace_id: [3; 16], span_id: [4; 8], sampled: true, parent_id: Some([5; 8]) };
        let record = InvokeRecord {
            entry: Some(entry),
            path: "/x?secret=1",
            duration: Duration::from_millis(10),
            route: &[entry, host],
            attempts: &[attempt],
            ..call(&service, &account, trace)
        };
        let scope = InstrumentationScope::builder("test").build();
        let spans = span_data(&record, &Stored::of(&record, Instant::now()), &scope);
        let by_name = |prefix: &str| spans.iter().find(|s| s.name.starts_with(prefix)).unwrap();
        let gateway = by_name("GET");
        assert_eq!(gateway.span_context.span_id(), SpanId::from_bytes([4; 8]));
        assert_eq!(gateway.parent_span_id, SpanId::from_bytes([5; 8]));
        assert!(gateway.parent_span_is_remote);
        let attempt = by_name("attempt");
        assert_eq!(attempt.span_context.span_id(), SpanId::from_bytes([9; 8]));
        assert_eq!(attempt.parent_span_id, gateway.span_context.span_id());
        let host_span = by_name("host");
        assert_eq!(host_span.span_context.span_id(), SpanId::from_bytes(host_span_id([9; 8])));
        assert_eq!(host_span.parent_span_id, attempt.span_context.span_id());
        assert_eq!(by_name("upstream").parent_span_id, host_span.span_context.span_id());
        assert_eq!(by_name("hop").parent_span_id, attempt.span_context.span_id());
        assert!(spans.iter().all(|s| s.span_context.trace_id() == TraceId::from_bytes([3; 16])));
        assert!(spans.iter().all(|s| s.end_time >= s.start_time));
        let text = format!("{spans:?}");
        assert!(!text.contains("secret"), "the query string was exported");
    }

    #[test]
    fn sampling_follows_the_callers_flag_and_else_the_share_of_trace_ids() {
        let (service, account) = (ServiceId::new("svc_1"), AccountId::new("acc_1"));
        let call = |trace| call(&service, &account, trace);
        let from_caller =
            |sampled| TraceContext { trace_id: [3; 16], span_id: [4; 8], sampled, parent_id: Some([5; 8]) };
        let (none, all, half) = (sampler(0), sampler(100), sampler(50));
        assert!(sampled(&none, &call(from_caller(true))), "the caller asked for it");
        assert!(!sampled(&all, &call(from_caller(false))), "the caller did not");
        assert!(!sampled(&none, &call(TraceContext::start())));
        assert!(sampled(&all, &call(TraceContext::start())));
        let taken = (0..2000).filter(|_| sampled(&half, &call(TraceContext::start()))).count();
        assert!((800..1200).contains(&taken), "{taken} of 2000 at 50 %");
    }
}
