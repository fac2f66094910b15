//! The `listings` table.
use super::services::Tags;
use app::types::{
    ids::{AccountId, ListingId, ServiceId},
    marketplace::{Approval, Category, ListingStatus},
};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ListingId,
    pub account_id: AccountId,
    #[sea_orm(unique)]
    pub service_id: ServiceId,
    pub publisher: String,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub category: Category,
    pub tags: Tags,
    pub openapi: Option<String>,
    pub status: ListingStatus,
    pub approval: Approval,
    pub sunset_at: Option<ChronoDateTimeUtc>,
    pub published_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    /// Figures kept on the row for browsing (see `Marketplace::restat`).
    pub has_free_plan: bool,
    pub lowest_price_micros: Option<i64>,
    pub subscribers: i64,
    pub reviews: i64,
    pub rating_tenths: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
