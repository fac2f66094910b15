//! The `join_tokens` table.
use app::types::ids::{AccountId, JoinTokenId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "join_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: JoinTokenId,
    #[sea_orm(unique)]
    pub secret_hash: String,
    pub prefix: String,
    pub note: String,
    pub reusable: bool,
    pub expires_at: Option<ChronoDateTimeUtc>,
    pub revoked_at: Option<ChronoDateTimeUtc>,
    pub uses: i32,
    pub created_by: AccountId,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
