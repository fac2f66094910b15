//! Extractors shared by the API handlers: JSON bodies and path parameters that fail in the one
//! error shape, the client's address, and the logged-in account.
use super::caller::client_ip;
use super::error::ApiError;
use crate::error::ErrorCode;
use crate::state::AppState;
use app::types::AccountView;
use axum::{
    Json,
    body::Bytes,
    extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request, rejection::JsonRejection},
    http::header,
    http::{HeaderMap, request::Parts},
    response::{IntoResponse, Response},
};
use std::net::{IpAddr, SocketAddr};

/// `Json` whose rejections (bad syntax, wrong content type, too large) are [`ApiError`]s, and
/// whose body must be a JSON object as the document says (serde would otherwise take an array
/// for a struct, its fields by position).
pub struct AppJson<T>(pub T);

/// `application/json`, or any `…+json` type.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether `body` is a JSON object (its first non-blank byte opens one).
pub fn is_object(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(JsonRejection::MissingJsonContentType(Default::default()).into());
        }
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge, "The request body is too large.")
            } else {
                ApiError::new(ErrorCode::MalformedJson, e.body_text())
            }
        })?;
        if !is_object(&body) {
            return Err(ApiError::new(ErrorCode::MalformedJson, "The body must be a JSON object."));
        }
        let Json(value) = Json::<T>::from_bytes(&body)?;
        Ok(AppJson(value))
    }
}

/// [`AppJson`] for a body that may be left out (`POST …/ack` with nothing): an empty body with
/// no `Content-Type` is `T::default()`; anything else is read as [`AppJson`] reads it.
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: serde::de::DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !req.headers().contains_key(header::CONTENT_TYPE) {
            let body = Bytes::from_request(req, state)
                .await
                .map_err(|e| ApiError::new(ErrorCode::UnreadableBody, e.body_text()))?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(T::default()));
            }
            return Err(JsonRejection::MissingJsonContentType(Default::default()).into());
        }
        AppJson::from_request(req, state).await.map(|AppJson(value)| OptionalJson(value))
    }
}

/// `Path` whose rejections (a number out of range, bad UTF-8) are [`ApiError`]s: 400
/// `bad_path`, in the one error shape.
pub struct AppPath<T>(pub T);

impl<S, T> FromRequestParts<S> for AppPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(AppPath(value)),
            Err(rejection) => Err(ApiError::new(ErrorCode::BadPath, rejection.body_text())),
        }
    }
}

impl<T: serde::Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// The client address of a request (see [`client_ip`]).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        client_ip(&parts.headers, peer, state.config.trust_forwarded_for).map(ClientIp).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("no client address: server started without connect info"))
        })
    }
}

/// The calling account (by API key or session, see [`super::caller`]); 401 otherwise.
pub struct CurrentAccount(pub AccountView);

impl FromRequestParts<AppState> for CurrentAccount {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = super::caller::Caller::from_request_parts(parts, state).await?;
        Ok(CurrentAccount(caller.account))
    }
}

/// `?cursor=&limit=` of a list endpoint (see [`crate::pagination`]): 400 `bad_query` for
/// unknown or malformed parameters, `bad_limit` outside 1–100.
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

impl<S: Send + Sync> FromRequestParts<S> for PageQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            cursor: Option<String>,
            limit: Option<u64>,
        }
        let axum::extract::Query(raw) = axum::extract::Query::<Raw>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::new(ErrorCode::BadQuery, e.body_text()))?;
        if raw.limit.is_some_and(|l| l == 0 || l > crate::pagination::MAX_PAGE) {
            return Err(ApiError::new(
                ErrorCode::BadLimit,
                format!("limit must be between 1 and {}.", crate::pagination::MAX_PAGE),
            ));
        }
        Ok(PageQuery { cursor: raw.cursor, limit: raw.limit })
    }
}

/// The logged-in account, which must be the operator; 401 or 403 otherwise.
pub struct Operator(pub AccountView);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let CurrentAccount(account) = CurrentAccount::from_request_parts(parts, state).await?;
        if account.role != app::types::Role::Operator {
            return Err(ApiError::new(ErrorCode::OperatorOnly, "Only the platform's operator can do this."));
        }
        Ok(Operator(account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn client_ip_ignores_forwarded_for_unless_trusted() {
        let peer = Some(SocketAddr::from(([10, 0, 0, 1], 5000)));
        let h = headers(&["203.0.113.7"]);
        assert_eq!(client_ip(&h, peer, false), Some(IpAddr::from([10, 0, 0, 1])));
    }

    #[test]
    fn client_ip_takes_the_last_forwarded_entry_when_trusted() {
        let peer = Some(SocketAddr::from(([10, 0, 0, 1], 5000)));
        let h = headers(&["198.51.100.1, 203.0.113.7", "192.0.2.9"]);
        assert_eq!(client_ip(&h, peer, true), Some(IpAddr::from([192, 0, 2, 9])));
        assert_eq!(client_ip(&headers(&["garbage"]), peer, true), Some(IpAddr::from([10, 0, 0, 1])));
    }
}
