//! The `services` table.
use app::types::ids::{AccountId, ServiceId};
use app::types::{
    billing::Pricing,
    services::{HealthCheckSettings, HttpSettings, PolicySettings, ServiceKind, ServiceStatus},
};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ServiceId,
    pub account_id: AccountId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub version: String,
    pub tags: Tags,
    pub kind: ServiceKind,
    pub pricing: Pricing,
    pub replicas: u8,
    pub status: ServiceStatus,
    pub settings: Settings,
    pub unhealthy_since: Option<ChronoDateTimeUtc>,
    pub available: bool,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    /// Bumped when the owner rotates the service's proxy secret (see
    /// `services::proxy_secret`).
    pub proxy_secret_generation: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What `settings` holds (JSON): the kind's settings, the health check and the policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult)]
pub struct Settings {
    pub http: Option<HttpSettings>,
    pub health_check: Option<HealthCheckSettings>,
    pub policy: PolicySettings,
}

/// A service's tags (JSON array of strings).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult)]
pub struct Tags(pub Vec<String>);
