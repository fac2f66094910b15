//! Health checks, judged the way Consul does — 2xx in time is passing, 429 (or a 2xx slower
//! than half the timeout) is warning, anything else (another status, a timeout, a refused
//! connection, a mesh that cannot reach the hosting node) is critical.
//!
//! A check takes **the path a call takes**: the entry node sends `GET {check path}` over the
//! mesh to the hosting node, whose executor calls the upstream with the very client (and
//! connection pool) invokes use, and the answer comes back as a signed reply. So "passing"
//! means a call entering the mesh now reaches the upstream through that placement: the route
//! has converged, the hosting node serves, the upstream answers. Checking from the hosting
//! node alone (as an earlier version did) said "healthy" before the entry node had a route,
//! and the first invoke after "healthy" then failed; it also let a hosted node report health
//! it never measured.
use super::{
    wire::{self, Failure, Reply},
    wire::{MAX_RESPONSE_BYTES, MESH_MARGIN},
};
use crate::mesh::{NodeId, node::MeshHandle};
use app::types::{ids::ServiceId, services::HealthStatus};
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

/// A check of one service, run against each of its placements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub service_id: ServiceId,
    /// Path (and query) of the check, starting with `/`.
    pub path: String,
    pub interval_ms: u32,
    pub timeout_ms: u32,
    /// The service's proxy secret: a check is a call like any other to the upstream.
    pub proxy_secret: String,
}

/// One check's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: HealthStatus,
    /// e.g. `HTTP 200 in 3 ms`, `HTTP 503 in 2 ms`, `timed out after 2000 ms`.
    pub output: String,
    /// The check never reached the upstream for a reason of the mesh's that passes by itself
    /// (no route yet, the hosting node not yet told of the placement): check again within a
    /// second rather than a whole interval later (a new placement with a long interval would
    /// otherwise stay critical for that long).
    pub transient: bool,
}

/// How soon a check that failed for a passing reason of the mesh's runs again.
pub const TRANSIENT_RETRY: Duration = Duration::from_secs(1);

/// Judges an answer.
pub fn judge(status: Option<u16>, elapsed: Duration, timeout: Duration) -> HealthStatus {
    match status {
        Some(200..=299) if elapsed > timeout / 2 => HealthStatus::Warning,
        Some(200..=299) => HealthStatus::Passing,
        Some(429) => HealthStatus::Warning,
        _ => HealthStatus::Critical,
    }
}

/// Runs one check of the placement on `node`, entering the mesh at `entry`.
pub async fn check(entry: &MeshHandle, node: NodeId, probe: &Probe) -> Outcome {
    let timeout = Duration::from_millis(u64::from(probe.timeout_ms));
    let critical = |output: String| Outcome { status: HealthStatus::Critical, output, transient: false };
    let payload = wire::encode_request(wire::RequestParts {
        invoke_id: *uuid::Uuid::now_v7().as_bytes(),
        trace: None,
        service_id: probe.service_id.as_str(),
        method: "GET",
        path_and_query: &probe.path,
        timeout_ms: probe.timeout_ms,
        max_response_bytes: MAX_RESPONSE_BYTES,
        headers: [
            ("user-agent", b"web4-health-check".as_slice()),
            (super::proxy_secret::HEADER, probe.proxy_secret.as_bytes()),
        ]
        .into_iter(),
        body: &[],
    });
    // The check path is validated to 256 bytes, so this fits; say so if it ever does not.
    let payload = match payload {
        Ok(payload) => payload,
        Err(err) => return critical(format!("the check cannot be sent: {err}")),
    };
    let started = Instant::now();
    let answer = match entry.request(node, payload, timeout + MESH_MARGIN).await {
        Ok(answer) => answer,
        Err(err) => {
            let output = format!("the mesh could not reach the hosting node: {err}");
            return Outcome { transient: true, ..critical(output) };
        }
    };
    let elapsed = started.elapsed();
    match wire::decode_reply(answer.payload) {
        Ok(Reply::Response { status, .. }) => Outcome {
            status: judge(Some(status), elapsed, timeout),
            output: format!("HTTP {status} in {} ms", elapsed.as_millis()),
            transient: false,
        },
        Ok(Reply::Failed { failure: Failure::Timeout, .. }) => {
            critical(format!("timed out after {} ms", timeout.as_millis()))
        }
        Ok(Reply::Failed { failure: Failure::NotPermitted, message }) => {
            Outcome { transient: true, ..critical(message) }
        }
        // A node at its call limit still serves; saying so must not take it out of rotation.
        Ok(Reply::Failed { failure: Failure::Busy, message }) => {
            Outcome { status: HealthStatus::Warning, output: message, transient: true }
        }
        Ok(Reply::Failed { message, .. }) => critical(message),
        Err(_) => critical("the hosting node answered gibberish".into()),
    }
}

/// Starts the checks of `assigned` that are due, each in its own task, entering the mesh at
/// `entry` once one of `slots` is free (a global cap: however many services are registered,
/// only so many checks run at once); `done` gets each outcome with the node and the check.
pub fn start_due<'a, F, Fut>(
    schedule: &mut Schedule,
    entry: &MeshHandle,
    slots: &std::sync::Arc<tokio::sync::Semaphore>,
    assigned: impl IntoIterator<Item = (NodeId, &'a Probe)>,
    done: F,
) where
    F: Fn(NodeId, Probe, Outcome) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    for (node, probe) in schedule.due(assigned, Instant::now()) {
        let (entry, done, slots) = (entry.clone(), done.clone(), slots.clone());
        tokio::spawn(async move {
            let Ok(_slot) = slots.acquire_owned().await else { return };
            let outcome = check(&entry, node, &probe).await;
            done(node, probe, outcome).await;
        });
    }
}

/// When each check last started; says which are due.
#[derive(Default)]
pub struct Schedule {
    last: HashMap<(NodeId, ServiceId), Instant>,
}

impl Schedule {
    /// Makes the check of `probe` on `node` due again `after` from `now` (sooner than its
    /// interval; never later than it).
    pub fn again(&mut self, node: NodeId, probe: &Probe, after: Duration, now: Instant) {
        let interval = Duration::from_millis(u64::from(probe.interval_ms));
        if let (Some(last), Some(started)) =
            (self.last.get_mut(&(node, probe.service_id.clone())), (now + after).checked_sub(interval))
        {
            *last = (*last).min(started);
        }
    }

    /// The checks of `assigned` (keyed by node) due at `now`, marked as started. Checks no
    /// longer assigned are forgotten.
    pub fn due<'a>(
        &mut self,
        assigned: impl IntoIterator<Item = (NodeId, &'a Probe)>,
        now: Instant,
    ) -> Vec<(NodeId, Probe)> {
        let mut due = Vec::new();
        let mut seen = HashMap::new();
        for (node, probe) in assigned {
            let key = (node, probe.service_id.clone());
            let interval = Duration::from_millis(u64::from(probe.interval_ms));
            let last = self.last.get(&key).copied();
            let at = if last.is_none_or(|t| now.duration_since(t) >= interval) {
                due.push((node, probe.clone()));
                now
            } else {
                last.unwrap_or(now)
            };
            seen.insert(key, at);
        }
        self.last = seen;
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_judged_like_consul() {
        let t = Duration::from_millis(1000);
        let fast = Duration::from_millis(10);
        assert_eq!(judge(Some(200), fast, t), HealthStatus::Passing);
        assert_eq!(judge(Some(204), Duration::from_millis(600), t), HealthStatus::Warning);
        assert_eq!(judge(Some(429), fast, t), HealthStatus::Warning);
        assert_eq!(judge(Some(503), fast, t), HealthStatus::Critical);
        assert_eq!(judge(Some(301), fast, t), HealthStatus::Critical);
        assert_eq!(judge(None, t, t), HealthStatus::Critical);
    }

    #[test]
    fn checks_are_due_once_per_interval() {
        let probe = Probe {
            service_id: ServiceId::new("s"),
            path: "/".into(),
            interval_ms: 1000,
            timeout_ms: 500,
            proxy_secret: "w4ps_x".into(),
        };
        let node = || NodeId::from(&crate::mesh::Keypair::generate_ed25519());
        let (n, m) = (node(), node());
        let mut s = Schedule::default();
        let t0 = Instant::now();
        assert_eq!(s.due([(n, &probe)], t0).len(), 1);
        assert!(s.due([(n, &probe)], t0 + Duration::from_millis(500)).is_empty());
        assert_eq!(s.due([(n, &probe)], t0 + Duration::from_millis(1000)).len(), 1);
        // A check that failed for a passing reason of the mesh's runs again soon, not an interval later.
        let t1 = t0 + Duration::from_millis(1000);
        s.again(n, &probe, Duration::from_millis(300), t1 + Duration::from_millis(10));
        assert!(s.due([(n, &probe)], t1 + Duration::from_millis(200)).is_empty());
        assert_eq!(s.due([(n, &probe)], t1 + Duration::from_millis(320)).len(), 1);
        // Another node hosting the same service has its own schedule.
        assert_eq!(s.due([(n, &probe), (m, &probe)], t1 + Duration::from_millis(400)).len(), 1);
    }
}
