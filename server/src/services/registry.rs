//! The registry's persistence: services stored for their accounts, read back as views. Every
//! function takes the owner's account id; another account's service is not found.
use super::{
    ServicesError,
    validation::{Settings, reachable, validate},
    views::{NodeNames, view},
};
use crate::{
    db::{
        self,
        entities::services::{self as service_rows, Tags},
    },
    egress::EgressPolicy,
    pagination,
};
use app::types::{
    ids::{AccountId, ServiceId},
    services::{HttpSettingsInput, NewService, Page, ServiceStatus, ServiceUpdate, ServiceView},
};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};

type Result<T, E = ServicesError> = std::result::Result<T, E>;

/// The registration a stored service corresponds to (updates are applied to it, then the
/// whole is validated again).
fn as_input(row: &service_rows::Model, settings: &Settings) -> NewService {
    let pricing = row.pricing.clone();
    let flat = pricing.tiers.len() == 1 && pricing.tiers[0].up_to.is_none();
    NewService {
        slug: row.slug.clone(),
        name: row.name.clone(),
        description: row.description.clone(),
        version: row.version.clone(),
        tags: row.tags.0.clone(),
        kind: row.kind,
        price_per_call_micros: flat.then(|| pricing.tiers[0].price_per_call_micros),
        free_calls_per_month: Some(pricing.free_calls_per_month),
        tiers: (!flat).then(|| pricing.tiers.clone()),
        replicas: Some(row.replicas),
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

/// Registers a service for `account`.
pub async fn create(
    db: &DatabaseConnection,
    egress: &EgressPolicy,
    max_services: u64,
    account: &AccountId,
    input: NewService,
    now: DateTime<Utc>,
) -> Result<ServiceId> {
    let valid = validate(input)?;
    reachable(egress, &valid.settings)?;
    // Each service is checked and placed on up to five nodes: an account's count is bounded.
    if db::services::count_of(db, account).await? >= max_services {
        return Err(ServicesError::LimitReached(max_services));
    }
    let id = ServiceId::new(uuid::Uuid::now_v7().to_string());
    let row = service_rows::Model {
        id: id.clone(),
        account_id: account.clone(),
        slug: valid.slug.clone(),
        name: valid.name,
        description: valid.description,
        version: valid.version,
        tags: Tags(valid.tags),
        kind: valid.kind,
        pricing: valid.pricing,
        replicas: valid.replicas,
        status: ServiceStatus::Active,
        settings: valid.settings,
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
    account: &AccountId,
    id: &ServiceId,
    update: ServiceUpdate,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut row = db::services::owned(db, account, id).await?.ok_or(ServicesError::NotFound)?;
    let settings = row.settings.clone();
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
    row.tags = Tags(valid.tags);
    row.pricing = valid.pricing;
    row.replicas = valid.replicas;
    row.settings = valid.settings;
    if let Some(status) = status {
        row.status = status;
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

/// Deletes the account's service; refused while it is active.
pub async fn delete(db: &DatabaseConnection, account: &AccountId, id: &ServiceId) -> Result<()> {
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

/// The account's service, with its placements.
pub async fn get(
    db: &DatabaseConnection,
    account: &AccountId,
    id: &ServiceId,
    names: &NodeNames,
) -> Result<ServiceView> {
    let row = db::services::owned(db, account, id).await?.ok_or(ServicesError::NotFound)?;
    let placements = db::services::placements_of(db, id).await?;
    Ok(view(row, &placements, names))
}

/// Rotates the account's service's proxy secret; returns the new generation (the old secret
/// stops being sent with the next placement pass).
pub async fn rotate_proxy_secret(
    db: &DatabaseConnection,
    account: &AccountId,
    id: &ServiceId,
) -> Result<i32> {
    db::services::rotate_proxy_secret(db, account, id).await?.ok_or(ServicesError::NotFound)
}

/// A page of the account's services, newest first. The cursor is the last id of the previous
/// page (opaque to clients).
pub async fn list(
    db: &DatabaseConnection,
    account: &AccountId,
    cursor: Option<&str>,
    limit: Option<u64>,
    names: &NodeNames,
) -> Result<Page<ServiceView>> {
    let limit = pagination::limit(limit);
    let before = pagination::before(cursor).map_err(|_| ServicesError::BadCursor)?;
    let rows = db::services::page(db, account, before.as_deref(), limit + 1).await?;
    let ids: Vec<&ServiceId> = rows.iter().map(|r| &r.id).collect();
    let placements = db::services::placements_of_all(db, &ids).await?;
    Ok(pagination::finish(rows, limit, |r| &r.id, |r| view(r, &placements, names)))
}
