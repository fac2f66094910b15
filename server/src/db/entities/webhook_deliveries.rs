//! The `webhook_deliveries` table: one message to one endpoint, with the body every attempt sends.
use app::types::{
    ids::{AccountId, WebhookDeliveryId, WebhookId},
    webhooks::DeliveryStatus,
};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: WebhookDeliveryId,
    pub endpoint_id: WebhookId,
    pub account_id: AccountId,
    pub seq: i64,
    pub topic: String,
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
