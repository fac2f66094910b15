//! What the entry node tells observability about every invoke it finished (answered or not),
//! and the one hook it calls: [`Observer::invoke_finished`]. Metrics, the per-minute rollups and
//! the trace store each take what they need from the record; none of them sees a body, a
//! header value or a query string.
use super::trace_context::TraceContext;
use crate::mesh::NodeId;
use app::types::ids::{AccountId, ServiceId};
use std::time::Duration;

/// One attempt at a placement.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    /// The hosting node tried.
    pub node: NodeId,
    /// This attempt's span id (the parent the hosting node's span names).
    pub span: [u8; 8],
    /// When the attempt started, after the call did.
    pub offset: Duration,
    pub duration: Duration,
    /// Why it brought no answer (an error code or drop reason), when it did not.
    pub error: Option<String>,
    /// The nodes the request crossed, entry first, when the hosting node answered (with a
    /// response or a failure); empty when the mesh brought nothing back.
    pub route: Vec<NodeId>,
    /// When the request reached each node of `route` after the call started (the mesh's
    /// signed hop stamps, on the entry node's timeline); empty when the mesh gave none, and
    /// the trace then spreads the attempt's time evenly over the route's links.
    pub hops: Vec<(NodeId, Duration)>,
    /// The hosting node's own timing, when it answered with the upstream's response.
    pub host: Option<HostTimes>,
}

impl AttemptRecord {
    /// An attempt at `node`, span `span`, that began `offset` after the call; the rest is
    /// filled in as it goes.
    pub fn new(node: NodeId, span: [u8; 8], offset: Duration) -> Self {
        Self {
            node,
            span,
            offset,
            duration: Duration::ZERO,
            error: None,
            route: Vec::new(),
            hops: Vec::new(),
            host: None,
        }
    }
}

impl AttemptRecord {
    /// Takes the route and the mesh's hop stamps from `answer`, which arrived `now` after the
    /// call began. Each stamp is placed on the entry node's timeline by its distance from the
    /// answer's arrival (`received_at_us`, the entry node's clock): exact for the entry node's
    /// own stamps and for embedded nodes (one process, one clock), off by the clocks' skew for
    /// a hosted node (the trace clamps what falls outside the attempt).
    pub fn stamped(&mut self, answer: &crate::mesh::node::Answer, now: Duration) {
        self.route.clone_from(&answer.receipt.route);
        self.hops = answer
            .hops
            .iter()
            .map(|hop| {
                let before = Duration::from_micros(answer.received_at_us.saturating_sub(hop.at_us));
                (hop.node, now.saturating_sub(before))
            })
            .collect();
        // How long the destination held it, by its own stamps (one clock): what a trace shows
        // of the host when its reply says no more.
        self.host = answer.at_destination().map(|held| HostTimes { held, upstream: None });
    }
}

/// What the hosting node held of one call (durations on its own clock).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostTimes {
    /// From taking the request to answering it.
    pub held: Duration,
    /// The upstream call within: when it began after the host took the request, how long it
    /// took, and the status it answered. `None` when there was none to show (a kv call, or a
    /// call that failed at the host: a timeout, a refused connect).
    pub upstream: Option<(Duration, Duration, u16)>,
}

impl AttemptRecord {
    /// The hosting node answered with the upstream's response, `status`, and its own timing
    /// (microseconds; all zero when it measured none, as for a kv call: the mesh's stamps
    /// then give the host's time alone).
    pub fn answered(&mut self, status: u16, held_us: u32, upstream_at_us: u32, upstream_us: u32) {
        if held_us == 0 {
            return;
        }
        let micros = |us: u32| Duration::from_micros(u64::from(us));
        self.host = Some(HostTimes {
            held: micros(held_us),
            upstream: Some((micros(upstream_at_us), micros(upstream_us), status)),
        });
    }
}

/// A finished invoke, as the entry node saw it.
#[derive(Clone, Debug)]
pub struct InvokeRecord<'a> {
    pub invoke_id: uuid::Uuid,
    pub trace: TraceContext,
    pub service: &'a ServiceId,
    pub service_name: &'a str,
    /// The service's owner (who sees its metrics and traces).
    pub owner: &'a AccountId,
    /// The calling account (who sees the calls it made).
    pub payer: &'a AccountId,
    /// The entry node (the embedded node that sent the call into the mesh), when one was up.
    pub entry: Option<NodeId>,
    pub method: &'a str,
    /// The path after the service reference, without the query string.
    pub path: &'a str,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub duration: Duration,
    /// The status the caller got (the upstream's, or the platform's error status).
    pub status: u16,
    /// The platform's error code when the platform answered instead of the upstream.
    pub error_code: Option<&'static str>,
    /// The route of the answering attempt, entry first (empty when none answered).
    pub route: &'a [NodeId],
    pub attempts: &'a [AttemptRecord],
}
