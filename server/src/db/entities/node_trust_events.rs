//! The `node_trust_events` table: one row per trust transition of a node.
use crate::mesh::trust::{TrustEvent, TrustLevel};
use app::types::ids::NodeId;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "node_trust_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub node_id: NodeId,
    pub from_level: TrustLevel,
    pub to_level: TrustLevel,
    pub reason: TrustEvent,
    pub at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
