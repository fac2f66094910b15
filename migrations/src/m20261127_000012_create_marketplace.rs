//! The marketplace: listings of providers' services, their plans, consumers' subscriptions,
//! and a full-text index of listings (SQLite FTS5, kept in step by triggers). Usage events and
//! invoice lines name the plan a call was billed at.
//!
//! Written as SQL: FTS5 and partial unique indexes have no builder form (a PostgreSQL port
//! would use `tsvector` instead).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE listings (
        id TEXT NOT NULL PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        service_id TEXT NOT NULL UNIQUE REFERENCES services(id) ON DELETE RESTRICT,
        publisher TEXT NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        description TEXT NOT NULL,
        category TEXT NOT NULL,
        tags TEXT NOT NULL,
        openapi TEXT NULL,
        status TEXT NOT NULL,
        approval TEXT NOT NULL,
        sunset_at TEXT NULL,
        published_at TEXT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )",
    "CREATE INDEX ix_listings_account ON listings(account_id)",
    "CREATE INDEX ix_listings_status ON listings(status, published_at)",
    "CREATE TABLE plans (
        id TEXT NOT NULL PRIMARY KEY,
        listing_id TEXT NOT NULL REFERENCES listings(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        position INTEGER NOT NULL,
        pricing TEXT NOT NULL,
        quota_per_month INTEGER NULL,
        quota_kind TEXT NOT NULL,
        visibility TEXT NOT NULL,
        invitation_hash TEXT NULL UNIQUE,
        created_at TEXT NOT NULL,
        UNIQUE (listing_id, name)
    )",
    "CREATE TABLE subscriptions (
        id TEXT NOT NULL PRIMARY KEY,
        listing_id TEXT NOT NULL REFERENCES listings(id) ON DELETE RESTRICT,
        plan_id TEXT NOT NULL REFERENCES plans(id) ON DELETE RESTRICT,
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        spending_cap_minor INTEGER NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )",
    // One live subscription per consumer and listing.
    "CREATE UNIQUE INDEX ux_subscriptions_live ON subscriptions(listing_id, account_id) \
     WHERE status <> 'cancelled'",
    "CREATE INDEX ix_subscriptions_account ON subscriptions(account_id)",
    "CREATE INDEX ix_subscriptions_listing ON subscriptions(listing_id, status)",
    "ALTER TABLE usage_events ADD COLUMN plan_id TEXT NULL",
    "CREATE INDEX ix_usage_events_plan ON usage_events(plan_id, payer_account_id, occurred_at)",
    "ALTER TABLE invoice_lines ADD COLUMN plan_id TEXT NULL",
    // The search index: the listing's id is carried (not indexed) so that a VACUUM, which may
    // renumber rowids, cannot unlink an entry from its listing.
    "CREATE VIRTUAL TABLE listings_fts USING fts5(
        listing_id UNINDEXED, title, summary, description, tags,
        tokenize = 'porter unicode61 remove_diacritics 2'
    )",
    "CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings BEGIN
        INSERT INTO listings_fts (listing_id, title, summary, description, tags)
        VALUES (new.id, new.title, new.summary, new.description, new.tags);
    END",
    "CREATE TRIGGER listings_fts_update AFTER UPDATE OF title, summary, description, tags ON listings BEGIN
        DELETE FROM listings_fts WHERE listing_id = old.id;
        INSERT INTO listings_fts (listing_id, title, summary, description, tags)
        VALUES (new.id, new.title, new.summary, new.description, new.tags);
    END",
    "CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN
        DELETE FROM listings_fts WHERE listing_id = old.id;
    END",
];

const DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS listings_fts_delete",
    "DROP TRIGGER IF EXISTS listings_fts_update",
    "DROP TRIGGER IF EXISTS listings_fts_insert",
    "DROP TABLE IF EXISTS listings_fts",
    "ALTER TABLE invoice_lines DROP COLUMN plan_id",
    "DROP INDEX IF EXISTS ix_usage_events_plan",
    "ALTER TABLE usage_events DROP COLUMN plan_id",
    "DROP TABLE IF EXISTS subscriptions",
    "DROP TABLE IF EXISTS plans",
    "DROP TABLE IF EXISTS listings",
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
        for statement in DOWN {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
