//! The `usage_events` table.
use app::types::ids::{AccountId, InvoiceId, KeyId, PlanId, ServiceId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub invoke_id: String,
    pub payer_account_id: AccountId,
    pub service_id: ServiceId,
    pub provider_account_id: AccountId,
    pub api_key_id: Option<KeyId>,
    pub calls: i64,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub duration_us: i64,
    pub status: i32,
    pub occurred_at: ChronoDateTimeUtc,
    pub invoice_id: Option<InvoiceId>,
    /// The marketplace plan the call was billed at (`None`: the service's own pricing).
    pub plan_id: Option<PlanId>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
