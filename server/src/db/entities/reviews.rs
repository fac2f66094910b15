//! The `reviews` table.
use app::types::ids::{AccountId, ListingId, ReviewId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ReviewId,
    pub listing_id: ListingId,
    /// The reviewer (a subscriber with a metered call).
    pub account_id: AccountId,
    pub rating: i32,
    pub body: String,
    pub reply: Option<String>,
    pub replied_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
