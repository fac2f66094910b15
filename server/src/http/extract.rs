//! Extractors shared by the API handlers: JSON bodies that fail in the one error shape, the
//! client's address, and the logged-in account.
use super::error::ApiError;
use crate::{auth, state::AppState};
use app::types::AccountView;
use axum::{
    Json,
    extract::{ConnectInfo, FromRequest, FromRequestParts, Request, rejection::JsonRejection},
    http::{HeaderMap, request::Parts},
    response::{IntoResponse, Response},
};
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

/// `Json` whose rejections (bad syntax, wrong content type, too large) are [`ApiError`]s.
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(AppJson(value))
    }
}

impl<T: serde::Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
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

/// The account the request's session is logged in as; 401 otherwise.
pub struct CurrentAccount(pub AccountView);

impl FromRequestParts<AppState> for CurrentAccount {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, msg)| ApiError::Internal(anyhow::anyhow!("session layer missing: {msg}")))?;
        let id = auth::session::account_id(&session).await?.ok_or(ApiError::Unauthenticated)?;
        let account = auth::account(&state.db, &id).await?.ok_or(ApiError::Unauthenticated)?;
        Ok(CurrentAccount(account))
    }
}

/// The logged-in account, which must be the operator (admin); 401 or 403 otherwise.
pub struct Operator(pub AccountView);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let CurrentAccount(account) = CurrentAccount::from_request_parts(parts, state).await?;
        if account.role != app::types::Role::Admin {
            return Err(ApiError::Forbidden {
                code: "operator_only",
                message: "Only the platform's operator can do this.".into(),
            });
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
