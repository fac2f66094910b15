//! The portal's observability pages: the [`PortalPort`](app::port::PortalPort) methods over
//! [`Observability`](crate::observability::Observability). Translation only.
use super::{PortalAdapter, errors::portal_error};
use crate::observability::application::Viewer;
use app::{
    error::PortalError,
    types::{
        Role,
        ids::ServiceId,
        observability::{ServiceMetricsView, TraceQuery, TraceSummary, TraceView, Window},
    },
};

impl PortalAdapter {
    pub(super) async fn get_service_metrics_impl(
        &self,
        id: ServiceId,
        window: Window,
    ) -> Result<ServiceMetricsView, PortalError> {
        let account = self.account().await?;
        self.state.observability.service_metrics(&account.id, &id, window).await.map_err(portal_error)
    }

    pub(super) async fn list_traces_impl(&self, query: TraceQuery) -> Result<Vec<TraceSummary>, PortalError> {
        let account = self.account().await?;
        let viewer = Viewer { account: &account.id, operator: account.role == Role::Operator };
        self.state.observability.traces(viewer, query).await.map_err(portal_error)
    }

    pub(super) async fn get_trace_impl(&self, trace_id: String) -> Result<TraceView, PortalError> {
        let account = self.account().await?;
        let viewer = Viewer { account: &account.id, operator: account.role == Role::Operator };
        self.state.observability.trace(viewer, &trace_id).await.map_err(portal_error)
    }
}
