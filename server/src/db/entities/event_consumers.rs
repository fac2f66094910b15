//! The `event_consumers` table: durable consumers of the event log.
use app::types::ids::{AccountId, ConsumerId};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_consumers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ConsumerId,
    pub account_id: AccountId,
    pub name: String,
    pub filter: String,
    pub ack_wait_ms: i64,
    pub backoff_ms: Backoff,
    pub max_deliver: i32,
    /// The last sequence number handed out or passed over.
    pub cursor: i64,
    pub created_at: ChronoDateTimeUtc,
}

/// The waits before each redelivery, in milliseconds (a JSON array).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult)]
pub struct Backoff(pub Vec<u32>);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
