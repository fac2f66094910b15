//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database answers).
use super::error::ApiError;
use super::error::ErrorBody;
use crate::error::ErrorCode;
use crate::state::AppState;
use app::types::HealthReport;
use axum::{Json, Router, extract::State, routing::get};

/// `GET /healthz`, `GET /readyz`.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

fn report(database: Option<&str>) -> HealthReport {
    HealthReport {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        database: database.map(str::to_owned),
    }
}

#[utoipa::path(get, path = "/healthz", tag = "Health", security(()), responses((status = 200, body = HealthReport)))]
async fn healthz() -> Json<HealthReport> {
    Json(report(None))
}

#[utoipa::path(get, path = "/readyz", tag = "Health", security(()), responses((status = 200, body = HealthReport), (status = 503, body = ErrorBody)))]
async fn readyz(State(state): State<AppState>) -> Result<Json<HealthReport>, ApiError> {
    match state.db.ping().await {
        Ok(()) => Ok(Json(report(Some("ok")))),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: database unreachable");
            Err(ApiError::new(ErrorCode::NotReady, "The database is unreachable."))
        }
    }
}
