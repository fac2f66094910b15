//! Wire types of the services layer: the registry (a service, its kind-specific settings, its
//! policy and health check), placements on mesh nodes with their health, discovery, and the
//! portal's "try it" invocations.
use super::billing::{PriceTier, Pricing};
use super::ids::{AccountId, NodeId, ServiceId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a service is.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case"))]
pub enum ServiceKind {
    /// An upstream HTTP API the developer owns; invokes are forwarded to it.
    #[default]
    Http,
    /// A stateful service exposing one bucket of distributed memory.
    Kv,
}

impl ServiceKind {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        [ServiceKind::Http, ServiceKind::Kv].into_iter().find(|k| k.as_str() == s)
    }
}

/// Whether the owner lets the service take invokes.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case"))]
pub enum ServiceStatus {
    /// Placed on nodes and taking invokes.
    #[default]
    Active,
    /// Placements released; invokes answer 503 `service_inactive`. Only now may it be deleted.
    Inactive,
}

impl ServiceStatus {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        [ServiceStatus::Active, ServiceStatus::Inactive].into_iter().find(|k| k.as_str() == s)
    }
}

/// Health of one placement (Consul's vocabulary), or of a whole service (its best placement).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case"))]
pub enum HealthStatus {
    /// Not checked yet.
    #[default]
    Unknown,
    /// The check failed: timeout, connection refused, or a status other than 2xx and 429.
    Critical,
    /// The check answered 429, or a 2xx slower than half its timeout.
    Warning,
    /// The check answered 2xx in time.
    Passing,
}

impl HealthStatus {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        [HealthStatus::Unknown, HealthStatus::Critical, HealthStatus::Warning, HealthStatus::Passing]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// Whether discovery returns (and invokes use) a placement in this state.
    pub fn is_healthy(self) -> bool {
        matches!(self, HealthStatus::Passing | HealthStatus::Warning)
    }
}

/// Settings of an `http` service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HttpSettings {
    /// Base URL invokes are forwarded to (`http` or `https`); the invoke's path is appended.
    pub upstream_url: String,
    /// Methods the service accepts (upper case). Others answer 405.
    pub allowed_methods: Vec<String>,
    /// Longest an upstream request may take (ms), 100..=60000.
    pub timeout_ms: u32,
    /// Largest request body an invoke may carry (bytes), up to 4 MiB.
    pub max_body_bytes: u32,
}

/// The HTTP health check the hosting nodes run against an `http` service's upstream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HealthCheckSettings {
    /// Path appended to the upstream URL, e.g. `/healthz`.
    pub path: String,
    /// Time between checks (ms), 500..=3600000.
    pub interval_ms: u32,
    /// Longest a check may take (ms), 100..=60000, at most the interval.
    pub timeout_ms: u32,
}

/// How the gateway treats failures of the service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PolicySettings {
    /// Further attempts on another placement for idempotent methods (GET, HEAD, OPTIONS, PUT,
    /// DELETE) after a failure that cannot have reached the upstream twice, 0..=5.
    pub retries: u8,
    /// Consecutive failures of one placement that open its circuit breaker, 1..=100.
    pub breaker_failures: u32,
    /// How long an open breaker refuses calls before one half-open probe (ms), 100..=600000.
    pub breaker_cooldown_ms: u32,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self { retries: 1, breaker_failures: 5, breaker_cooldown_ms: 10_000 }
    }
}

/// What a developer sends to register a service (`POST /api/v1/services`). Omitted optional
/// fields take the defaults documented on each.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewService {
    /// Unique per account: 1–63 of `a-z`, `0-9`, `-`, not starting or ending with `-`.
    pub slug: String,
    /// Shown to people; defaults to the slug.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Free-form, e.g. `1.2.0`; defaults to `1.0.0`.
    #[serde(default)]
    pub version: String,
    /// Up to 10 tags, each a slug of up to 32 characters.
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub kind: ServiceKind,
    /// A flat price per call in micros (millionths of the currency unit); omitted: free.
    /// Give either this or `tiers`.
    #[serde(default)]
    pub price_per_call_micros: Option<i64>,
    /// Calls per payer per calendar month (UTC) that are free; default 0.
    #[serde(default)]
    pub free_calls_per_month: Option<i64>,
    /// Graduated tiers (after the free calls); the last one has `up_to: null`.
    #[serde(default)]
    pub tiers: Option<Vec<PriceTier>>,
    /// Nodes the service is placed on, 1..=5 (default 2).
    #[serde(default)]
    pub replicas: Option<u8>,
    /// Required for `http` services.
    #[serde(default)]
    pub http: Option<HttpSettingsInput>,
    /// `http` services: defaults to `GET /` every 10 s with a 2 s timeout.
    #[serde(default)]
    pub health_check: Option<HealthCheckSettings>,
    #[serde(default)]
    pub policy: Option<PolicySettings>,
}

/// `http` settings as sent; omitted fields take defaults (every method, 10 s, 1 MiB).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HttpSettingsInput {
    pub upstream_url: String,
    #[serde(default)]
    pub allowed_methods: Option<Vec<String>>,
    #[serde(default)]
    pub timeout_ms: Option<u32>,
    #[serde(default)]
    pub max_body_bytes: Option<u32>,
}

/// A partial update (`PATCH /api/v1/services/{id}`): only the fields sent change. The slug and
/// kind are fixed once registered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    pub tags: Option<Vec<String>>,
    /// Sets a flat price (replacing any tiers).
    pub price_per_call_micros: Option<i64>,
    pub free_calls_per_month: Option<i64>,
    /// Sets graduated tiers (replacing a flat price).
    pub tiers: Option<Vec<PriceTier>>,
    pub replicas: Option<u8>,
    pub http: Option<HttpSettingsInput>,
    pub health_check: Option<HealthCheckSettings>,
    pub policy: Option<PolicySettings>,
    /// `active` or `inactive` (deactivating releases the placements).
    pub status: Option<ServiceStatus>,
}

/// One placement of a service on a node, with the health its node last saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlacementView {
    pub node_id: NodeId,
    pub node_name: String,
    /// `online`, `degraded` or `offline` (the node's liveness).
    pub node_state: String,
    pub health: HealthStatus,
    /// The last check's outcome, e.g. `HTTP 200 in 3 ms` or `connection refused`.
    pub output: String,
    pub checked_at: Option<DateTime<Utc>>,
    pub placed_at: DateTime<Utc>,
}

/// A registered service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceView {
    pub id: ServiceId,
    pub owner_id: AccountId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub version: String,
    pub tags: Vec<String>,
    pub kind: ServiceKind,
    pub pricing: Pricing,
    pub replicas: u8,
    pub status: ServiceStatus,
    /// False once no placement has been healthy for longer than the platform's
    /// `service_unavailable_after` (the service stays registered).
    pub available: bool,
    /// The best placement's health (what discovery can offer).
    pub health: HealthStatus,
    pub http: Option<HttpSettings>,
    pub health_check: Option<HealthCheckSettings>,
    pub policy: PolicySettings,
    pub placements: Vec<PlacementView>,
    /// `/api/v1/invoke/{id}/` — where to call it.
    pub invoke_path: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `x-web4-proxy-secret`, which every call to the upstream carries: only in the answer to
    /// registering the service (shown once; rotate it to see a new one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret: Option<String>,
}

/// A service's new proxy secret, shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProxySecretView {
    pub service_id: ServiceId,
    /// Sent as `x-web4-proxy-secret` with every call and health check from now on.
    pub proxy_secret: String,
    /// How many times the secret has been rotated, plus one.
    pub generation: i32,
}

pub use super::Page;

/// Discovery's answer: the healthy instances of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DiscoveryView {
    pub service_id: ServiceId,
    pub slug: String,
    pub status: ServiceStatus,
    pub available: bool,
    /// Placements whose health is passing or warning, on nodes that are online.
    pub instances: Vec<PlacementView>,
}

/// A "try it" call from the portal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TryInvoke {
    pub service_id: ServiceId,
    pub method: String,
    /// Path (and query) after the service, e.g. `/forecast?city=Oslo`.
    pub path: String,
    pub body: String,
    pub content_type: String,
}

/// What a "try it" call returned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TryInvokeResult {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8), cut at 64 KiB.
    pub body: String,
    pub body_truncated: bool,
    pub latency_ms: u64,
    pub invoke_id: Option<String>,
    /// Node ids the call crossed, entry first.
    pub route: Vec<String>,
    /// Node names for the route, same order (empty string when unknown).
    pub route_names: Vec<String>,
}

/// Per-field messages of a service form or request.
pub type ServiceFieldErrors = BTreeMap<String, String>;

/// The portal's service form, every field as typed (so a form posted before hydration works,
/// and every field's error can be shown next to it). Empty optional fields take defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceForm {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub version: String,
    /// Comma-separated.
    pub tags: String,
    /// `http` or `kv`.
    pub kind: String,
    /// In currency units, e.g. `0.0025`; empty for free.
    pub price_per_call: String,
    /// Empty for none.
    #[serde(default)]
    pub free_calls_per_month: String,
    /// Graduated tiers instead of a flat price: `1000=0.002, 10000=0.0015, *=0.001`
    /// (calls up to a bound at a price; `*` for the rest).
    #[serde(default)]
    pub tiers: String,
    pub replicas: String,
    pub upstream_url: String,
    /// Comma- or space-separated, e.g. `GET, POST`; empty for every method.
    pub allowed_methods: String,
    pub timeout_ms: String,
    pub max_body_bytes: String,
    pub health_path: String,
    pub health_interval_ms: String,
    pub health_timeout_ms: String,
    pub retries: String,
    pub breaker_failures: String,
    pub breaker_cooldown_ms: String,
}
