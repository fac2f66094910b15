//! The `kv_buckets` table.
use app::types::ids::{AccountId, BucketId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kv_buckets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: BucketId,
    pub account_id: AccountId,
    pub name: String,
    /// Revisions kept per key (1–64).
    pub history: i64,
    pub max_value_bytes: i64,
    /// The bucket's revision counter: the newest revision written.
    pub last_revision: i64,
    /// Keys whose newest entry is a put.
    pub live_keys: i64,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
