//! The portal's side of the server: the [`PortalPort`] implementation the server functions
//! call, reading the session and client address from the Leptos request context.
use super::extract::client_ip;
use crate::{
    auth::{self, AuthError},
    nodes::{self, NodesError},
    state::AppState,
};
use app::{
    error::PortalError,
    port::PortalPort,
    types::{
        AccountView, Credentials, Role,
        nodes::{CreateJoinToken, CreatedJoinToken, JoinTokensView, NodeAction, NodeDetail, TopologyView},
    },
};
use axum::{
    extract::ConnectInfo,
    http::{HeaderValue, StatusCode, header, request::Parts},
};
use chrono::Utc;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

/// Session key of a join token minted by a plain form post, shown once on the next page.
const FLASH_JOIN_TOKEN: &str = "flash.join_token";

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
    set_status(status, &error);
    error
}

/// Gives the response `status` — except for a plain form post, which must stay the 302 back
/// to its form (the error travels in that URL).
fn set_status(status: StatusCode, error: &PortalError) {
    let plain_post =
        use_context::<Parts>().is_some_and(|p| p.method == axum::http::Method::POST) && is_plain_form();
    if plain_post {
        return;
    }
    if let Some(response) = use_context::<ResponseOptions>() {
        response.set_status(status);
        if let PortalError::Throttled { retry_after_secs } = error {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
    }
}

fn nodes_error(err: NodesError) -> PortalError {
    let (status, error) = match err {
        NodesError::Internal(err) => return internal(err),
        NodesError::NotFound(what) => {
            (StatusCode::NOT_FOUND, PortalError::NotFound(format!("No such {what}.")))
        }
        other => (StatusCode::UNPROCESSABLE_ENTITY, PortalError::Rejected(other.to_string())),
    };
    set_status(status, &error);
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

impl PortalAdapter {
    /// The logged-in operator, or the error a visitor or a developer gets.
    async fn operator(&self) -> Result<AccountView, PortalError> {
        let account = self.current_account().await?.ok_or_else(|| {
            let error = PortalError::Unauthenticated;
            set_status(StatusCode::UNAUTHORIZED, &error);
            error
        })?;
        if account.role != Role::Admin {
            let error = PortalError::Forbidden;
            set_status(StatusCode::FORBIDDEN, &error);
            return Err(error);
        }
        Ok(account)
    }

    /// Brings the embedded nodes in line with a changed registry.
    async fn sync_mesh(&self) -> Result<(), PortalError> {
        self.state.mesh.sync(&self.state.db).await.map_err(internal)
    }
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

    async fn topology(&self) -> Result<TopologyView, PortalError> {
        self.operator().await?;
        nodes::topology(&self.state.db, Utc::now(), self.state.mesh.settings()).await.map_err(nodes_error)
    }

    async fn node_detail(&self, id: String) -> Result<NodeDetail, PortalError> {
        self.operator().await?;
        nodes::node_detail(&self.state.db, &id, Utc::now(), self.state.mesh.settings())
            .await
            .map_err(nodes_error)
    }

    async fn node_action(&self, id: String, action: NodeAction) -> Result<(), PortalError> {
        self.operator().await?;
        nodes::act(&self.state.db, &id, action, Utc::now(), self.state.mesh.settings())
            .await
            .map_err(nodes_error)?;
        self.sync_mesh().await?;
        redirect_plain_form(&if action == NodeAction::Remove {
            "/nodes".to_string()
        } else {
            format!("/nodes/{id}")
        });
        Ok(())
    }

    async fn join_tokens(&self) -> Result<JoinTokensView, PortalError> {
        self.operator().await?;
        let tokens = nodes::list_tokens(&self.state.db, Utc::now()).await.map_err(nodes_error)?;
        let session = self.session().await?;
        let just_created =
            session.remove::<CreatedJoinToken>(FLASH_JOIN_TOKEN).await.map_err(|e| internal(e.into()))?;
        let host = use_context::<Parts>()
            .and_then(|p| p.headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned))
            .unwrap_or_else(|| self.state.config.bind.to_string());
        let control_plane =
            self.state.config.trusted_origins.first().cloned().unwrap_or(format!("http://{host}"));
        Ok(JoinTokensView { tokens, just_created, control_plane })
    }

    async fn create_join_token(
        &self,
        note: String,
        reusable: bool,
        expires_in_hours: String,
    ) -> Result<CreatedJoinToken, PortalError> {
        let account = self.operator().await?;
        let expires_in_hours = match expires_in_hours.trim() {
            "" => None,
            hours => Some(hours.parse::<u32>().map_err(|_| {
                let error = PortalError::Rejected(
                    "Expiry must be a whole number of hours, or empty for never.".into(),
                );
                set_status(StatusCode::UNPROCESSABLE_ENTITY, &error);
                error
            })?),
        };
        let req = CreateJoinToken { note, reusable, expires_in_hours };
        let created =
            nodes::mint_token(&self.state.db, &account.id, req, Utc::now()).await.map_err(nodes_error)?;
        if is_plain_form() {
            // The answer to a plain form post is a redirect, which would lose the secret:
            // keep it in the session for the next page load only (never in the URL).
            let session = self.session().await?;
            session.insert(FLASH_JOIN_TOKEN, &created).await.map_err(|e| internal(e.into()))?;
            redirect_plain_form("/join-tokens");
        }
        Ok(created)
    }

    async fn revoke_join_token(&self, id: String, block_nodes: bool) -> Result<(), PortalError> {
        self.operator().await?;
        nodes::revoke_token(&self.state.db, &id, block_nodes, Utc::now()).await.map_err(nodes_error)?;
        self.sync_mesh().await?;
        redirect_plain_form("/join-tokens");
        Ok(())
    }

    async fn log_out(&self) -> Result<(), PortalError> {
        let session = self.session().await?;
        auth::session::end(&session).await.map_err(internal)?;
        redirect_plain_form("/login");
        Ok(())
    }
}
