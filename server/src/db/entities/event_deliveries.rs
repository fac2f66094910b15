//! The `event_deliveries` table: messages a consumer was handed and has not settled.
use app::types::ids::ConsumerId;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub consumer_id: ConsumerId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// How many times it was handed out.
    pub deliveries: i32,
    /// When it is handed out again unless settled.
    pub due_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
