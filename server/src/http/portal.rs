//! The portal's side of the server: the [`PortalPort`] implementation the server functions
//! call, reading the session and client address from the Leptos request context.
use super::extract::client_ip;
use crate::{
    auth::{self, AuthError},
    state::AppState,
};
use app::{
    error::PortalError,
    port::PortalPort,
    types::{AccountView, Credentials},
};
use axum::{extract::ConnectInfo, http::request::Parts};
use leptos::prelude::use_context;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

/// Serves the portal's server functions from the platform's domain functions.
pub struct PortalAdapter {
    state: AppState,
}

impl PortalAdapter {
    /// An adapter over the shared state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    async fn session(&self) -> Result<Session, PortalError> {
        leptos_axum::extract::<Session>()
            .await
            .map_err(|e| internal(anyhow::anyhow!("no session in the request: {e}")))
    }

    fn client_ip(&self) -> Result<IpAddr, PortalError> {
        let parts =
            use_context::<Parts>().ok_or_else(|| internal(anyhow::anyhow!("no request parts in context")))?;
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        client_ip(&parts.headers, peer, self.state.config.trust_forwarded_for)
            .ok_or_else(|| internal(anyhow::anyhow!("no client address in the request")))
    }
}

/// Logs an internal failure once and gives the person the opaque message.
fn internal(err: anyhow::Error) -> PortalError {
    tracing::error!(error = ?err, "portal request failed");
    PortalError::Internal
}

fn portal_error(err: AuthError) -> PortalError {
    match err {
        AuthError::Invalid(fields) => PortalError::Invalid(fields),
        AuthError::EmailTaken => PortalError::EmailTaken,
        AuthError::InvalidCredentials => PortalError::InvalidCredentials,
        AuthError::Throttled { retry_after_secs } => PortalError::Throttled { retry_after_secs },
        AuthError::Unauthenticated => PortalError::Unauthenticated,
        AuthError::Internal(err) => internal(err),
    }
}

/// A form posted before hydration is a plain navigation: answer it with a 302 to `path`.
/// A hydrated form navigates on the client once the account has been refetched.
fn redirect_plain_form(path: &str) {
    let plain = use_context::<Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    });
    if plain {
        leptos_axum::redirect(path);
    }
}

/// Binds the session to `account` (cycling its id) and sends a plain form to the dashboard.
async fn signed_in(session: &Session, account: AccountView) -> Result<AccountView, PortalError> {
    auth::session::begin(session, &account.id).await.map_err(internal)?;
    redirect_plain_form("/dashboard");
    Ok(account)
}

#[async_trait::async_trait]
impl PortalPort for PortalAdapter {
    async fn current_account(&self) -> Result<Option<AccountView>, PortalError> {
        let session = self.session().await?;
        match auth::session::account_id(&session).await.map_err(internal)? {
            Some(id) => auth::account(&self.state.db, &id).await.map_err(portal_error),
            None => Ok(None),
        }
    }

    async fn sign_up(&self, credentials: Credentials) -> Result<AccountView, PortalError> {
        let session = self.session().await?;
        let account = auth::sign_up(&self.state.db, credentials).await.map_err(portal_error)?;
        signed_in(&session, account).await
    }

    async fn log_in(&self, credentials: Credentials) -> Result<AccountView, PortalError> {
        let session = self.session().await?;
        let client = self.client_ip()?;
        let account = auth::log_in(&self.state.db, self.state.config.login_throttle, credentials, client)
            .await
            .map_err(portal_error)?;
        signed_in(&session, account).await
    }

    async fn log_out(&self) -> Result<(), PortalError> {
        let session = self.session().await?;
        auth::session::end(&session).await.map_err(internal)?;
        redirect_plain_form("/login");
        Ok(())
    }
}
