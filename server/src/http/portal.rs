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
use axum::{
    extract::ConnectInfo,
    http::{HeaderValue, StatusCode, header, request::Parts},
};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
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

/// Maps a domain failure to the portal's error and, for a hydrated call, gives the response
/// the status it deserves (server functions answer every error with 500 otherwise, which
/// would log a person's typo as a server failure). A plain form post keeps its 302 back to
/// the form, which carries the error in the URL.
fn portal_error(err: AuthError) -> PortalError {
    let (status, error) = match err {
        AuthError::Invalid(fields) => (StatusCode::UNPROCESSABLE_ENTITY, PortalError::Invalid(fields)),
        AuthError::EmailTaken => (StatusCode::CONFLICT, PortalError::EmailTaken),
        AuthError::InvalidCredentials => (StatusCode::UNAUTHORIZED, PortalError::InvalidCredentials),
        AuthError::Throttled { retry_after_secs } => {
            (StatusCode::TOO_MANY_REQUESTS, PortalError::Throttled { retry_after_secs })
        }
        AuthError::Unauthenticated => (StatusCode::UNAUTHORIZED, PortalError::Unauthenticated),
        AuthError::Internal(err) => return internal(err),
    };
    if !is_plain_form()
        && let Some(response) = use_context::<ResponseOptions>()
    {
        response.set_status(status);
        if let PortalError::Throttled { retry_after_secs } = &error {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
    }
    error
}

/// True when the request is a plain HTML navigation or form post (it accepts `text/html`),
/// as opposed to a call from the hydrated app.
fn is_plain_form() -> bool {
    use_context::<Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// A form posted before hydration is a plain navigation: answer it with a 302 to `path`.
/// A hydrated form navigates on the client once the account has been refetched.
fn redirect_plain_form(path: &str) {
    if is_plain_form() {
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
