//! The `webhook_attempts` table: what each try of a delivery got back.
use app::types::ids::WebhookDeliveryId;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub delivery_id: WebhookDeliveryId,
    pub attempted_at: ChronoDateTimeUtc,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub response_snippet: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
