//! Cloud API: signed webhooks (`/webhooks/…`): endpoints that receive the account's events by
//! POST, their secrets (shown on create and rotate only), deliveries, attempts and replays.
//! Every route needs an account and sees its endpoints only (another's answer 404).
use super::error::ErrorBody;
use super::{
    caller::Caller,
    error::ApiError,
    extract::{AppJson, AppPath, OptionalJson},
};
use crate::{error::ErrorCode, state::AppState};
use app::types::{
    Page,
    ids::{WebhookDeliveryId, WebhookId},
    webhooks::{
        DeliveriesQuery, EnableWebhook, NewWebhook, ReplayWebhook, Replayed, WebhookAttemptView,
        WebhookCreated, WebhookDeliveryView, WebhookUpdate, WebhookView,
    },
};
use axum::{
    Router,
    extract::{Query, State, rejection::QueryRejection},
    http::StatusCode,
    routing::{get, post},
};

/// Webhook routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route("/webhooks/{id}", get(get_webhook).patch(update_webhook).delete(delete_webhook))
        .route("/webhooks/{id}/rotate-secret", post(rotate_webhook_secret))
        .route("/webhooks/{id}/enable", post(enable_webhook))
        .route("/webhooks/{id}/disable", post(disable_webhook))
        .route("/webhooks/{id}/replay", post(replay_webhook))
        .route("/webhooks/{id}/deliveries", get(list_deliveries))
        .route("/webhooks/{id}/deliveries/{delivery_id}/attempts", get(list_attempts))
        .route("/webhooks/{id}/deliveries/{delivery_id}/replay", post(replay_delivery))
}

/// `GET /webhooks`: the account's endpoints, newest first (never their secrets).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "Webhooks", responses((status = 200, body = Vec<WebhookView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_webhooks(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<AppJson<Vec<WebhookView>>, ApiError> {
    Ok(AppJson(state.webhooks.list(&caller.account.id).await?))
}

/// `POST /webhooks`: 201 with the endpoint and its signing secret, shown this once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "Webhooks", request_body = NewWebhook, responses((status = 201, body = WebhookCreated), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn create_webhook(
    caller: Caller,
    State(state): State<AppState>,
    AppJson(input): AppJson<NewWebhook>,
) -> Result<(StatusCode, AppJson<WebhookCreated>), ApiError> {
    Ok((StatusCode::CREATED, AppJson(state.webhooks.create(&caller.account.id, input).await?)))
}

/// `GET /webhooks/{id}`
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "Webhooks", params(("id" = String, Path, description = "The endpoint's id")), responses((status = 200, body = WebhookView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_webhook(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<WebhookId>,
) -> Result<AppJson<WebhookView>, ApiError> {
    Ok(AppJson(state.webhooks.get(&caller.account.id, &id).await?))
}

/// `PATCH /webhooks/{id}`: a new URL, filters or description.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "Webhooks", params(("id" = String, Path, description = "The endpoint's id")), request_body = WebhookUpdate, responses((status = 200, body = WebhookView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn update_webhook(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<WebhookId>,
    AppJson(input): AppJson<WebhookUpdate>,
) -> Result<AppJson<WebhookView>, ApiError> {
    Ok(AppJson(state.webhooks.update(&caller.account.id, &id, input).await?))
}

/// `DELETE /webhooks/{id}`: 204; its deliveries and attempts go with it.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "Webhooks", params(("id" = String, Path, description = "The endpoint's id")), responses((status = 204, description = "Deleted"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn delete_webhook(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<WebhookId>,
) -> Result<StatusCode, ApiError> {
    state.webhooks.delete(&caller.account.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /webhooks/{id}/rotate-secret`: a new signing secret, shown this once (the old one
/// stops at once).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "Webhooks", params(("id" = String, Path, description = "The endpoint's id")), responses((status = 200, body = WebhookCreated), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn rotate_webhook_secret(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<WebhookId>,
) -> Result<AppJson<WebhookCreated>, ApiError> {
    Ok(AppJson(state.webhooks.rotate_secret(&caller.account.id, &id).await?))
}

/// `POST /webhooks/{id}/enable`: back on; `{"replay_missed": true}` delivers what it missed.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/enable", tag = "Webhooks", params(("id" = String, Path, description = "The endpoint's id")), request_body = EnableWebhook, responses((status = 200, body = WebhookView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn enable_webhook(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<WebhookId>,
    OptionalJson(input): OptionalJson<EnableWebhook>,
) -> Result<AppJson<WebhookView>, ApiError> {
    Ok(AppJson(state.webhooks.enable(&caller.account.id, &id, input).await?))
}

/// `POST /webhooks/{id}/disable`: no more deliveries until enabled.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/disable", tag = "Webhooks", params(("id" = String, Path, description = "The endpoint's id")), responses((status = 200, body = WebhookView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn disable_webhook(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<WebhookId>,
) -> Result<AppJson<WebhookView>, ApiError> {
    Ok(AppJson(state.webhooks.disable(&caller.account.id, &id).await?))
}

/// `POST /webhooks/{id}/replay`: new deliveries of the endpoint's matching messages after
/// `since_seq` or since `since` (up to 1 000).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/replay", tag = "Webhooks", params(("id" = String, Path, description = "The endpoint's id")), request_body = ReplayWebhook, responses((status = 202, body = Replayed), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn replay_webhook(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<WebhookId>,
    AppJson(input): AppJson<ReplayWebhook>,
) -> Result<(StatusCode, AppJson<Replayed>), ApiError> {
    Ok((StatusCode::ACCEPTED, AppJson(state.webhooks.replay(&caller.account.id, &id, input).await?)))
}

/// `GET /webhooks/{id}/deliveries`: newest first, by `status` if given.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "Webhooks", params(("id" = String, Path, description = "The endpoint's id"), DeliveriesQuery), responses((status = 200, body = Page<WebhookDeliveryView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_deliveries(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<WebhookId>,
    query: Result<Query<DeliveriesQuery>, QueryRejection>,
) -> Result<AppJson<Page<WebhookDeliveryView>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::BadQuery, e.body_text()))?;
    Ok(AppJson(state.webhooks.deliveries(&caller.account.id, &id, query).await?))
}

/// `GET /webhooks/{id}/deliveries/{delivery_id}/attempts`: every attempt, oldest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/attempts", tag = "Webhooks", params(("id" = String, Path, description = "The endpoint's id"), ("delivery_id" = String, Path, description = "The delivery's id")), responses((status = 200, body = Vec<WebhookAttemptView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_attempts(
    caller: Caller,
    State(state): State<AppState>,
    AppPath((id, delivery)): AppPath<(WebhookId, WebhookDeliveryId)>,
) -> Result<AppJson<Vec<WebhookAttemptView>>, ApiError> {
    Ok(AppJson(state.webhooks.attempts(&caller.account.id, &id, &delivery).await?))
}

/// `POST /webhooks/{id}/deliveries/{delivery_id}/replay`: 202 with the new delivery (same
/// body and `webhook-id`, fresh timestamp and signature).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay", tag = "Webhooks", params(("id" = String, Path, description = "The endpoint's id"), ("delivery_id" = String, Path, description = "The delivery's id")), responses((status = 202, body = WebhookDeliveryView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn replay_delivery(
    caller: Caller,
    State(state): State<AppState>,
    AppPath((id, delivery)): AppPath<(WebhookId, WebhookDeliveryId)>,
) -> Result<(StatusCode, AppJson<WebhookDeliveryView>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        AppJson(state.webhooks.replay_delivery(&caller.account.id, &id, &delivery).await?),
    ))
}
