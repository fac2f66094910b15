//! Queries of usage events.
use super::entities::usage_events::{self, Entity as Usage};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, sea_query::OnConflict};

/// Largest number of rows per INSERT statement (12 columns each: well under SQLite's limit
/// of 32 766 bound parameters).
const ROWS_PER_STATEMENT: usize = 500;

/// Inserts events, skipping any whose invoke id is already recorded; returns how many were
/// new.
pub async fn insert_new(db: &impl ConnectionTrait, events: &[usage_events::Model]) -> Result<u64, DbErr> {
    let mut inserted = 0;
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let rows = chunk.iter().cloned().map(usage_events::ActiveModel::from);
        let result = Usage::insert_many(rows)
            .on_conflict(OnConflict::column(usage_events::Column::InvokeId).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        inserted += result;
    }
    Ok(inserted)
}
