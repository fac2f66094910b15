//! The entry node's side of an invoke: find the service, check the method and body, pick a
//! healthy placement whose breaker is closed, send the request over the mesh, and turn the
//! answer (or the failure) into what the caller gets. Retries go to another placement:
//! a call the mesh dropped before it reached the hosting node is retried for any method; one
//! that may have reached the upstream only for idempotent methods.
pub use super::invoke_error::InvokeError;
use super::{
    MAX_BODY_BYTES,
    breaker::Breaker,
    catalog::Entry,
    entitlements::{QuotaState, Ticket},
    headers::{from_upstream, to_upstream},
    kv_call,
    missed::{Missed, attempt_error, failed, status_of, undelivered},
    runtime::ServiceRuntime,
    wire::{self, Reply},
    wire::{MAX_RESPONSE_BYTES, MESH_MARGIN},
};
use crate::{
    mesh::{NodeId, node::SendError},
    metering::UsageEvent,
    observability::{AttemptRecord, trace_context::TraceContext},
};
use app::types::{
    ids::{AccountId, KeyId},
    services::{ServiceKind, ServiceStatus},
};
use axum::http::{HeaderMap, Method};
use bytes::Bytes;
use std::{
    collections::HashMap,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};
use tracing::Instrument;

/// A service that takes calls with this method: what [`ServiceRuntime::admit`] checked, so the
/// call path never checks it again.
pub struct Admitted {
    service: Arc<Entry>,
    limit: u32,
}

impl Admitted {
    /// The largest body the call may carry.
    pub fn body_limit(&self) -> u32 {
        self.limit
    }
}

/// One call to make.
pub struct Call<'a> {
    /// The calling account, which pays for the call.
    pub payer: &'a AccountId,
    /// The API key it came with (`None` through the portal's session).
    pub key_id: Option<&'a KeyId>,
    /// The call's id when the caller fixed it (see [`invoke_id_for`]); a new UUIDv7 otherwise.
    pub invoke_id: Option<uuid::Uuid>,
    pub service: Admitted,
    pub method: &'a Method,
    /// Path (starting with `/`) and query after the service reference.
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: Bytes,
    /// The subscription it is made on (`None`: the payer owns the service).
    pub ticket: Option<Ticket<'a>>,
}

/// The upstream's answer and how it came.
#[derive(Debug)]
pub struct Invoked {
    /// The plan's quota after this call (calls on a subscription with a quota).
    pub quota: Option<QuotaState>,
    /// When the listing called through stops serving (it is deprecated).
    pub sunset: Option<chrono::DateTime<chrono::Utc>>,
    pub invoke_id: uuid::Uuid,
    /// The trace the call belongs to (the caller's, when it sent a valid `traceparent`).
    pub trace: TraceContext,
    pub route: Vec<NodeId>,
    pub attempts: u32,
    pub status: u16,
    pub headers: Vec<(String, Bytes)>,
    pub body: Bytes,
}

/// The invoke id of a call made with an `Idempotency-Key` whose record began at `since`: the
/// same for every retry of it, so that a retry the platform executes again (after a crash lost
/// the stored answer) is still metered once; a reuse of the key after its record expired is a
/// new call with a new id.
pub fn invoke_id_for(
    account: &AccountId,
    idempotency_key: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> uuid::Uuid {
    use sha2::Digest;
    let digest = sha2::Sha256::new()
        .chain_update(b"web4 invoke id\n")
        .chain_update(account.as_str().as_bytes())
        .chain_update(b"\n")
        .chain_update(idempotency_key.as_bytes())
        .chain_update(b"\n")
        .chain_update(since.timestamp_millis().to_be_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::new_v8(bytes)
}

/// The call as the hosting node's executor reads it: the caller's headers that may reach the
/// upstream, plus who pays and the service's proxy secret, and the trace (with `parent`, the
/// first attempt's span, as the hosting node's parent; the caller's `tracestate` if vetted).
#[allow(clippy::too_many_arguments)]
fn request_payload(
    service: &Entry,
    invoke_id: uuid::Uuid,
    (trace, parent): (&TraceContext, [u8; 8]),
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    payer: &AccountId,
    body: &[u8],
) -> Result<Bytes, InvokeError> {
    let http = service.http.as_ref().ok_or(InvokeError::NotFound)?;
    let tracestate = crate::observability::trace_context::vetted_tracestate(headers);
    let forward: Vec<(&str, &[u8])> = headers
        .iter()
        .filter(|(n, _)| to_upstream(n.as_str()))
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .chain([
            ("x-web4-consumer", payer.as_str().as_bytes()),
            (super::proxy_secret::HEADER, service.proxy_secret.as_bytes()),
        ])
        .chain(tracestate.as_deref().map(|t| ("tracestate", t.as_bytes())))
        .collect();
    wire::encode_request(wire::RequestParts {
        invoke_id: *invoke_id.as_bytes(),
        trace: Some(wire::Trace { trace_id: trace.trace_id, parent_id: parent, flags: trace.flags() }),
        service_id: service.id.as_str(),
        method: method.as_str(),
        path_and_query,
        timeout_ms: http.timeout_ms,
        max_response_bytes: MAX_RESPONSE_BYTES,
        headers: forward.iter().copied(),
        body,
    })
    .map_err(|e| InvokeError::BadRequest(format!("The request cannot be sent: {e}.")))
}

impl ServiceRuntime {
    /// Resolves the service a caller addresses: `{id}`, `{owner-account-id}/{slug}`, or a
    /// `{slug}` of the caller's own; returns it with the rest of the path. Services of other
    /// accounts are not found (the marketplace will open them to subscribers).
    pub fn resolve<'p>(
        &self,
        caller: &AccountId,
        rest: &'p str,
    ) -> Result<(Arc<Entry>, &'p str), InvokeError> {
        let catalog = self.catalog();
        let (first, after) = split_segment(rest);
        let found = if let Some(entry) = catalog.get(first) {
            Some((entry.clone(), after))
        } else if uuid::Uuid::parse_str(first).is_ok() {
            let (slug, after) = split_segment(after);
            catalog.by_slug(first, slug).map(|e| (e.clone(), after))
        } else {
            catalog.by_slug(caller.as_str(), first).map(|e| (e.clone(), after))
        };
        // Another account's service is found here; whether the caller may call it is
        // `entitle`'s to say (and it says "not found" unless the caller subscribes or the
        // service is listed).
        found.ok_or(InvokeError::NotFound)
    }

    /// Whether `caller` may call `service`: its owner always (at the service's own pricing);
    /// anyone else on an active subscription, within its quota and spending cap (the ticket
    /// holds the call's reservation).
    pub fn entitle(&self, caller: &AccountId, service: &Entry) -> Result<Option<Ticket<'_>>, InvokeError> {
        if &service.owner == caller {
            return Ok(None);
        }
        let admitted = self.entitlements().admit(caller, &service.id, chrono::Utc::now());
        Ok(Some(admitted.map_err(InvokeError::from).inspect_err(|e| self.count_refusal(e))?))
    }

    /// Checks what can be checked before the body is read: status, kind and method.
    pub fn admit(&self, service: Arc<Entry>, method: &Method) -> Result<Admitted, InvokeError> {
        match service.status {
            ServiceStatus::Inactive => return Err(InvokeError::Inactive),
            ServiceStatus::Active if !service.available => return Err(InvokeError::Unavailable),
            ServiceStatus::Active => {}
        }
        if service.kind == ServiceKind::Kv {
            // The operation is read off the path once the body is in (`kv_call::parse`).
            if !kv_call::KV_METHODS.contains(&method.as_str()) {
                let allowed = kv_call::KV_METHODS.iter().map(|m| (*m).to_owned()).collect();
                return Err(InvokeError::MethodNotAllowed { method: method.to_string(), allowed });
            }
            let limit = (crate::memory::validation::BODY_LIMIT as u32).min(MAX_BODY_BYTES);
            return Ok(Admitted { service, limit });
        }
        let http = service.http.as_ref().ok_or(InvokeError::NotFound)?;
        if !http.allowed_methods.iter().any(|m| m == method.as_str()) {
            return Err(InvokeError::MethodNotAllowed {
                method: method.to_string(),
                allowed: http.allowed_methods.clone(),
            });
        }
        let limit = http.max_body_bytes.min(MAX_BODY_BYTES);
        Ok(Admitted { service, limit })
    }

    /// Makes the call and meters it: a 2xx answer is returned only once its usage event is
    /// recorded (see [`crate::metering`]).
    pub async fn invoke(&self, mut call: Call<'_>) -> Result<Invoked, InvokeError> {
        let settings = self.settings();
        let ticket = call.ticket.take();
        let _slot = self
            .in_flight
            .take(call.payer, settings.max_concurrent_invokes, settings.max_concurrent_invokes_per_account)
            .map_err(InvokeError::from)
            .inspect_err(|e| self.count_refusal(e))?;
        let started = Instant::now();
        let started_at = chrono::Utc::now();
        let (payer, key_id, service, bytes_in) =
            (call.payer, call.key_id, call.service.service.clone(), call.body.len());
        let (method, path) =
            (call.method.clone(), call.path_and_query.split('?').next().unwrap_or("").to_owned());
        let trace = TraceContext::from_headers(call.headers);
        let invoke_id = *call.invoke_id.get_or_insert_with(uuid::Uuid::now_v7);
        let span = tracing::info_span!(
            "invoke",
            %invoke_id,
            trace_id = %trace.trace_id_hex(),
            service = %service.id,
        );
        // Nothing is kept for the trace store when it is switched off.
        let mut attempts = self.observer.wants_attempts().then(Vec::new);
        let forwarded = self.forward(call, &trace, started, attempts.as_mut()).instrument(span).await;
        let (status, error_code, route): (u16, Option<&'static str>, &[NodeId]) = match &forwarded {
            Ok(invoked) => (invoked.status, None, &invoked.route),
            Err(err) => {
                let (status, code) = status_of(err);
                (status, Some(code), &[])
            }
        };
        self.observer.invoke_finished(&crate::observability::InvokeRecord {
            invoke_id,
            trace,
            service: &service.id,
            service_name: &service.slug,
            owner: &service.owner,
            payer,
            entry: self.entry().map(|h| h.id()),
            method: method.as_str(),
            path: &path,
            started_at,
            duration: started.elapsed(),
            status,
            error_code,
            route,
            attempts: attempts.as_deref().unwrap_or_default(),
        });
        let mut invoked = forwarded?;
        invoked.quota = ticket.as_ref().and_then(|t| t.quota);
        invoked.sunset = ticket.as_ref().and_then(|t| t.grant.sunset_at);
        if let Some(meter) = &self.meter
            && (200..300).contains(&invoked.status)
        {
            let event = UsageEvent {
                invoke_id: invoked.invoke_id,
                payer_account_id: payer.clone(),
                service_id: service.id.clone(),
                provider_account_id: service.owner.clone(),
                api_key_id: key_id.cloned(),
                plan_id: ticket.as_ref().map(|t| t.grant.plan.clone()),
                calls: 1,
                bytes_in: bytes_in as i64,
                bytes_out: invoked.body.len() as i64,
                duration_us: i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX),
                status: invoked.status,
                occurred_at: chrono::Utc::now(),
            };
            meter.record(event).await.map_err(|e| InvokeError::Metering(e.to_string()))?;
            if let Some(ticket) = ticket {
                ticket.billed();
            }
        }
        Ok(invoked)
    }

    fn count_refusal(&self, err: &InvokeError) {
        if let Some(reason) = err.refusal_reason() {
            self.observer.refused(reason);
        }
    }

    /// Makes the call through the mesh, with retries and breakers; tells `attempts` (when
    /// given) how each attempt went, on the timeline of the call that began at `started`.
    async fn forward(
        &self,
        call: Call<'_>,
        trace: &TraceContext,
        started: Instant,
        mut attempts_seen: Option<&mut Vec<AttemptRecord>>,
    ) -> Result<Invoked, InvokeError> {
        let Call {
            service: Admitted { service, limit },
            method,
            path_and_query,
            headers,
            body,
            invoke_id,
            payer,
            ..
        } = call;
        if body.len() > limit as usize {
            return Err(InvokeError::BodyTooLarge { limit });
        }
        let invoke_id = invoke_id.unwrap_or_else(uuid::Uuid::now_v7);
        // Each attempt is a span of the trace; the first one's id is written into the request.
        let mut attempt_span = crate::observability::trace_context::new_span_id();
        let (payload, timeout_ms) = match &service.http {
            Some(http) => {
                if climbs(path_and_query) {
                    return Err(InvokeError::BadRequest(
                        "The path may not contain . or .. segments (in any spelling): it would leave the service's base path."
                            .into(),
                    ));
                }
                let payload = request_payload(
                    &service,
                    invoke_id,
                    (trace, attempt_span),
                    method,
                    path_and_query,
                    headers,
                    payer,
                    &body,
                )?;
                (payload, http.timeout_ms)
            }
            // A kv call: the operation, not the request, crosses the mesh.
            None => {
                let op = kv_call::parse(method, path_and_query, headers, &body)?;
                (
                    kv_call::encode(*invoke_id.as_bytes(), trace.trace_id, service.id.as_str(), &op)?,
                    kv_call::KV_TIMEOUT_MS,
                )
            }
        };
        let entry = self.entry().ok_or(InvokeError::NoEntryNode)?;
        drop(body);
        let deadline = Instant::now() + Duration::from_millis(u64::from(timeout_ms)) + MESH_MARGIN;
        let max_attempts = 1 + u32::from(service.policy.retries);
        let placements = &service.healthy;
        if placements.is_empty() {
            return Err(InvokeError::NoHealthyPlacement);
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut attempts = 0;
        let mut refused_for: Option<Duration> = None;
        let mut last = InvokeError::NoHealthyPlacement;
        for i in 0..placements.len() {
            if attempts == max_attempts {
                break;
            }
            let node = placements[(start + i) % placements.len()];
            if let Err(wait) = self.acquire(&service, node) {
                refused_for = Some(refused_for.map_or(wait, |w| w.min(wait)));
                continue;
            }
            attempts += 1;
            let attempt_started = Instant::now();
            let sent = if attempts == 1 {
                payload.clone()
            } else {
                attempt_span = crate::observability::trace_context::new_span_id();
                wire::with_parent(&payload, attempt_span)
            };
            let remaining = deadline.saturating_duration_since(attempt_started);
            let mut seen =
                AttemptRecord::new(node, attempt_span, attempt_started.saturating_duration_since(started));
            let mut dropped = None;
            let missed = match entry.request(node, sent, remaining).await {
                Ok(answer) => {
                    if attempts_seen.is_some() {
                        seen.stamped(&answer, started.elapsed());
                    }
                    match wire::decode_reply(answer.payload) {
                        Ok(Reply::Response { status, timing, mut headers, body }) => {
                            self.settle(&service, node, true);
                            headers.retain(|(name, _)| from_upstream(name));
                            if let Some(seen_all) = attempts_seen {
                                seen.duration = attempt_started.elapsed();
                                let wire::HostTiming { host_us, upstream_at_us, upstream_us } = timing;
                                seen.answered(status, host_us, upstream_at_us, upstream_us);
                                seen_all.push(seen);
                            }
                            return Ok(Invoked {
                                quota: None,
                                sunset: None,
                                invoke_id,
                                trace: *trace,
                                route: answer.receipt.route,
                                attempts,
                                status,
                                headers,
                                body,
                            });
                        }
                        Ok(Reply::Failed { failure, message }) => {
                            failed(failure, message, timeout_ms, method)
                        }
                        Err(_) => Missed {
                            error: InvokeError::Mesh("the hosting node answered gibberish".into()),
                            counts_against_node: true,
                            may_retry: false,
                        },
                    }
                }
                Err(err) => {
                    if let SendError::Dropped { reason, .. } = &err {
                        dropped = Some(*reason);
                    }
                    undelivered(err, timeout_ms, method)
                }
            };
            let Missed { error, counts_against_node, may_retry } = missed;
            if let Some(seen_all) = attempts_seen.as_deref_mut() {
                seen.duration = attempt_started.elapsed();
                seen.error = Some(attempt_error(&error, dropped));
                seen_all.push(seen);
            }
            self.settle(&service, node, !counts_against_node);
            tracing::debug!(service_id = %service.id, node_id = %node, error = %error, "invoke attempt failed");
            last = error;
            if !may_retry {
                break;
            }
        }
        if attempts == 0
            && let Some(wait) = refused_for
        {
            return Err(InvokeError::CircuitOpen {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            });
        }
        Err(last)
    }

    /// Takes a call slot on the placement's breaker, or says how long it stays open.
    fn acquire(&self, service: &Entry, node: NodeId) -> Result<(), Duration> {
        let mut breakers = self.breakers.lock().unwrap_or_else(|e| e.into_inner());
        let cooldown = Duration::from_millis(u64::from(service.policy.breaker_cooldown_ms));
        // The longest a call (the probe) can last.
        let timeout_ms = service.http.as_ref().map_or(kv_call::KV_TIMEOUT_MS, |h| h.timeout_ms);
        let probe_limit = Duration::from_millis(u64::from(timeout_ms)) + MESH_MARGIN;
        if !breakers.contains_key(&service.id) {
            breakers.insert(service.id.clone(), HashMap::new());
        }
        let breaker = breakers
            .get_mut(service.id.as_str())
            .expect("inserted above")
            .entry(node)
            .or_insert_with(|| Breaker::new(service.policy.breaker_failures, cooldown, probe_limit));
        breaker.configure(service.policy.breaker_failures, cooldown, probe_limit);
        breaker.try_acquire(Instant::now()).map_err(|r| r.retry_in)
    }

    fn settle(&self, service: &Entry, node: NodeId, ok: bool) {
        let mut breakers = self.breakers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(breaker) = breakers.get_mut(&service.id).and_then(|b| b.get_mut(&node)) {
            if ok {
                breaker.success();
            } else {
                breaker.failure(Instant::now());
                if !breaker.would_allow(Instant::now()) {
                    tracing::warn!(service_id = %service.id, node_id = %node, state = breaker.name(), "circuit breaker open");
                }
            }
        }
    }

    /// A node's name for people (empty if unknown).
    pub fn node_name(&self, node: &NodeId) -> String {
        self.catalog().node_name(node).unwrap_or_default().to_owned()
    }
}

/// Whether a path has a `.` or `..` segment, written out or percent-encoded (`%2e%2E`):
/// URL normalisation would apply it to the upstream's base path (`/v1/../admin` → `/admin`).
fn climbs(path_and_query: &str) -> bool {
    let path = path_and_query.split(['?', '#']).next().unwrap_or_default();
    path.split(['/', '\\']).any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

/// `"a/b/c"` → `("a", "/b/c")`; `"a"` → `("a", "/")`.
fn split_segment(path: &str) -> (&str, &str) {
    let path = path.trim_start_matches('/');
    match path.find('/') {
        Some(i) => (&path[..i], &path[i..]),
        None => (path, "/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_in_any_spelling_are_caught() {
        for path in ["/a/../b", "/..", "/%2e%2e/x", "/%2E./x", "/.%2e", "/a/./b", "/a\\..\\b", "/%2e"] {
            assert!(climbs(path), "{path}");
        }
        for path in ["/a/b", "/a..b/c", "/.well-known/x", "/x?next=../y", "/", "/%2e%2e.txt"] {
            assert!(!climbs(path), "{path}");
        }
    }

    #[test]
    fn segments_split_off_the_service_reference() {
        assert_eq!(split_segment("svc/a/b"), ("svc", "/a/b"));
        assert_eq!(split_segment("svc"), ("svc", "/"));
        assert_eq!(split_segment("/svc/"), ("svc", "/"));
    }
}
