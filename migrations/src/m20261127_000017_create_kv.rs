//! KV buckets of the memory context: buckets per account, and every revision of every key
//! (puts, delete and purge markers, expiry tombstones), as in NATS JetStream KV.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    // `last_revision` is the bucket's revision counter: revisions increase per bucket, not per
    // key (as in JetStream), and are assigned inside the writing transaction. `live_keys`
    // counts the keys whose newest entry is a put, so the per-account quota is one sum.
    "CREATE TABLE kv_buckets (
        id TEXT NOT NULL PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        history INTEGER NOT NULL CHECK (history BETWEEN 1 AND 64),
        max_value_bytes INTEGER NOT NULL CHECK (max_value_bytes BETWEEN 1 AND 1048576),
        last_revision INTEGER NOT NULL DEFAULT 0,
        live_keys INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        UNIQUE (account_id, name)
    )",
    // One row per revision. `is_head` marks a key's newest entry (at most one per key, held by
    // the partial unique index), so reads, listings and the sweeper never search history.
    // Expiry is in epoch milliseconds so SQL can compare it; `ttl_ms` is what `touch` re-arms.
    "CREATE TABLE kv_entries (
        bucket_id TEXT NOT NULL REFERENCES kv_buckets(id) ON DELETE CASCADE,
        revision INTEGER NOT NULL,
        key TEXT NOT NULL,
        value BLOB NOT NULL,
        operation TEXT NOT NULL CHECK (operation IN ('put', 'delete', 'purge', 'expire')),
        is_head INTEGER NOT NULL CHECK (is_head IN (0, 1)),
        ttl_ms INTEGER NULL,
        expires_at_ms INTEGER NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (bucket_id, revision)
    )",
    "CREATE INDEX ix_kv_entries_key ON kv_entries(bucket_id, key, revision)",
    "CREATE UNIQUE INDEX ux_kv_entries_head ON kv_entries(bucket_id, key) WHERE is_head = 1",
    "CREATE INDEX ix_kv_entries_expiry ON kv_entries(expires_at_ms)
        WHERE is_head = 1 AND operation = 'put' AND expires_at_ms IS NOT NULL",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in UP {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP TABLE IF EXISTS kv_entries").await?;
        db.execute_unprepared("DROP TABLE IF EXISTS kv_buckets").await.map(|_| ())
    }
}
