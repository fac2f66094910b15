//! The `plans` table.
use app::types::{
    billing::Pricing,
    ids::{ListingId, PlanId},
    marketplace::{QuotaKind, Visibility},
};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PlanId,
    pub listing_id: ListingId,
    pub name: String,
    pub position: i32,
    pub pricing: Pricing,
    pub quota_per_month: Option<i64>,
    pub quota_kind: QuotaKind,
    pub visibility: Visibility,
    /// SHA-256 of a private plan's invitation (the invitation itself is never stored).
    #[sea_orm(unique)]
    pub invitation_hash: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    /// Calls per minute per subscription (`None`: only the account's own limits).
    pub rate_per_minute: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
