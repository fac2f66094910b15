//! The trace store: the most recent invokes' traces, in memory, per process — a ring of at most
//! `capacity` traces, none older than `retention` — and the timeline each one shows.
//!
//! Recording is on the invoke path, so it copies what the record says (ids, names, the method,
//! the path without its query, the attempts) and holds the lock only to push; the spans are
//! built when a trace is read. A trace holds no body, no header value, no query string.
use super::record::{AttemptRecord, InvokeRecord};
use super::trace_context::hex;
use crate::mesh::NodeId as MeshNodeId;
use app::types::{
    ids::{AccountId, NodeId, ServiceId},
    observability::{SpanKind, TraceQuery, TraceSpan, TraceStatus, TraceSummary, TraceView},
};
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Who is asking: an account, and whether it is the operator (who sees every trace).
#[derive(Clone, Copy, Debug)]
pub struct Viewer<'a> {
    pub account: &'a AccountId,
    pub operator: bool,
}

/// How many traces are kept, for how long, and whether any are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceSettings {
    /// Record traces at all (only a benchmark turns it off, to measure what it costs).
    pub enabled: bool,
    /// Most traces kept; the oldest goes first.
    pub capacity: usize,
    /// Traces older than this are dropped.
    pub retention: Duration,
}

impl Default for TraceSettings {
    fn default() -> Self {
        Self { enabled: true, capacity: 10_000, retention: Duration::from_secs(60 * 60) }
    }
}

/// The default and the largest page of a trace list.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

/// One invoke as the store keeps it.
#[derive(Debug)]
pub(super) struct Stored {
    recorded: Instant,
    trace_id: [u8; 16],
    invoke_id: uuid::Uuid,
    service_id: ServiceId,
    service_name: String,
    owner: AccountId,
    payer: AccountId,
    entry: Option<MeshNodeId>,
    method: String,
    path: String,
    status: u16,
    error_code: Option<&'static str>,
    started_at: chrono::DateTime<chrono::Utc>,
    duration: Duration,
    route: Vec<MeshNodeId>,
    attempts: Vec<AttemptRecord>,
}

impl Stored {
    /// What is kept of `record`, recorded `now`.
    pub(super) fn of(record: &InvokeRecord<'_>, now: Instant) -> Self {
        Self {
            recorded: now,
            trace_id: record.trace.trace_id,
            invoke_id: record.invoke_id,
            service_id: record.service.clone(),
            service_name: record.service_name.to_owned(),
            owner: record.owner.clone(),
            payer: record.payer.clone(),
            entry: record.entry,
            method: record.method.to_owned(),
            path: record.path.split(['?', '#']).next().unwrap_or_default().to_owned(),
            status: record.status,
            error_code: record.error_code,
            started_at: record.started_at,
            duration: record.duration,
            route: record.route.to_vec(),
            attempts: record.attempts.to_vec(),
        }
    }

    /// The operator sees every trace, an account those of the services it owns and of the
    /// calls it made.
    fn visible_to(&self, reader: Viewer<'_>) -> bool {
        reader.operator || &self.owner == reader.account || &self.payer == reader.account
    }

    fn matches(&self, query: &TraceQuery) -> bool {
        let status = match query.status {
            TraceStatus::Any => true,
            TraceStatus::Ok => self.error_code.is_none() && self.status < 400,
            TraceStatus::ClientError => (400..500).contains(&self.status),
            TraceStatus::Error => self.status >= 500,
        };
        status
            && query.service.as_ref().is_none_or(|s| s == &self.service_id)
            && query.min_ms.is_none_or(|ms| self.duration >= Duration::from_millis(u64::from(ms)))
    }

    fn summary(&self) -> TraceSummary {
        TraceSummary {
            trace_id: hex(&self.trace_id),
            invoke_id: self.invoke_id.to_string(),
            service_id: self.service_id.clone(),
            service_name: self.service_name.clone(),
            method: self.method.clone(),
            path: self.path.clone(),
            status: self.status,
            error_code: self.error_code.map(str::to_owned),
            started_at: self.started_at,
            duration_ms: ms(self.duration),
            attempts: self.attempts.len() as u32,
            route: self.route.iter().map(node_id).collect(),
        }
    }
}

/// The store. Cheap to share (`Arc`); every method takes `&self`.
#[derive(Debug)]
pub struct TraceStore {
    settings: TraceSettings,
    ring: Mutex<VecDeque<Arc<Stored>>>,
}

impl Default for TraceStore {
    fn default() -> Self {
        Self::new(TraceSettings::default())
    }
}

impl TraceStore {
    pub fn new(settings: TraceSettings) -> Self {
        Self { settings, ring: Mutex::new(VecDeque::new()) }
    }

    /// Whether traces are recorded.
    pub fn enabled(&self) -> bool {
        self.settings.enabled && self.settings.capacity > 0
    }

    /// Keeps one finished invoke (nothing when the store is switched off).
    pub fn record(&self, record: &InvokeRecord<'_>) {
        if self.enabled() {
            self.keep(Arc::new(Stored::of(record, Instant::now())));
        }
    }

    /// Keeps one finished invoke, already copied (the [`super::Observer`] copies it once for
    /// the store and the export).
    pub(super) fn keep(&self, stored: Arc<Stored>) {
        if !self.enabled() {
            return;
        }
        let now = stored.recorded;
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        ring.push_back(stored);
        while ring.len() > self.settings.capacity
            || ring.front().is_some_and(|t| now.duration_since(t.recorded) > self.settings.retention)
        {
            ring.pop_front();
        }
    }

    /// The newest traces `reader` may see that match `query`, newest first (`limit` clamped
    /// to 1–100, default 50).
    pub fn list(&self, reader: Viewer<'_>, query: &TraceQuery) -> Vec<TraceSummary> {
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize;
        let found: Vec<Arc<Stored>> = {
            let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            ring.iter()
                .rev()
                .take_while(|t| now.duration_since(t.recorded) <= self.settings.retention)
                .filter(|t| t.visible_to(reader) && t.matches(query))
                .take(limit)
                .cloned()
                .collect()
        };
        found.iter().map(|t| t.summary()).collect()
    }

    /// The newest invoke of trace `trace_id` that `reader` may see, with its timeline; `None`
    /// for an unknown id, an expired trace or another account's.
    pub fn get(&self, reader: Viewer<'_>, trace_id: &str) -> Option<TraceView> {
        let id = super::trace_context::parse_trace_id(trace_id)?;
        let found = {
            let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            ring.iter()
                .rev()
                .take_while(|t| now.duration_since(t.recorded) <= self.settings.retention)
                .find(|t| t.trace_id == id && t.visible_to(reader))
                .cloned()?
        };
        Some(TraceView { summary: found.summary(), spans: spans(&found) })
    }
}

/// Milliseconds, exact to the nanosecond for the durations a call takes.
fn ms(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

fn node_id(node: &MeshNodeId) -> NodeId {
    NodeId::new(node.to_string())
}

/// A span, clamped to the call: it starts within it and ends by its end.
fn span(
    kind: SpanKind,
    name: String,
    node: Option<&MeshNodeId>,
    attempt: u32,
    start: Duration,
    length: Duration,
    total: Duration,
) -> TraceSpan {
    let start = start.min(total);
    let length = length.min(total - start);
    TraceSpan {
        kind,
        name,
        node: node.map(node_id),
        attempt,
        start_ms: ms(start),
        duration_ms: ms(length),
        error: None,
    }
}

/// The call's timeline: the gateway around it all; each attempt; for an attempt the hosting
/// node answered, the hops of its route, the host, the upstream within it, and the reply.
///
/// The hosting node's times are durations on its own clock; they are placed on the entry
/// node's timeline by the mesh's hop stamps when it gave some, and otherwise by assuming
/// the way there and the way back took equally long (the forward leg spread evenly over the
/// route's links). Start order.
pub(super) fn spans(trace: &Stored) -> Vec<TraceSpan> {
    let total = trace.duration;
    let mut out = Vec::with_capacity(1 + trace.attempts.len() * 6);
    let mut gateway = span(
        SpanKind::Gateway,
        format!("{} {}", trace.method, trace.path),
        trace.entry.as_ref(),
        0,
        Duration::ZERO,
        total,
        total,
    );
    gateway.error = trace.error_code.map(str::to_owned);
    out.push(gateway);
    for (i, attempt) in trace.attempts.iter().enumerate() {
        attempt_spans(&mut out, i as u32 + 1, attempt, total);
    }
    out.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
    out
}

fn attempt_spans(out: &mut Vec<TraceSpan>, n: u32, attempt: &AttemptRecord, total: Duration) {
    let short = |node: &MeshNodeId| {
        let s = node.to_string();
        format!("{}…{}", &s[..s.len().min(6)], &s[s.len().saturating_sub(4)..])
    };
    let mut whole = span(
        SpanKind::Attempt,
        format!("attempt {n} at {}", short(&attempt.node)),
        Some(&attempt.node),
        n,
        attempt.offset,
        attempt.duration,
        total,
    );
    whole.error.clone_from(&attempt.error);
    out.push(whole);
    let end = attempt.offset + attempt.duration;
    let held = attempt.host.map_or(Duration::ZERO, |h| h.held.min(attempt.duration));
    // When the request reached the hosting node, and each node before it.
    let links = attempt.route.len().saturating_sub(1);
    let arrivals: Vec<Duration> = if attempt.hops.len() == attempt.route.len() && !attempt.hops.is_empty() {
        attempt.hops.iter().map(|(_, at)| (*at).clamp(attempt.offset, end)).collect()
    } else {
        let forward = (attempt.duration - held) / 2;
        let step = if links == 0 { Duration::ZERO } else { forward / links as u32 };
        (0..attempt.route.len()).map(|k| attempt.offset + step * k as u32).collect()
    };
    for k in 1..attempt.route.len() {
        let (from, to) = (arrivals[k - 1], arrivals[k].max(arrivals[k - 1]));
        let node = &attempt.route[k];
        out.push(span(
            SpanKind::Hop,
            format!("hop to {}", short(node)),
            Some(node),
            n,
            from,
            to - from,
            total,
        ));
    }
    let Some(host) = attempt.host else { return };
    let (Some(host_node), Some(reached)) = (attempt.route.last(), arrivals.last().copied()) else { return };
    let mut host_span =
        span(SpanKind::Host, format!("host {}", short(host_node)), Some(host_node), n, reached, held, total);
    // A host that called no upstream to show failed there (or ran a kv call, which has no error).
    if host.upstream.is_none() {
        host_span.error.clone_from(&attempt.error);
    }
    out.push(host_span);
    if let Some((at, took, status)) = host.upstream {
        let (at, took) = (at.min(held), took.min(held.saturating_sub(at)));
        out.push(span(
            SpanKind::Upstream,
            format!("upstream {status}"),
            Some(host_node),
            n,
            reached + at,
            took,
            total,
        ));
    }
    let replied = (reached + held).min(end);
    let entry = attempt.route.first();
    out.push(span(SpanKind::Reply, "reply".to_owned(), entry, n, replied, end - replied, total));
}

#[cfg(test)]
mod tests;
