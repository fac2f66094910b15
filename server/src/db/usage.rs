//! Queries of usage events.
use super::entities::usage_events::{self, Entity as Usage};
use app::types::ids::{AccountId, ServiceId};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    sea_query::OnConflict,
};

/// Largest number of rows per INSERT statement (12 columns each: well under SQLite's limit
/// of 32 766 bound parameters).
const ROWS_PER_STATEMENT: usize = 500;

/// Inserts events, skipping any whose invoke id is already recorded; returns the invoke ids
/// that were new.
pub async fn insert_new(
    db: &impl ConnectionTrait,
    events: Vec<usage_events::Model>,
) -> Result<Vec<String>, DbErr> {
    let mut inserted = Vec::with_capacity(events.len());
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let rows: Vec<_> =
            events.by_ref().take(ROWS_PER_STATEMENT).map(usage_events::ActiveModel::from).collect();
        // sea-orm's SQLite backend does not use RETURNING for inserts; SQLite (≥ 3.35) has it.
        let mut statement = Usage::insert_many(rows)
            .on_conflict(OnConflict::column(usage_events::Column::InvokeId).do_nothing().to_owned())
            .into_query();
        statement.returning_col(usage_events::Column::InvokeId);
        for row in db.query_all(db.get_database_backend().build(&statement)).await? {
            inserted.push(row.try_get::<String>("", "invoke_id")?);
        }
    }
    Ok(inserted)
}

/// Who paid for which service, per recorded invoke id among `ids`.
pub async fn recorded_parties(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<std::collections::HashMap<String, (AccountId, ServiceId)>, DbErr> {
    let mut found = std::collections::HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(String, AccountId, ServiceId)> = Usage::find()
            .select_only()
            .column(usage_events::Column::InvokeId)
            .column(usage_events::Column::PayerAccountId)
            .column(usage_events::Column::ServiceId)
            .filter(usage_events::Column::InvokeId.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|(id, payer, service)| (id, (payer, service))));
    }
    Ok(found)
}
