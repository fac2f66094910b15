//! The platform's database schema, as SeaORM migrations applied at start-up (`server migrate`
//! applies them on their own). An applied migration is never edited: add a new one instead.
#![forbid(unsafe_code)]

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_accounts;
mod m20261122_000002_create_sessions;
mod m20261122_000003_create_login_failures;
mod m20261122_000004_create_mesh_control_plane;
mod m20261122_000005_create_services;
mod m20261122_000006_create_api_keys;
mod m20261122_000007_create_usage_events;
mod m20261122_000008_create_billing;
mod m20261126_000009_api_key_lineage;
mod m20261126_000010_service_proxy_secret;
mod m20261126_000011_operator_role;
mod m20261127_000012_create_marketplace;
mod m20261127_000013_create_reviews;
mod m20261127_000014_plan_rate_limit;
mod m20261127_000015_listing_figures;
mod m20261127_000016_service_health_days;
mod m20261127_000017_create_kv;
mod m20261127_000018_create_events;
mod m20261127_000019_create_webhooks;
mod m20261127_000020_create_rollups;

/// Every migration of the platform, in the order they apply.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_accounts::Migration),
            Box::new(m20261122_000002_create_sessions::Migration),
            Box::new(m20261122_000003_create_login_failures::Migration),
            Box::new(m20261122_000004_create_mesh_control_plane::Migration),
            Box::new(m20261122_000005_create_services::Migration),
            Box::new(m20261122_000006_create_api_keys::Migration),
            Box::new(m20261122_000007_create_usage_events::Migration),
            Box::new(m20261122_000008_create_billing::Migration),
            Box::new(m20261126_000009_api_key_lineage::Migration),
            Box::new(m20261126_000010_service_proxy_secret::Migration),
            Box::new(m20261126_000011_operator_role::Migration),
            Box::new(m20261127_000012_create_marketplace::Migration),
            Box::new(m20261127_000013_create_reviews::Migration),
            Box::new(m20261127_000014_plan_rate_limit::Migration),
            Box::new(m20261127_000015_listing_figures::Migration),
            Box::new(m20261127_000016_service_health_days::Migration),
            Box::new(m20261127_000017_create_kv::Migration),
            Box::new(m20261127_000018_create_events::Migration),
            Box::new(m20261127_000019_create_webhooks::Migration),
            Box::new(m20261127_000020_create_rollups::Migration),
        ]
    }
}
