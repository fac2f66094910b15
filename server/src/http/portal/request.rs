//! What the portal's server functions read from the request they serve: the session, the
//! client's address, whether it is a plain form post; and the sealed one-time flash of a
//! secret across a redirect (see [`crate::http::flash`]).
use super::{PortalAdapter, errors::internal};
use crate::{
    http::{caller::client_ip, flash},
    state::AppState,
};
use app::error::PortalError;
use axum::{
    extract::ConnectInfo,
    http::{header, request::Parts},
};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

impl PortalAdapter {
    /// An adapter over the shared state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    pub(super) async fn session(&self) -> Result<Session, PortalError> {
        leptos_axum::extract::<Session>()
            .await
            .map_err(|e| internal(anyhow::anyhow!("no session in the request: {e}")))
    }

    /// Keeps `secret` for the next page load: sealed in the session, its key in a cookie.
    pub(super) async fn flash<T: serde::Serialize>(&self, slot: &str, secret: &T) -> Result<(), PortalError> {
        let (sealed, cookie) =
            flash::seal(slot, secret, self.state.config.secure_cookies).map_err(internal)?;
        let session = self.session().await?;
        session.insert(slot, &sealed).await.map_err(|e| internal(e.into()))?;
        if let Some(response) = use_context::<ResponseOptions>() {
            response.append_header(header::SET_COOKIE, cookie);
        }
        Ok(())
    }

    /// Takes what [`Self::flash`] kept for `slot`, if this browser holds its key.
    pub(super) async fn unflash<T: serde::de::DeserializeOwned>(
        &self,
        slot: &str,
    ) -> Result<Option<T>, PortalError> {
        let session = self.session().await?;
        let Some(sealed) = session.remove::<flash::Sealed>(slot).await.map_err(|e| internal(e.into()))?
        else {
            return Ok(None);
        };
        let opened = use_context::<Parts>().and_then(|p| flash::open(slot, &sealed, &p.headers));
        if let (Some(response), Some(forget)) =
            (use_context::<ResponseOptions>(), flash::forget(slot, self.state.config.secure_cookies))
        {
            response.append_header(header::SET_COOKIE, forget);
        }
        Ok(opened)
    }

    pub(super) fn client_ip(&self) -> Result<IpAddr, PortalError> {
        let parts =
            use_context::<Parts>().ok_or_else(|| internal(anyhow::anyhow!("no request parts in context")))?;
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        client_ip(&parts.headers, peer, self.state.config.trust_forwarded_for)
            .ok_or_else(|| internal(anyhow::anyhow!("no client address in the request")))
    }
}
