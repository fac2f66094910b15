//! Why an attempt at a placement brought no answer to return, whether the placement's breaker
//! counts it against the node, whether another placement may be tried — and what a trace shows
//! of it.
use super::{invoke_error::InvokeError, wire::Failure};
use crate::mesh::{DropReason, node::SendError};
use axum::http::Method;

/// An attempt at a placement that brought no answer to return.
pub(super) struct Missed {
    pub error: InvokeError,
    /// Whether the placement's breaker counts it as the node's failure.
    pub counts_against_node: bool,
    /// Whether another placement may be tried.
    pub may_retry: bool,
}

/// The hosting node answered that the call failed.
pub(super) fn failed(failure: Failure, message: String, timeout_ms: u32, method: &Method) -> Missed {
    let (error, counts_against_node, may_retry) = match failure {
        Failure::Timeout => (InvokeError::Timeout { timeout_ms }, true, false),
        Failure::Unreachable => (InvokeError::Unreachable(message), true, idempotent(method)),
        Failure::ResponseTooLarge => (InvokeError::ResponseTooLarge(message), false, false),
        Failure::BadRequest => (InvokeError::BadRequest(message), false, false),
        Failure::EgressRefused => (InvokeError::EgressRefused(message), false, false),
        // The hosting node has not (yet) been told of this placement.
        Failure::NotPermitted => (InvokeError::Mesh(message), false, true),
        Failure::Busy => (InvokeError::Backpressure, false, true),
    };
    Missed { error, counts_against_node, may_retry }
}

/// The mesh did not bring an answer back.
pub(super) fn undelivered(err: SendError, timeout_ms: u32, method: &Method) -> Missed {
    let (error, counts_against_node, may_retry) = match err {
        SendError::TimedOut(_) => (InvokeError::Timeout { timeout_ms }, true, false),
        SendError::Dropped { reason: DropReason::Backpressure, .. } => {
            (InvokeError::Backpressure, false, true)
        }
        SendError::Dropped { reason: DropReason::Unanswered, at } => {
            (InvokeError::Mesh(format!("{at} took the call but did not answer")), true, idempotent(method))
        }
        err @ SendError::Dropped { .. } => (InvokeError::Mesh(err.to_string()), true, true),
        err @ SendError::BadReply(_) => (InvokeError::Mesh(err.to_string()), true, false),
        err @ (SendError::Stopped | SendError::TooLarge) => {
            (InvokeError::Mesh(err.to_string()), false, false)
        }
    };
    Missed { error, counts_against_node, may_retry }
}

/// What a trace shows of an attempt that brought no answer: the error's code, and the mesh's
/// drop reason when it dropped the call.
pub(super) fn attempt_error(error: &InvokeError, dropped: Option<DropReason>) -> String {
    match dropped {
        Some(reason) => format!("{}: {}", status_of(error).1, reason.as_str()),
        None => status_of(error).1.to_owned(),
    }
}

/// The status and code a failed call answers (classified once, in [`InvokeError`]'s `Classify`).
pub(super) fn status_of(err: &InvokeError) -> (u16, &'static str) {
    use crate::error::{Classified, Classify};
    match err.clone().classify() {
        Classified::Problem(problem) => (problem.code.status().as_u16(), problem.code.as_str()),
        Classified::Internal(_) => (500, crate::error::ErrorCode::Internal.as_str()),
    }
}

pub(super) fn idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE)
}
