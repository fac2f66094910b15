//! The portal's side of the server: the [`PortalPort`] implementation the server functions
//! call, reading the session and client address from the Leptos request context.
use super::extract::client_ip;
use crate::{
    auth, billing,
    error::{Classified, Classify, ErrorCode, Problem},
    keys, nodes,
    services::{self, NodeNames, gateway::Call},
    state::AppState,
};
use app::{
    error::PortalError,
    port::PortalPort,
    types::{
        AccountView, Credentials, Role,
        billing::{EarningsView, InvoiceSummary, InvoiceView, UsageReport},
        keys::{ApiKeyForm, ApiKeysView, CreatedApiKey},
        nodes::{CreateJoinToken, CreatedJoinToken, JoinTokensView, NodeAction, NodeDetail, TopologyView},
        services::{
            Page, ProxySecretView, ServiceForm, ServiceStatus, ServiceUpdate, ServiceView, TryInvoke,
            TryInvokeResult,
        },
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

/// Session key of a join token minted by a plain form post, shown once on the next page
/// (sealed: see [`super::flash`]).
const FLASH_JOIN_TOKEN: &str = "flash.join_token";
/// Session key of an API key created by a plain form post (with its owner's id), shown once on
/// the next load of the keys page (sealed: see [`super::flash`]).
const FLASH_API_KEY: &str = "flash.api_key";
/// Session key of a proxy secret rotated by a plain form post, shown once on the service's
/// next load (sealed: see [`super::flash`]).
const FLASH_PROXY_SECRET: &str = "flash.proxy_secret";

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

    /// Keeps `secret` for the next page load: sealed in the session, its key in a cookie.
    async fn flash<T: serde::Serialize>(&self, slot: &str, secret: &T) -> Result<(), PortalError> {
        let (sealed, cookie) =
            super::flash::seal(slot, secret, self.state.config.secure_cookies).map_err(internal)?;
        let session = self.session().await?;
        session.insert(slot, &sealed).await.map_err(|e| internal(e.into()))?;
        if let Some(response) = use_context::<ResponseOptions>() {
            response.append_header(header::SET_COOKIE, cookie);
        }
        Ok(())
    }

    /// Takes what [`Self::flash`] kept for `slot`, if this browser holds its key.
    async fn unflash<T: serde::de::DeserializeOwned>(&self, slot: &str) -> Result<Option<T>, PortalError> {
        let session = self.session().await?;
        let Some(sealed) =
            session.remove::<super::flash::Sealed>(slot).await.map_err(|e| internal(e.into()))?
        else {
            return Ok(None);
        };
        let opened = use_context::<Parts>().and_then(|p| super::flash::open(slot, &sealed, &p.headers));
        if let (Some(response), Some(forget)) =
            (use_context::<ResponseOptions>(), super::flash::forget(slot, self.state.config.secure_cookies))
        {
            response.append_header(header::SET_COOKIE, forget);
        }
        Ok(opened)
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

/// A domain failure as the portal tells it, made from its one classification (see
/// [`crate::error`]); for a hydrated call the response also gets the classified status (server
/// functions answer every error with 500 otherwise, which would log a person's typo as a
/// server failure). A plain form post keeps its 302 back to the form, which carries the error
/// in the URL.
fn portal_error(err: impl Classify) -> PortalError {
    let (status, error) = match err.classify() {
        Classified::Problem(problem) => told(problem),
        Classified::Internal(err) => return internal(err),
    };
    set_status(status, &error);
    error
}

/// A classified problem as the portal shows it, with the status the API answers it with.
fn told(problem: Problem) -> (StatusCode, PortalError) {
    let status = problem.status();
    let error = match problem.code {
        ErrorCode::ValidationFailed => PortalError::Fields(
            problem
                .fields
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (form_field(&k).to_owned(), v))
                .collect(),
        ),
        ErrorCode::EmailTaken => PortalError::EmailTaken,
        ErrorCode::InvalidCredentials => PortalError::InvalidCredentials,
        ErrorCode::Unauthenticated => PortalError::Unauthenticated,
        ErrorCode::OperatorOnly => PortalError::Forbidden,
        ErrorCode::NotFound => PortalError::NotFound(problem.message),
        _ => match (problem.retry_after_secs, problem.fields) {
            (Some(retry_after_secs), _) => {
                PortalError::Limited { message: problem.message, retry_after_secs }
            }
            // A conflict about one field (a taken slug) sits next to that field.
            (None, Some(fields)) => PortalError::Fields(fields),
            (None, None) => PortalError::Rejected(problem.message),
        },
    };
    (status, error)
}

/// Maps a validation error's field (as the API names it) to the portal form's input name.
fn form_field(path: &str) -> &str {
    match path {
        "http.upstream_url" => "upstream_url",
        "price_per_call_micros" => "price_per_call",
        "http.allowed_methods" => "allowed_methods",
        "http.timeout_ms" => "timeout_ms",
        "http.max_body_bytes" => "max_body_bytes",
        "health_check.path" => "health_path",
        "health_check.interval_ms" => "health_interval_ms",
        "health_check.timeout_ms" => "health_timeout_ms",
        "policy.retries" => "retries",
        "policy.breaker_failures" => "breaker_failures",
        "policy.breaker_cooldown_ms" => "breaker_cooldown_ms",
        "expires_at" => "expires_in_days",
        other => other,
    }
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
        if let PortalError::Limited { retry_after_secs, .. } = error {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
    }
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

/// Per-field errors of a form that did not parse.
fn form_error(fields: std::collections::BTreeMap<String, String>) -> PortalError {
    let error = PortalError::Fields(fields);
    set_status(StatusCode::UNPROCESSABLE_ENTITY, &error);
    error
}

/// The body shown for a response, cut to 64 KiB at a character boundary.
fn shown_body(body: &[u8]) -> (String, bool) {
    const SHOWN: usize = 64 * 1024;
    let text = String::from_utf8_lossy(&body[..body.len().min(SHOWN)]).into_owned();
    (text, body.len() > SHOWN)
}

impl PortalAdapter {
    /// The logged-in account, or `Unauthenticated` (401).
    async fn account(&self) -> Result<AccountView, PortalError> {
        self.current_account().await?.ok_or_else(|| {
            let error = PortalError::Unauthenticated;
            set_status(StatusCode::UNAUTHORIZED, &error);
            error
        })
    }

    async fn names(&self) -> Result<NodeNames, PortalError> {
        self.state.services.names().await.map_err(portal_error)
    }

    /// Applies a change to the account's service; a plain form lands on the service's page.
    async fn change_service(
        &self,
        account: &AccountView,
        id: &str,
        update: ServiceUpdate,
    ) -> Result<ServiceView, PortalError> {
        services::update(&self.state.db, &self.state.egress, &account.id, id, update, Utc::now())
            .await
            .map_err(portal_error)?;
        let view = self.state.services.settled(&account.id, id).await.map_err(portal_error)?;
        redirect_plain_form(&format!("/services/{id}"));
        Ok(view)
    }

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
        let client = self.client_ip()?;
        let account = auth::sign_up(&self.state.db, &self.state.limits, credentials, client)
            .await
            .map_err(portal_error)?;
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
        nodes::topology(&self.state.db, Utc::now(), self.state.mesh.settings()).await.map_err(portal_error)
    }

    async fn node_detail(&self, id: String) -> Result<NodeDetail, PortalError> {
        self.operator().await?;
        nodes::node_detail(&self.state.db, &id, Utc::now(), self.state.mesh.settings())
            .await
            .map_err(portal_error)
    }

    async fn node_action(&self, id: String, action: NodeAction) -> Result<(), PortalError> {
        self.operator().await?;
        nodes::act(&self.state.db, &id, action, Utc::now(), self.state.mesh.settings())
            .await
            .map_err(portal_error)?;
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
        let tokens = nodes::list_tokens(&self.state.db, Utc::now()).await.map_err(portal_error)?;
        let just_created = self.unflash::<CreatedJoinToken>(FLASH_JOIN_TOKEN).await?;
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
            nodes::mint_token(&self.state.db, &account.id, req, Utc::now()).await.map_err(portal_error)?;
        if is_plain_form() {
            // The answer to a plain form post is a redirect, which would lose the secret:
            // keep it sealed for the next page load only (never in the URL).
            self.flash(FLASH_JOIN_TOKEN, &created).await?;
            redirect_plain_form("/join-tokens");
        }
        Ok(created)
    }

    async fn revoke_join_token(&self, id: String, block_nodes: bool) -> Result<(), PortalError> {
        self.operator().await?;
        nodes::revoke_token(&self.state.db, &id, block_nodes, Utc::now()).await.map_err(portal_error)?;
        self.sync_mesh().await?;
        redirect_plain_form("/join-tokens");
        Ok(())
    }

    async fn services(&self, cursor: Option<String>) -> Result<Page<ServiceView>, PortalError> {
        let account = self.account().await?;
        let names = self.names().await?;
        services::list(&self.state.db, &account.id, cursor.as_deref(), None, &names)
            .await
            .map_err(portal_error)
    }

    async fn service(&self, id: String) -> Result<ServiceView, PortalError> {
        let account = self.account().await?;
        let names = self.names().await?;
        let mut service =
            services::get(&self.state.db, &account.id, &id, &names).await.map_err(portal_error)?;
        let rotated = self.unflash::<ProxySecretView>(FLASH_PROXY_SECRET).await?;
        service.proxy_secret = rotated.filter(|r| r.service_id == service.id).map(|r| r.proxy_secret);
        Ok(service)
    }

    async fn create_service(&self, form: ServiceForm) -> Result<ServiceView, PortalError> {
        let account = self.account().await?;
        let input = services::from_form(&form).map_err(form_error)?;
        let id = services::create(
            &self.state.db,
            &self.state.egress,
            self.state.config.limits.services,
            &account.id,
            input,
            Utc::now(),
        )
        .await
        .map_err(portal_error)?;
        let view = self.state.services.settled(&account.id, &id).await.map_err(portal_error)?;
        redirect_plain_form(&format!("/services/{id}"));
        Ok(view)
    }

    async fn update_service(&self, id: String, form: ServiceForm) -> Result<ServiceView, PortalError> {
        let account = self.account().await?;
        let update = services::update_from_form(&form).map_err(form_error)?;
        self.change_service(&account, &id, update).await
    }

    async fn set_service_active(&self, id: String, active: bool) -> Result<ServiceView, PortalError> {
        let account = self.account().await?;
        let status = if active { ServiceStatus::Active } else { ServiceStatus::Inactive };
        self.change_service(&account, &id, ServiceUpdate { status: Some(status), ..ServiceUpdate::default() })
            .await
    }

    async fn delete_service(&self, id: String) -> Result<(), PortalError> {
        let account = self.account().await?;
        services::delete(&self.state.db, &account.id, &id).await.map_err(portal_error)?;
        self.state.services.reconcile().await.map_err(internal)?;
        redirect_plain_form("/services");
        Ok(())
    }

    async fn rotate_proxy_secret(&self, id: String) -> Result<ProxySecretView, PortalError> {
        let account = self.account().await?;
        let generation =
            services::rotate_proxy_secret(&self.state.db, &account.id, &id).await.map_err(portal_error)?;
        self.state.services.reconcile().await.map_err(internal)?;
        let proxy_secret = self.state.services.proxy_secret(&id, generation);
        let rotated = ProxySecretView { service_id: id.clone(), proxy_secret, generation };
        if is_plain_form() {
            self.flash(FLASH_PROXY_SECRET, &rotated).await?;
            redirect_plain_form(&format!("/services/{id}"));
        }
        Ok(rotated)
    }

    async fn try_invoke(&self, call: TryInvoke) -> Result<TryInvokeResult, PortalError> {
        let account = self.account().await?;
        // The same budget as the account's API calls: Try it is no way around the limits.
        if let Err(limited) = self.state.limits.admit(&account.id, None) {
            let wait = limited.retry_after_secs;
            return Err(portal_error(
                Problem::new(
                    ErrorCode::RateLimited,
                    format!(
                        "This account is making calls faster than its rate limit allows. Try again in {}.",
                        crate::error::wait(wait)
                    ),
                )
                .retry_after(wait),
            ));
        }
        let reject = |message: String| {
            let error = PortalError::Rejected(message);
            set_status(StatusCode::UNPROCESSABLE_ENTITY, &error);
            error
        };
        let method = axum::http::Method::from_bytes(call.method.trim().to_uppercase().as_bytes())
            .map_err(|_| reject(format!("{:?} is not an HTTP method.", call.method)))?;
        let path = call.path.trim();
        let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
        if path.parse::<axum::http::uri::PathAndQuery>().is_err() {
            return Err(reject(format!("{path:?} is not a valid path.")));
        }
        let layer = &self.state.services;
        let (service, _) = layer.resolve(&account.id, &call.service_id).map_err(|_| {
            let error = PortalError::NotFound("No such service.".into());
            set_status(StatusCode::NOT_FOUND, &error);
            error
        })?;
        let mut headers = axum::http::HeaderMap::new();
        if !call.content_type.trim().is_empty() {
            let value = HeaderValue::try_from(call.content_type.trim())
                .map_err(|_| reject("The content type is not a valid header value.".into()))?;
            headers.insert(header::CONTENT_TYPE, value);
        }
        let started = std::time::Instant::now();
        let body = call.body.into();
        let outcome = match layer.admit(service, &method) {
            Ok(admitted) => {
                let call = Call {
                    payer: &account.id,
                    key_id: None,
                    invoke_id: None,
                    service: admitted,
                    method: &method,
                    path_and_query: &path,
                    headers: &headers,
                    body,
                };
                layer.invoke(call).await
            }
            Err(err) => Err(err),
        };
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(match outcome {
            Ok(invoked) => {
                let (body, body_truncated) = shown_body(&invoked.body);
                TryInvokeResult {
                    status: invoked.status,
                    headers: invoked
                        .headers
                        .iter()
                        .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
                        .collect(),
                    body,
                    body_truncated,
                    latency_ms,
                    invoke_id: Some(invoked.invoke_id.to_string()),
                    route_names: invoked.route.iter().map(|n| layer.node_name(n)).collect(),
                    route: invoked.route.iter().map(ToString::to_string).collect(),
                }
            }
            Err(err) => {
                // The call's own failure (504, 503, ...) is the result to show, as the API
                // would answer it.
                let api = super::error::ApiError::from(err);
                let body = api.body();
                TryInvokeResult {
                    status: api.status().as_u16(),
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: serde_json::to_string_pretty(&body).unwrap_or_default(),
                    latency_ms,
                    ..TryInvokeResult::default()
                }
            }
        })
    }

    async fn api_keys(&self, cursor: Option<String>) -> Result<ApiKeysView, PortalError> {
        let account = self.account().await?;
        let page = keys::list(&self.state.db, &account.id, cursor.as_deref(), None, Utc::now())
            .await
            .map_err(portal_error)?;
        // Taken only once the list has loaded, so a failed load does not lose the secret.
        let flashed = self.unflash::<(String, CreatedApiKey)>(FLASH_API_KEY).await?;
        // A session that logged in as someone else since (log-in keeps the session's data)
        // must not see the previous account's secret.
        let created = flashed.filter(|(owner, _)| *owner == account.id).map(|(_, created)| created);
        Ok(ApiKeysView { page, created })
    }

    async fn create_api_key(&self, form: ApiKeyForm) -> Result<CreatedApiKey, PortalError> {
        let account = self.account().await?;
        let now = Utc::now();
        let input = keys::from_form(&form, now).map_err(portal_error)?;
        // A session holds every scope, so it may grant any of them.
        let created =
            keys::create(&self.state.db, &account.id, None, self.state.config.limits.keys, input, now)
                .await
                .map_err(portal_error)?;
        if is_plain_form() {
            // As for join tokens: the redirect would lose the secret, so it is kept sealed for
            // the next page load only (never in the URL).
            self.flash(FLASH_API_KEY, &(&account.id, &created)).await?;
            redirect_plain_form("/keys");
        }
        Ok(created)
    }

    async fn revoke_api_key(&self, id: String) -> Result<(), PortalError> {
        let account = self.account().await?;
        self.state.keys.revoke(&account.id, &id, Utc::now()).await.map_err(portal_error)?;
        redirect_plain_form("/keys");
        Ok(())
    }

    async fn usage(&self, days: u32) -> Result<UsageReport, PortalError> {
        let account = self.account().await?;
        if !app::api::USAGE_DAYS.contains(&days) {
            let [short, medium, long] = app::api::USAGE_DAYS;
            let error =
                PortalError::Rejected(format!("Usage covers the last {short}, {medium} or {long} days."));
            set_status(StatusCode::BAD_REQUEST, &error);
            return Err(error);
        }
        let now = Utc::now();
        let to = now.date_naive();
        let from = to - chrono::Duration::days(i64::from(days) - 1);
        billing::usage(&self.state.db, &account.id, Some(from), Some(to), now).await.map_err(portal_error)
    }

    async fn billing_preview(&self) -> Result<InvoiceView, PortalError> {
        let account = self.account().await?;
        billing::preview(&self.state.db, &account.id, Utc::now()).await.map_err(portal_error)
    }

    async fn invoices(&self, cursor: Option<String>) -> Result<Page<InvoiceSummary>, PortalError> {
        let account = self.account().await?;
        billing::invoices(&self.state.db, &account.id, cursor.as_deref(), None).await.map_err(portal_error)
    }

    async fn invoice(&self, id: String) -> Result<InvoiceView, PortalError> {
        let account = self.account().await?;
        billing::invoice(&self.state.db, &account.id, &id).await.map_err(portal_error)
    }

    async fn earnings(&self) -> Result<EarningsView, PortalError> {
        let account = self.account().await?;
        let fee_bps = self.state.config.billing.fee_bps;
        billing::earnings(&self.state.db, &account.id, Utc::now(), fee_bps).await.map_err(portal_error)
    }

    async fn api_docs(&self, origin: String) -> Result<app::types::docs::ApiDocsView, PortalError> {
        // Only displayed in the curl examples; anything that is not an http(s) origin is
        // replaced by a placeholder.
        let origin = origin.trim_end_matches('/');
        let shown = match origin.parse::<http::Uri>() {
            Ok(uri) if matches!(uri.scheme_str(), Some("http" | "https")) && uri.path() == "/" => origin,
            _ => "http://127.0.0.1:3000",
        };
        Ok(super::openapi::docs_view(shown))
    }

    async fn log_out(&self) -> Result<(), PortalError> {
        let session = self.session().await?;
        auth::session::end(&session).await.map_err(internal)?;
        redirect_plain_form("/login");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        auth::AuthError,
        billing::BillingError,
        http::error::ApiError,
        keys::KeysError,
        nodes::NodesError,
        services::{ServicesError, gateway::InvokeError},
    };

    /// One of every domain error the two front ends tell.
    fn every_domain_error() -> Vec<Classified> {
        let fields =
            || std::collections::BTreeMap::from([("http.upstream_url".to_owned(), "bad".to_owned())]);
        vec![
            AuthError::Invalid(app::types::FieldErrors { email: Some("bad".into()), password: None })
                .classify(),
            AuthError::EmailTaken.classify(),
            AuthError::InvalidCredentials.classify(),
            AuthError::Throttled { retry_after_secs: 90 }.classify(),
            AuthError::SignUpsThrottled { retry_after_secs: 3600 }.classify(),
            AuthError::Busy.classify(),
            AuthError::Unauthenticated.classify(),
            ServicesError::Invalid(fields()).classify(),
            ServicesError::NotFound.classify(),
            ServicesError::SlugTaken("echo".into()).classify(),
            ServicesError::Active.classify(),
            ServicesError::BadCursor.classify(),
            ServicesError::UnbilledUsage.classify(),
            ServicesError::LimitReached(3).classify(),
            KeysError::Invalid(fields()).classify(),
            KeysError::NotFound.classify(),
            KeysError::ScopeEscalation.classify(),
            KeysError::LimitReached(5).classify(),
            KeysError::BadCursor.classify(),
            BillingError::NotFound.classify(),
            BillingError::BadCursor.classify(),
            BillingError::BadRange("from is after to".into()).classify(),
            NodesError::Invalid { field: "note", message: "too long".into() }.classify(),
            NodesError::NotFound("node").classify(),
            NodesError::ChallengeInvalid.classify(),
            NodesError::TooManyChallenges.classify(),
            NodesError::BadSignature.classify(),
            NodesError::TokenInvalid.classify(),
            NodesError::TokenRevoked.classify(),
            NodesError::TokenExpired.classify(),
            NodesError::TokenUsed.classify(),
            NodesError::NodeBlocked.classify(),
            NodesError::StaleHeartbeat.classify(),
            InvokeError::NotFound.classify(),
            InvokeError::Inactive.classify(),
            InvokeError::NoHealthyPlacement.classify(),
            InvokeError::MethodNotAllowed { method: "PUT".into(), allowed: vec!["GET".into()] }.classify(),
            InvokeError::BodyTooLarge { limit: 10 }.classify(),
            InvokeError::CircuitOpen { retry_after_secs: 4 }.classify(),
            InvokeError::AccountBusy { limit: 2 }.classify(),
            InvokeError::Metering("disk full".into()).classify(),
        ]
    }

    #[test]
    fn the_api_and_the_portal_tell_every_domain_error_alike() {
        for (for_api, for_portal) in every_domain_error().into_iter().zip(every_domain_error()) {
            let Classified::Problem(problem) = for_portal else { panic!("no internal error in the list") };
            let (status, shown) = told(problem.clone());
            let api = ApiError::from(for_api);
            let body = api.body();
            assert_eq!(api.status(), status, "{body}");
            assert_eq!(api.code(), problem.code.as_str());
            let message = body["error"]["message"].as_str().unwrap();
            match shown {
                PortalError::Rejected(text) | PortalError::NotFound(text) => assert_eq!(text, message),
                PortalError::Limited { message: text, retry_after_secs } => {
                    assert_eq!(text, message);
                    assert_eq!(Some(retry_after_secs), problem.retry_after_secs);
                }
                PortalError::Fields(fields) => {
                    let api_fields = problem.fields.expect("fields");
                    assert_eq!(fields.len(), api_fields.len(), "{body}");
                }
                PortalError::EmailTaken | PortalError::InvalidCredentials | PortalError::Unauthenticated => {
                    assert_eq!(api.status().as_u16() / 100, 4)
                }
                other => panic!("{other:?} for {body}"),
            }
        }
    }

    #[test]
    fn form_errors_name_the_inputs_the_form_has() {
        let (_, shown) = told(Problem::invalid([("http.upstream_url".to_owned(), "bad".to_owned())].into()));
        assert_eq!(shown.field_error("upstream_url").as_deref(), Some("bad"));
        let (_, shown) = told(Problem::invalid([("expires_at".to_owned(), "past".to_owned())].into()));
        assert_eq!(shown.field_error("expires_in_days").as_deref(), Some("past"));
    }

    #[test]
    fn internal_errors_are_opaque_everywhere() {
        let api = ApiError::from(anyhow::anyhow!("secret detail"));
        assert_eq!(api.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!api.body().to_string().contains("secret detail"));
        assert_eq!(portal_error(anyhow::anyhow!("secret detail")), PortalError::Internal);
    }
}
