//! The state every request handler shares.
use crate::{config::Config, keys::Keys, nodes::Nodes, ratelimit::RateLimits, services::Services};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Cheap to clone: handles and `Arc`s only.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub leptos: LeptosOptions,
    /// Accounts: sign-up, log-in.
    pub accounts: Arc<crate::auth::Accounts>,
    /// The mesh's control plane: nodes, join tokens, the embedded nodes.
    pub nodes: Arc<Nodes>,
    /// The service registry: its use cases, and its run time (placements, health, the gateway).
    pub services: Arc<Services>,
    /// The marketplace: listings, plans, subscriptions.
    pub marketplace: Arc<crate::marketplace::Marketplace>,
    /// Distributed memory: KV buckets per account.
    pub memory: Arc<crate::memory::Memory>,
    /// Billing: usage, invoices, earnings.
    pub billing: Arc<crate::billing::Billing>,
    /// The event log: topics, replay, durable consumers.
    pub events: Arc<crate::events::Events>,
    /// Signed webhooks: endpoints, deliveries, attempts (and the dispatcher).
    pub webhooks: Arc<crate::webhooks::Webhooks>,
    /// Metrics, traces and the per-minute history of calls.
    pub observability: Arc<crate::observability::Observability>,
    /// API keys, and bearer authentication (with its cache).
    pub keys: Arc<Keys>,
    /// Request rate limits per key and per account.
    pub limits: Arc<RateLimits>,
    /// Where upstreams may be (registration refuses URLs it can never allow).
    pub egress: Arc<crate::egress::EgressPolicy>,
    /// When this process started (records left unfinished before it belong to a dead one).
    pub started_at: chrono::DateTime<chrono::Utc>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
