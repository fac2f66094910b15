//! Cloud API: the event log (`/events/…`): publish on the account's topics, replay by
//! sequence number or time, durable consumers that fetch and settle, dead letters published
//! again. Every route needs an account and sees its messages only.
use super::error::ErrorBody;
use super::{
    caller::Caller,
    error::ApiError,
    extract::{AppJson, AppPath, OptionalJson},
};
use crate::{error::ErrorCode, state::AppState};
use app::types::events::{
    ConsumerView, Delivery, FetchRequest, MessageView, NewConsumer, NewMessage, Published, ReplayQuery,
    Settle,
};
use axum::{
    Router,
    extract::{Query, State, rejection::QueryRejection},
    http::StatusCode,
    routing::{get, post},
};

/// Event routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events/topics/{topic}/messages", post(publish))
        .route("/events/messages", get(replay))
        .route("/events/messages/{seq}/republish", post(republish))
        .route("/events/consumers", get(list_consumers).post(create_consumer))
        .route("/events/consumers/{name}", get(get_consumer).delete(delete_consumer))
        .route("/events/consumers/{name}/fetch", post(fetch))
        .route("/events/consumers/{name}/messages/{seq}/{action}", post(settle))
}

/// `POST /events/topics/{topic}/messages`: 201 with the sequence number; 200 with the first
/// one's when the message id was published within two minutes (nothing stored).
#[utoipa::path(post, path = "/api/v1/events/topics/{topic}/messages", tag = "Events", params(("topic" = String, Path, description = "`acct.<your account id>.<name>[.…]`")), request_body = NewMessage, responses((status = 201, body = Published), (status = 200, description = "A duplicate message id: the first message's sequence number", body = Published), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn publish(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(topic): AppPath<String>,
    AppJson(message): AppJson<NewMessage>,
) -> Result<(StatusCode, AppJson<Published>), ApiError> {
    let published = state.events.publish(&caller.account.id, &topic, message).await?;
    let status = if published.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, AppJson(published)))
}

/// `GET /events/messages`: the account's messages after a sequence number or since a time,
/// oldest first (reading moves no consumer).
#[utoipa::path(get, path = "/api/v1/events/messages", tag = "Events", params(ReplayQuery), responses((status = 200, body = Vec<MessageView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn replay(
    caller: Caller,
    State(state): State<AppState>,
    query: Result<Query<ReplayQuery>, QueryRejection>,
) -> Result<AppJson<Vec<MessageView>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::BadQuery, e.body_text()))?;
    Ok(AppJson(state.events.replay(&caller.account.id, query).await?))
}

/// `POST /events/messages/{seq}/republish`: a dead letter back on the topic it came from.
#[utoipa::path(post, path = "/api/v1/events/messages/{seq}/republish", tag = "Events", params(("seq" = i64, Path, description = "The dead letter's sequence number")), responses((status = 201, body = Published), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn republish(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(seq): AppPath<i64>,
) -> Result<(StatusCode, AppJson<Published>), ApiError> {
    Ok((StatusCode::CREATED, AppJson(state.events.republish(&caller.account.id, seq).await?)))
}

/// `POST /events/consumers`: a durable consumer of the account's topics.
#[utoipa::path(post, path = "/api/v1/events/consumers", tag = "Events", request_body = NewConsumer, responses((status = 201, body = ConsumerView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn create_consumer(
    caller: Caller,
    State(state): State<AppState>,
    AppJson(input): AppJson<NewConsumer>,
) -> Result<(StatusCode, AppJson<ConsumerView>), ApiError> {
    Ok((StatusCode::CREATED, AppJson(state.events.create_consumer(&caller.account.id, input).await?)))
}

/// `GET /events/consumers`: the account's consumers, with their cursor and pending count.
#[utoipa::path(get, path = "/api/v1/events/consumers", tag = "Events", responses((status = 200, body = Vec<ConsumerView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_consumers(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<AppJson<Vec<ConsumerView>>, ApiError> {
    Ok(AppJson(state.events.list_consumers(&caller.account.id).await?))
}

/// `GET /events/consumers/{name}`
#[utoipa::path(get, path = "/api/v1/events/consumers/{name}", tag = "Events", params(("name" = String, Path, description = "The consumer's name")), responses((status = 200, body = ConsumerView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_consumer(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(name): AppPath<String>,
) -> Result<AppJson<ConsumerView>, ApiError> {
    Ok(AppJson(state.events.get_consumer(&caller.account.id, &name).await?))
}

/// `DELETE /events/consumers/{name}`: 204; what it had not settled is forgotten.
#[utoipa::path(delete, path = "/api/v1/events/consumers/{name}", tag = "Events", params(("name" = String, Path, description = "The consumer's name")), responses((status = 204, description = "Deleted"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn delete_consumer(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(name): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    state.events.delete_consumer(&caller.account.id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /events/consumers/{name}/fetch`: up to `batch` messages, those due again first;
/// each must be settled before its `ack_by` or it comes again.
#[utoipa::path(post, path = "/api/v1/events/consumers/{name}/fetch", tag = "Events", params(("name" = String, Path, description = "The consumer's name")), request_body = FetchRequest, responses((status = 200, body = Vec<Delivery>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn fetch(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(name): AppPath<String>,
    OptionalJson(request): OptionalJson<FetchRequest>,
) -> Result<AppJson<Vec<Delivery>>, ApiError> {
    Ok(AppJson(state.events.fetch(&caller.account.id, &name, request).await?))
}

/// How a delivery is settled.
#[derive(Clone, Copy, Debug, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    Ack,
    Nak,
    Term,
}

/// `POST /events/consumers/{name}/messages/{seq}/{ack|nak|term}`: 204. `nak` may carry
/// `delay_ms`, `term` a `reason` (the dead letter keeps it).
#[utoipa::path(post, path = "/api/v1/events/consumers/{name}/messages/{seq}/{action}", tag = "Events", params(("name" = String, Path, description = "The consumer's name"), ("seq" = i64, Path, description = "The delivered message's sequence number"), ("action" = String, Path, description = "`ack`, `nak` or `term`")), request_body = Settle, responses((status = 204, description = "Settled"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn settle(
    caller: Caller,
    State(state): State<AppState>,
    AppPath((name, seq, action)): AppPath<(String, i64, Action)>,
    OptionalJson(input): OptionalJson<Settle>,
) -> Result<StatusCode, ApiError> {
    let (account, events) = (&caller.account.id, &state.events);
    match action {
        Action::Ack => events.ack(account, &name, seq).await?,
        Action::Nak => events.nak(account, &name, seq, input).await?,
        Action::Term => events.term(account, &name, seq, input).await?,
    }
    Ok(StatusCode::NO_CONTENT)
}
