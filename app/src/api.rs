//! The portal's server functions: one line each over the [`PortalPort`](crate::port::PortalPort).
//! They live under `/_fn/` so they never mix with the Cloud API's `/api/v1/`.
use crate::{error::PortalError, types::AccountView};
#[cfg(feature = "ssr")]
use crate::{port::portal_port, types::Credentials};
use leptos::prelude::*;

/// The logged-in account, or `None`.
#[server(prefix = "/_fn", endpoint = "current_account")]
pub async fn current_account() -> Result<Option<AccountView>, PortalError> {
    portal_port()?.current_account().await
}

/// Creates an account and logs it in.
#[server(prefix = "/_fn", endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String) -> Result<AccountView, PortalError> {
    portal_port()?.sign_up(Credentials { email, password }).await
}

/// Logs in with email and password.
#[server(prefix = "/_fn", endpoint = "log_in")]
pub async fn log_in(email: String, password: String) -> Result<AccountView, PortalError> {
    portal_port()?.log_in(Credentials { email, password }).await
}

/// Logs out.
#[server(prefix = "/_fn", endpoint = "log_out")]
pub async fn log_out() -> Result<(), PortalError> {
    portal_port()?.log_out().await
}
