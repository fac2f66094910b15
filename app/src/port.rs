//! The port through which the portal's server functions reach the backend. `app` declares it;
//! `server` implements it and provides it as context for every render and server-function
//! call, so the server functions stay one-liners and `app` never touches the database.
use crate::{
    error::PortalError,
    types::{
        AccountView, Credentials,
        billing::{EarningsView, InvoiceSummary, InvoiceView, UsageReport},
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
use std::sync::Arc;

/// Everything the portal asks of the backend. Implementations read the current request
/// (session, client address) from the Leptos context they run in.
#[async_trait::async_trait]
pub trait PortalPort: Send + Sync + 'static {
    /// The logged-in account, if any.
    async fn current_account(&self) -> Result<Option<AccountView>, PortalError>;
    /// Creates an account, logs it in and redirects to the dashboard.
    async fn sign_up(&self, credentials: Credentials) -> Result<AccountView, PortalError>;
    /// Logs in (throttled), rotating the session id, and redirects to the dashboard.
    async fn log_in(&self, credentials: Credentials) -> Result<AccountView, PortalError>;
    /// Ends the session and redirects to the log-in page.
    async fn log_out(&self) -> Result<(), PortalError>;
    /// Operator: every node and the live links between them.
    async fn get_topology(&self) -> Result<TopologyView, PortalError>;
    /// Operator: one node with its trust history.
    async fn get_node(&self, id: NodeId) -> Result<NodeDetail, PortalError>;
    /// Operator: drain, undrain, block, unblock or remove a node.
    async fn act_on_node(&self, id: NodeId, action: NodeAction) -> Result<(), PortalError>;
    /// Operator: every join token (and one just minted by a plain form post, once).
    async fn list_join_tokens(&self) -> Result<JoinTokensView, PortalError>;
    /// Operator: mints a join token (`expires_in_hours` as typed; empty for never).
    async fn create_join_token(
        &self,
        note: String,
        reusable: bool,
        expires_in_hours: String,
    ) -> Result<CreatedJoinToken, PortalError>;
    /// Operator: revokes a token, optionally blocking the nodes that joined with it.
    async fn revoke_join_token(&self, id: JoinTokenId, block_nodes: bool) -> Result<(), PortalError>;
    /// The account's services, newest first, a page at a time (`cursor` from the last page).
    async fn list_services(&self, cursor: Option<String>) -> Result<Page<ServiceView>, PortalError>;
    /// One of the account's services (`NotFound` for anyone else's).
    async fn get_service(&self, id: ServiceId) -> Result<ServiceView, PortalError>;
    /// Registers a service from the form; `Fields` names every invalid field.
    async fn create_service(&self, form: ServiceForm) -> Result<ServiceView, PortalError>;
    /// Changes a service from the form (slug and kind are fixed; their fields are ignored).
    async fn update_service(&self, id: ServiceId, form: ServiceForm) -> Result<ServiceView, PortalError>;
    /// Activates or deactivates a service (deactivating releases its placements).
    async fn set_service_active(&self, id: ServiceId, active: bool) -> Result<ServiceView, PortalError>;
    /// Deletes an inactive service (`Rejected` while it is active).
    async fn delete_service(&self, id: ServiceId) -> Result<(), PortalError>;
    /// Rotates a service's proxy secret and shows the new one, once (after a plain form post,
    /// on the service page's next load).
    async fn rotate_proxy_secret(&self, id: ServiceId) -> Result<ProxySecretView, PortalError>;
    /// Invokes a service through the mesh as the logged-in account ("try it").
    async fn invoke_service(&self, call: TryInvoke) -> Result<TryInvokeResult, PortalError>;
    /// The account's API keys, newest first, a page at a time (`cursor` from the last page),
    /// and a key just created by a plain form post, once.
    async fn list_api_keys(&self, cursor: Option<String>) -> Result<ApiKeysView, PortalError>;
    /// Creates an API key from the form; `Fields` names every invalid field (`name`, `scopes`,
    /// `expires_in_days`). The answer is the only time the secret is sent.
    async fn create_api_key(&self, form: ApiKeyForm) -> Result<CreatedApiKey, PortalError>;
    /// Revokes one of the account's API keys, effective at once (`NotFound` for anyone else's).
    async fn revoke_api_key(&self, id: KeyId) -> Result<(), PortalError>;
    /// The account's metered calls per day and service over the last `days` days (UTC, today
    /// included); `Rejected` unless `days` is one of [`USAGE_DAYS`](crate::api::USAGE_DAYS).
    async fn get_usage(&self, days: u32) -> Result<UsageReport, PortalError>;
    /// The account's open period as a draft invoice, recomputed now.
    async fn preview_invoice(&self) -> Result<InvoiceView, PortalError>;
    /// The account's finalized invoices, newest first, a page at a time.
    async fn list_invoices(&self, cursor: Option<String>) -> Result<Page<InvoiceSummary>, PortalError>;
    /// One of the account's finalized invoices (`NotFound` for anyone else's).
    async fn get_invoice(&self, id: InvoiceId) -> Result<InvoiceView, PortalError>;
    /// What the account's services earned, per period and service, net of the platform fee.
    async fn get_earnings(&self) -> Result<EarningsView, PortalError>;
    /// The API reference, with curl commands against `origin` (public).
    async fn get_api_docs(&self, origin: String) -> Result<crate::types::docs::ApiDocsView, PortalError>;
    /// Searches the marketplace (public).
    async fn browse_listings(&self, query: BrowseQuery) -> Result<Page<ListingSummary>, PortalError>;
    /// A listing's page (public); its provider also sees drafts and private plans.
    async fn get_listing(&self, id: ListingId) -> Result<ListingView, PortalError>;
    /// A plan's terms for the holder of its invitation link (public); `NotFound` for a wrong
    /// invitation, as for a plan that does not exist.
    async fn get_invited_plan(
        &self,
        listing: ListingId,
        plan: PlanId,
        invitation: String,
    ) -> Result<PlanView, PortalError>;
    /// Subscribes the account to a plan; `spending_cap` in currency units as typed (empty: no
    /// cap). A plain form lands on `/subscriptions`.
    async fn subscribe(
        &self,
        plan_id: PlanId,
        spending_cap: String,
        invitation: Option<String>,
    ) -> Result<SubscriptionView, PortalError>;
    /// The account's subscriptions, newest first.
    async fn list_subscriptions(&self) -> Result<Vec<SubscriptionView>, PortalError>;
    /// Cancels one of the account's subscriptions.
    async fn cancel_subscription(&self, id: SubscriptionId) -> Result<SubscriptionView, PortalError>;
    /// The account's listings with their subscribers, and a private plan just created by a
    /// plain form post, once.
    async fn list_my_listings(&self) -> Result<MyListingsView, PortalError>;
    /// Lists one of the account's services (a draft); `Fields` names every invalid field.
    async fn create_listing(&self, form: ListingForm) -> Result<ListingView, PortalError>;
    /// Adds a plan to one of the account's listings; a private plan's invitation is in the
    /// answer (after a plain form post: on the next load of `/listings`), once.
    async fn create_plan(&self, listing_id: ListingId, form: PlanForm) -> Result<CreatedPlan, PortalError>;
    /// Publishes, deprecates (`sunset` a `YYYY-MM-DD` date, UTC) or unpublishes a listing.
    async fn act_on_listing(
        &self,
        id: ListingId,
        action: ListingAction,
        sunset: String,
    ) -> Result<ListingView, PortalError>;
    /// Approves, rejects, suspends or resumes a subscription to one of the account's listings.
    async fn act_on_subscription(
        &self,
        id: SubscriptionId,
        action: SubscriberAction,
    ) -> Result<SubscriptionView, PortalError>;
    /// The account's subscriptions, each with the public plans of its listing it may change to.
    async fn list_my_subscriptions(
        &self,
    ) -> Result<Vec<crate::types::marketplace::ConsumerSubscription>, PortalError>;
    /// Moves one of the account's subscriptions to another plan of its listing, at once; its
    /// API keys keep working. A plain form lands on `/subscriptions`.
    async fn change_plan(&self, id: SubscriptionId, plan_id: PlanId)
    -> Result<SubscriptionView, PortalError>;
    /// Sets the monthly spending cap of one of the account's subscriptions (`spending_cap` in
    /// currency units as typed; empty removes the cap). A plain form lands on `/subscriptions`.
    async fn set_spending_cap(
        &self,
        id: SubscriptionId,
        spending_cap: String,
    ) -> Result<SubscriptionView, PortalError>;
    /// The account's KV buckets.
    async fn list_kv_buckets(&self) -> Result<Vec<crate::types::memory::BucketView>, PortalError>;
    /// Creates a KV bucket (`history` as typed: revisions kept per key; empty for 1).
    async fn create_kv_bucket(
        &self,
        name: String,
        history: String,
    ) -> Result<crate::types::memory::BucketView, PortalError>;
    /// One of the account's buckets: a page of its keys starting with `prefix` and, when `key`
    /// is given, that key's kept revisions.
    async fn browse_kv(
        &self,
        bucket: String,
        prefix: String,
        cursor: Option<String>,
        key: Option<String>,
    ) -> Result<crate::types::memory::KvBrowserView, PortalError>;
    /// Writes `value` (text) under `key`: only if it holds no value when `expected_revision`
    /// is empty, else only if the key is still at that revision (compare-and-swap);
    /// `ttl_seconds` as typed (empty: no expiry). A plain form lands back on the key.
    async fn put_kv(
        &self,
        bucket: String,
        key: String,
        value: String,
        ttl_seconds: String,
        expected_revision: String,
    ) -> Result<crate::types::memory::KvEntryView, PortalError>;
    /// Deletes a key (a tombstone; its history stays). A plain form lands back on the bucket.
    async fn delete_kv(&self, bucket: String, key: String) -> Result<(), PortalError>;
    /// The account's newest messages (on topics `filter` matches), consumers with their lag
    /// and newest dead letters.
    async fn get_events_overview(
        &self,
        filter: Option<String>,
    ) -> Result<crate::types::events::EventsOverview, PortalError>;
    /// Publishes a dead letter again on the topic it came from.
    async fn republish_dead_letter(&self, seq: i64) -> Result<crate::types::events::Published, PortalError>;
    /// The account's webhook endpoints, and one just created by a plain form post, once.
    async fn list_webhooks(&self) -> Result<crate::types::webhooks::WebhooksView, PortalError>;
    /// Adds an endpoint (`filters` comma-separated as typed); the answer carries its signing
    /// secret (after a plain form post: on the next load of `/webhooks`), once.
    async fn create_webhook(
        &self,
        url: String,
        filters: String,
        description: String,
    ) -> Result<crate::types::webhooks::WebhookCreated, PortalError>;
    /// One endpoint with a page of its deliveries (`status` one of pending, succeeded, failed)
    /// and their attempts.
    async fn get_webhook(
        &self,
        id: crate::types::ids::WebhookId,
        status: Option<String>,
        cursor: Option<String>,
    ) -> Result<crate::types::webhooks::WebhookDetailView, PortalError>;
    /// Disables an endpoint, or enables it again (with `replay_missed`, delivering what it
    /// missed).
    async fn set_webhook_enabled(
        &self,
        id: crate::types::ids::WebhookId,
        enabled: bool,
        replay_missed: bool,
    ) -> Result<crate::types::webhooks::WebhookView, PortalError>;
    /// Makes a new signing secret and shows it, once.
    async fn rotate_webhook_secret(
        &self,
        id: crate::types::ids::WebhookId,
    ) -> Result<crate::types::webhooks::WebhookCreated, PortalError>;
    /// Delivers again every matching message after sequence number `since_seq` (as typed).
    async fn replay_webhook_since(
        &self,
        id: crate::types::ids::WebhookId,
        since_seq: String,
    ) -> Result<crate::types::webhooks::Replayed, PortalError>;
    /// Sends one delivery again (same `webhook-id`, a fresh signature).
    async fn replay_webhook_delivery(
        &self,
        id: crate::types::ids::WebhookId,
        delivery: crate::types::ids::WebhookDeliveryId,
    ) -> Result<crate::types::webhooks::WebhookDeliveryView, PortalError>;
    /// Deletes an endpoint and its delivery log.
    async fn delete_webhook(&self, id: crate::types::ids::WebhookId) -> Result<(), PortalError>;
    /// A listing's reviews (public), newest first.
    async fn list_reviews(
        &self,
        listing_id: ListingId,
    ) -> Result<Vec<crate::types::marketplace::ReviewView>, PortalError>;
    /// Writes or changes the account's review of a listing (only subscribers who made a billed
    /// call may). A plain form lands back on the listing's page.
    async fn review_listing(
        &self,
        listing_id: ListingId,
        form: crate::types::marketplace::ReviewForm,
    ) -> Result<crate::types::marketplace::ReviewView, PortalError>;
    /// The listing's provider replies to a review, once. A plain form lands back on the
    /// listing's page.
    async fn reply_to_review(
        &self,
        listing_id: ListingId,
        review_id: crate::types::ids::ReviewId,
        body: String,
    ) -> Result<crate::types::marketplace::ReviewView, PortalError>;
    /// A service's request history and top consumers (its owner only; 404 otherwise).
    async fn get_service_metrics(
        &self,
        id: ServiceId,
        window: crate::types::observability::Window,
    ) -> Result<crate::types::observability::ServiceMetricsView, PortalError>;
    /// A node's history (the operator only).
    async fn get_node_metrics(
        &self,
        id: NodeId,
        window: crate::types::observability::Window,
    ) -> Result<crate::types::observability::NodeMetricsView, PortalError>;
    /// Drops by reason across the mesh (the operator only).
    async fn get_mesh_drops(
        &self,
        window: crate::types::observability::Window,
    ) -> Result<crate::types::observability::DropsView, PortalError>;
    /// Recent traces the account may see (calls to its services and calls it made; the
    /// operator: every call), newest first.
    async fn list_traces(
        &self,
        query: crate::types::observability::TraceQuery,
    ) -> Result<Vec<crate::types::observability::TraceSummary>, PortalError>;
    /// One trace with its timeline; 404 when it is not one the account may see.
    async fn get_trace(
        &self,
        trace_id: String,
    ) -> Result<crate::types::observability::TraceView, PortalError>;
}

/// The port as it is stored in the Leptos context.
pub type SharedPortalPort = Arc<dyn PortalPort>;

/// The port provided for this request; `Internal` if the server forgot to provide it.
pub fn portal_port() -> Result<SharedPortalPort, PortalError> {
    leptos::prelude::use_context::<SharedPortalPort>().ok_or(PortalError::Internal)
}
