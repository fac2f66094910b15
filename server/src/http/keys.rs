//! Cloud API: the caller's API keys (`/keys`). The secret is in the creation answer only.
use super::error::ErrorBody;
use super::{
    caller::Caller,
    error::ApiError,
    extract::{AppJson, AppPath, PageQuery},
    idempotency::SecretFields,
};
use crate::state::AppState;
use app::types::{
    Page,
    ids::KeyId,
    keys::{ApiKeyView, CreatedApiKey, NewApiKey},
};
use axum::{Extension, Router, extract::State, http::StatusCode, routing::get};

/// Key routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/keys", get(list_api_keys).post(create_api_key))
        .route("/keys/{id}", get(get_api_key).delete(revoke_api_key))
}

/// `GET /keys`: the caller's keys, newest first (never their secrets).
#[utoipa::path(get, path = "/api/v1/keys", tag = "API keys", params(("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "1–100, default 20")), responses((status = 200, body = Page<ApiKeyView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_api_keys(
    caller: Caller,
    State(state): State<AppState>,
    query: PageQuery,
) -> Result<AppJson<Page<ApiKeyView>>, ApiError> {
    Ok(AppJson(state.keys.list(&caller.account.id, query.cursor.as_deref(), query.limit).await?))
}

/// `POST /keys`: 201 with the key and its secret, shown this once (an `Idempotency-Key`
/// replay answers the key with `secret: null`: it is never stored).
#[utoipa::path(post, path = "/api/v1/keys", tag = "API keys", request_body = NewApiKey, responses((status = 201, body = CreatedApiKey, description = "The secret, shown this once"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn create_api_key(
    caller: Caller,
    State(state): State<AppState>,
    AppJson(input): AppJson<NewApiKey>,
) -> Result<(StatusCode, Extension<SecretFields>, AppJson<CreatedApiKey>), ApiError> {
    let created = state.keys.create(&caller.account.id, caller.key.as_deref(), input).await?;
    Ok((StatusCode::CREATED, Extension(SecretFields(&["secret"])), AppJson(created)))
}

/// `GET /keys/{id}`.
#[utoipa::path(get, path = "/api/v1/keys/{id}", tag = "API keys", params(("id" = String, Path, description = "The key's id")), responses((status = 200, body = ApiKeyView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_api_key(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<KeyId>,
) -> Result<AppJson<ApiKeyView>, ApiError> {
    Ok(AppJson(state.keys.get(&caller.account.id, &id).await?))
}

/// `DELETE /keys/{id}`: revokes the key at once; answers it (kept, as `revoked`, for the record).
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "API keys", params(("id" = String, Path, description = "The key's id")), responses((status = 200, body = ApiKeyView, description = "Revoked, effective at once"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn revoke_api_key(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<KeyId>,
) -> Result<AppJson<ApiKeyView>, ApiError> {
    Ok(AppJson(state.keys.revoke(&caller.account.id, &id).await?))
}
