//! CSRF defence for every state-changing request (the Cloud API and the portal's server
//! functions alike). Two layers: session cookies are `SameSite=Lax`, so browsers do not send
//! them on cross-site POSTs; and this middleware refuses any unsafe-method request whose
//! `Origin` (or, failing that, `Sec-Fetch-Site`) shows it was started by another site. This
//! is OWASP's "verify origin with standard headers" defence. Requests with neither header do
//! not come from a modern browser's cross-site form or fetch, and pass.
use super::error::ApiError;
use crate::error::ErrorCode;
use crate::state::AppState;
use axum::{
    extract::{Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Middleware: refuses cross-origin state-changing requests with 403 `cross_origin_request`.
pub async fn verify_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method().is_safe() {
        return next.run(request).await;
    }
    let host = super::invoke_host::request_authority(request.headers(), request.uri());
    match check(request.headers(), host, &state.config.trusted_origins) {
        Ok(()) => next.run(request).await,
        Err(message) => {
            tracing::warn!(method = %request.method(), path = %request.uri().path(), %message, "cross-origin request refused");
            ApiError::new(ErrorCode::CrossOriginRequest, message).into_response()
        }
    }
}

/// The decision, separated from the middleware so it can be tested on its own.
pub fn check(headers: &HeaderMap, host: Option<&str>, trusted_origins: &[String]) -> Result<(), String> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("").trim().to_lowercase();
        let same_host = host.is_some_and(|host| {
            let host = host.to_lowercase();
            origin == format!("http://{host}") || origin == format!("https://{host}")
        });
        if same_host || trusted_origins.contains(&origin) {
            return Ok(());
        }
        return Err(format!(
            "Requests that change state must come from this site; Origin {origin:?} is not allowed."
        ));
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        None | Some("same-origin") | Some("none") => Ok(()),
        Some(other) => {
            Err(format!("Requests that change state must come from this site (Sec-Fetch-Site: {other})."))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn same_origin_requests_pass() {
        let h = headers(&[("origin", "http://127.0.0.1:3000")]);
        assert!(check(&h, Some("127.0.0.1:3000"), &[]).is_ok());
    }

    #[test]
    fn configured_public_origin_passes_behind_a_proxy() {
        let h = headers(&[("origin", "https://web4.example.com")]);
        assert!(check(&h, Some("10.0.0.5:3000"), &["https://web4.example.com".into()]).is_ok());
    }

    #[test]
    fn other_origins_and_null_are_refused() {
        for origin in ["https://evil.example", "null", "http://127.0.0.1:3001"] {
            let h = headers(&[("origin", origin)]);
            assert!(check(&h, Some("127.0.0.1:3000"), &[]).is_err(), "{origin}");
        }
    }

    #[test]
    fn without_origin_sec_fetch_site_decides() {
        assert!(check(&headers(&[("sec-fetch-site", "same-origin")]), Some("h"), &[]).is_ok());
        assert!(check(&headers(&[("sec-fetch-site", "cross-site")]), Some("h"), &[]).is_err());
        assert!(check(&headers(&[("sec-fetch-site", "same-site")]), Some("h"), &[]).is_err());
    }

    #[test]
    fn non_browser_clients_without_either_header_pass() {
        assert!(check(&HeaderMap::new(), Some("h"), &[]).is_ok());
    }
}
