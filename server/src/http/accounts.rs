//! Cloud API: accounts and session authentication under `/api/v1`.
use super::{
    error::ApiError,
    extract::{AppJson, ClientIp, CurrentAccount},
};
use crate::{auth, state::AppState};
use app::types::{AccountView, Credentials};
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use tower_sessions::Session;

/// `POST /auth/signup`, `POST /auth/login`, `POST /auth/logout`, `GET /me`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/signup", post(sign_up))
        .route("/auth/login", post(log_in))
        .route("/auth/logout", post(log_out))
        .route("/me", get(me))
}

/// Creates an account and logs it in: 201 with the account, and the session cookie.
#[tracing::instrument(skip_all, err(level = "debug"))]
async fn sign_up(
    State(state): State<AppState>,
    session: Session,
    AppJson(credentials): AppJson<Credentials>,
) -> Result<(StatusCode, AppJson<AccountView>), ApiError> {
    let account = auth::sign_up(&state.db, credentials).await?;
    auth::session::begin(&session, &account.id).await?;
    Ok((StatusCode::CREATED, AppJson(account)))
}

/// Logs in: 200 with the account and a fresh session cookie; 401, 422 or 429 otherwise.
#[tracing::instrument(skip_all, err(level = "debug"))]
async fn log_in(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    session: Session,
    AppJson(credentials): AppJson<Credentials>,
) -> Result<AppJson<AccountView>, ApiError> {
    let account = auth::log_in(&state.db, state.config.login_throttle, credentials, client).await?;
    auth::session::begin(&session, &account.id).await?;
    Ok(AppJson(account))
}

/// Logs out: 204, whether or not a session existed.
async fn log_out(session: Session) -> Result<StatusCode, ApiError> {
    auth::session::end(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in account; 401 without a session.
async fn me(CurrentAccount(account): CurrentAccount) -> AppJson<AccountView> {
    AppJson(account)
}
