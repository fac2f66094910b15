//! The `usage_events` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub invoke_id: String,
    pub payer_account_id: String,
    pub service_id: String,
    pub provider_account_id: String,
    pub api_key_id: Option<String>,
    pub calls: i64,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub duration_us: i64,
    pub status: i32,
    pub occurred_at: ChronoDateTimeUtc,
    pub invoice_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
