//! Cloud API: the service registry (`/services`, scoped to the caller's account), discovery,
//! and the invoke path `ANY /invoke/{service}/{*path}`, where `{service}` is the service's id,
//! `{owner-account-id}/{slug}`, or a slug of the caller's own services.
use super::error::ErrorBody;
use super::{
    caller::Caller,
    error::ApiError,
    extract::{AppJson, AppPath, CurrentAccount, PageQuery},
    idempotency::SecretFields,
};
use crate::{
    error::ErrorCode,
    services::{self, InvokeRequest, Target, gateway::Invoked},
    state::AppState,
};
use app::types::{
    ids::ServiceId,
    services::{DiscoveryView, NewService, Page, ProxySecretView, ServiceUpdate, ServiceView},
};
use axum::{
    Extension, Router,
    body::Body,
    extract::State,
    http::{HeaderName, HeaderValue, Method, StatusCode, request::Parts},
    response::{IntoResponse, Response},
    routing::{any, get},
};

/// Registry routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services", get(list_services).post(create_service))
        .route("/services/{id}", get(get_service).patch(update_service).delete(delete_service))
        .route("/services/{id}/discovery", get(discover_service))
        .route("/services/{id}/proxy-secret", axum::routing::post(rotate_proxy_secret))
}

/// The invoke route under `/api/v1`: outside the request timeout and body limit of the rest
/// of the API (each service sets its own).
pub fn invoke_router() -> Router<AppState> {
    Router::new().route("/invoke/{*rest}", any(invoke_service))
}

/// `GET /services?cursor=&limit=`: the caller's services, newest first.
#[utoipa::path(get, path = "/api/v1/services", tag = "Services", params(("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "1–100, default 20")), responses((status = 200, body = Page<ServiceView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_services(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    query: PageQuery,
) -> Result<AppJson<Page<ServiceView>>, ApiError> {
    Ok(AppJson(state.services.list(&account.id, query.cursor.as_deref(), query.limit).await?))
}

/// `POST /services`: registers a service; 201 with it (and its first placements).
#[tracing::instrument(skip_all, fields(account_id = %account.id), err(level = "debug"))]
#[utoipa::path(post, path = "/api/v1/services", tag = "Services", request_body = NewService, responses((status = 201, body = ServiceView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn create_service(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    AppJson(input): AppJson<NewService>,
) -> Result<(StatusCode, Extension<SecretFields>, AppJson<ServiceView>), ApiError> {
    let view = state.services.create(&account.id, input).await?;
    Ok((StatusCode::CREATED, Extension(SecretFields(&["proxy_secret"])), AppJson(view)))
}

/// `POST /services/{id}/proxy-secret`: rotates the service's proxy secret and shows the new
/// one, once. The upstream gets it from the next placement pass on (within a second).
#[utoipa::path(post, path = "/api/v1/services/{id}/proxy-secret", tag = "Services", params(("id" = String, Path, description = "The service's id")), responses((status = 200, body = ProxySecretView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn rotate_proxy_secret(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    AppPath(id): AppPath<ServiceId>,
) -> Result<(Extension<SecretFields>, AppJson<ProxySecretView>), ApiError> {
    let rotated = state.services.rotate_proxy_secret(&account.id, &id).await?;
    Ok((Extension(SecretFields(&["proxy_secret"])), AppJson(rotated)))
}

/// `GET /services/{id}`.
#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "Services", params(("id" = String, Path, description = "The service's id")), responses((status = 200, body = ServiceView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_service(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    AppPath(id): AppPath<ServiceId>,
) -> Result<AppJson<ServiceView>, ApiError> {
    Ok(AppJson(state.services.get(&account.id, &id).await?))
}

/// `PATCH /services/{id}`: changes the fields sent (`status: "inactive"` deactivates).
#[utoipa::path(patch, path = "/api/v1/services/{id}", tag = "Services", params(("id" = String, Path, description = "The service's id")), request_body = ServiceUpdate, responses((status = 200, body = ServiceView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn update_service(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    AppPath(id): AppPath<ServiceId>,
    AppJson(update): AppJson<ServiceUpdate>,
) -> Result<AppJson<ServiceView>, ApiError> {
    Ok(AppJson(state.services.update(&account.id, &id, update).await?))
}

/// `DELETE /services/{id}`: 204; 409 `service_active` until the service is deactivated.
#[utoipa::path(delete, path = "/api/v1/services/{id}", tag = "Services", params(("id" = String, Path, description = "The service's id")), responses((status = 204, description = "Deleted"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn delete_service(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    AppPath(id): AppPath<ServiceId>,
) -> Result<StatusCode, ApiError> {
    state.services.delete(&account.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /services/{id}/discovery`: the healthy instances only.
#[utoipa::path(get, path = "/api/v1/services/{id}/discovery", tag = "Services", params(("id" = String, Path, description = "The service's id")), responses((status = 200, body = DiscoveryView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn discover_service(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    AppPath(id): AppPath<ServiceId>,
) -> Result<AppJson<DiscoveryView>, ApiError> {
    Ok(AppJson(state.services.discover(&account.id, &id)?))
}

/// `ANY /invoke/{service}/{*path}`: calls the service through the mesh and answers with the
/// upstream's status, headers and body, plus `x-web4-invoke-id` and `x-web4-route`. A `kv`
/// service takes `GET|PUT|DELETE keys/{key}` and `GET keys?prefix=` on its bucket (see
/// `services::kv_call`) and answers as the KV API does.
#[utoipa::path(method(get, post, put, patch, delete, head, options), path = "/api/v1/invoke/{service}/{path}", tag = "Invoke", params(("service" = String, Path, description = "Service id, `{owner-account-id}/{slug}`, or one of your slugs"), ("path" = String, Path, description = "Path forwarded to the upstream (with the query); for a `kv` service `keys/{key}` (GET, PUT with a `KvPut` body, DELETE) or `keys?prefix=&cursor=&limit=` (GET)"), ("If-Match" = Option<String>, Header, description = "`kv` services: put only if the key is at this revision (409 `kv_revision_mismatch` with `details.current_revision`)"), ("If-None-Match" = Option<String>, Header, description = "`kv` services: `*` puts only if the key is absent (409 `kv_key_exists`)"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the stored answer to a retry; the call is metered once")), request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "Any body up to the service's limit"), responses((status = 200, description = "The upstream's status, headers and body, plus `x-web4-invoke-id`, `x-web4-route`, `x-web4-attempts`, `traceparent` (W3C: the caller's trace when it sent a valid one, a new one otherwise; see `GET /api/v1/traces/{trace_id}`) and, on a subscription whose plan has a quota, `x-web4-quota-limit`, `x-web4-quota-remaining` and `x-web4-quota-reset` (seconds), and for a deprecated listing `Sunset` (RFC 8594); a 2xx is metered once"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn invoke_service(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(rest): AppPath<String>,
    parts: Parts,
    body: Body,
) -> Result<Response, ApiError> {
    // Invoke answers are written by upstreams and served on the portal's origin: a session
    // cookie a browser sends along on a cross-site link must not make them run as the
    // person. Programs call with keys; the portal's "Try it" has its own server function.
    if caller.key_id().is_none() {
        return Err(ApiError::new(
            ErrorCode::ApiKeyRequired,
            "Call services with an API key (Authorization: Bearer w4k_…); the portal's session does not invoke them — use Try it on the service's page.",
        ));
    }
    let idempotency = parts.extensions.get::<super::idempotency::Owned>();
    let invoked = state
        .services
        .invoke(InvokeRequest {
            payer: &caller.account.id,
            key_id: caller.key_id(),
            idempotency: idempotency.map(|owned| (owned.key.as_str(), owned.since)),
            target: Target::Route(&rest),
            method: &parts.method,
            query: parts.uri.query(),
            headers: &parts.headers,
            body,
        })
        .await?;
    Ok(response(invoked, parts.method == Method::HEAD))
}

/// The upstream's answer as the caller gets it.
pub fn response(invoked: Invoked, head: bool) -> Response {
    let Invoked { invoke_id, trace, route, status, headers, body, attempts, quota, sunset } = invoked;
    let mut response = if head { Body::empty() } else { Body::from(body) }.into_response();
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let out = response.headers_mut();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_maybe_shared(value)) {
            out.append(name, value);
        }
    }
    let route = route.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    if let Ok(value) = HeaderValue::try_from(invoke_id.to_string()) {
        out.insert("x-web4-invoke-id", value);
    }
    if let Ok(value) = HeaderValue::try_from(route) {
        out.insert("x-web4-route", value);
    }
    // The trace the call is in (the caller's own, when it sent a valid `traceparent`), with the
    // platform's gateway span as the parent: a caller that sent none learns the trace id here.
    if let Ok(value) = HeaderValue::try_from(trace.traceparent()) {
        out.insert("traceparent", value);
    }
    out.insert("x-web4-attempts", HeaderValue::from(attempts));
    // A subscription's plan quota: calls included this month, left after this one, and
    // seconds until the count starts again.
    // A deprecated listing: when it stops serving (RFC 8594).
    if let Some(at) = sunset
        && let Ok(value) = HeaderValue::try_from(at.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
    {
        out.insert("sunset", value);
    }
    if let Some(quota) = quota {
        let reset = (quota.resets_at - chrono::Utc::now()).num_seconds().max(0);
        out.insert("x-web4-quota-limit", HeaderValue::from(quota.limit));
        out.insert("x-web4-quota-remaining", HeaderValue::from(quota.remaining));
        out.insert("x-web4-quota-reset", HeaderValue::from(reset));
    }
    for (name, value) in services::headers::ON_EVERY_ANSWER {
        out.insert(name, HeaderValue::from_static(value));
    }
    response
}
