//! The HTTP surface: health probes, the Cloud API under `/api/v1`, the portal (SSR pages,
//! server functions under `/_fn`, static assets) and the middleware around them all.
pub mod accounts;
pub mod assets;
pub mod billing;
pub mod caller;
pub mod csrf;
pub mod error;
pub mod events;
pub mod extract;
pub mod flash;
pub mod headers;
pub mod health;
pub mod idempotency;
pub mod invoke_host;
pub mod keys;
pub mod marketplace;
pub mod memory;
pub mod nodes;
pub mod observability;
pub mod openapi;
pub mod portal;
pub mod services;
pub mod traces;
pub mod webhooks;

use crate::error::ErrorCode;
use crate::state::AppState;
use app::{App, port::SharedPortalPort, shell};
use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, Request},
    handler::Handler,
    http::{HeaderName, Uri},
    middleware,
    response::IntoResponse,
    routing::post,
};
use error::ApiError;
use leptos::prelude::provide_context;
use leptos_axum::{
    LeptosRoutes, file_and_error_handler_with_context, generate_route_list, handle_server_fns_with_context,
};
use std::sync::Arc;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};
use tower_sessions_sqlx_store::SqliteStore;

/// Largest JSON body the Cloud API accepts on the account endpoints.
pub const API_BODY_LIMIT: usize = 64 * 1024;
/// Longest a request may take before it is answered 503.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Name of the portal's session cookie.
pub const SESSION_COOKIE: &str = "web4_session";

/// A page's Content-Security-Policy: scripts only with this response's nonce (Leptos puts it on
/// the hydration scripts it writes; `strict-dynamic` lets those load the wasm bundle), nothing
/// else from anywhere but the platform's origin, no plugins, no framing, forms only to
/// ourselves. Styles may be inline (a chart sets swatch colours in attributes); scripts may not,
/// so an injected `<script>` or `onerror=` does not run. Set only while rendering a page (server
/// functions have no nonce); the security-headers middleware adds its defaults elsewhere.
fn page_policy() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(response)) =
        (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'"
    );
    if let Ok(value) = axum::http::HeaderValue::try_from(policy) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The whole application router, with its state and middleware.
pub fn router(state: AppState, session_store: SqliteStore) -> Router {
    let port: SharedPortalPort = Arc::new(portal::PortalAdapter::new(state.clone()));
    let shown_invoke_origin =
        state.config.invoke_origin.as_ref().map(|o| app::types::InvokeOrigin(o.as_str().into()));
    let context = move || {
        provide_context(port.clone());
        if let Some(origin) = &shown_invoke_origin {
            provide_context(origin.clone());
        }
        page_policy();
    };
    let leptos_options = state.leptos.clone();
    let routes = generate_route_list(App);

    let api = Router::new()
        .merge(accounts::router())
        .merge(nodes::router())
        .merge(services::router())
        .merge(keys::router())
        .merge(billing::router())
        .merge(marketplace::router())
        .merge(events::router())
        .merge(webhooks::router())
        .merge(traces::router())
        .merge(observability::router())
        .merge(openapi::router())
        .fallback(api_not_found)
        .method_not_allowed_fallback(|| async {
            ApiError::new(ErrorCode::MethodNotAllowed, "Method not allowed.")
        })
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        .layer(middleware::from_fn_with_state((state.clone(), API_BODY_LIMIT), idempotency::idempotent))
        .layer(middleware::from_fn_with_state(state.clone(), caller::authenticate));

    // KV values are up to 1 MiB (base64 in JSON): the KV API has a body limit of its own.
    let kv = Router::new()
        .nest("/api/v1", memory::router())
        .method_not_allowed_fallback(|| async {
            ApiError::new(ErrorCode::MethodNotAllowed, "Method not allowed.")
        })
        .layer(DefaultBodyLimit::max(crate::memory::validation::BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            (state.clone(), crate::memory::validation::BODY_LIMIT),
            idempotency::idempotent,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), caller::authenticate));

    let server_fns = {
        let context = context.clone();
        post(move |req: Request<Body>| handle_server_fns_with_context(context.clone(), req))
    };

    let sessions = SessionManagerLayer::new(session_store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(state.config.session_days)));

    // The invoke path sets its own limits per service (body size, timeout up to 60 s).
    let invoke = || {
        Router::new()
            .nest("/api/v1", services::invoke_router())
            .layer(DefaultBodyLimit::disable())
            .layer(middleware::from_fn_with_state(
                (state.clone(), crate::services::MAX_BODY_BYTES as usize),
                idempotency::idempotent,
            ))
            .layer(middleware::from_fn_with_state(state.clone(), caller::authenticate))
    };
    let invoke_host = (state.config.invoke_origin.clone())
        .map(|origin| invoke_host::InvokeHost::new(state.clone(), origin, invoke()));

    let request_id = HeaderName::from_static("x-request-id");
    let portal = Router::new()
        .merge(health::router())
        .merge(observability::metrics_router(state.clone()))
        .nest("/api/v1", api)
        .merge(kv)
        .route("/_fn/{*name}", server_fns)
        .leptos_routes_with_context(&state, routes, context.clone(), move || shell(leptos_options.clone()))
        // Static files (precompressed, cached by name), else Leptos' 404 page.
        .fallback_service(assets::service(
            std::path::Path::new(&*state.leptos.site_root),
            file_and_error_handler_with_context::<AppState, _>(context, shell).with_state(state.clone()),
        ))
        // No request may hang forever. Leptos occasionally stalls a server-rendered response
        // (leptos-rs/leptos#4851, about one page load in a few hundred here): the person gets
        // a 503 to reload instead of a page that never finishes.
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .merge(invoke())
        .layer(middleware::from_fn(limit_server_fn_bodies))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::verify_origin))
        .layer(middleware::from_fn_with_state(state.clone(), attach_session_account))
        .with_state(state.clone());

    // The host decides before any routing (a layer on the router above would run after it had
    // matched a route of its own).
    Router::new()
        .fallback_service(portal)
        .layer(middleware::from_fn_with_state(invoke_host, invoke_host::by_host))
        .layer(sessions)
        .layer(middleware::from_fn(error::log_internal_errors))
        .layer(middleware::from_fn_with_state(
            state.config.trusted_origins.iter().any(|o| o.starts_with("https://")),
            headers::secure,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Puts the session's account into the request for the portal to render with
/// ([`app::types::SessionAccount`]); page loads only (GET outside the API and assets).
async fn attach_session_account(
    axum::extract::State(state): axum::extract::State<AppState>,
    session: tower_sessions::Session,
    mut request: Request,
    next: middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    let page = request.method() == axum::http::Method::GET
        && !["/api/", "/_fn/", "/pkg/", "/healthz", "/readyz"].iter().any(|p| path.starts_with(p));
    if page {
        let account = match crate::auth::session::account_id(&session).await {
            Ok(Some(id)) => state.accounts.get(&id).await.ok().flatten(),
            _ => None,
        };
        request.extensions_mut().insert(app::types::SessionAccount(account));
    }
    next.run(request).await
}

/// The API's body limit on server functions too. Applied around the whole router: Leptos
/// registers each server function's own route, which a layer on the `/_fn/` route does not
/// cover (a 3 MB form post to `/_fn/log_in` was read whole). Bodies are buffered here — a
/// server function's are small — so a chunked one over the limit is refused as well.
async fn limit_server_fn_bodies(request: Request, next: middleware::Next) -> axum::response::Response {
    if !request.uri().path().starts_with("/_fn/") {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, API_BODY_LIMIT).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(_) => ApiError::new(ErrorCode::PayloadTooLarge, "The request body is too large.").into_response(),
    }
}

async fn api_not_found(uri: Uri) -> impl IntoResponse {
    ApiError::not_found(format!("There is no API endpoint at {}.", uri.path()))
}
