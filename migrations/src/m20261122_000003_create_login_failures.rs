//! Failed log-in attempts, kept for the throttling window (per account and per client address).
//! Stored in the database rather than in memory so that a restart does not reset an attacker's
//! budget and several server processes sharing the database agree.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(
                        ColumnDef::new(LoginFailures::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    // "account" (keyed by the normalised email, whether or not it exists)
                    // or "address" (keyed by the client's IP address).
                    .col(ColumnDef::new(LoginFailures::Scope).string().not_null())
                    .col(ColumnDef::new(LoginFailures::Key).string().not_null())
                    .col(ColumnDef::new(LoginFailures::FailedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_login_failures_scope_key_failed_at")
                    .table(LoginFailures::Table)
                    .col(LoginFailures::Scope)
                    .col(LoginFailures::Key)
                    .col(LoginFailures::FailedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LoginFailures::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Id,
    Scope,
    Key,
    FailedAt,
}
