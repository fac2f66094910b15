//! The `services` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub account_id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub version: String,
    pub tags: Json,
    pub kind: String,
    pub pricing: Json,
    pub replicas: i32,
    pub status: String,
    pub settings: Json,
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
