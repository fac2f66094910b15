//! Which key minted a key: revoking a key revokes every key minted with it (a leaked key
//! cannot leave children behind), and a minted key never outlives the key that minted it.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(ColumnDef::new(ApiKeys::ParentKeyId).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_api_keys_parent")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::ParentKeyId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_api_keys_parent").table(ApiKeys::Table).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(ApiKeys::Table).drop_column(ApiKeys::ParentKeyId).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    ParentKeyId,
}
