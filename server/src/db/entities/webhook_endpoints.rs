//! The `webhook_endpoints` table: where an account's events are POSTed.
use app::types::{
    ids::{AccountId, WebhookId},
    webhooks::WebhookStatus,
};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: WebhookId,
    pub account_id: AccountId,
    pub url: String,
    pub filters: Filters,
    pub description: String,
    pub status: WebhookStatus,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<ChronoDateTimeUtc>,
    pub failing_since: Option<ChronoDateTimeUtc>,
    pub last_success_at: Option<ChronoDateTimeUtc>,
    /// The signing secret's generation (the secret itself is derived, never stored).
    pub secret_generation: i32,
    /// The last sequence number of the log matched against the filters.
    pub cursor: i64,
    pub created_at: ChronoDateTimeUtc,
}

/// Topic filters (a JSON array of strings).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult)]
pub struct Filters(pub Vec<String>);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
