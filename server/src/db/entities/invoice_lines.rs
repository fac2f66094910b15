//! The `invoice_lines` table.
use app::types::ids::{AccountId, InvoiceId, PlanId, ServiceId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub invoice_id: InvoiceId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub service_id: ServiceId,
    pub service_slug: String,
    pub provider_account_id: AccountId,
    pub description: String,
    pub quantity: i64,
    pub unit_price_micros: i64,
    pub amount_minor: i64,
    pub fee_minor: i64,
    pub first_call: i64,
    pub last_call: i64,
    /// The marketplace plan the line is priced at (`None`: the service's own pricing).
    pub plan_id: Option<PlanId>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
