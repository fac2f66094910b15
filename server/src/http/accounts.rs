//! Cloud API: accounts and session authentication under `/api/v1`.
use super::error::ErrorBody;
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
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "Accounts", security(()), request_body = Credentials, responses((status = 201, body = AccountView, description = "Created and logged in (session cookie set)"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn sign_up(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    session: Session,
    AppJson(credentials): AppJson<Credentials>,
) -> Result<(StatusCode, AppJson<AccountView>), ApiError> {
    let account = state.accounts.sign_up(credentials, client).await?;
    auth::session::begin(&session, &account.id).await?;
    Ok((StatusCode::CREATED, AppJson(account)))
}

/// Logs in: 200 with the account and a fresh session cookie; 401, 422 or 429 otherwise.
#[tracing::instrument(skip_all, err(level = "debug"))]
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "Accounts", security(()), request_body = Credentials, responses((status = 200, body = AccountView, description = "Logged in; a fresh session cookie"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn log_in(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    session: Session,
    AppJson(credentials): AppJson<Credentials>,
) -> Result<AppJson<AccountView>, ApiError> {
    let account = state.accounts.log_in(credentials, client).await?;
    auth::session::begin(&session, &account.id).await?;
    Ok(AppJson(account))
}

/// Logs out: 204, whether or not a session existed.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "Accounts", responses((status = 204, description = "Logged out")))]
async fn log_out(session: Session) -> Result<StatusCode, ApiError> {
    auth::session::end(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in account; 401 without a session.
#[utoipa::path(get, path = "/api/v1/me", tag = "Accounts", responses((status = 200, body = AccountView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn me(CurrentAccount(account): CurrentAccount) -> AppJson<AccountView> {
    AppJson(account)
}
