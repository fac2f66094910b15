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
pub mod record;
pub mod trace_context;
pub mod traces;

pub use record::{AttemptRecord, InvokeRecord};

pub use application::Observability;

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
#[derive(Default)]
pub struct Observer {
    /// The recent traces (shared with [`Observability`], which reads them).
    traces: std::sync::Arc<traces::TraceStore>,
}

impl Observer {
    /// Records one finished invoke in the metrics, the rollups and the trace store.
    pub fn invoke_finished(&self, record: &InvokeRecord<'_>) {
        self.traces.record(record);
    }

    /// The observer writing traces into `store`.
    pub fn with_traces(mut self, store: std::sync::Arc<traces::TraceStore>) -> Self {
        self.traces = store;
        self
    }

    /// Whether traces are recorded: the invoke path keeps its attempts only then.
    pub fn traces_on(&self) -> bool {
        self.traces.enabled()
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
