//! The services layer: the registry (services owned by accounts, validated here), placement
//! on mesh nodes ([`placement`]), health checks run by the hosting nodes ([`health`]), and the
//! invoke path — the gateway at the entry node ([`gateway`]) and the executor at the hosting
//! node ([`executor`]), talking over the mesh in the [`wire`] format.
//!
//! Decisions: a service is deleted only once deactivated (deactivation stops invokes and
//! releases its placements at once, so a delete never pulls a placement from under a call);
//! every function that touches one service takes the caller's account id, and another
//! account's service is `NotFound`, never `Forbidden`.
pub mod breaker;
pub mod catalog;
pub mod executor;
pub mod gateway;
pub mod headers;
pub mod health;
pub mod layer;
pub mod placement;
pub mod proxy_secret;
pub mod wire;

use crate::{
    db::{self, entities::services as service_rows},
    egress::EgressPolicy,
    error::{Classified, Classify, ErrorCode, Problem},
    pagination,
};
use app::types::{
    billing::{PriceTier, Pricing},
    nodes::{NodeState, NodeStatus},
    services::{
        HealthCheckSettings, HealthStatus, HttpSettings, HttpSettingsInput, NewService, Page, PlacementView,
        PolicySettings, ServiceForm, ServiceKind, ServiceStatus, ServiceUpdate, ServiceView,
    },
};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Largest request body a service may accept: an invoke travels in one envelope, with room
/// for the method, path and headers.
pub const MAX_BODY_BYTES: u32 = 4_000_000;
/// Longest upstream timeout a service may set.
pub const MAX_TIMEOUT_MS: u32 = 60_000;
/// Most replicas a service may ask for.
pub const MAX_REPLICAS: u8 = 5;
/// Methods a service may allow.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ServicesError {
    /// Field (JSON path, e.g. `http.upstream_url`) → message.
    #[error("some fields are invalid")]
    Invalid(BTreeMap<String, String>),
    #[error("no such service")]
    NotFound,
    #[error("you already have a service with the slug {0:?}")]
    SlugTaken(String),
    #[error("the service is active: deactivate it before deleting it")]
    Active,
    #[error("the cursor is not one this API returned")]
    BadCursor,
    #[error("the service has calls not invoiced yet: it can be deleted once this month's invoices are final")]
    UnbilledUsage,
    #[error("the account has {0} services, the most it may register; delete one first")]
    LimitReached(u64),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Classify for ServicesError {
    fn classify(self) -> Classified {
        use ErrorCode as C;
        let problem = match self {
            ServicesError::Invalid(fields) => Problem::invalid(fields),
            ServicesError::NotFound => Problem::not_found("No such service."),
            ServicesError::SlugTaken(slug) => Problem {
                fields: Some(
                    [("slug".to_owned(), format!("You already have a service called {slug:?}."))].into(),
                ),
                ..Problem::new(C::SlugTaken, format!("You already have a service with the slug {slug:?}."))
            },
            ServicesError::Active => {
                Problem::new(C::ServiceActive, "The service is active: deactivate it before deleting it.")
            }
            ServicesError::BadCursor => {
                Problem::new(C::BadCursor, "That page link (cursor) is not one this API gave out.")
            }
            ServicesError::UnbilledUsage => Problem::new(
                C::UnbilledUsage,
                "This service has calls that are not invoiced yet; delete it once this month's invoices are final.",
            ),
            ServicesError::LimitReached(limit) => Problem::new(
                C::ServiceLimitReached,
                format!("The account has {limit} services, the most it may register; delete one first."),
            ),
            ServicesError::Internal(err) => return Classified::Internal(err),
        };
        problem.into()
    }
}

impl From<DbErr> for ServicesError {
    fn from(err: DbErr) -> Self {
        ServicesError::Internal(err.into())
    }
}

type Result<T, E = ServicesError> = std::result::Result<T, E>;

/// What `settings` holds (JSON): the kind's settings, the health check and the policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub http: Option<HttpSettings>,
    pub health_check: Option<HealthCheckSettings>,
    pub policy: PolicySettings,
}

/// A service that passed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Valid {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub version: String,
    pub tags: Vec<String>,
    pub kind: ServiceKind,
    pub pricing: Pricing,
    pub replicas: u8,
    pub settings: Settings,
}

/// Whether `slug` follows the DNS-label rules: 1–63 of `a-z`, `0-9` and `-`, not starting or
/// ending with `-`.
pub fn is_slug(slug: &str, max: usize) -> bool {
    !slug.is_empty()
        && slug.len() <= max
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

fn range<T: PartialOrd + std::fmt::Display + Copy>(
    errors: &mut BTreeMap<String, String>,
    field: &str,
    value: T,
    min: T,
    max: T,
    unit: &str,
) -> T {
    if value < min || value > max {
        errors.insert(field.into(), format!("Must be between {min} and {max}{unit}."));
    }
    value
}

/// Validates a registration, filling defaults; every invalid field is reported at once.
pub fn validate(input: NewService) -> Result<Valid> {
    let mut errors = BTreeMap::new();
    let slug = input.slug.trim().to_owned();
    if !is_slug(&slug, 63) {
        errors.insert(
            "slug".into(),
            "Use 1–63 lowercase letters, digits and hyphens, not starting or ending with a hyphen.".into(),
        );
    }
    let name = match input.name.trim() {
        "" => slug.clone(),
        name => name.to_owned(),
    };
    if name.chars().count() > 100 {
        errors.insert("name".into(), "Keep the name to 100 characters.".into());
    }
    let description = input.description.trim().to_owned();
    if description.chars().count() > 2000 {
        errors.insert("description".into(), "Keep the description to 2000 characters.".into());
    }
    let version = match input.version.trim() {
        "" => "1.0.0".to_owned(),
        v => v.to_owned(),
    };
    if version.len() > 32 || version.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.insert("version".into(), "Use up to 32 characters without spaces, e.g. 1.2.0.".into());
    }
    let mut tags: Vec<String> = Vec::new();
    for tag in input.tags.iter().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()) {
        if !is_slug(&tag, 32) {
            errors.insert(
                "tags".into(),
                format!("Tag {tag:?}: use up to 32 lowercase letters, digits and hyphens."),
            );
        } else if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > 10 {
        errors.insert("tags".into(), "At most 10 tags.".into());
    }
    let pricing = crate::billing::pricing::validate(
        input.price_per_call_micros,
        input.free_calls_per_month,
        input.tiers.clone(),
        &mut errors,
    );
    let replicas = range(&mut errors, "replicas", input.replicas.unwrap_or(2), 1, MAX_REPLICAS, "");
    let policy = input.policy.unwrap_or_default();
    range(&mut errors, "policy.retries", policy.retries, 0, 5, "");
    range(&mut errors, "policy.breaker_failures", policy.breaker_failures, 1, 100, "");
    range(&mut errors, "policy.breaker_cooldown_ms", policy.breaker_cooldown_ms, 100, 600_000, " ms");
    let (http, health_check) = match input.kind {
        ServiceKind::Http => match input.http {
            None => {
                errors.insert("http.upstream_url".into(), "An http service needs an upstream URL.".into());
                (None, None)
            }
            Some(http) => {
                let http = validate_http(http, &mut errors);
                let check = input.health_check.unwrap_or(HealthCheckSettings {
                    path: "/".into(),
                    interval_ms: 10_000,
                    timeout_ms: 2_000,
                });
                (Some(http), Some(validate_check(check, replicas.min(MAX_REPLICAS), &mut errors)))
            }
        },
        ServiceKind::Kv => {
            if input.http.is_some() {
                errors.insert("http.upstream_url".into(), "Only http services have an upstream.".into());
            }
            if input.health_check.is_some() {
                errors.insert("health_check.path".into(), "Only http services have a health check.".into());
            }
            (None, None)
        }
    };
    if !errors.is_empty() {
        return Err(ServicesError::Invalid(errors));
    }
    Ok(Valid {
        slug,
        name,
        description,
        version,
        tags,
        kind: input.kind,
        pricing,
        replicas,
        settings: Settings { http, health_check, policy },
    })
}

fn validate_http(input: HttpSettingsInput, errors: &mut BTreeMap<String, String>) -> HttpSettings {
    let upstream_url = input.upstream_url.trim().trim_end_matches('/').to_owned();
    match reqwest::Url::parse(&upstream_url) {
        Ok(url) if !matches!(url.scheme(), "http" | "https") => {
            errors.insert(
                "http.upstream_url".into(),
                "The upstream URL must start with http:// or https://.".into(),
            );
        }
        Ok(url) if url.host_str().is_none_or(str::is_empty) => {
            errors.insert("http.upstream_url".into(), "The upstream URL needs a host.".into());
        }
        Ok(url) if url.query().is_some() || url.fragment().is_some() => {
            errors.insert("http.upstream_url".into(), "The upstream URL takes no query or fragment.".into());
        }
        Ok(_) => {}
        Err(_) => {
            errors.insert(
                "http.upstream_url".into(),
                "Enter a full URL, e.g. https://api.example.com/v1.".into(),
            );
        }
    }
    let mut allowed_methods = Vec::new();
    match input.allowed_methods {
        None => allowed_methods = METHODS.iter().map(|m| (*m).to_owned()).collect(),
        Some(methods) => {
            for m in methods.iter().map(|m| m.trim().to_uppercase()).filter(|m| !m.is_empty()) {
                if !METHODS.contains(&m.as_str()) {
                    errors.insert(
                        "http.allowed_methods".into(),
                        format!("{m:?} is not one of {}.", METHODS.join(", ")),
                    );
                } else if !allowed_methods.contains(&m) {
                    allowed_methods.push(m);
                }
            }
            if allowed_methods.is_empty() && !errors.contains_key("http.allowed_methods") {
                allowed_methods = METHODS.iter().map(|m| (*m).to_owned()).collect();
            }
        }
    }
    let timeout_ms =
        range(errors, "http.timeout_ms", input.timeout_ms.unwrap_or(10_000), 100, MAX_TIMEOUT_MS, " ms");
    let max_body_bytes = range(
        errors,
        "http.max_body_bytes",
        input.max_body_bytes.unwrap_or(1 << 20),
        0,
        MAX_BODY_BYTES,
        " bytes",
    );
    HttpSettings { upstream_url, allowed_methods, timeout_ms, max_body_bytes }
}

/// The shortest health-check interval per replica of a service.
pub const MIN_INTERVAL_PER_REPLICA_MS: u32 = 250;

fn validate_check(
    check: HealthCheckSettings,
    replicas: u8,
    errors: &mut BTreeMap<String, String>,
) -> HealthCheckSettings {
    let path = match check.path.trim() {
        "" => "/".to_owned(),
        p => p.to_owned(),
    };
    if !path.starts_with('/') || path.len() > 256 || path.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        errors.insert("health_check.path".into(), "Use a path starting with /, e.g. /healthz.".into());
    }
    // Every replica's node checks the upstream: the shortest interval grows with them, so an
    // upstream gets at most four checks a second from one service (a stranger's service must
    // not make the platform a traffic reflector).
    let shortest = (MIN_INTERVAL_PER_REPLICA_MS * u32::from(replicas)).max(500);
    if check.interval_ms < shortest && check.interval_ms >= 500 {
        errors.insert(
            "health_check.interval_ms".into(),
            format!(
                "With {replicas} replicas, check at most every {shortest} ms (each replica's node checks)."
            ),
        );
    }
    let interval_ms = range(errors, "health_check.interval_ms", check.interval_ms, 500, 3_600_000, " ms");
    let timeout_ms = range(errors, "health_check.timeout_ms", check.timeout_ms, 100, MAX_TIMEOUT_MS, " ms");
    if timeout_ms > interval_ms && !errors.contains_key("health_check.timeout_ms") {
        errors.insert("health_check.timeout_ms".into(), "The timeout must not exceed the interval.".into());
    }
    HealthCheckSettings { path, interval_ms, timeout_ms }
}

/// The registration a stored service corresponds to (updates are applied to it, then the
/// whole is validated again).
fn as_input(row: &service_rows::Model, settings: &Settings) -> NewService {
    let pricing = pricing_of(&row.pricing);
    let flat = pricing.tiers.len() == 1 && pricing.tiers[0].up_to.is_none();
    NewService {
        slug: row.slug.clone(),
        name: row.name.clone(),
        description: row.description.clone(),
        version: row.version.clone(),
        tags: serde_json::from_value(row.tags.clone()).unwrap_or_default(),
        kind: ServiceKind::parse(&row.kind).unwrap_or_default(),
        price_per_call_micros: flat.then(|| pricing.tiers[0].price_per_call_micros),
        free_calls_per_month: Some(pricing.free_calls_per_month),
        tiers: (!flat).then(|| pricing.tiers.clone()),
        replicas: u8::try_from(row.replicas).ok(),
        http: settings.http.as_ref().map(|h| HttpSettingsInput {
            upstream_url: h.upstream_url.clone(),
            allowed_methods: Some(h.allowed_methods.clone()),
            timeout_ms: Some(h.timeout_ms),
            max_body_bytes: Some(h.max_body_bytes),
        }),
        health_check: settings.health_check.clone(),
        policy: Some(settings.policy.clone()),
    }
}

/// The settings stored with a row.
pub fn settings_of(row: &service_rows::Model) -> Settings {
    serde_json::from_value(row.settings.clone()).unwrap_or_default()
}

fn settings_json(settings: &Settings) -> serde_json::Value {
    serde_json::to_value(settings).unwrap_or_default()
}

/// Registers a service for `account`.
pub async fn create(
    db: &DatabaseConnection,
    egress: &EgressPolicy,
    max_services: u64,
    account: &str,
    input: NewService,
    now: DateTime<Utc>,
) -> Result<String> {
    let valid = validate(input)?;
    reachable(egress, &valid.settings)?;
    // Each service is checked and placed on up to five nodes: an account's count is bounded.
    if db::services::count_of(db, account).await? >= max_services {
        return Err(ServicesError::LimitReached(max_services));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let row = service_rows::Model {
        id: id.clone(),
        account_id: account.to_owned(),
        slug: valid.slug.clone(),
        name: valid.name,
        description: valid.description,
        version: valid.version,
        tags: serde_json::json!(valid.tags),
        kind: valid.kind.as_str().into(),
        pricing: serde_json::to_value(&valid.pricing).unwrap_or_default(),
        replicas: i32::from(valid.replicas),
        status: ServiceStatus::Active.as_str().into(),
        settings: settings_json(&valid.settings),
        unhealthy_since: None,
        available: true,
        created_at: now,
        updated_at: now,
        proxy_secret_generation: 1,
    };
    match db::services::insert(db, row).await {
        Ok(()) => Ok(id),
        Err(err) if db::is_unique_violation(&err) => Err(ServicesError::SlugTaken(valid.slug)),
        Err(err) => Err(err.into()),
    }
}

/// Applies a partial update to the account's service.
pub async fn update(
    db: &DatabaseConnection,
    egress: &EgressPolicy,
    account: &str,
    id: &str,
    update: ServiceUpdate,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut row = db::services::owned(db, account, id).await?.ok_or(ServicesError::NotFound)?;
    let settings = settings_of(&row);
    let mut input = as_input(&row, &settings);
    let ServiceUpdate {
        name,
        description,
        version,
        tags,
        price_per_call_micros,
        free_calls_per_month,
        tiers,
        replicas,
        http,
        health_check,
        policy,
        status,
    } = update;
    if let Some(v) = name {
        input.name = v;
    }
    if let Some(v) = description {
        input.description = v;
    }
    if let Some(v) = version {
        input.version = v;
    }
    if let Some(v) = tags {
        input.tags = v;
    }
    if price_per_call_micros.is_some() {
        input.price_per_call_micros = price_per_call_micros;
        input.tiers = None;
    }
    if tiers.is_some() {
        input.tiers = tiers;
        input.price_per_call_micros = None;
    }
    if free_calls_per_month.is_some() {
        input.free_calls_per_month = free_calls_per_month;
    }
    if replicas.is_some() {
        input.replicas = replicas;
    }
    if let Some(v) = http {
        // Omitted inner fields keep their current values.
        let current = input.http.take().unwrap_or_default();
        input.http = Some(HttpSettingsInput {
            upstream_url: v.upstream_url,
            allowed_methods: v.allowed_methods.or(current.allowed_methods),
            timeout_ms: v.timeout_ms.or(current.timeout_ms),
            max_body_bytes: v.max_body_bytes.or(current.max_body_bytes),
        });
    }
    if health_check.is_some() {
        input.health_check = health_check;
    }
    if policy.is_some() {
        input.policy = policy;
    }
    let valid = validate(input)?;
    reachable(egress, &valid.settings)?;
    // Health measured against the old upstream or check path says nothing about the new.
    let moved = valid.settings.http != settings.http
        || valid.settings.health_check.as_ref().map(|c| &c.path)
            != settings.health_check.as_ref().map(|c| &c.path);
    row.name = valid.name;
    row.description = valid.description;
    row.version = valid.version;
    row.tags = serde_json::json!(valid.tags);
    row.pricing = serde_json::to_value(&valid.pricing).unwrap_or_default();
    row.replicas = i32::from(valid.replicas);
    row.settings = settings_json(&valid.settings);
    if let Some(status) = status {
        row.status = status.as_str().into();
    }
    row.updated_at = now;
    let txn = db.begin().await?;
    if moved {
        db::services::reset_health(&txn, id).await?;
    }
    db::services::update(&txn, row).await?;
    txn.commit().await?;
    Ok(())
}

/// Refuses an upstream the egress policy can never let a call reach (a written-out address it
/// refuses, a user name or password in the URL); names are checked when called.
fn reachable(egress: &EgressPolicy, settings: &Settings) -> Result<()> {
    match settings.http.as_ref().map(|h| egress.check_url(&h.upstream_url)) {
        Some(Err(refusal)) => Err(ServicesError::Invalid(BTreeMap::from([(
            "http.upstream_url".to_owned(),
            refusal.to_string(),
        )]))),
        _ => Ok(()),
    }
}

/// Deletes the account's service; refused while it is active.
pub async fn delete(db: &DatabaseConnection, account: &str, id: &str) -> Result<()> {
    if db::services::owned(db, account, id).await?.is_some() && db::billing::has_unbilled(db, id).await? {
        return Err(ServicesError::UnbilledUsage);
    }
    if db::services::delete_inactive(db, account, id).await? {
        return Ok(());
    }
    match db::services::owned(db, account, id).await? {
        Some(_) => Err(ServicesError::Active),
        None => Err(ServicesError::NotFound),
    }
}

/// Node names and liveness, for placement views.
pub struct NodeNames {
    nodes: HashMap<String, (String, NodeState, NodeStatus)>,
}

impl NodeNames {
    /// Every node's name and liveness now.
    pub async fn load(
        db: &DatabaseConnection,
        now: DateTime<Utc>,
        settings: &crate::nodes::MeshSettings,
    ) -> Result<Self> {
        Ok(Self::of(&db::mesh::nodes(db).await?, now, settings))
    }

    /// The names and liveness of `rows` at `now`.
    pub fn of(
        rows: &[db::entities::nodes::Model],
        now: DateTime<Utc>,
        settings: &crate::nodes::MeshSettings,
    ) -> Self {
        let nodes = rows
            .iter()
            .map(|n| {
                let state = crate::nodes::state_of(n.last_heartbeat_at, now, settings);
                let status = NodeStatus::parse(&n.status).unwrap_or(NodeStatus::Blocked);
                (n.id.clone(), (n.name.clone(), state, status))
            })
            .collect();
        Self { nodes }
    }

    /// A node's name (empty when unknown).
    pub fn name(&self, id: &str) -> &str {
        self.nodes.get(id).map_or("", |(name, ..)| name.as_str())
    }

    /// A node's liveness and status (an unknown node is offline and blocked).
    pub fn state(&self, id: &str) -> (NodeState, NodeStatus) {
        self.nodes.get(id).map_or((NodeState::Offline, NodeStatus::Blocked), |(_, s, st)| (*s, *st))
    }
}

/// A placement as the API shows it.
pub fn placement_view(p: &db::entities::service_placements::Model, names: &NodeNames) -> PlacementView {
    PlacementView {
        node_id: p.node_id.clone(),
        node_name: names.name(&p.node_id).to_owned(),
        node_state: names.state(&p.node_id).0.as_str().into(),
        health: HealthStatus::parse(&p.health).unwrap_or_default(),
        output: p.output.clone(),
        checked_at: p.checked_at,
        placed_at: p.placed_at,
    }
}

/// Whether discovery offers a placement and invokes may use it — the one rule both follow:
/// healthy (a `kv` placement needs no upstream check), on a node that is not offline or blocked.
pub fn offered(kind: ServiceKind, health: HealthStatus, state: NodeState, status: NodeStatus) -> bool {
    (health.is_healthy() || kind == ServiceKind::Kv)
        && state != NodeState::Offline
        && status != NodeStatus::Blocked
}

fn view(
    row: service_rows::Model,
    placements: &[db::entities::service_placements::Model],
    names: &NodeNames,
) -> ServiceView {
    let settings = settings_of(&row);
    let mut placements: Vec<PlacementView> =
        placements.iter().filter(|p| p.service_id == row.id).map(|p| placement_view(p, names)).collect();
    placements.sort_by(|a, b| a.node_name.cmp(&b.node_name));
    let health =
        placements.iter().filter(|p| p.node_state != "offline").map(|p| p.health).max().unwrap_or_default();
    ServiceView {
        invoke_path: format!("/api/v1/invoke/{}/", row.id),
        proxy_secret: None,
        tags: serde_json::from_value(row.tags).unwrap_or_default(),
        kind: ServiceKind::parse(&row.kind).unwrap_or_default(),
        status: ServiceStatus::parse(&row.status).unwrap_or_default(),
        replicas: u8::try_from(row.replicas).unwrap_or(1),
        http: settings.http,
        health_check: settings.health_check,
        policy: settings.policy,
        id: row.id,
        owner_id: row.account_id,
        slug: row.slug,
        name: row.name,
        description: row.description,
        version: row.version,
        pricing: pricing_of(&row.pricing),
        available: row.available,
        health,
        placements,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// The account's service, with its placements.
pub async fn get(db: &DatabaseConnection, account: &str, id: &str, names: &NodeNames) -> Result<ServiceView> {
    let row = db::services::owned(db, account, id).await?.ok_or(ServicesError::NotFound)?;
    let placements = db::services::placements_of(db, id).await?;
    Ok(view(row, &placements, names))
}

/// Rotates the account's service's proxy secret; returns the new generation (the old secret
/// stops being sent with the next placement pass).
pub async fn rotate_proxy_secret(db: &DatabaseConnection, account: &str, id: &str) -> Result<i32> {
    db::services::rotate_proxy_secret(db, account, id).await?.ok_or(ServicesError::NotFound)
}

/// A page of the account's services, newest first. The cursor is the last id of the previous
/// page (opaque to clients).
pub async fn list(
    db: &DatabaseConnection,
    account: &str,
    cursor: Option<&str>,
    limit: Option<u64>,
    names: &NodeNames,
) -> Result<Page<ServiceView>> {
    let limit = pagination::limit(limit);
    let before = pagination::before(cursor).map_err(|_| ServicesError::BadCursor)?;
    let rows = db::services::page(db, account, before.as_deref(), limit + 1).await?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let placements = db::services::placements_of_all(db, &ids).await?;
    Ok(pagination::finish(rows, limit, |r| &r.id, |r| view(r, &placements, names)))
}

/// A stored service's pricing.
pub fn pricing_of(json: &serde_json::Value) -> Pricing {
    serde_json::from_value(json.clone()).unwrap_or_default()
}

/// Parses the form's tiers (`1000=0.002, 10000=0.0015, *=0.001`); `None` when empty.
pub fn parse_tiers(text: &str) -> std::result::Result<Option<Vec<PriceTier>>, String> {
    let items: Vec<&str> = text.split([',', '\n', ';']).map(str::trim).filter(|t| !t.is_empty()).collect();
    if items.is_empty() {
        return Ok(None);
    }
    items
        .into_iter()
        .map(|item| {
            let (bound, price) = item.split_once('=').ok_or_else(|| {
                format!("{item:?}: write each tier as calls=price, e.g. 1000=0.002 or *=0.001.")
            })?;
            let up_to = match bound.trim() {
                "*" => None,
                n => Some(
                    n.replace('_', "")
                        .parse::<i64>()
                        .map_err(|_| format!("{n:?} is not a number of calls."))?,
                ),
            };
            let price_per_call_micros = app::types::billing::parse_price(price)?;
            Ok(PriceTier { up_to, price_per_call_micros })
        })
        .collect::<std::result::Result<Vec<_>, String>>()
        .map(Some)
}

/// Reads the portal's form (every field a string) into a registration; numbers that do not
/// parse are reported under their form field names.
pub fn from_form(form: &ServiceForm) -> std::result::Result<NewService, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    fn number<T: std::str::FromStr>(
        errors: &mut BTreeMap<String, String>,
        field: &str,
        value: &str,
    ) -> Option<T> {
        let value = value.trim().replace('_', "");
        if value.is_empty() {
            return None;
        }
        match value.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.insert(field.into(), "Enter a whole number.".into());
                None
            }
        }
    }
    let kind = match form.kind.trim() {
        "" | "http" => ServiceKind::Http,
        "kv" => ServiceKind::Kv,
        _ => {
            errors.insert("kind".into(), "Choose http or kv.".into());
            ServiceKind::Http
        }
    };
    let list = |s: &str| -> Vec<String> {
        s.split([',', ' ']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
    };
    let (price_per_call_micros, tiers) = match parse_tiers(&form.tiers) {
        Ok(None) => match app::types::billing::parse_price(&form.price_per_call) {
            Ok(price) => (Some(price), None),
            Err(message) => {
                errors.insert("price_per_call".into(), message);
                (None, None)
            }
        },
        Ok(Some(tiers)) => {
            if !form.price_per_call.trim().is_empty() {
                errors.insert(
                    "price_per_call".into(),
                    "Leave the flat price empty when you give tiers.".into(),
                );
            }
            (None, Some(tiers))
        }
        Err(message) => {
            errors.insert("tiers".into(), message);
            (None, None)
        }
    };
    let free_calls_per_month = number::<i64>(&mut errors, "free_calls_per_month", &form.free_calls_per_month);
    let replicas = number::<u8>(&mut errors, "replicas", &form.replicas);
    let timeout_ms = number(&mut errors, "timeout_ms", &form.timeout_ms);
    let max_body_bytes = number(&mut errors, "max_body_bytes", &form.max_body_bytes);
    let interval = number(&mut errors, "health_interval_ms", &form.health_interval_ms);
    let check_timeout = number(&mut errors, "health_timeout_ms", &form.health_timeout_ms);
    let retries = number(&mut errors, "retries", &form.retries);
    let breaker_failures = number(&mut errors, "breaker_failures", &form.breaker_failures);
    let breaker_cooldown = number(&mut errors, "breaker_cooldown_ms", &form.breaker_cooldown_ms);
    let is_http = kind == ServiceKind::Http;
    let defaults = PolicySettings::default();
    let new = NewService {
        slug: form.slug.clone(),
        name: form.name.clone(),
        description: form.description.clone(),
        version: form.version.clone(),
        tags: list(&form.tags),
        kind,
        price_per_call_micros,
        free_calls_per_month,
        tiers,
        replicas,
        http: is_http.then(|| HttpSettingsInput {
            upstream_url: form.upstream_url.clone(),
            allowed_methods: Some(list(&form.allowed_methods)),
            timeout_ms,
            max_body_bytes,
        }),
        health_check: is_http.then(|| HealthCheckSettings {
            path: form.health_path.clone(),
            interval_ms: interval.unwrap_or(10_000),
            timeout_ms: check_timeout.unwrap_or(2_000),
        }),
        policy: Some(PolicySettings {
            retries: retries.unwrap_or(defaults.retries),
            breaker_failures: breaker_failures.unwrap_or(defaults.breaker_failures),
            breaker_cooldown_ms: breaker_cooldown.unwrap_or(defaults.breaker_cooldown_ms),
        }),
    };
    if errors.is_empty() { Ok(new) } else { Err(errors) }
}

/// The update a submitted edit form means (every field present; slug and kind ignored).
pub fn update_from_form(form: &ServiceForm) -> std::result::Result<ServiceUpdate, BTreeMap<String, String>> {
    let new = from_form(form)?;
    Ok(ServiceUpdate {
        name: Some(new.name),
        description: Some(new.description),
        version: Some(new.version),
        tags: Some(new.tags),
        price_per_call_micros: new.price_per_call_micros,
        free_calls_per_month: Some(new.free_calls_per_month.unwrap_or(0)),
        tiers: new.tiers,
        replicas: new.replicas,
        http: new.http,
        health_check: new.health_check,
        policy: new.policy,
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_dns_label_rules() {
        for ok in ["a", "weather", "geo-ip-2", "0day", &"a".repeat(63)] {
            assert!(is_slug(ok, 63), "{ok}");
        }
        for bad in ["", "-a", "a-", "Weather", "geo_ip", "a.b", "ä", "a b", &"a".repeat(64)] {
            assert!(!is_slug(bad, 63), "{bad}");
        }
    }

    fn http(url: &str) -> NewService {
        NewService {
            slug: "weather".into(),
            http: Some(HttpSettingsInput { upstream_url: url.into(), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_are_filled_in() {
        let v = validate(http("http://127.0.0.1:9000/v1/")).unwrap();
        assert_eq!(v.name, "weather");
        assert_eq!(v.version, "1.0.0");
        assert_eq!(v.replicas, 2);
        let h = v.settings.http.unwrap();
        assert_eq!(h.upstream_url, "http://127.0.0.1:9000/v1");
        assert_eq!(h.allowed_methods.len(), METHODS.len());
        assert_eq!(v.settings.health_check.unwrap().path, "/");
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let mut input = http("ftp://example.com");
        input.slug = "Bad Slug".into();
        input.replicas = Some(9);
        input.price_per_call_micros = Some(-1);
        input.health_check =
            Some(HealthCheckSettings { path: "health".into(), interval_ms: 100, timeout_ms: 50 });
        let Err(ServicesError::Invalid(errors)) = validate(input) else { panic!("accepted") };
        for field in [
            "slug",
            "replicas",
            "price_per_call_micros",
            "http.upstream_url",
            "health_check.path",
            "health_check.interval_ms",
        ] {
            assert!(errors.contains_key(field), "{field} missing from {errors:?}");
        }
    }

    #[test]
    fn discovery_and_the_gateway_offer_the_same_placements() {
        use HealthStatus::*;
        let (http, kv) = (ServiceKind::Http, ServiceKind::Kv);
        let live = (NodeState::Online, NodeStatus::Active);
        assert!(offered(http, Passing, live.0, live.1));
        assert!(offered(http, Warning, NodeState::Degraded, NodeStatus::Draining));
        assert!(!offered(http, Critical, live.0, live.1));
        assert!(!offered(http, Unknown, live.0, live.1));
        assert!(offered(kv, Unknown, live.0, live.1), "kv has no upstream check");
        assert!(!offered(http, Passing, NodeState::Offline, NodeStatus::Active));
        assert!(!offered(http, Passing, NodeState::Online, NodeStatus::Blocked));
    }

    #[test]
    fn kv_services_take_no_upstream() {
        let mut input = http("http://x");
        input.kind = ServiceKind::Kv;
        assert!(
            matches!(validate(input), Err(ServicesError::Invalid(e)) if e.contains_key("http.upstream_url"))
        );
        let kv = NewService { slug: "cache".into(), kind: ServiceKind::Kv, ..Default::default() };
        assert!(validate(kv).unwrap().settings.http.is_none());
    }

    #[test]
    fn the_form_reports_numbers_that_do_not_parse_under_their_names() {
        let form = ServiceForm {
            slug: "x".into(),
            replicas: "two".into(),
            timeout_ms: "1s".into(),
            ..Default::default()
        };
        let errors = from_form(&form).unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["replicas", "timeout_ms"]);
    }
}
