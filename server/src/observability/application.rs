//! The observability façade: one method per question a page or the Cloud API asks.
use super::ObservabilityError;
use app::types::{
    ids::{AccountId, NodeId, ServiceId},
    observability::{
        DropsView, NodeMetricsView, ServiceMetricsView, TraceQuery, TraceSummary, TraceView, Window,
    },
};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Who is asking: an account, and whether it is the operator (who sees every trace).
#[derive(Clone, Copy, Debug)]
pub struct Viewer<'a> {
    pub account: &'a AccountId,
    pub operator: bool,
}

/// Metrics, traces and rollups.
pub struct Observability {
    #[allow(dead_code)]
    db: DatabaseConnection,
    /// The recent traces (the [`super::Observer`] writes them).
    traces: Arc<super::traces::TraceStore>,
}

impl Observability {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db, traces: Arc::default() }
    }

    /// The façade reading traces from `store`.
    pub fn with_traces(mut self, store: Arc<super::traces::TraceStore>) -> Self {
        self.traces = store;
        self
    }

    /// A service's request history over `window` and its top consumers; `NotFound` unless
    /// `caller` owns the service.
    pub async fn service_metrics(
        &self,
        _caller: &AccountId,
        _id: &ServiceId,
        _window: Window,
    ) -> Result<ServiceMetricsView, ObservabilityError> {
        Err(ObservabilityError::NotFound("service"))
    }

    /// A node's history over `window` (the caller has checked it is the operator).
    pub async fn node_metrics(
        &self,
        _id: &NodeId,
        _window: Window,
    ) -> Result<NodeMetricsView, ObservabilityError> {
        Err(ObservabilityError::NotFound("node"))
    }

    /// Drops by reason across the mesh over `window` (the caller has checked it is the operator).
    pub async fn drops(&self, window: Window) -> Result<DropsView, ObservabilityError> {
        Ok(DropsView { window, steps: Vec::new(), reasons: Vec::new() })
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
