//! The event log: messages (one sequence for the platform, each row owned by the account it
//! is about or that published it), durable consumers (a cursor and their settings) and the
//! deliveries each consumer has handed out and not yet settled.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in [
            // AUTOINCREMENT: a sequence number is never reused, even after retention deletes
            // the newest rows' predecessors (replay by sequence must never see a seq twice).
            "CREATE TABLE event_messages (\
               seq INTEGER PRIMARY KEY AUTOINCREMENT, \
               account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE, \
               topic TEXT NOT NULL, \
               data TEXT NOT NULL, \
               headers TEXT NOT NULL, \
               msg_id TEXT, \
               published_at TEXT NOT NULL\
             )",
            "CREATE INDEX event_messages_by_account ON event_messages (account_id, seq)",
            "CREATE INDEX event_messages_by_msg_id ON event_messages (account_id, msg_id) WHERE msg_id IS NOT NULL",
            "CREATE INDEX event_messages_by_time ON event_messages (published_at)",
            "CREATE TABLE event_consumers (\
               id TEXT PRIMARY KEY NOT NULL, \
               account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE, \
               name TEXT NOT NULL, \
               filter TEXT NOT NULL, \
               ack_wait_ms INTEGER NOT NULL, \
               backoff_ms TEXT NOT NULL, \
               max_deliver INTEGER NOT NULL, \
               cursor INTEGER NOT NULL, \
               created_at TEXT NOT NULL, \
               UNIQUE (account_id, name)\
             )",
            "CREATE TABLE event_deliveries (\
               consumer_id TEXT NOT NULL REFERENCES event_consumers(id) ON DELETE CASCADE, \
               seq INTEGER NOT NULL, \
               deliveries INTEGER NOT NULL, \
               due_at TEXT NOT NULL, \
               PRIMARY KEY (consumer_id, seq)\
             ) WITHOUT ROWID",
            "CREATE INDEX event_deliveries_due ON event_deliveries (consumer_id, due_at)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in ["event_deliveries", "event_consumers", "event_messages"] {
            db.execute_unprepared(&format!("DROP TABLE {table}")).await?;
        }
        Ok(())
    }
}
