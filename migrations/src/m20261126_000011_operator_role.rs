//! The role that runs the platform is called `operator` everywhere — on the wire, in the portal
//! and here — instead of `admin`.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rename(manager, "admin", "operator").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rename(manager, "operator", "admin").await
    }
}

async fn rename(manager: &SchemaManager<'_>, from: &str, to: &str) -> Result<(), DbErr> {
    let update = Query::update()
        .table(Accounts::Table)
        .value(Accounts::Role, to)
        .and_where(Expr::col(Accounts::Role).eq(from))
        .to_owned();
    manager.exec_stmt(update).await
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Role,
}
