//! The `kv_entries` table: every kept revision of every key.
use app::types::{ids::BucketId, memory::KvOperation};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kv_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub bucket_id: BucketId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub revision: i64,
    pub key: String,
    pub value: Vec<u8>,
    pub operation: KvOperation,
    /// The key's newest entry.
    pub is_head: bool,
    pub ttl_ms: Option<i64>,
    /// Epoch milliseconds after which a put reads as absent.
    pub expires_at_ms: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
