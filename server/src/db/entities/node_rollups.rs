//! The `node_rollups` table: what one node took as the entry node, forwarded and dropped in
//! one minute (from one flush).
use crate::histogram::Histogram;
use app::types::ids::NodeId;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "node_rollups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub node_id: NodeId,
    /// The minute's start.
    pub minute: ChronoDateTimeUtc,
    pub requests: i64,
    pub errors: i64,
    pub latency: Histogram,
    /// Envelopes forwarded for others (from the heartbeat counters' deltas).
    pub forwarded: i64,
    pub drops: DropCounts,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Drops by reason (JSON object of counts; reasons without drops left out).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult)]
pub struct DropCounts(pub BTreeMap<String, u64>);
