//! Observability: what the platform measured about its calls and its mesh, and who may see it.
//!
//! - **Metrics** through the `metrics` facade, rendered in the Prometheus text format at
//!   `/metrics`.
//! - **Traces** of recent invokes: W3C `traceparent` taken from the caller (or started),
//!   carried through the mesh, continued to the upstream; kept in a bounded store.
//! - **History**: per-minute rollups of the request metrics, persisted so charts survive
//!   restarts.
//!
//! A developer sees the services it owns and the calls it made; the operator sees every
//! node, drop and trace. Another account's service or trace is `NotFound`, never `Forbidden`.
pub mod application;
pub mod metrics;
pub mod otlp;
pub mod record;
pub mod rollups;
pub mod trace_context;
pub mod traces;
mod views;

pub use record::{AttemptRecord, InvokeRecord};

pub use application::Observability;
pub use metrics::ObservabilitySettings;

use crate::error::{Classified, Classify, Problem};
use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum ObservabilityError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Where the entry node reports finished invokes. Cheap to call on the hot path: each sink
/// takes what it needs and returns; nothing here waits on the database.
pub struct Observer {
    /// Metrics and rollups are recorded (`metrics` setting); off, they record nothing.
    metrics: bool,
    rollups: std::sync::Arc<rollups::Rollups>,
    /// The recent traces (shared with [`Observability`], which reads them).
    traces: std::sync::Arc<traces::TraceStore>,
    /// The export of every trace to a collector, when `otlp_endpoint` is set.
    otlp: Option<otlp::OtlpExport>,
}

impl Default for Observer {
    fn default() -> Self {
        Self::new(&ObservabilitySettings::default(), Default::default(), None)
    }
}

impl Observer {
    /// An observer recording metrics and rollups as `settings` say, traces into `traces`, and
    /// exporting them through `otlp` when there is one.
    pub fn new(
        settings: &ObservabilitySettings,
        traces: std::sync::Arc<traces::TraceStore>,
        otlp: Option<otlp::OtlpExport>,
    ) -> Self {
        if settings.metrics {
            // Installed before the first call counts anything (earlier counts would be lost).
            metrics::handle();
        }
        Self { metrics: settings.metrics, rollups: Default::default(), traces, otlp }
    }

    /// Sends the spans still queued for the collector and stops the exporter (blocks).
    pub fn shutdown_export(&self) {
        if let Some(otlp) = &self.otlp {
            otlp.shutdown();
        }
    }

    /// Whether metrics and rollups are recorded.
    pub fn metrics_enabled(&self) -> bool {
        self.metrics
    }

    /// The per-minute aggregator (its flusher is started by the composition root).
    pub fn rollups(&self) -> &std::sync::Arc<rollups::Rollups> {
        &self.rollups
    }

    /// Records one finished invoke in the metrics, the rollups and the trace store, and
    /// queues it for the collector.
    pub fn invoke_finished(&self, record: &InvokeRecord<'_>) {
        if self.metrics {
            metrics::invoke_finished(record);
            self.rollups.record(record);
        }
        // One copy of the call serves the store and the export, and none is made for neither.
        let export = self.otlp.as_ref().filter(|otlp| otlp.takes(record));
        if self.traces.enabled() || export.is_some() {
            let stored = std::sync::Arc::new(traces::Stored::of(record, std::time::Instant::now()));
            if let Some(otlp) = export {
                otlp.export(record, &stored);
            }
            self.traces.keep(stored);
        }
    }

    /// Whether the invoke path should keep its attempts: for the traces and for the metrics'
    /// per-hop latencies; with both off it keeps nothing.
    pub fn wants_attempts(&self) -> bool {
        self.metrics || self.traces.enabled() || self.otlp.is_some()
    }

    /// Counts a call refused before it was made (`reason`: the error code answered).
    pub fn refused(&self, reason: &'static str) {
        if self.metrics {
            metrics::refused(reason);
        }
    }
}

impl From<DbErr> for ObservabilityError {
    fn from(err: DbErr) -> Self {
        ObservabilityError::Internal(err.into())
    }
}

impl Classify for ObservabilityError {
    fn classify(self) -> Classified {
        let problem = match self {
            ObservabilityError::NotFound(what) => Problem::not_found(format!("No such {what}.")),
            ObservabilityError::Internal(err) => return Classified::Internal(err),
        };
        Classified::Problem(problem)
    }
}
