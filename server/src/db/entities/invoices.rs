//! The `invoices` table (finalized invoices only; drafts are computed).
use app::types::ids::{AccountId, InvoiceId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: InvoiceId,
    pub seq: i64,
    pub number: String,
    pub account_id: AccountId,
    pub currency: String,
    pub currency_exponent: i32,
    pub period_start: Date,
    pub period_end: Date,
    pub total_calls: i64,
    pub subtotal_minor: i64,
    pub total_minor: i64,
    pub finalized_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
