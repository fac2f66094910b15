//! API keys (stored only as SHA-256 hashes) and the responses kept for `Idempotency-Key`.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(ColumnDef::new(ApiKeys::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(ApiKeys::AccountId).string().not_null())
                    .col(ColumnDef::new(ApiKeys::Name).string().not_null())
                    // The first characters of the key, shown in lists ("w4k_AbCdEf").
                    .col(ColumnDef::new(ApiKeys::Prefix).string().not_null())
                    // Lowercase hex SHA-256 of the whole key: the only form ever stored.
                    .col(ColumnDef::new(ApiKeys::KeyHash).string().not_null())
                    // JSON array of "read" | "write" | "invoke".
                    .col(ColumnDef::new(ApiKeys::Scopes).json().not_null())
                    .col(ColumnDef::new(ApiKeys::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ApiKeys::ExpiresAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(ApiKeys::LastUsedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(ApiKeys::RevokedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiKeys::Table, ApiKeys::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_api_keys_key_hash")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::KeyHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_api_keys_account_id")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::AccountId)
                    .col(ApiKeys::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyRecords::Table)
                    .col(ColumnDef::new(IdempotencyRecords::AccountId).string().not_null())
                    .col(ColumnDef::new(IdempotencyRecords::Key).string().not_null())
                    // SHA-256 of method, path, query and body: a reuse with anything else is 422.
                    .col(ColumnDef::new(IdempotencyRecords::RequestHash).string().not_null())
                    // Null while the first request is still being answered.
                    .col(ColumnDef::new(IdempotencyRecords::Status).integer().null())
                    // JSON array of [name, value] pairs.
                    .col(ColumnDef::new(IdempotencyRecords::Headers).json().null())
                    .col(ColumnDef::new(IdempotencyRecords::Body).binary().null())
                    .col(ColumnDef::new(IdempotencyRecords::CreatedAt).timestamp_with_time_zone().not_null())
                    .primary_key(
                        Index::create().col(IdempotencyRecords::AccountId).col(IdempotencyRecords::Key),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(IdempotencyRecords::Table, IdempotencyRecords::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_idempotency_records_created_at")
                    .table(IdempotencyRecords::Table)
                    .col(IdempotencyRecords::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IdempotencyRecords::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ApiKeys::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    AccountId,
    Name,
    Prefix,
    KeyHash,
    Scopes,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum IdempotencyRecords {
    Table,
    AccountId,
    Key,
    RequestHash,
    Status,
    Headers,
    Body,
    CreatedAt,
}
