//! The `subscriptions` table.
use app::types::{
    ids::{AccountId, ListingId, PlanId, SubscriptionId},
    marketplace::SubscriptionStatus,
};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SubscriptionId,
    pub listing_id: ListingId,
    pub plan_id: PlanId,
    /// The consumer.
    pub account_id: AccountId,
    pub status: SubscriptionStatus,
    pub spending_cap_minor: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
