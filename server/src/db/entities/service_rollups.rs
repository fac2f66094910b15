//! The `service_rollups` table: one service's requests in one minute (from one flush).
use crate::histogram::Histogram;
use app::types::ids::{AccountId, ServiceId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_rollups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: ServiceId,
    /// The service's owner: every read filters on it.
    pub account_id: AccountId,
    /// The minute's start.
    pub minute: ChronoDateTimeUtc,
    pub requests: i64,
    pub errors: i64,
    pub latency: Histogram,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
