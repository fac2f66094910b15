//! The portal's server functions: one line each over the [`PortalPort`](crate::port::PortalPort).
//! They live under `/_fn/` so they never mix with the Cloud API's `/api/v1/`.
use crate::{
    error::PortalError,
    types::{
        AccountView,
        billing::{EarningsView, InvoiceSummary, InvoiceView},
        ids::{InvoiceId, JoinTokenId, KeyId, ListingId, NodeId, PlanId, ServiceId, SubscriptionId},
        keys::{ApiKeyForm, ApiKeysView, CreatedApiKey},
        marketplace::{
            BrowseQuery, CreatedPlan, ListingAction, ListingForm, ListingSummary, ListingView,
            MyListingsView, PlanForm, PlanView, SubscriberAction, SubscriptionView,
        },
        nodes::{CreatedJoinToken, JoinTokensView, NodeAction, NodeDetail, TopologyView},
        services::{Page, ProxySecretView, ServiceForm, ServiceView, TryInvoke, TryInvokeResult},
    },
};
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

/// Every node and the live links between them (operator).
#[server(prefix = "/_fn", endpoint = "get_topology")]
pub async fn get_topology() -> Result<TopologyView, PortalError> {
    portal_port()?.get_topology().await
}

/// One node with its trust history (operator).
#[server(prefix = "/_fn", endpoint = "get_node")]
pub async fn get_node(id: NodeId) -> Result<NodeDetail, PortalError> {
    portal_port()?.get_node(id).await
}

/// Drain, undrain, block, unblock or remove a node (operator).
#[server(prefix = "/_fn", endpoint = "act_on_node")]
pub async fn act_on_node(id: NodeId, action: NodeAction) -> Result<(), PortalError> {
    portal_port()?.act_on_node(id, action).await
}

/// Every join token (operator).
#[server(prefix = "/_fn", endpoint = "list_join_tokens")]
pub async fn list_join_tokens() -> Result<JoinTokensView, PortalError> {
    portal_port()?.list_join_tokens().await
}

/// Mints a join token (operator). A checkbox sends `reusable` only when ticked.
// Named explicitly: the default struct name is the Cloud API's request type.
#[server(name = CreateJoinTokenFn, prefix = "/_fn", endpoint = "create_join_token")]
pub async fn create_join_token(
    note: String,
    reusable: Option<String>,
    expires_in_hours: String,
) -> Result<CreatedJoinToken, PortalError> {
    portal_port()?.create_join_token(note, reusable.is_some(), expires_in_hours).await
}

/// Revokes a join token (operator).
// Named explicitly: the default struct name is the Cloud API's request type.
#[server(name = RevokeJoinTokenFn, prefix = "/_fn", endpoint = "revoke_join_token")]
pub async fn revoke_join_token(id: JoinTokenId, block_nodes: Option<String>) -> Result<(), PortalError> {
    portal_port()?.revoke_join_token(id, block_nodes.is_some()).await
}

/// The account's services, newest first.
#[server(prefix = "/_fn", endpoint = "list_services")]
pub async fn list_services(cursor: Option<String>) -> Result<Page<ServiceView>, PortalError> {
    portal_port()?.list_services(cursor).await
}

/// One of the account's services.
#[server(prefix = "/_fn", endpoint = "get_service")]
pub async fn get_service(id: ServiceId) -> Result<ServiceView, PortalError> {
    portal_port()?.get_service(id).await
}

/// Registers a service.
#[server(prefix = "/_fn", endpoint = "create_service")]
pub async fn create_service(form: ServiceForm) -> Result<ServiceView, PortalError> {
    portal_port()?.create_service(form).await
}

/// Changes a service.
#[server(prefix = "/_fn", endpoint = "update_service")]
pub async fn update_service(id: ServiceId, form: ServiceForm) -> Result<ServiceView, PortalError> {
    portal_port()?.update_service(id, form).await
}

/// Activates (`active` = "true") or deactivates a service.
#[server(prefix = "/_fn", endpoint = "set_service_active")]
pub async fn set_service_active(id: ServiceId, active: String) -> Result<ServiceView, PortalError> {
    portal_port()?.set_service_active(id, active == "true").await
}

/// Deletes an inactive service.
#[server(prefix = "/_fn", endpoint = "delete_service")]
pub async fn delete_service(id: ServiceId) -> Result<(), PortalError> {
    portal_port()?.delete_service(id).await
}

/// Rotates a service's proxy secret; the answer shows the new one, once.
#[server(prefix = "/_fn", endpoint = "rotate_proxy_secret")]
pub async fn rotate_proxy_secret(id: ServiceId) -> Result<ProxySecretView, PortalError> {
    portal_port()?.rotate_proxy_secret(id).await
}

/// Invokes a service through the mesh ("try it").
#[server(prefix = "/_fn", endpoint = "invoke_service")]
pub async fn invoke_service(call: TryInvoke) -> Result<TryInvokeResult, PortalError> {
    portal_port()?.invoke_service(call).await
}

/// The account's API keys, newest first (never their secrets), and a key just created by a
/// plain form post, once.
#[server(prefix = "/_fn", endpoint = "list_api_keys")]
pub async fn list_api_keys(cursor: Option<String>) -> Result<ApiKeysView, PortalError> {
    portal_port()?.list_api_keys(cursor).await
}

/// Creates an API key; the answer carries its secret, this once.
#[server(prefix = "/_fn", endpoint = "create_api_key")]
pub async fn create_api_key(form: ApiKeyForm) -> Result<CreatedApiKey, PortalError> {
    portal_port()?.create_api_key(form).await
}

/// Revokes an API key.
#[server(prefix = "/_fn", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: KeyId) -> Result<(), PortalError> {
    portal_port()?.revoke_api_key(id).await
}

/// The ranges, in days, the usage page offers (and [`get_usage`] accepts).
pub const USAGE_DAYS: [u32; 3] = [7, 30, 90];
/// The usage page's range when the address names none (or one it does not offer).
pub const DEFAULT_USAGE_DAYS: u32 = 30;

/// The account's calls per day and service over the last `days` days (one of [`USAGE_DAYS`]).
#[server(prefix = "/_fn", endpoint = "get_usage")]
pub async fn get_usage(days: u32) -> Result<crate::types::billing::UsageReport, PortalError> {
    portal_port()?.get_usage(days).await
}

/// The account's open period as a draft invoice.
#[server(prefix = "/_fn", endpoint = "preview_invoice")]
pub async fn preview_invoice() -> Result<InvoiceView, PortalError> {
    portal_port()?.preview_invoice().await
}

/// The account's finalized invoices, newest first.
#[server(prefix = "/_fn", endpoint = "list_invoices")]
pub async fn list_invoices(cursor: Option<String>) -> Result<Page<InvoiceSummary>, PortalError> {
    portal_port()?.list_invoices(cursor).await
}

/// One of the account's finalized invoices.
#[server(prefix = "/_fn", endpoint = "get_invoice")]
pub async fn get_invoice(id: InvoiceId) -> Result<InvoiceView, PortalError> {
    portal_port()?.get_invoice(id).await
}

/// What the account's services earned, net of the platform fee.
#[server(prefix = "/_fn", endpoint = "get_earnings")]
pub async fn get_earnings() -> Result<EarningsView, PortalError> {
    portal_port()?.get_earnings().await
}

/// The API reference (public), with curl commands against `origin`.
#[server(prefix = "/_fn", endpoint = "get_api_docs")]
pub async fn get_api_docs(origin: String) -> Result<crate::types::docs::ApiDocsView, PortalError> {
    portal_port()?.get_api_docs(origin).await
}

/// Searches the marketplace (public).
#[server(prefix = "/_fn", endpoint = "browse_listings")]
// `default`: an empty search (every field `None`) is sent as no fields at all.
pub async fn browse_listings(
    #[server(default)] query: BrowseQuery,
) -> Result<Page<ListingSummary>, PortalError> {
    portal_port()?.browse_listings(query).await
}

/// A listing's page (public).
#[server(prefix = "/_fn", endpoint = "get_listing")]
pub async fn get_listing(id: ListingId) -> Result<ListingView, PortalError> {
    portal_port()?.get_listing(id).await
}

/// A plan's terms for the holder of its invitation link (public).
#[server(prefix = "/_fn", endpoint = "get_invited_plan")]
pub async fn get_invited_plan(
    listing: ListingId,
    plan: PlanId,
    invitation: String,
) -> Result<PlanView, PortalError> {
    portal_port()?.get_invited_plan(listing, plan, invitation).await
}

/// Subscribes to a plan; `spending_cap` in currency units (empty: no cap).
#[server(prefix = "/_fn", endpoint = "subscribe")]
pub async fn subscribe(
    plan_id: PlanId,
    spending_cap: String,
    invitation: Option<String>,
) -> Result<SubscriptionView, PortalError> {
    portal_port()?.subscribe(plan_id, spending_cap, invitation).await
}

/// The account's subscriptions.
#[server(prefix = "/_fn", endpoint = "list_subscriptions")]
pub async fn list_subscriptions() -> Result<Vec<SubscriptionView>, PortalError> {
    portal_port()?.list_subscriptions().await
}

/// Cancels one of the account's subscriptions.
#[server(prefix = "/_fn", endpoint = "cancel_subscription")]
pub async fn cancel_subscription(id: SubscriptionId) -> Result<SubscriptionView, PortalError> {
    portal_port()?.cancel_subscription(id).await
}

/// The account's listings with their subscribers.
#[server(prefix = "/_fn", endpoint = "list_my_listings")]
pub async fn list_my_listings() -> Result<MyListingsView, PortalError> {
    portal_port()?.list_my_listings().await
}

/// Lists one of the account's services, as a draft.
#[server(prefix = "/_fn", endpoint = "create_listing")]
pub async fn create_listing(form: ListingForm) -> Result<ListingView, PortalError> {
    portal_port()?.create_listing(form).await
}

/// Adds a plan to one of the account's listings.
#[server(prefix = "/_fn", endpoint = "create_plan")]
pub async fn create_plan(listing_id: ListingId, form: PlanForm) -> Result<CreatedPlan, PortalError> {
    portal_port()?.create_plan(listing_id, form).await
}

/// Publishes, deprecates (with a `sunset` date) or unpublishes one of the account's listings.
// Only the deprecate form has a date input: the others send none.
#[server(prefix = "/_fn", endpoint = "act_on_listing")]
pub async fn act_on_listing(
    id: ListingId,
    action: ListingAction,
    sunset: Option<String>,
) -> Result<ListingView, PortalError> {
    portal_port()?.act_on_listing(id, action, sunset.unwrap_or_default()).await
}

/// Approves, rejects, suspends or resumes a subscription to one of the account's listings.
#[server(prefix = "/_fn", endpoint = "act_on_subscription")]
pub async fn act_on_subscription(
    id: SubscriptionId,
    action: SubscriberAction,
) -> Result<SubscriptionView, PortalError> {
    portal_port()?.act_on_subscription(id, action).await
}

/// The account's subscriptions, each with the public plans it may change to.
#[server(prefix = "/_fn", endpoint = "list_my_subscriptions")]
pub async fn list_my_subscriptions()
-> Result<Vec<crate::types::marketplace::ConsumerSubscription>, PortalError> {
    portal_port()?.list_my_subscriptions().await
}

/// Moves one of the account's subscriptions to another plan of its listing, at once.
#[server(prefix = "/_fn", endpoint = "change_plan")]
pub async fn change_plan(id: SubscriptionId, plan_id: PlanId) -> Result<SubscriptionView, PortalError> {
    portal_port()?.change_plan(id, plan_id).await
}

/// Sets (or, empty, removes) the monthly spending cap of one of the account's subscriptions.
#[server(prefix = "/_fn", endpoint = "set_spending_cap")]
pub async fn set_spending_cap(
    id: SubscriptionId,
    spending_cap: String,
) -> Result<SubscriptionView, PortalError> {
    portal_port()?.set_spending_cap(id, spending_cap).await
}

/// A listing's reviews (public).
#[server(prefix = "/_fn", endpoint = "list_reviews")]
pub async fn list_reviews(
    listing_id: ListingId,
) -> Result<Vec<crate::types::marketplace::ReviewView>, PortalError> {
    portal_port()?.list_reviews(listing_id).await
}

/// Writes or changes the account's review of a listing.
#[server(prefix = "/_fn", endpoint = "review_listing")]
pub async fn review_listing(
    listing_id: ListingId,
    form: crate::types::marketplace::ReviewForm,
) -> Result<crate::types::marketplace::ReviewView, PortalError> {
    portal_port()?.review_listing(listing_id, form).await
}

/// The listing's provider replies to a review, once.
#[server(prefix = "/_fn", endpoint = "reply_to_review")]
pub async fn reply_to_review(
    listing_id: ListingId,
    review_id: crate::types::ids::ReviewId,
    body: String,
) -> Result<crate::types::marketplace::ReviewView, PortalError> {
    portal_port()?.reply_to_review(listing_id, review_id, body).await
}

// ---- memory and events ----

/// The account's KV buckets.
#[server(prefix = "/_fn", endpoint = "list_kv_buckets")]
pub async fn list_kv_buckets() -> Result<Vec<crate::types::memory::BucketView>, PortalError> {
    portal_port()?.list_kv_buckets().await
}

/// Creates a KV bucket.
#[server(prefix = "/_fn", endpoint = "create_kv_bucket")]
pub async fn create_kv_bucket(
    name: String,
    history: String,
) -> Result<crate::types::memory::BucketView, PortalError> {
    portal_port()?.create_kv_bucket(name, history).await
}

/// A bucket's keys by prefix, and one key's revisions.
#[server(prefix = "/_fn", endpoint = "browse_kv")]
pub async fn browse_kv(
    bucket: String,
    prefix: String,
    cursor: Option<String>,
    key: Option<String>,
) -> Result<crate::types::memory::KvBrowserView, PortalError> {
    portal_port()?.browse_kv(bucket, prefix, cursor, key).await
}

/// Writes a key (created only if absent, or compare-and-swap on its revision).
#[server(prefix = "/_fn", endpoint = "put_kv")]
pub async fn put_kv(
    bucket: String,
    key: String,
    value: String,
    ttl_seconds: String,
    expected_revision: String,
) -> Result<crate::types::memory::KvEntryView, PortalError> {
    portal_port()?.put_kv(bucket, key, value, ttl_seconds, expected_revision).await
}

/// Deletes a key (a tombstone).
#[server(prefix = "/_fn", endpoint = "delete_kv")]
pub async fn delete_kv(bucket: String, key: String) -> Result<(), PortalError> {
    portal_port()?.delete_kv(bucket, key).await
}

/// The account's newest messages, consumers with their lag, and dead letters.
#[server(prefix = "/_fn", endpoint = "get_events_overview")]
pub async fn get_events_overview(
    filter: Option<String>,
) -> Result<crate::types::events::EventsOverview, PortalError> {
    portal_port()?.get_events_overview(filter).await
}

/// Publishes a dead letter again on its topic.
#[server(prefix = "/_fn", endpoint = "republish_dead_letter")]
pub async fn republish_dead_letter(seq: i64) -> Result<crate::types::events::Published, PortalError> {
    portal_port()?.republish_dead_letter(seq).await
}

// ---- webhooks ----

/// The account's webhook endpoints.
#[server(prefix = "/_fn", endpoint = "list_webhooks")]
pub async fn list_webhooks() -> Result<crate::types::webhooks::WebhooksView, PortalError> {
    portal_port()?.list_webhooks().await
}

/// Adds a webhook endpoint; the answer carries its secret, this once.
#[server(prefix = "/_fn", endpoint = "create_webhook")]
pub async fn create_webhook(
    url: String,
    filters: String,
    description: String,
) -> Result<crate::types::webhooks::WebhookCreated, PortalError> {
    portal_port()?.create_webhook(url, filters, description).await
}

/// One endpoint with a page of its deliveries and their attempts.
#[server(prefix = "/_fn", endpoint = "get_webhook")]
pub async fn get_webhook(
    id: crate::types::ids::WebhookId,
    status: Option<String>,
    cursor: Option<String>,
) -> Result<crate::types::webhooks::WebhookDetailView, PortalError> {
    portal_port()?.get_webhook(id, status, cursor).await
}

/// Disables or re-enables an endpoint.
#[server(prefix = "/_fn", endpoint = "set_webhook_enabled")]
pub async fn set_webhook_enabled(
    id: crate::types::ids::WebhookId,
    enabled: bool,
    #[server(default)] replay_missed: bool,
) -> Result<crate::types::webhooks::WebhookView, PortalError> {
    portal_port()?.set_webhook_enabled(id, enabled, replay_missed).await
}

/// Makes a new signing secret and shows it, once.
#[server(prefix = "/_fn", endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(
    id: crate::types::ids::WebhookId,
) -> Result<crate::types::webhooks::WebhookCreated, PortalError> {
    portal_port()?.rotate_webhook_secret(id).await
}

/// Delivers again the endpoint's messages after a sequence number.
#[server(prefix = "/_fn", endpoint = "replay_webhook_since")]
pub async fn replay_webhook_since(
    id: crate::types::ids::WebhookId,
    since_seq: String,
) -> Result<crate::types::webhooks::Replayed, PortalError> {
    portal_port()?.replay_webhook_since(id, since_seq).await
}

/// Sends one delivery again.
#[server(prefix = "/_fn", endpoint = "replay_webhook_delivery")]
pub async fn replay_webhook_delivery(
    id: crate::types::ids::WebhookId,
    delivery: crate::types::ids::WebhookDeliveryId,
) -> Result<crate::types::webhooks::WebhookDeliveryView, PortalError> {
    portal_port()?.replay_webhook_delivery(id, delivery).await
}

/// Deletes an endpoint and its delivery log.
#[server(prefix = "/_fn", endpoint = "delete_webhook")]
pub async fn delete_webhook(id: crate::types::ids::WebhookId) -> Result<(), PortalError> {
    portal_port()?.delete_webhook(id).await
}

// ---- observability ----

/// A service's request history over a window (its owner).
#[server(prefix = "/_fn", endpoint = "get_service_metrics")]
pub async fn get_service_metrics(
    id: ServiceId,
    window: crate::types::observability::Window,
) -> Result<crate::types::observability::ServiceMetricsView, PortalError> {
    portal_port()?.get_service_metrics(id, window).await
}

/// A node's history over a window (operator).
#[server(prefix = "/_fn", endpoint = "get_node_metrics")]
pub async fn get_node_metrics(
    id: NodeId,
    window: crate::types::observability::Window,
) -> Result<crate::types::observability::NodeMetricsView, PortalError> {
    portal_port()?.get_node_metrics(id, window).await
}

/// Drops by reason across the mesh over a window (operator).
#[server(prefix = "/_fn", endpoint = "get_mesh_drops")]
pub async fn get_mesh_drops(
    window: crate::types::observability::Window,
) -> Result<crate::types::observability::DropsView, PortalError> {
    portal_port()?.get_mesh_drops(window).await
}

/// Recent traces the account may see, newest first.
#[server(prefix = "/_fn", endpoint = "list_traces")]
// `default`: an empty filter (every field at its default) is sent as no fields at all.
pub async fn list_traces(
    #[server(default)] query: crate::types::observability::TraceQuery,
) -> Result<Vec<crate::types::observability::TraceSummary>, PortalError> {
    portal_port()?.list_traces(query).await
}

/// One trace with its timeline.
#[server(prefix = "/_fn", endpoint = "get_trace")]
pub async fn get_trace(trace_id: String) -> Result<crate::types::observability::TraceView, PortalError> {
    portal_port()?.get_trace(trace_id).await
}
