//! Cloud API: request history of a service (its owner), of a node and the mesh's drops (the
//! operator); and `/metrics`, the Prometheus text, for the operator's API key on the main
//! listener or for anyone on the optional local listener (`metrics_bind`; the decision is
//! recorded in [`crate::observability::metrics`]).
use super::{
    caller::Caller,
    error::{ApiError, ErrorBody},
    extract::{AppJson, AppPath, Operator},
};
use crate::{error::ErrorCode, observability::metrics::CONTENT_TYPE, state::AppState};
use app::types::{
    ids::{NodeId, ServiceId},
    observability::{DropsView, NodeMetricsView, ServiceMetricsView, Window},
};
use axum::{
    Router,
    extract::{Query, State, rejection::QueryRejection},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

/// Routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services/{id}/metrics", get(service_metrics))
        .route("/nodes/{id}/metrics", get(node_metrics))
        .route("/mesh/drops", get(mesh_drops))
}

/// `/metrics` on the main listener (the operator's key only).
pub fn metrics_router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/metrics", get(operator_metrics))
        .route_layer(axum::middleware::from_fn_with_state(state, super::caller::authenticate))
}

/// The router of the `metrics_bind` listener: `/metrics` alone, no authentication.
pub fn metrics_only_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(local_metrics)).with_state(state)
}

/// How far back a chart reaches.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowQuery {
    /// `hour` (points a minute apart, the default), `day` (five minutes) or `week` (an hour).
    #[serde(default)]
    #[param(value_type = Option<Window>)]
    pub window: Window,
}

fn window(query: Result<Query<WindowQuery>, QueryRejection>) -> Result<Window, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::BadQuery, e.body_text()))?;
    Ok(query.window)
}

/// `GET /services/{id}/metrics`: the service's requests, errors and latency percentiles per
/// step of the window, the totals, and its top consumers (owner only).
#[utoipa::path(get, path = "/api/v1/services/{id}/metrics", tag = "Services", params(("id" = String, Path, description = "The service's id"), WindowQuery), responses((status = 200, body = ServiceMetricsView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn service_metrics(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<ServiceId>,
    query: Result<Query<WindowQuery>, QueryRejection>,
) -> Result<AppJson<ServiceMetricsView>, ApiError> {
    let window = window(query)?;
    Ok(AppJson(state.observability.service_metrics(&caller.account.id, &id, window).await?))
}

/// `GET /nodes/{id}/metrics`: what a node took as the entry node, forwarded and dropped per
/// step of the window.
#[utoipa::path(get, path = "/api/v1/nodes/{id}/metrics", tag = "Mesh (operator)", params(("id" = String, Path, description = "The node's id"), WindowQuery), responses((status = 200, body = NodeMetricsView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn node_metrics(
    _: Operator,
    State(state): State<AppState>,
    AppPath(id): AppPath<NodeId>,
    query: Result<Query<WindowQuery>, QueryRejection>,
) -> Result<AppJson<NodeMetricsView>, ApiError> {
    let window = window(query)?;
    Ok(AppJson(state.observability.node_metrics(&id, window).await?))
}

/// `GET /mesh/drops`: envelopes dropped across the mesh, by reason, per step of the window.
#[utoipa::path(get, path = "/api/v1/mesh/drops", tag = "Mesh (operator)", params(WindowQuery), responses((status = 200, body = DropsView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn mesh_drops(
    _: Operator,
    State(state): State<AppState>,
    query: Result<Query<WindowQuery>, QueryRejection>,
) -> Result<AppJson<DropsView>, ApiError> {
    let window = window(query)?;
    Ok(AppJson(state.observability.drops(window).await?))
}

/// `GET /metrics` on the main listener: the operator's bearer API key (through the Cloud
/// API's authentication, so failed keys are throttled per address as everywhere), else 401
/// (no key) or 404 (another account's key: the endpoint is not revealed).
async fn operator_metrics(caller: Caller, State(state): State<AppState>) -> Result<Response, ApiError> {
    if caller.account.role != app::types::Role::Operator {
        return Err(not_found());
    }
    local_metrics(State(state)).await
}

/// `GET /metrics` on the local listener.
async fn local_metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    match state.observability.render_metrics().await? {
        Some(text) => Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()),
        None => Err(not_found()),
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("There is no endpoint at /metrics.")
}
