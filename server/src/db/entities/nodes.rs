//! The `nodes` table.
use crate::mesh::trust::TrustLevel;
use app::types::ids::{JoinTokenId, NodeId};
use app::types::nodes::{NodeKind, NodeStatsView, NodeStatus};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nodes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: NodeId,
    pub name: String,
    pub kind: NodeKind,
    pub address: String,
    pub labels: Labels,
    pub version: String,
    pub join_token_id: Option<JoinTokenId>,
    pub status: NodeStatus,
    pub trust_level: TrustLevel,
    pub last_heartbeat_at: Option<ChronoDateTimeUtc>,
    pub stats: NodeStatsView,
    pub registered_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A node's labels (JSON object of strings).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult)]
pub struct Labels(pub BTreeMap<String, String>);
