//! Cloud API: KV buckets of the memory context (`/kv/buckets/...`). Translation only: each
//! handler calls one `Memory` method. Keys go in the path percent-encoded (`/` as `%2F`);
//! values are standard base64. Limits (see `memory::validation`): keys 1–1024 bytes of
//! `A-Z a-z 0-9 _ . = / -`, values ≤ the bucket's `max_value_bytes` (≤ 1 MiB, else 413),
//! history ≤ 64, TTL 1 s – 365 days, ≤ 100 buckets and ≤ 100 000 live keys per account (409).
use super::error::ErrorBody;
use super::{
    caller::Caller,
    error::ApiError,
    extract::{AppJson, AppPath},
};
use crate::memory::{application::WatchRequest, watch::Watched};
use crate::{error::ErrorCode, state::AppState};
use app::types::{
    Page,
    memory::{BucketView, KvEntryView, KvPut, KvTouch, NewBucket},
};
use axum::{
    Router,
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderMap, StatusCode},
    response::sse::{Event, KeepAlive, Sse},
    routing::{get, post},
};
use futures::{Stream, StreamExt};

/// KV routes under `/api/v1` (given a body limit of their own in `http::router`: values are
/// up to 1 MiB).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/kv/buckets", get(list_buckets).post(create_bucket))
        .route("/kv/buckets/{bucket}", get(get_bucket).delete(delete_bucket))
        .route("/kv/buckets/{bucket}/keys", get(list_keys))
        .route("/kv/buckets/{bucket}/watch", get(watch_bucket))
        .route("/kv/buckets/{bucket}/keys/{key}", get(get_key).put(put_key).delete(delete_key))
        .route("/kv/buckets/{bucket}/keys/{key}/touch", post(touch_key))
        .route("/kv/buckets/{bucket}/keys/{key}/purge", post(purge_key))
        .route("/kv/buckets/{bucket}/keys/{key}/history", get(key_history))
}

/// `POST /kv/buckets`: 201 with a new bucket.
#[utoipa::path(post, path = "/api/v1/kv/buckets", tag = "Memory", request_body = NewBucket, responses((status = 201, body = BucketView), (status = 409, description = "`kv_bucket_exists`, or `kv_bucket_limit_reached` (100 buckets per account)", body = ErrorBody), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn create_bucket(
    caller: Caller,
    State(state): State<AppState>,
    AppJson(input): AppJson<NewBucket>,
) -> Result<(StatusCode, AppJson<BucketView>), ApiError> {
    Ok((StatusCode::CREATED, AppJson(state.memory.create_bucket(&caller.account.id, input).await?)))
}

/// `GET /kv/buckets`: the caller's buckets by name.
#[utoipa::path(get, path = "/api/v1/kv/buckets", tag = "Memory", responses((status = 200, body = Vec<BucketView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_buckets(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<AppJson<Vec<BucketView>>, ApiError> {
    Ok(AppJson(state.memory.list_buckets(&caller.account.id).await?))
}

/// `GET /kv/buckets/{bucket}`: one of the caller's buckets (another account's is a 404).
#[utoipa::path(get, path = "/api/v1/kv/buckets/{bucket}", tag = "Memory", params(("bucket" = String, Path, description = "The bucket's name")), responses((status = 200, body = BucketView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_bucket(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(bucket): AppPath<String>,
) -> Result<AppJson<BucketView>, ApiError> {
    Ok(AppJson(state.memory.get_bucket(&caller.account.id, &bucket).await?))
}

/// `DELETE /kv/buckets/{bucket}`: 204; the bucket and every key in it are gone.
#[utoipa::path(delete, path = "/api/v1/kv/buckets/{bucket}", tag = "Memory", params(("bucket" = String, Path, description = "The bucket's name")), responses((status = 204, description = "Deleted"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn delete_bucket(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(bucket): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    state.memory.delete_bucket(&caller.account.id, &bucket).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?prefix=&cursor=&limit=` of the key listing.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct KeysQuery {
    /// Only keys starting with this.
    prefix: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–100, default 20.
    limit: Option<u64>,
}

/// `GET /kv/buckets/{bucket}/keys`: keys holding values, in byte order, paginated.
#[utoipa::path(get, path = "/api/v1/kv/buckets/{bucket}/keys", tag = "Memory", params(("bucket" = String, Path, description = "The bucket's name"), KeysQuery), responses((status = 200, body = Page<String>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_keys(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(bucket): AppPath<String>,
    query: Result<Query<KeysQuery>, QueryRejection>,
) -> Result<AppJson<Page<String>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::BadQuery, e.body_text()))?;
    if query.limit.is_some_and(|l| !(1..=crate::pagination::MAX_PAGE).contains(&l)) {
        return Err(ApiError::new(ErrorCode::BadLimit, "limit must be between 1 and 100."));
    }
    let (prefix, cursor) = (query.prefix.as_deref(), query.cursor.as_deref());
    Ok(AppJson(state.memory.list_keys(&caller.account.id, &bucket, prefix, cursor, query.limit).await?))
}

/// `GET /kv/buckets/{bucket}/keys/{key}`: the current value (404 when absent, deleted or expired).
#[utoipa::path(get, path = "/api/v1/kv/buckets/{bucket}/keys/{key}", tag = "Memory", params(("bucket" = String, Path, description = "The bucket's name"), ("key" = String, Path, description = "The key, percent-encoded")), responses((status = 200, body = KvEntryView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_key(
    caller: Caller,
    State(state): State<AppState>,
    AppPath((bucket, key)): AppPath<(String, String)>,
) -> Result<AppJson<KvEntryView>, ApiError> {
    Ok(AppJson(state.memory.get(&caller.account.id, &bucket, &key).await?))
}

/// `PUT /kv/buckets/{bucket}/keys/{key}`: writes a value at the bucket's next revision.
/// `create_only` refuses a key holding a value (409 `kv_key_exists`); `expected_revision`
/// refuses any other current revision (409 `kv_revision_mismatch`); both carry
/// `details.current_revision`.
#[utoipa::path(put, path = "/api/v1/kv/buckets/{bucket}/keys/{key}", tag = "Memory", params(("bucket" = String, Path, description = "The bucket's name"), ("key" = String, Path, description = "The key, percent-encoded: 1–1024 bytes of `A-Z a-z 0-9 _ . = / -`")), request_body = KvPut, responses((status = 200, body = KvEntryView), (status = 409, description = "`kv_key_exists` or `kv_revision_mismatch` (with `details.current_revision`), or `kv_key_limit_reached` (100 000 live keys per account)", body = ErrorBody), (status = 413, description = "`payload_too_large`: the value exceeds the bucket's `max_value_bytes` (at most 1 MiB)", body = ErrorBody), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn put_key(
    caller: Caller,
    State(state): State<AppState>,
    AppPath((bucket, key)): AppPath<(String, String)>,
    AppJson(input): AppJson<KvPut>,
) -> Result<AppJson<KvEntryView>, ApiError> {
    Ok(AppJson(state.memory.put(&caller.account.id, &bucket, &key, input).await?))
}

/// `DELETE /kv/buckets/{bucket}/keys/{key}`: writes a delete marker (kept in history); the
/// key reads as absent.
#[utoipa::path(delete, path = "/api/v1/kv/buckets/{bucket}/keys/{key}", tag = "Memory", params(("bucket" = String, Path, description = "The bucket's name"), ("key" = String, Path, description = "The key, percent-encoded")), responses((status = 200, body = KvEntryView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn delete_key(
    caller: Caller,
    State(state): State<AppState>,
    AppPath((bucket, key)): AppPath<(String, String)>,
) -> Result<AppJson<KvEntryView>, ApiError> {
    Ok(AppJson(state.memory.delete(&caller.account.id, &bucket, &key).await?))
}

/// `POST /kv/buckets/{bucket}/keys/{key}/purge`: removes the key's history, leaving a purge marker.
#[utoipa::path(post, path = "/api/v1/kv/buckets/{bucket}/keys/{key}/purge", tag = "Memory", params(("bucket" = String, Path, description = "The bucket's name"), ("key" = String, Path, description = "The key, percent-encoded")), responses((status = 200, body = KvEntryView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn purge_key(
    caller: Caller,
    State(state): State<AppState>,
    AppPath((bucket, key)): AppPath<(String, String)>,
) -> Result<AppJson<KvEntryView>, ApiError> {
    Ok(AppJson(state.memory.purge(&caller.account.id, &bucket, &key).await?))
}

/// `POST /kv/buckets/{bucket}/keys/{key}/touch`: pushes the value's expiry to `ttl_seconds`
/// (or its own TTL) from now; the revision stays.
#[utoipa::path(post, path = "/api/v1/kv/buckets/{bucket}/keys/{key}/touch", tag = "Memory", params(("bucket" = String, Path, description = "The bucket's name"), ("key" = String, Path, description = "The key, percent-encoded")), request_body = KvTouch, responses((status = 200, body = KvEntryView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn touch_key(
    caller: Caller,
    State(state): State<AppState>,
    AppPath((bucket, key)): AppPath<(String, String)>,
    AppJson(input): AppJson<KvTouch>,
) -> Result<AppJson<KvEntryView>, ApiError> {
    Ok(AppJson(state.memory.touch(&caller.account.id, &bucket, &key, input).await?))
}

/// `GET /kv/buckets/{bucket}/keys/{key}/history`: the kept revisions, oldest first (at most
/// the bucket's `history`), markers included.
#[utoipa::path(get, path = "/api/v1/kv/buckets/{bucket}/keys/{key}/history", tag = "Memory", params(("bucket" = String, Path, description = "The bucket's name"), ("key" = String, Path, description = "The key, percent-encoded")), responses((status = 200, body = Vec<KvEntryView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn key_history(
    caller: Caller,
    State(state): State<AppState>,
    AppPath((bucket, key)): AppPath<(String, String)>,
) -> Result<AppJson<Vec<KvEntryView>>, ApiError> {
    Ok(AppJson(state.memory.history(&caller.account.id, &bucket, &key).await?))
}

/// `?key=|prefix=&from_revision=` of a watch.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct WatchQuery {
    /// Follow this one key…
    key: Option<String>,
    /// …or the keys starting with this (neither: every key of the bucket).
    prefix: Option<String>,
    /// Send every kept change after this revision first (a bucket keeps `history` revisions
    /// per key, and a purge drops the key's older ones, as in JetStream), then `caught_up`,
    /// then live changes. Without it (and without `Last-Event-ID`): `caught_up` at the bucket's
    /// current revision, then live changes.
    #[param(maximum = 9_223_372_036_854_775_807_u64)]
    from_revision: Option<u64>,
}

/// One server-sent event of a watch, as the stream carries it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct WatchEvent {
    /// `put`, `delete`, `purge`, `expire`, `caught_up` or `lagged`.
    event: String,
    /// The revision (an entry's, or the one `caught_up` covers).
    id: Option<String>,
    /// JSON: a `KvEntryView`, `{"revision"}` or `{"last_revision"}`.
    data: String,
}

/// `GET /kv/buckets/{bucket}/watch`: the bucket's changes as server-sent events. Each entry
/// (put, delete, purge, expire) is an event named after its operation, with the revision as
/// its `id` and the entry (as `GET …/keys/{key}` shows it) as JSON data; `caught_up` says the
/// backlog is sent; a final `lagged` (data `{"last_revision"}`) says the watcher fell behind
/// and is disconnected: resume with `from_revision`. A reconnecting `EventSource` resumes by
/// itself (`Last-Event-ID`).
#[utoipa::path(get, path = "/api/v1/kv/buckets/{bucket}/watch", tag = "Memory", params(("bucket" = String, Path, description = "The bucket's name"), WatchQuery, ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this revision (when `from_revision` is not given)")), responses((status = 200, content_type = "text/event-stream", description = "Events `put`, `delete`, `purge`, `expire` (id: the revision; data: a `KvEntryView`), `caught_up` (data `{\"revision\"}`), and a final `lagged` (data `{\"last_revision\"}`); a keep-alive comment when idle", body = WatchEvent), (status = 429, description = "`kv_watcher_limit_reached`: the account has as many watchers open as it may (16 by default)", body = ErrorBody), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn watch_bucket(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(bucket): AppPath<String>,
    headers: HeaderMap,
    query: Result<Query<WatchQuery>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(ErrorCode::BadQuery, e.body_text()))?;
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    let request = WatchRequest {
        key: query.key.as_deref(),
        prefix: query.prefix.as_deref(),
        from_revision: query.from_revision.or(resume),
    };
    let watched = state.memory.watch(&caller.account.id, &bucket, request).await?;
    let keep_alive = KeepAlive::new().interval(state.memory.settings().watch_keep_alive);
    Ok(Sse::new(watched.map(|w| Ok(sse_event(w)))).keep_alive(keep_alive))
}

fn sse_event(watched: Watched) -> Event {
    let (event, id, data) = match watched {
        Watched::Change(entry) => {
            let (operation, revision) = (entry.operation.as_str(), entry.revision);
            (operation, revision, serde_json::to_string(&entry))
        }
        Watched::CaughtUp { revision } => {
            ("caught_up", revision, serde_json::to_string(&serde_json::json!({ "revision": revision })))
        }
        Watched::Lagged { last_revision } => (
            "lagged",
            last_revision,
            serde_json::to_string(&serde_json::json!({ "last_revision": last_revision })),
        ),
    };
    // A view always serializes; were it not to, the client still learns the revision.
    Event::default().event(event).id(id.to_string()).data(data.unwrap_or_else(|_| "{}".to_owned()))
}
