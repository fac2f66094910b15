//! Signed webhooks: endpoints (an account's URL, its topic filters, its status and the cursor
//! of the event log it has been matched against; the signing secret is derived, never stored:
//! only its generation is), deliveries (one message to one endpoint, with the exact body sent
//! on every attempt) and attempts (what each try got back).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in [
            "CREATE TABLE webhook_endpoints (\
               id TEXT PRIMARY KEY NOT NULL, \
               account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE, \
               url TEXT NOT NULL, \
               filters TEXT NOT NULL, \
               description TEXT NOT NULL, \
               status TEXT NOT NULL, \
               disabled_reason TEXT, \
               disabled_at TEXT, \
               failing_since TEXT, \
               last_success_at TEXT, \
               secret_generation INTEGER NOT NULL, \
               cursor INTEGER NOT NULL, \
               created_at TEXT NOT NULL\
             )",
            "CREATE INDEX webhook_endpoints_by_account ON webhook_endpoints (account_id, id)",
            "CREATE TABLE webhook_deliveries (\
               id TEXT PRIMARY KEY NOT NULL, \
               endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE, \
               account_id TEXT NOT NULL, \
               seq INTEGER NOT NULL, \
               topic TEXT NOT NULL, \
               payload TEXT NOT NULL, \
               status TEXT NOT NULL, \
               attempts INTEGER NOT NULL, \
               next_attempt_at TEXT, \
               created_at TEXT NOT NULL\
             )",
            "CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id)",
            "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at)",
            "CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (created_at)",
            "CREATE TABLE webhook_attempts (\
               id INTEGER PRIMARY KEY AUTOINCREMENT, \
               delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE, \
               attempted_at TEXT NOT NULL, \
               status_code INTEGER, \
               error TEXT, \
               latency_ms INTEGER NOT NULL, \
               response_snippet TEXT NOT NULL\
             )",
            "CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in ["webhook_attempts", "webhook_deliveries", "webhook_endpoints"] {
            db.execute_unprepared(&format!("DROP TABLE {table}")).await?;
        }
        Ok(())
    }
}
