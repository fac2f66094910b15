//! The `nodes` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nodes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub kind: String,
    pub address: String,
    pub labels: Json,
    pub version: String,
    pub join_token_id: Option<String>,
    pub status: String,
    pub trust_level: String,
    pub last_heartbeat_at: Option<ChronoDateTimeUtc>,
    pub stats: Json,
    pub registered_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
