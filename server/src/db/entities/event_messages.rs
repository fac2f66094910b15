//! The `event_messages` table: the event log.
use app::types::ids::AccountId;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// Whose message it is: the publisher, or the account a platform event is about.
    pub account_id: AccountId,
    pub topic: String,
    pub data: String,
    pub headers: Headers,
    pub msg_id: Option<String>,
    pub published_at: ChronoDateTimeUtc,
}

/// A message's headers (a JSON object of strings).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult)]
pub struct Headers(pub BTreeMap<String, String>);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
