//! The hosting node's side of an invoke: takes requests delivered to the node over the mesh,
//! forwards each to the service's upstream (method, path, query, headers minus hop-by-hop
//! ones, body) within the timeout, and answers with the upstream's status, headers and body
//! — or with why there is none. Health checks arrive the same way (see `health.rs`), so they
//! measure exactly what calls get.
use super::{
    kv_call,
    wire::{self, Failure, Request},
};
use crate::{
    egress::{EgressPolicy, refusal_in},
    mesh::{NodeId, node::Delivery},
};
use bytes::Bytes;
use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, RwLock},
    time::Duration,
};
use tokio::sync::mpsc;

/// Headers that describe one connection, not the message: never forwarded (RFC 9110 §7.6.1),
/// plus `host` and `content-length`, which the next hop sets for itself.
pub fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

/// The HTTP clients a hosting node calls upstreams with: every address checked by the egress
/// policy at connect time, no proxies from the environment, no redirects followed (a 3xx goes
/// back to the caller as it is), no cookies kept.
///
/// Calls use pooled keep-alive connections. An upstream may close an idle one just as a call
/// is written to it (Node.js closes them after 5 s, nginx after 75 s; the pool's own idle
/// limit cannot know), and the call then fails although the upstream is fine. An idempotent
/// call that fails that way — the connection closed or reset after it was sent, not a refused
/// connect or a timeout — is sent once more on a connection opened for it (`fresh`, a client
/// without a pool); others are not, since the upstream may have acted on them.
#[derive(Clone)]
pub struct Upstreams {
    pooled: reqwest::Client,
    fresh: reqwest::Client,
    egress: Arc<EgressPolicy>,
}

impl Upstreams {
    pub fn new(egress: Arc<EgressPolicy>) -> Self {
        let builder = || crate::egress::client_builder(egress.clone());
        Self {
            pooled: builder()
                .pool_idle_timeout(Duration::from_secs(30))
                .build()
                .expect("a TLS backend is compiled in"),
            fresh: builder().pool_max_idle_per_host(0).build().expect("a TLS backend is compiled in"),
            egress,
        }
    }
}

/// What a hosting node executes: calls whose origin is one of the control plane's entry
/// nodes, for the services placed on this node — with the upstream recorded here, never one a
/// request names. Any mesh member can address a request to any node; without this, one could
/// make every node fetch any URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    pub entries: HashSet<NodeId>,
    /// Service id → upstream base URL.
    pub upstreams: HashMap<String, String>,
    /// Service id → the bucket a `kv` service exposes (embedded nodes only: they have the
    /// store).
    pub kv: HashMap<String, super::kv_call::KvGrant>,
}

/// A node's grants, replaced whole by whoever learns of changes (the placement loop for
/// embedded nodes, heartbeat answers for hosted ones).
#[derive(Clone, Default)]
pub struct SharedGrants(Arc<RwLock<Arc<Grants>>>);

impl SharedGrants {
    pub fn set(&self, grants: Grants) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(grants);
    }

    pub fn get(&self) -> Arc<Grants> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Upstream calls one node runs at once; past it, a call is answered [`Failure::Busy`] at
/// once (the entry node tries another placement) instead of opening more connections.
pub const MAX_CONCURRENT_CALLS: usize = 512;

/// Serves the requests delivered to one node until its inbox closes; each runs in its own
/// task, at most [`MAX_CONCURRENT_CALLS`] at a time (the node's inbox bounds how many wait).
/// `kv` is the store calls to `kv` services run against (`None` on a hosted node, which is
/// never given one).
pub async fn serve(
    mut inbox: mpsc::Receiver<Delivery>,
    upstreams: Upstreams,
    grants: SharedGrants,
    kv: Option<Arc<crate::memory::Memory>>,
) {
    serve_at_most(MAX_CONCURRENT_CALLS, &mut inbox, upstreams, grants, kv).await;
}

async fn serve_at_most(
    limit: usize,
    inbox: &mut mpsc::Receiver<Delivery>,
    upstreams: Upstreams,
    grants: SharedGrants,
    kv: Option<Arc<crate::memory::Memory>>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(limit));
    while let Some(delivery) = inbox.recv().await {
        let Some(responder) = delivery.responder else { continue };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(responder.respond(wire::encode_failure(
                Failure::Busy,
                "the hosting node is running as many calls as it allows",
            )));
            continue;
        };
        let (upstreams, grants, kv) = (upstreams.clone(), grants.get(), kv.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let origin = delivery.envelope.header.origin;
            let payload = delivery.envelope.payload;
            let reply = if kv_call::is_kv_request(&payload) {
                match kv_call::decode(payload) {
                    Ok(request) => {
                        use tracing::Instrument;
                        let span = tracing::info_span!(
                            "invoke",
                            invoke_id = %uuid::Uuid::from_bytes(request.invoke_id),
                            trace_id = %crate::observability::trace_context::hex(&request.trace_id),
                            service = %request.service_id,
                        );
                        execute_kv(kv.as_deref(), &grants, origin, request).instrument(span).await
                    }
                    Err(_) => wire::encode_failure(Failure::BadRequest, "malformed kv call"),
                }
            } else {
                match wire::decode_request(payload) {
                    Ok(request) => {
                        use tracing::Instrument;
                        let span = host_span(&request);
                        execute(&upstreams, &grants, origin, request).instrument(span).await
                    }
                    Err(_) => wire::encode_failure(Failure::BadRequest, "malformed invoke request"),
                }
            };
            responder.respond(reply).await;
        });
    }
}

/// The hosting node's `tracing` span of a call: the same `invoke_id` and `trace_id` as the entry
/// node's, from the request.
fn host_span(request: &Request) -> tracing::Span {
    let trace_id = request.trace.map(|t| crate::observability::trace_context::hex(&t.trace_id));
    tracing::info_span!(
        "invoke",
        invoke_id = %uuid::Uuid::from_bytes(request.invoke_id),
        trace_id = trace_id.as_deref().unwrap_or(""),
        service = %request.service_id,
    )
}

/// Calls the upstream for one request from `origin`, if the grants allow it, and encodes the
/// reply.
pub async fn execute(upstreams: &Upstreams, grants: &Grants, origin: NodeId, request: Request) -> Bytes {
    if !grants.entries.contains(&origin) {
        tracing::warn!(%origin, "a call from a node that is not an entry node refused");
        return wire::encode_failure(Failure::NotPermitted, "only the platform's entry nodes may send calls");
    }
    let Some(upstream) = grants.upstreams.get(&request.service_id) else {
        return wire::encode_failure(Failure::NotPermitted, "the service is not placed on this node");
    };
    match call(upstreams, upstream, request).await {
        Ok(reply) => reply,
        Err((failure, message)) => wire::encode_failure(failure, &message),
    }
}

/// Runs one kv call from `origin` on the bucket this node's grants give the service — never
/// one the request names — if the origin is an entry node.
pub async fn execute_kv(
    kv: Option<&crate::memory::Memory>,
    grants: &Grants,
    origin: NodeId,
    request: kv_call::KvRequest,
) -> Bytes {
    if !grants.entries.contains(&origin) {
        tracing::warn!(%origin, "a kv call from a node that is not an entry node refused");
        return wire::encode_failure(Failure::NotPermitted, "only the platform's entry nodes may send calls");
    }
    kv_call::execute(kv, grants.kv.get(&request.service_id), request.op).await
}

/// Whether a call may be sent again: the method is idempotent (RFC 9110 §9.2.2).
fn idempotent(method: &reqwest::Method) -> bool {
    use reqwest::Method;
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::TRACE
    )
}

/// Whether a call failed because its (pooled) connection closed under it after it was sent:
/// the upstream closed it before answering, or reset it. Not a failed connect, not a timeout.
fn closed_under_call(err: &reqwest::Error) -> bool {
    if err.is_timeout() || err.is_connect() {
        return false;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if let Some(h) = e.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_canceled())
        {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        {
            return true;
        }
        cause = e.source();
    }
    false
}

/// The upstream's answer, encoded as it streams in: the body goes straight into the reply.
async fn call(upstreams: &Upstreams, upstream: &str, request: Request) -> Result<Bytes, (Failure, String)> {
    let took = std::time::Instant::now();
    let Request {
        invoke_id,
        trace,
        method,
        path_and_query,
        timeout_ms,
        max_response_bytes,
        headers,
        body,
        ..
    } = request;
    let bad = |m: String| (Failure::BadRequest, m);
    let method =
        reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| bad(format!("bad method {method:?}")))?;
    let path = if path_and_query.starts_with('/') { path_and_query } else { format!("/{path_and_query}") };
    let url = format!("{upstream}{path}");
    upstreams.egress.check_target(&url).await.map_err(|r| (Failure::EgressRefused, r.to_string()))?;
    let timeout = Duration::from_millis(u64::from(timeout_ms));
    let mut head = reqwest::header::HeaderMap::with_capacity(headers.len() + 1);
    for (name, value) in headers {
        if is_hop_by_hop(&name) {
            continue;
        }
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad(format!("invalid header name {name:?}")))?;
        let value = reqwest::header::HeaderValue::from_maybe_shared(value)
            .map_err(|_| bad(format!("invalid value for header {name}")))?;
        head.append(name, value);
    }
    let invoke_id = uuid::Uuid::from_bytes(invoke_id).to_string();
    head.insert("x-web4-invoke-id", invoke_id.parse().map_err(|_| bad("invalid invoke id".into()))?);
    // The upstream continues the trace as a child of this node's span, derived from the
    // attempt's so the entry node can export it (`host_span_id`). The entry node vetted any
    // `tracestate` it forwarded; a caller's own `traceparent` never gets this far.
    if let Some(trace) = trace {
        let context = crate::observability::trace_context::TraceContext {
            trace_id: trace.trace_id,
            span_id: crate::observability::trace_context::host_span_id(trace.parent_id),
            sampled: trace.flags & 1 == 1,
            parent_id: Some(trace.parent_id),
        };
        head.insert("traceparent", context.traceparent().parse().map_err(|_| bad("invalid trace".into()))?);
    }
    let request = upstreams
        .pooled
        .request(method, &url)
        .timeout(timeout)
        .headers(head)
        .body(body)
        .build()
        .map_err(|e| bad(format!("cannot build the upstream request: {}", root_cause(&e))))?;
    // The one retry needs its own copy: the first send consumes the request.
    let again = if idempotent(request.method()) { request.try_clone() } else { None };
    let started = std::time::Instant::now();
    let upstream_at = started.duration_since(took);
    let mut response = match (upstreams.pooled.execute(request).await, again) {
        (Err(e), Some(mut again)) if closed_under_call(&e) => {
            tracing::debug!(%url, error = %root_cause(&e), "connection closed under the call; sending it again on a new one");
            *again.timeout_mut() = Some(timeout.saturating_sub(started.elapsed()));
            upstreams.fresh.execute(again).await
        }
        (sent, _) => sent,
    }
    .map_err(|e| classify(&e, timeout))?;
    let limit = max_response_bytes as usize;
    let too_large =
        || (Failure::ResponseTooLarge, format!("the upstream's answer is larger than {limit} bytes"));
    let length = response.content_length().map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    if length.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let head: Vec<(&str, &[u8])> = response
        .headers()
        .iter()
        .filter(|(n, _)| !is_hop_by_hop(n.as_str()))
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let mut reply =
        wire::response_head(response.status().as_u16(), head.iter().copied(), length.unwrap_or(8 * 1024))
            .map_err(|e| (Failure::ResponseTooLarge, format!("the upstream's answer: {e}")))?;
    drop(head);
    let body_start = reply.len();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e, timeout))? {
        if reply.len() - body_start + chunk.len() > limit {
            return Err(too_large());
        }
        reply.extend_from_slice(&chunk);
    }
    let micros = |d: Duration| u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
    wire::set_timing(
        &mut reply,
        wire::HostTiming {
            // Never zero: zero says "not measured" (a kv call).
            host_us: micros(took.elapsed()).max(1),
            upstream_at_us: micros(upstream_at),
            upstream_us: micros(started.elapsed()),
        },
    );
    Ok(reply.freeze())
}

fn classify(err: &reqwest::Error, timeout: Duration) -> (Failure, String) {
    if let Some(refusal) = refusal_in(err) {
        return (Failure::EgressRefused, refusal.to_string());
    }
    if err.is_timeout() {
        return (Failure::Timeout, format!("the upstream did not answer within {} ms", timeout.as_millis()));
    }
    // The kind of failure only: the OS's words ("Connection refused (os error 111)", resolver
    // messages) would make the invoke path a port scanner's probe.
    let what = if err.is_connect() {
        "cannot connect to the upstream"
    } else if err.is_body() || err.is_decode() {
        "the upstream's answer broke off"
    } else {
        "the upstream closed the connection without an answer"
    };
    tracing::debug!(error = %root_cause(err), "upstream call failed");
    (Failure::Unreachable, what.to_owned())
}

/// The innermost cause of an error: the useful part ("Connection refused (os error 111)").
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::kv_call::{KvGrant, KvOp, KvRequest};
    use app::types::ids::AccountId;

    fn node() -> NodeId {
        NodeId::from(&crate::mesh::Keypair::generate_ed25519())
    }

    fn refusal(reply: Bytes) -> Failure {
        match wire::decode_reply(reply).unwrap() {
            wire::Reply::Failed { failure, .. } => failure,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_kv_call_from_a_node_that_is_not_an_entry_node_or_for_a_service_not_granted_is_refused() {
        let entry = node();
        let grant = KvGrant { account: AccountId::new("owner"), bucket: "cache".into() };
        let grants =
            Grants { entries: [entry].into(), kv: [("svc-1".to_owned(), grant)].into(), ..Grants::default() };
        let call = |service: &str| KvRequest {
            invoke_id: [0; 16],
            trace_id: [0; 16],
            service_id: service.into(),
            op: KvOp::Get { key: "k".into() },
        };

        // A mesh peer that is not an entry node, naming a granted service.
        let from_peer = execute_kv(None, &grants, node(), call("svc-1")).await;
        // An entry node naming a service this node was not granted (another account's).
        let not_granted = execute_kv(None, &grants, entry, call("svc-2")).await;

        assert_eq!(refusal(from_peer), Failure::NotPermitted);
        assert_eq!(refusal(not_granted), Failure::NotPermitted);
    }
}
