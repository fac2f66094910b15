//! Figures of each listing kept on its row, so browsing filters, sorts and pages in one
//! indexed query: whether a public plan is free, the lowest paid per-call price, active
//! subscribers, reviews and the average rating (tenths). The marketplace keeps them current.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "ALTER TABLE listings ADD COLUMN has_free_plan INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE listings ADD COLUMN lowest_price_micros INTEGER NULL",
    "ALTER TABLE listings ADD COLUMN subscribers INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE listings ADD COLUMN reviews INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE listings ADD COLUMN rating_tenths INTEGER NULL",
    "CREATE INDEX ix_listings_browse ON listings(status, published_at DESC, id)",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS ix_listings_browse",
    "ALTER TABLE listings DROP COLUMN rating_tenths",
    "ALTER TABLE listings DROP COLUMN reviews",
    "ALTER TABLE listings DROP COLUMN subscribers",
    "ALTER TABLE listings DROP COLUMN lowest_price_micros",
    "ALTER TABLE listings DROP COLUMN has_free_plan",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for statement in UP {
            manager.get_connection().execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for statement in DOWN {
            manager.get_connection().execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
