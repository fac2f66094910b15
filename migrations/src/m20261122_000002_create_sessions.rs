//! Portal sessions, in the exact shape `tower-sessions-sqlx-store`'s `SqliteStore` reads and
//! writes. The table is created here (not by the store's own `migrate()`) so that every piece of
//! state has a SeaORM migration with a real `down()`.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TowerSessions::Table)
                    .col(ColumnDef::new(TowerSessions::Id).text().not_null().primary_key())
                    .col(ColumnDef::new(TowerSessions::Data).blob().not_null())
                    .col(ColumnDef::new(TowerSessions::ExpiryDate).integer().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TowerSessions::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum TowerSessions {
    Table,
    Id,
    Data,
    ExpiryDate,
}
