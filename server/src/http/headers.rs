//! Security headers on every answer of the platform's own origin. Invoke answers carry their
//! own, stricter policy (`services::headers::ON_EVERY_ANSWER`), which is kept.
use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};

/// Adds, where the answer has not set them itself: `nosniff`; no framing by other sites
/// (`frame-ancestors 'none'`, and `X-Frame-Options` for older browsers); `Referrer-Policy:
/// same-origin`; `Cache-Control: no-store` on everything but invoke answers that sets none
/// itself (static files do: `http::assets`) — pages and API answers are per account, and some
/// carry secrets shown once; and HSTS when the platform's public URL is https.
pub async fn secure(State(hsts): State<bool>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let cacheable = path.starts_with("/api/v1/invoke/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in defaults {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    if !cacheable {
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
    if hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}
