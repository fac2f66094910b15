//! `invoke_origin`: calls to services on a host of their own. Invoke answers are written by
//! upstreams; served on the portal's origin, whatever they contain (a script a browser was
//! tricked into running despite the sandbox policy, a form, a same-origin request) would act
//! with the portal's origin. With `invoke_origin` set, that host answers only invokes and the
//! probes — no pages, no Cloud API, no server functions, no CSRF exemptions to abuse — and
//! the portal's host answers invokes 421 `misdirected_request` naming the right origin.
use super::error::ApiError;
use crate::{config::InvokeOrigin, error::ErrorCode, state::AppState};
use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderMap, Uri, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::sync::Arc;
use tower::ServiceExt;

/// The invoke origin and the router serving it.
pub struct InvokeHost {
    origin: InvokeOrigin,
    app: Router,
}

impl InvokeHost {
    /// `invoke` is the invoke routes with their own middleware (authentication, idempotency).
    pub fn new(state: AppState, origin: InvokeOrigin, invoke: Router<AppState>) -> Arc<Self> {
        let app =
            Router::new().merge(super::health::router()).merge(invoke).fallback(not_here).with_state(state);
        Arc::new(Self { origin, app })
    }
}

/// The authority a request names: its `Host`, or HTTP/2's `:authority`.
pub fn request_authority<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> Option<&'a str> {
    headers.get(header::HOST).and_then(|h| h.to_str().ok()).or_else(|| uri.authority().map(|a| a.as_str()))
}

/// Middleware over the whole application: requests to the invoke origin go to its router;
/// invokes on any other host are refused. Without `invoke_origin`, everything passes.
pub async fn by_host(State(host): State<Option<Arc<InvokeHost>>>, request: Request, next: Next) -> Response {
    let Some(host) = host else { return next.run(request).await };
    let on_invoke_host = request_authority(request.headers(), request.uri())
        .is_some_and(|authority| host.origin.is_host(authority));
    if on_invoke_host {
        let Ok(response) = host.app.clone().oneshot(request).await;
        return response;
    }
    if request.uri().path().starts_with("/api/v1/invoke/") {
        let origin = host.origin.as_str();
        let path = request.uri().path_and_query().map_or("", |p| p.as_str());
        return ApiError::new(
            ErrorCode::MisdirectedRequest,
            format!("Services are called on {origin}, not on the portal's host: call {origin}{path}"),
        )
        .into_response();
    }
    next.run(request).await
}

async fn not_here(uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "This host serves only calls to services (/api/v1/invoke/{{service}}/{{path}}); there is nothing at {}.",
        uri.path()
    ))
}
