//! The generation of each service's proxy secret (the secret itself is derived, never stored):
//! rotating a secret bumps it.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Services::Table)
                    .add_column(
                        ColumnDef::new(Services::ProxySecretGeneration).integer().not_null().default(1),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Services::Table).drop_column(Services::ProxySecretGeneration).to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Services {
    Table,
    ProxySecretGeneration,
}
