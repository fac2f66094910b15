//! The portal's side of the server: the [`PortalPort`] implementation the server functions
//! call, reading the session and client address from the Leptos request context.
mod data;
mod errors;
mod forms;
mod marketplace;
mod marketplace_forms;
mod observability;
mod request;
mod respond;

use crate::{
    auth,
    error::{ErrorCode, Problem},
    services::{InvokeRequest, Target, gateway::InvokeError},
    state::AppState,
};
use app::{
    error::PortalError,
    port::PortalPort,
    types::{
        AccountView, Credentials, Role,
        billing::{EarningsView, InvoiceSummary, InvoiceView, UsageReport},
        ids::{
            AccountId, InvoiceId, JoinTokenId, KeyId, ListingId, NodeId, PlanId, ServiceId, SubscriptionId,
        },
        keys::{ApiKeyForm, ApiKeysView, CreatedApiKey},
        marketplace::{
            BrowseQuery, CreatedPlan, ListingAction, ListingForm, ListingSummary, ListingView,
            MyListingsView, PlanForm, PlanView, SubscriberAction, SubscriptionView,
        },
        nodes::{CreateJoinToken, CreatedJoinToken, JoinTokensView, NodeAction, NodeDetail, TopologyView},
        services::{
            Page, ProxySecretView, ServiceForm, ServiceStatus, ServiceUpdate, ServiceView, TryInvoke,
            TryInvokeResult,
        },
    },
};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use chrono::Utc;
use errors::{form_error, internal, portal_error, set_status};
use leptos::prelude::use_context;
use respond::{is_plain_form, redirect_plain_form};
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

/// Binds the session to `account` (cycling its id) and sends a plain form to the dashboard.
async fn signed_in(session: &Session, account: AccountView) -> Result<AccountView, PortalError> {
    auth::session::begin(session, &account.id).await.map_err(internal)?;
    redirect_plain_form("/dashboard");
    Ok(account)
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

    /// Applies a change to the account's service; a plain form lands on the service's page.
    async fn change_service(
        &self,
        account: &AccountView,
        id: &ServiceId,
        update: ServiceUpdate,
    ) -> Result<ServiceView, PortalError> {
        let view = self.state.services.update(&account.id, id, update).await.map_err(portal_error)?;
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
        if account.role != Role::Operator {
            let error = PortalError::Forbidden;
            set_status(StatusCode::FORBIDDEN, &error);
            return Err(error);
        }
        Ok(account)
    }
}

#[async_trait::async_trait]
impl PortalPort for PortalAdapter {
    async fn current_account(&self) -> Result<Option<AccountView>, PortalError> {
        let session = self.session().await?;
        match auth::session::account_id(&session).await.map_err(internal)? {
            Some(id) => self.state.accounts.get(&id).await.map_err(portal_error),
            None => Ok(None),
        }
    }

    async fn sign_up(&self, credentials: Credentials) -> Result<AccountView, PortalError> {
        let session = self.session().await?;
        let client = self.client_ip()?;
        let account = self.state.accounts.sign_up(credentials, client).await.map_err(portal_error)?;
        signed_in(&session, account).await
    }

    async fn log_in(&self, credentials: Credentials) -> Result<AccountView, PortalError> {
        let session = self.session().await?;
        let client = self.client_ip()?;
        let account = self.state.accounts.log_in(credentials, client).await.map_err(portal_error)?;
        signed_in(&session, account).await
    }

    async fn get_topology(&self) -> Result<TopologyView, PortalError> {
        self.operator().await?;
        self.state.nodes.topology().await.map_err(portal_error)
    }

    async fn get_node(&self, id: NodeId) -> Result<NodeDetail, PortalError> {
        self.operator().await?;
        self.state.nodes.get(&id).await.map_err(portal_error)
    }

    async fn act_on_node(&self, id: NodeId, action: NodeAction) -> Result<(), PortalError> {
        self.operator().await?;
        self.state.nodes.act(&id, action).await.map_err(portal_error)?;
        redirect_plain_form(&if action == NodeAction::Remove {
            "/nodes".to_string()
        } else {
            format!("/nodes/{id}")
        });
        Ok(())
    }

    async fn list_join_tokens(&self) -> Result<JoinTokensView, PortalError> {
        self.operator().await?;
        let tokens = self.state.nodes.list_join_tokens().await.map_err(portal_error)?;
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
        let created = self.state.nodes.create_join_token(&account.id, req).await.map_err(portal_error)?;
        if is_plain_form() {
            // The answer to a plain form post is a redirect, which would lose the secret:
            // keep it sealed for the next page load only (never in the URL).
            self.flash(FLASH_JOIN_TOKEN, &created).await?;
            redirect_plain_form("/join-tokens");
        }
        Ok(created)
    }

    async fn revoke_join_token(&self, id: JoinTokenId, block_nodes: bool) -> Result<(), PortalError> {
        self.operator().await?;
        self.state.nodes.revoke_join_token(&id, block_nodes).await.map_err(portal_error)?;
        redirect_plain_form("/join-tokens");
        Ok(())
    }

    async fn list_services(&self, cursor: Option<String>) -> Result<Page<ServiceView>, PortalError> {
        let account = self.account().await?;
        self.state.services.list(&account.id, cursor.as_deref(), None).await.map_err(portal_error)
    }

    async fn get_service(&self, id: ServiceId) -> Result<ServiceView, PortalError> {
        let account = self.account().await?;
        let mut service = self.state.services.get(&account.id, &id).await.map_err(portal_error)?;
        let rotated = self.unflash::<ProxySecretView>(FLASH_PROXY_SECRET).await?;
        service.proxy_secret = rotated.filter(|r| r.service_id == service.id).map(|r| r.proxy_secret);
        Ok(service)
    }

    async fn create_service(&self, form: ServiceForm) -> Result<ServiceView, PortalError> {
        let account = self.account().await?;
        let input = forms::new_service(&form).map_err(form_error)?;
        let mut view = self.state.services.create(&account.id, input).await.map_err(portal_error)?;
        // The portal shows a new service's secret with its proxy-secret card, after rotation.
        view.proxy_secret = None;
        let id = &view.id;
        redirect_plain_form(&format!("/services/{id}"));
        Ok(view)
    }

    async fn update_service(&self, id: ServiceId, form: ServiceForm) -> Result<ServiceView, PortalError> {
        let account = self.account().await?;
        let update = forms::service_update(&form).map_err(form_error)?;
        self.change_service(&account, &id, update).await
    }

    async fn set_service_active(&self, id: ServiceId, active: bool) -> Result<ServiceView, PortalError> {
        let account = self.account().await?;
        let status = if active { ServiceStatus::Active } else { ServiceStatus::Inactive };
        self.change_service(&account, &id, ServiceUpdate { status: Some(status), ..ServiceUpdate::default() })
            .await
    }

    async fn delete_service(&self, id: ServiceId) -> Result<(), PortalError> {
        let account = self.account().await?;
        self.state.services.delete(&account.id, &id).await.map_err(portal_error)?;
        redirect_plain_form("/services");
        Ok(())
    }

    async fn rotate_proxy_secret(&self, id: ServiceId) -> Result<ProxySecretView, PortalError> {
        let account = self.account().await?;
        let rotated =
            self.state.services.rotate_proxy_secret(&account.id, &id).await.map_err(portal_error)?;
        if is_plain_form() {
            self.flash(FLASH_PROXY_SECRET, &rotated).await?;
            redirect_plain_form(&format!("/services/{id}"));
        }
        Ok(rotated)
    }

    async fn invoke_service(&self, call: TryInvoke) -> Result<TryInvokeResult, PortalError> {
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
        let mut headers = axum::http::HeaderMap::new();
        if !call.content_type.trim().is_empty() {
            let value = HeaderValue::try_from(call.content_type.trim())
                .map_err(|_| reject("The content type is not a valid header value.".into()))?;
            headers.insert(header::CONTENT_TYPE, value);
        }
        let (path, query) = match path.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path.as_str(), None),
        };
        let started = std::time::Instant::now();
        let outcome = self
            .state
            .services
            .invoke(InvokeRequest {
                payer: &account.id,
                key_id: None,
                idempotency: None,
                target: Target::Service { id: &call.service_id, path },
                method: &method,
                query,
                headers: &headers,
                body: call.body.into(),
            })
            .await;
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
                    route_names: invoked
                        .route
                        .iter()
                        .map(|n| self.state.services.runtime().node_name(n))
                        .collect(),
                    route: invoked.route.iter().map(ToString::to_string).collect(),
                }
            }
            // No such service (or not the caller's) is the page's error, not a call's result.
            Err(InvokeError::NotFound) => return Err(portal_error(InvokeError::NotFound)),
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

    async fn list_api_keys(&self, cursor: Option<String>) -> Result<ApiKeysView, PortalError> {
        let account = self.account().await?;
        let page = self.state.keys.list(&account.id, cursor.as_deref(), None).await.map_err(portal_error)?;
        // Taken only once the list has loaded, so a failed load does not lose the secret.
        let flashed = self.unflash::<(AccountId, CreatedApiKey)>(FLASH_API_KEY).await?;
        // A session that logged in as someone else since (log-in keeps the session's data)
        // must not see the previous account's secret.
        let created = flashed.filter(|(owner, _)| *owner == account.id).map(|(_, created)| created);
        Ok(ApiKeysView { page, created })
    }

    async fn create_api_key(&self, form: ApiKeyForm) -> Result<CreatedApiKey, PortalError> {
        let account = self.account().await?;
        let created = self.state.keys.create_from_form(&account.id, &form).await.map_err(portal_error)?;
        if is_plain_form() {
            // As for join tokens: the redirect would lose the secret, so it is kept sealed for
            // the next page load only (never in the URL).
            self.flash(FLASH_API_KEY, &(&account.id, &created)).await?;
            redirect_plain_form("/keys");
        }
        Ok(created)
    }

    async fn revoke_api_key(&self, id: KeyId) -> Result<(), PortalError> {
        let account = self.account().await?;
        self.state.keys.revoke(&account.id, &id).await.map_err(portal_error)?;
        redirect_plain_form("/keys");
        Ok(())
    }

    async fn get_usage(&self, days: u32) -> Result<UsageReport, PortalError> {
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
        self.state.billing.usage(&account.id, Some(from), Some(to)).await.map_err(portal_error)
    }

    async fn preview_invoice(&self) -> Result<InvoiceView, PortalError> {
        let account = self.account().await?;
        self.state.billing.preview(&account.id).await.map_err(portal_error)
    }

    async fn list_invoices(&self, cursor: Option<String>) -> Result<Page<InvoiceSummary>, PortalError> {
        let account = self.account().await?;
        self.state.billing.invoices(&account.id, cursor.as_deref(), None).await.map_err(portal_error)
    }

    async fn get_invoice(&self, id: InvoiceId) -> Result<InvoiceView, PortalError> {
        let account = self.account().await?;
        self.state.billing.invoice(&account.id, &id).await.map_err(portal_error)
    }

    async fn get_earnings(&self) -> Result<EarningsView, PortalError> {
        let account = self.account().await?;
        self.state.billing.earnings(&account.id).await.map_err(portal_error)
    }

    async fn get_api_docs(&self, origin: String) -> Result<app::types::docs::ApiDocsView, PortalError> {
        // Only displayed in the curl examples; anything that is not an http(s) origin is
        // replaced by a placeholder.
        let origin = origin.trim_end_matches('/');
        let shown = match origin.parse::<http::Uri>() {
            Ok(uri) if matches!(uri.scheme_str(), Some("http" | "https")) && uri.path() == "/" => origin,
            _ => "http://127.0.0.1:3000",
        };
        Ok(super::openapi::docs_view(shown, self.state.config.invoke_origin.as_ref()))
    }

    // The marketplace's methods live in `marketplace.rs`.
    async fn browse_listings(&self, query: BrowseQuery) -> Result<Page<ListingSummary>, PortalError> {
        self.browse_listings_impl(query).await
    }

    async fn get_listing(&self, id: ListingId) -> Result<ListingView, PortalError> {
        self.get_listing_impl(id).await
    }

    async fn get_invited_plan(
        &self,
        listing: ListingId,
        plan: PlanId,
        invitation: String,
    ) -> Result<PlanView, PortalError> {
        self.state.marketplace.invited_plan(&listing, &plan, invitation.trim()).await.map_err(portal_error)
    }

    async fn subscribe(
        &self,
        plan_id: PlanId,
        spending_cap: String,
        invitation: Option<String>,
    ) -> Result<SubscriptionView, PortalError> {
        self.subscribe_impl(plan_id, spending_cap, invitation).await
    }

    async fn list_subscriptions(&self) -> Result<Vec<SubscriptionView>, PortalError> {
        self.list_subscriptions_impl().await
    }

    async fn cancel_subscription(&self, id: SubscriptionId) -> Result<SubscriptionView, PortalError> {
        self.cancel_subscription_impl(id).await
    }

    async fn list_my_listings(&self) -> Result<MyListingsView, PortalError> {
        self.list_my_listings_impl().await
    }

    async fn create_listing(&self, form: ListingForm) -> Result<ListingView, PortalError> {
        self.create_listing_impl(form).await
    }

    async fn create_plan(&self, listing_id: ListingId, form: PlanForm) -> Result<CreatedPlan, PortalError> {
        self.create_plan_impl(listing_id, form).await
    }

    async fn act_on_listing(
        &self,
        id: ListingId,
        action: ListingAction,
        sunset: String,
    ) -> Result<ListingView, PortalError> {
        self.act_on_listing_impl(id, action, sunset).await
    }

    async fn act_on_subscription(
        &self,
        id: SubscriptionId,
        action: SubscriberAction,
    ) -> Result<SubscriptionView, PortalError> {
        self.act_on_subscription_impl(id, action).await
    }

    async fn list_my_subscriptions(
        &self,
    ) -> Result<Vec<app::types::marketplace::ConsumerSubscription>, PortalError> {
        self.list_my_subscriptions_impl().await
    }

    async fn change_plan(
        &self,
        id: SubscriptionId,
        plan_id: PlanId,
    ) -> Result<SubscriptionView, PortalError> {
        self.change_plan_impl(id, plan_id).await
    }

    async fn set_spending_cap(
        &self,
        id: SubscriptionId,
        spending_cap: String,
    ) -> Result<SubscriptionView, PortalError> {
        self.set_spending_cap_impl(id, spending_cap).await
    }

    async fn list_kv_buckets(&self) -> Result<Vec<app::types::memory::BucketView>, PortalError> {
        self.list_kv_buckets_impl().await
    }

    async fn create_kv_bucket(
        &self,
        name: String,
        history: String,
    ) -> Result<app::types::memory::BucketView, PortalError> {
        self.create_kv_bucket_impl(name, history).await
    }

    async fn browse_kv(
        &self,
        bucket: String,
        prefix: String,
        cursor: Option<String>,
        key: Option<String>,
    ) -> Result<app::types::memory::KvBrowserView, PortalError> {
        self.browse_kv_impl(bucket, prefix, cursor, key).await
    }

    async fn put_kv(
        &self,
        bucket: String,
        key: String,
        value: String,
        ttl_seconds: String,
        expected_revision: String,
    ) -> Result<app::types::memory::KvEntryView, PortalError> {
        self.put_kv_impl(bucket, key, value, ttl_seconds, expected_revision).await
    }

    async fn delete_kv(&self, bucket: String, key: String) -> Result<(), PortalError> {
        self.delete_kv_impl(bucket, key).await
    }

    async fn get_events_overview(
        &self,
        filter: Option<String>,
    ) -> Result<app::types::events::EventsOverview, PortalError> {
        self.get_events_overview_impl(filter).await
    }

    async fn republish_dead_letter(&self, seq: i64) -> Result<app::types::events::Published, PortalError> {
        self.republish_dead_letter_impl(seq).await
    }

    async fn list_webhooks(&self) -> Result<app::types::webhooks::WebhooksView, PortalError> {
        self.list_webhooks_impl().await
    }

    async fn create_webhook(
        &self,
        url: String,
        filters: String,
        description: String,
    ) -> Result<app::types::webhooks::WebhookCreated, PortalError> {
        self.create_webhook_impl(url, filters, description).await
    }

    async fn get_webhook(
        &self,
        id: app::types::ids::WebhookId,
        status: Option<String>,
        cursor: Option<String>,
    ) -> Result<app::types::webhooks::WebhookDetailView, PortalError> {
        self.get_webhook_impl(id, status, cursor).await
    }

    async fn set_webhook_enabled(
        &self,
        id: app::types::ids::WebhookId,
        enabled: bool,
        replay_missed: bool,
    ) -> Result<app::types::webhooks::WebhookView, PortalError> {
        self.set_webhook_enabled_impl(id, enabled, replay_missed).await
    }

    async fn rotate_webhook_secret(
        &self,
        id: app::types::ids::WebhookId,
    ) -> Result<app::types::webhooks::WebhookCreated, PortalError> {
        self.rotate_webhook_secret_impl(id).await
    }

    async fn replay_webhook_since(
        &self,
        id: app::types::ids::WebhookId,
        since_seq: String,
    ) -> Result<app::types::webhooks::Replayed, PortalError> {
        self.replay_webhook_since_impl(id, since_seq).await
    }

    async fn replay_webhook_delivery(
        &self,
        id: app::types::ids::WebhookId,
        delivery: app::types::ids::WebhookDeliveryId,
    ) -> Result<app::types::webhooks::WebhookDeliveryView, PortalError> {
        self.replay_webhook_delivery_impl(id, delivery).await
    }

    async fn delete_webhook(&self, id: app::types::ids::WebhookId) -> Result<(), PortalError> {
        self.delete_webhook_impl(id).await
    }

    async fn list_reviews(
        &self,
        listing_id: ListingId,
    ) -> Result<Vec<app::types::marketplace::ReviewView>, PortalError> {
        self.list_reviews_impl(listing_id).await
    }

    async fn review_listing(
        &self,
        listing_id: ListingId,
        form: app::types::marketplace::ReviewForm,
    ) -> Result<app::types::marketplace::ReviewView, PortalError> {
        self.review_listing_impl(listing_id, form).await
    }

    async fn reply_to_review(
        &self,
        listing_id: ListingId,
        review_id: app::types::ids::ReviewId,
        body: String,
    ) -> Result<app::types::marketplace::ReviewView, PortalError> {
        self.reply_to_review_impl(listing_id, review_id, body).await
    }

    async fn get_service_metrics(
        &self,
        id: ServiceId,
        window: app::types::observability::Window,
    ) -> Result<app::types::observability::ServiceMetricsView, PortalError> {
        self.get_service_metrics_impl(id, window).await
    }

    async fn get_node_metrics(
        &self,
        id: NodeId,
        window: app::types::observability::Window,
    ) -> Result<app::types::observability::NodeMetricsView, PortalError> {
        self.operator().await?;
        self.state.observability.node_metrics(&id, window).await.map_err(portal_error)
    }

    async fn get_mesh_drops(
        &self,
        window: app::types::observability::Window,
    ) -> Result<app::types::observability::DropsView, PortalError> {
        self.operator().await?;
        self.state.observability.drops(window).await.map_err(portal_error)
    }

    async fn list_traces(
        &self,
        query: app::types::observability::TraceQuery,
    ) -> Result<Vec<app::types::observability::TraceSummary>, PortalError> {
        self.list_traces_impl(query).await
    }

    async fn get_trace(&self, trace_id: String) -> Result<app::types::observability::TraceView, PortalError> {
        self.get_trace_impl(trace_id).await
    }

    async fn log_out(&self) -> Result<(), PortalError> {
        let session = self.session().await?;
        auth::session::end(&session).await.map_err(internal)?;
        redirect_plain_form("/login");
        Ok(())
    }
}
