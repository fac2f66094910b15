//! Who is calling the Cloud API: a bearer API key (`Authorization: Bearer w4k_…`) or the
//! portal's session. The [`authenticate`] middleware resolves the caller once per request,
//! checks the key's scope and the rate limits, and adds the `RateLimit-*` headers; handlers
//! take [`Caller`] (or [`super::extract::CurrentAccount`]) from the request.
use super::error::ApiError;
use crate::error::{ErrorCode, Problem};
use crate::{
    keys::{KeyPrincipal, KeyRefused},
    ratelimit::{Limited, Quotas},
    state::AppState,
};
use app::types::{AccountView, ids::KeyId, keys::Scope};
use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, HeaderValue, Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tower_sessions::Session;

/// The authenticated caller of an API request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub account: AccountView,
    /// The key the request came with; `None` for the portal's session (every scope).
    pub key: Option<Arc<KeyPrincipal>>,
}

impl Caller {
    /// The id of the key used, if any.
    pub fn key_id(&self) -> Option<&KeyId> {
        self.key.as_deref().map(|k| &k.key_id)
    }

    /// The scopes held: a key's own, or `None` (all of them) for a session.
    pub fn scopes(&self) -> Option<&[Scope]> {
        self.key.as_deref().map(|k| k.scopes.as_slice())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or(ApiError::unauthenticated())
    }
}

/// The scope a request needs: `invoke` under `/api/v1/invoke/`, `read` for `GET`/`HEAD`,
/// `write` for anything else.
pub fn required_scope(method: &Method, path: &str) -> Scope {
    if path.starts_with("/api/v1/invoke/") {
        Scope::Invoke
    } else if method == Method::GET || method == Method::HEAD {
        Scope::Read
    } else {
        Scope::Write
    }
}

/// The bearer token of an `Authorization` header; `Err` when the header is there but is not
/// `Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let malformed =
        || ApiError::new(ErrorCode::MalformedAuthorization, "Send `Authorization: Bearer <API key>`.");
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = text.trim().split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(malformed());
    }
    Ok(Some(token))
}

fn refused(reason: KeyRefused) -> ApiError {
    let (code, message) = match reason {
        KeyRefused::Unknown => (ErrorCode::InvalidApiKey, "The API key is not valid."),
        KeyRefused::Expired => (ErrorCode::ApiKeyExpired, "The API key has expired."),
        KeyRefused::Revoked => (ErrorCode::ApiKeyRevoked, "The API key has been revoked."),
    };
    ApiError::new(code, message)
}

fn too_many_failures(retry_after_secs: u64) -> ApiError {
    ApiError::Problem(
        Problem::new(
            ErrorCode::TooManyFailedAuthentications,
            format!("Too many invalid API keys from this address. Retry after {retry_after_secs} s."),
        )
        .retry_after(retry_after_secs),
    )
}

async fn resolve(state: &AppState, parts: &mut Parts) -> Result<Option<Caller>, ApiError> {
    if let Some(token) = bearer(&parts.headers)? {
        // Guessing keys from one address is throttled before any lookup.
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0);
        let address = client_ip(&parts.headers, peer, state.config.trust_forwarded_for)
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        if let Some(wait) = state.limits.blocked(&address) {
            return Err(too_many_failures(wait));
        }
        let principal = state.keys.authenticate(token, Utc::now()).await.map_err(anyhow::Error::from)?;
        let principal = match principal {
            Ok(principal) => principal,
            Err(reason) => {
                return Err(match state.limits.failed_auth(&address) {
                    Some(wait) => too_many_failures(wait),
                    None => refused(reason),
                });
            }
        };
        return Ok(Some(Caller { account: principal.account.clone(), key: Some(principal) }));
    }
    let session = Session::from_request_parts(parts, state)
        .await
        .map_err(|(_, msg)| ApiError::Internal(anyhow::anyhow!("session layer missing: {msg}")))?;
    let Some(id) = crate::auth::session::account_id(&session).await? else { return Ok(None) };
    Ok(state.accounts.get(&id).await?.map(|account| Caller { account, key: None }))
}

/// Writes `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` and `RateLimit-Policy`.
fn rate_headers(headers: &mut HeaderMap, quotas: &Quotas) {
    headers.insert("ratelimit-limit", HeaderValue::from(quotas.limit.burst));
    headers.insert("ratelimit-remaining", HeaderValue::from(quotas.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(quotas.reset_secs));
    let policy = format!(
        "{};w=1;burst={};policy=\"{}\"",
        quotas.limit.per_second,
        quotas.limit.burst,
        quotas.scope.as_str()
    );
    if let Ok(value) = HeaderValue::try_from(policy) {
        headers.insert("ratelimit-policy", value);
    }
}

/// Middleware over `/api/v1`: resolves the caller, enforces the key's scope and the rate
/// limits, and reports the limits on the response. Requests with no credentials pass
/// through (sign-up and log-in need none; other handlers answer 401).
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = match resolve(&state, &mut parts).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return next.run(Request::from_parts(parts, body)).await,
        Err(err) => return err.into_response(),
    };
    if let Some(granted) = caller.scopes() {
        let needed = required_scope(&parts.method, parts.uri.path());
        if !granted.contains(&needed) {
            return ApiError::new(
                ErrorCode::MissingScope,
                format!("This API key lacks the `{}` scope this request needs.", needed.as_str()),
            )
            .into_response();
        }
    }
    let quotas = match state.limits.admit(&caller.account.id, caller.key_id()) {
        Ok(quotas) => quotas,
        Err(Limited { quotas, retry_after_secs }) => {
            let mut response = ApiError::Problem(Problem::new(ErrorCode::RateLimited, format!(
                    "Rate limit of the {} reached ({} requests per second, bursts of {}). Retry after {retry_after_secs} s.",
                    quotas.scope.as_str(),
                    quotas.limit.per_second,
                    quotas.limit.burst
                )).retry_after(retry_after_secs))
            .into_response();
            rate_headers(response.headers_mut(), &quotas);
            return response;
        }
    };
    parts.extensions.insert(caller);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    rate_headers(response.headers_mut(), &quotas);
    response
}

/// The client's IP address: the TCP peer, or, when the operator says a trusted proxy sits in
/// front (`trust_forwarded_for`), the last `X-Forwarded-For` entry (the one that proxy added).
pub fn client_ip(headers: &HeaderMap, peer: Option<SocketAddr>, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|p| p.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_follow_method_and_path() {
        assert_eq!(required_scope(&Method::POST, "/api/v1/invoke/echo/x"), Scope::Invoke);
        assert_eq!(required_scope(&Method::GET, "/api/v1/invoke/echo/"), Scope::Invoke);
        assert_eq!(required_scope(&Method::GET, "/api/v1/services"), Scope::Read);
        assert_eq!(required_scope(&Method::HEAD, "/api/v1/keys"), Scope::Read);
        assert_eq!(required_scope(&Method::PATCH, "/api/v1/services/x"), Scope::Write);
        assert_eq!(required_scope(&Method::DELETE, "/api/v1/keys/x"), Scope::Write);
    }

    #[test]
    fn only_bearer_authorization_is_accepted() {
        let mut headers = HeaderMap::new();
        assert!(matches!(bearer(&headers), Ok(None)));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer w4k_abc"));
        assert!(matches!(bearer(&headers), Ok(Some("w4k_abc"))));
        for bad in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "w4k_abc"] {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(bad));
            assert!(bearer(&headers).is_err(), "{bad}");
        }
    }
}
