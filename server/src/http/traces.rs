//! Cloud API: the traces of recent invokes (`/traces`). An account sees the calls to the
//! services it owns and the calls it made; the operator sees every one; any other trace is
//! 404, like one that never was.
use super::{
    caller::Caller,
    error::{ApiError, ErrorBody},
    extract::{AppJson, AppPath},
};
use crate::{error::ErrorCode, observability::application::Viewer, state::AppState};
use app::types::observability::{MAX_TRACE_MIN_MS, TraceQuery, TraceSummary, TraceView};
use axum::{
    Router,
    extract::{Query, State, rejection::QueryRejection},
    routing::get,
};

/// Trace routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new().route("/traces", get(list_traces)).route("/traces/{trace_id}", get(get_trace))
}

fn viewer(caller: &Caller) -> Viewer<'_> {
    Viewer { account: &caller.account.id, operator: caller.account.role == app::types::Role::Operator }
}

/// `GET /traces?service=&status=&min_ms=&limit=`: recent calls, newest first (kept in memory:
/// at most `trace_capacity`, for `trace_retention_minutes`).
#[tracing::instrument(skip_all, fields(account_id = %caller.account.id), err(level = "debug"))]
#[utoipa::path(get, path = "/api/v1/traces", tag = "Traces", params(TraceQuery), responses((status = 200, body = Vec<TraceSummary>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_traces(
    caller: Caller,
    State(state): State<AppState>,
    query: Result<Query<TraceQuery>, QueryRejection>,
) -> Result<AppJson<Vec<TraceSummary>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::BadQuery, e.body_text()))?;
    let max = crate::observability::traces::MAX_LIMIT;
    if query.limit.is_some_and(|l| !(1..=max).contains(&l)) {
        return Err(ApiError::new(ErrorCode::BadLimit, format!("limit must be between 1 and {max}.")));
    }
    if query.min_ms.is_some_and(|ms| ms > MAX_TRACE_MIN_MS) {
        return Err(ApiError::new(
            ErrorCode::BadQuery,
            format!("min_ms must be at most {MAX_TRACE_MIN_MS}."),
        ));
    }
    Ok(AppJson(state.observability.traces(viewer(&caller), query).await?))
}

/// `GET /traces/{trace_id}`: one call's timeline — the gateway, each attempt, the hops of the
/// route, the hosting node, the upstream and the reply.
#[tracing::instrument(skip_all, fields(account_id = %caller.account.id), err(level = "debug"))]
#[utoipa::path(get, path = "/api/v1/traces/{trace_id}", tag = "Traces", params(("trace_id" = String, Path, description = "The W3C trace id: 32 lowercase hex digits (the `traceparent` an invoke answered names it)")), responses((status = 200, body = TraceView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_trace(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(trace_id): AppPath<String>,
) -> Result<AppJson<TraceView>, ApiError> {
    Ok(AppJson(state.observability.trace(viewer(&caller), &trace_id).await?))
}
