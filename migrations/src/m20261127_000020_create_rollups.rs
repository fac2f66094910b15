//! Per-minute rollups of the request metrics, kept so charts survive restarts: one table per
//! service (with its owner's account, which every read filters on) and one per node (the
//! invokes it took as the entry node, and what it forwarded and dropped from its heartbeat
//! counters). Rows are appended at each flush (a minute may have several: readers add them up)
//! and pruned past the retention. Latency is a JSON array of counts in fixed buckets.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in [
            "CREATE TABLE service_rollups (\
               id INTEGER PRIMARY KEY AUTOINCREMENT, \
               service_id TEXT NOT NULL, \
               account_id TEXT NOT NULL, \
               minute TEXT NOT NULL, \
               requests INTEGER NOT NULL, \
               errors INTEGER NOT NULL, \
               latency TEXT NOT NULL\
             )",
            "CREATE INDEX service_rollups_by_service ON service_rollups (account_id, service_id, minute)",
            "CREATE INDEX service_rollups_by_minute ON service_rollups (minute)",
            "CREATE TABLE node_rollups (\
               id INTEGER PRIMARY KEY AUTOINCREMENT, \
               node_id TEXT NOT NULL, \
               minute TEXT NOT NULL, \
               requests INTEGER NOT NULL, \
               errors INTEGER NOT NULL, \
               latency TEXT NOT NULL, \
               forwarded INTEGER NOT NULL, \
               drops TEXT NOT NULL\
             )",
            "CREATE INDEX node_rollups_by_node ON node_rollups (node_id, minute)",
            "CREATE INDEX node_rollups_by_minute ON node_rollups (minute)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in ["node_rollups", "service_rollups"] {
            db.execute_unprepared(&format!("DROP TABLE {table}")).await?;
        }
        Ok(())
    }
}
