//! The observability façade: one method per question a page or the Cloud API asks.
use super::{
    ObservabilityError, Observer,
    metrics::{self, NodeCounters},
    views::{DropTable, Steps, Tally},
};
use crate::{db, liveness::Liveness, mesh::node::MeshHandle};
use app::types::{
    ids::{AccountId, NodeId, ServiceId},
    nodes::NodeState,
    observability::{
        DropsView, NodeMetricsView, ServiceMetricsView, TopConsumer, TraceQuery, TraceSummary, TraceView,
        Window,
    },
};
use chrono::Utc;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

pub use super::traces::Viewer;

/// Most consumers a service's metrics list.
const TOP_CONSUMERS: u64 = 10;

/// Metrics, traces and rollups.
pub struct Observability {
    db: DatabaseConnection,
    /// The recent traces (the [`super::Observer`] writes them).
    traces: Arc<super::traces::TraceStore>,
    observer: Arc<Observer>,
    /// The embedded nodes, whose counters `/metrics` reads at scrape time.
    mesh: Vec<MeshHandle>,
    liveness: Liveness,
}

impl Observability {
    pub fn new(
        db: DatabaseConnection,
        observer: Arc<Observer>,
        mesh: Vec<MeshHandle>,
        liveness: Liveness,
        traces: Arc<super::traces::TraceStore>,
    ) -> Self {
        Self { db, observer, mesh, liveness, traces }
    }

    /// Starts the rollups' flusher (none when metrics are off).
    pub fn start(&self, settings: &super::ObservabilitySettings) -> Option<tokio::task::JoinHandle<()>> {
        self.observer.metrics_enabled().then(|| {
            self.observer.rollups().clone().start(
                self.db.clone(),
                settings.rollup_flush_every,
                settings.rollup_retention,
            )
        })
    }

    /// Writes the rollups not yet written and sends the spans still queued for the collector
    /// (at shutdown).
    pub async fn flush(&self) -> Result<(), ObservabilityError> {
        let observer = self.observer.clone();
        let exported = tokio::task::spawn_blocking(move || observer.shutdown_export());
        if self.observer.metrics_enabled() {
            self.observer.rollups().flush(&self.db, Utc::now()).await?;
        }
        exported.await.map_err(anyhow::Error::from)?;
        Ok(())
    }

    /// The Prometheus text of every metric, the mesh's counters read now; `None` when metrics
    /// are off. Who may read it is the caller's to check (see [`super::metrics`]).
    pub async fn render_metrics(&self) -> Result<Option<String>, ObservabilityError> {
        if !self.observer.metrics_enabled() {
            return Ok(None);
        }
        let mut counters: Vec<NodeCounters> = self.mesh.iter().map(embedded_counters).collect();
        let now = Utc::now();
        let mut states = [(NodeState::Online, 0u64), (NodeState::Degraded, 0), (NodeState::Offline, 0)];
        for node in db::nodes::nodes(&self.db).await? {
            let state = crate::liveness::state_of(node.last_heartbeat_at, now, &self.liveness);
            if let Some(slot) = states.iter_mut().find(|(s, _)| *s == state) {
                slot.1 += 1;
            }
            if node.kind != app::types::nodes::NodeKind::Embedded {
                let stats = node.stats;
                counters.push(NodeCounters {
                    node: node.id.as_str().to_owned(),
                    forwarded: stats.forwarded,
                    delivered: stats.delivered,
                    originated: stats.originated,
                    peak_in_flight: None,
                    drops: stats.drops.into_iter().filter(|(r, _)| metrics::known_drop_reason(r)).collect(),
                });
            }
        }
        let states = states.map(|(s, n)| (<&'static str>::from(s), n));
        metrics::mesh(&counters, &states);
        Ok(Some(metrics::render()))
    }

    /// A service's request history over `window` and its top consumers; `NotFound` unless
    /// `caller` owns the service.
    pub async fn service_metrics(
        &self,
        caller: &AccountId,
        id: &ServiceId,
        window: Window,
    ) -> Result<ServiceMetricsView, ObservabilityError> {
        let service = db::services::owned(&self.db, caller, id)
            .await?
            .ok_or(ObservabilityError::NotFound("service"))?;
        let steps = Steps::of(window, Utc::now());
        let mut tallies = vec![Tally::default(); steps.count];
        let mut totals = Tally::default();
        let stored = db::observability::service_rollups(&self.db, caller, id, steps.since()).await?;
        let rows = stored.into_iter().map(|row| (row.minute, row.requests, row.errors, row.latency));
        for (minute, requests, errors, latency) in rows.chain(self.observer.rollups().pending_service(id)) {
            if let Some(i) = steps.index(minute) {
                tallies[i].add(requests, errors, &latency);
                totals.add(requests, errors, &latency);
            }
        }
        let top_consumers =
            db::observability::top_consumers(&self.db, caller, id, steps.since(), TOP_CONSUMERS)
                .await?
                .into_iter()
                .map(|(payer, email, calls)| TopConsumer {
                    consumer: if &payer == caller { "you".to_owned() } else { email },
                    calls: u64::try_from(calls).unwrap_or(0),
                })
                .collect();
        Ok(ServiceMetricsView {
            service_id: service.id,
            service_name: service.name,
            window,
            points: steps.starts().into_iter().zip(&tallies).map(|(at, t)| t.point(at)).collect(),
            totals: totals.totals(),
            top_consumers,
        })
    }

    /// A node's history over `window` (the caller has checked it is the operator).
    pub async fn node_metrics(
        &self,
        id: &NodeId,
        window: Window,
    ) -> Result<NodeMetricsView, ObservabilityError> {
        db::nodes::node(&self.db, id).await?.ok_or(ObservabilityError::NotFound("node"))?;
        let steps = Steps::of(window, Utc::now());
        let mut tallies = vec![Tally::default(); steps.count];
        let mut drops = DropTable::default();
        for row in db::observability::node_rollups(&self.db, id, steps.since()).await? {
            let Some(i) = steps.index(row.minute) else { continue };
            let tally = &mut tallies[i];
            tally.add(row.requests, row.errors, &row.latency);
            tally.forwarded += u64::try_from(row.forwarded).unwrap_or(0);
            for (reason, n) in &row.drops.0 {
                tally.drops += n;
                drops.add(&steps, i, reason, *n);
            }
        }
        for (minute, requests, errors, latency) in self.observer.rollups().pending_node(id) {
            if let Some(i) = steps.index(minute) {
                tallies[i].add(requests, errors, &latency);
            }
        }
        Ok(NodeMetricsView {
            node_id: id.clone(),
            window,
            points: steps.starts().into_iter().zip(&tallies).map(|(at, t)| t.node_point(at)).collect(),
            drops: drops.series(),
        })
    }

    /// Drops by reason across the mesh over `window` (the caller has checked it is the operator).
    pub async fn drops(&self, window: Window) -> Result<DropsView, ObservabilityError> {
        let steps = Steps::of(window, Utc::now());
        let mut drops = DropTable::default();
        for (minute, counts) in db::observability::drops_since(&self.db, steps.since()).await? {
            let Some(i) = steps.index(minute) else { continue };
            for (reason, n) in &counts.0 {
                drops.add(&steps, i, reason, *n);
            }
        }
        Ok(DropsView { window, steps: steps.starts(), reasons: drops.series() })
    }

    /// Recent traces `viewer` may see, newest first: the operator's are every trace, an
    /// account's those of the services it owns and of the calls it made. `query.limit` is
    /// 1–100 (default 50; the Cloud API refuses others, anything else here is clamped).
    pub async fn traces(
        &self,
        viewer: Viewer<'_>,
        query: TraceQuery,
    ) -> Result<Vec<TraceSummary>, ObservabilityError> {
        Ok(self.traces.list(viewer, &query))
    }

    /// One trace `viewer` may see (the newest call of it, when a caller sent the same
    /// `traceparent` with several); `NotFound` for another account's, an unknown or expired
    /// one alike, so a trace id reveals nothing.
    pub async fn trace(&self, viewer: Viewer<'_>, trace_id: &str) -> Result<TraceView, ObservabilityError> {
        self.traces.get(viewer, trace_id).ok_or(ObservabilityError::NotFound("trace"))
    }
}

/// An embedded node's counters, read from its atomics.
fn embedded_counters(handle: &MeshHandle) -> NodeCounters {
    use std::sync::atomic::Ordering::Relaxed;
    let stats = handle.stats();
    NodeCounters {
        node: handle.id().to_string(),
        forwarded: stats.forwarded.load(Relaxed),
        delivered: stats.delivered.load(Relaxed),
        originated: stats.originated.load(Relaxed),
        peak_in_flight: Some(stats.peak_in_flight.load(Relaxed)),
        drops: stats.drops().into_iter().map(|(r, n)| (r.as_str().to_owned(), n)).collect(),
    }
}
