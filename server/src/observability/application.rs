//! The observability façade: one method per question a page or the Cloud API asks.
use super::ObservabilityError;
use app::types::{
    ids::{AccountId, NodeId, ServiceId},
    observability::{
        DropsView, NodeMetricsView, ServiceMetricsView, TraceQuery, TraceSummary, TraceView, Window,
    },
};
use sea_orm::DatabaseConnection;

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
}

impl Observability {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
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

    /// Recent traces `viewer` may see, newest first.
    pub async fn traces(
        &self,
        _viewer: Viewer<'_>,
        _query: TraceQuery,
    ) -> Result<Vec<TraceSummary>, ObservabilityError> {
        Ok(Vec::new())
    }

    /// One trace `viewer` may see.
    pub async fn trace(&self, _viewer: Viewer<'_>, _trace_id: &str) -> Result<TraceView, ObservabilityError> {
        Err(ObservabilityError::NotFound("trace"))
    }
}
