//! The service registry: services (owned by an account) and their placements on mesh nodes,
//! with the health each hosting node last saw.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Services::Table)
                    .col(ColumnDef::new(Services::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Services::AccountId).string().not_null())
                    .col(ColumnDef::new(Services::Slug).string().not_null())
                    .col(ColumnDef::new(Services::Name).string().not_null())
                    .col(ColumnDef::new(Services::Description).string().not_null())
                    .col(ColumnDef::new(Services::Version).string().not_null())
                    .col(ColumnDef::new(Services::Tags).json().not_null())
                    // "http" or "kv".
                    .col(ColumnDef::new(Services::Kind).string().not_null())
                    // Minor units of the platform currency.
                    .col(ColumnDef::new(Services::PricePerCall).big_integer().not_null())
                    .col(ColumnDef::new(Services::Replicas).integer().not_null())
                    // "active" or "inactive".
                    .col(ColumnDef::new(Services::Status).string().not_null())
                    // Kind settings, health check and policy (JSON).
                    .col(ColumnDef::new(Services::Settings).json().not_null())
                    // Since when no placement has been healthy (null while one is).
                    .col(ColumnDef::new(Services::UnhealthySince).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Services::Available).boolean().not_null().default(true))
                    .col(ColumnDef::new(Services::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Services::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Services::Table, Services::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_services_account_slug")
                    .table(Services::Table)
                    .col(Services::AccountId)
                    .col(Services::Slug)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServicePlacements::Table)
                    .col(ColumnDef::new(ServicePlacements::ServiceId).string().not_null())
                    .col(ColumnDef::new(ServicePlacements::NodeId).string().not_null())
                    // "unknown", "passing", "warning" or "critical".
                    .col(ColumnDef::new(ServicePlacements::Health).string().not_null())
                    .col(ColumnDef::new(ServicePlacements::Output).string().not_null())
                    .col(ColumnDef::new(ServicePlacements::CheckedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(ServicePlacements::PlacedAt).timestamp_with_time_zone().not_null())
                    .primary_key(
                        Index::create().col(ServicePlacements::ServiceId).col(ServicePlacements::NodeId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ServicePlacements::Table, ServicePlacements::ServiceId)
                            .to(Services::Table, Services::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ServicePlacements::Table, ServicePlacements::NodeId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_service_placements_node_id")
                    .table(ServicePlacements::Table)
                    .col(ServicePlacements::NodeId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ServicePlacements::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Services::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Nodes {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    Id,
    AccountId,
    Slug,
    Name,
    Description,
    Version,
    Tags,
    Kind,
    PricePerCall,
    Replicas,
    Status,
    Settings,
    UnhealthySince,
    Available,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ServicePlacements {
    Table,
    ServiceId,
    NodeId,
    Health,
    Output,
    CheckedAt,
    PlacedAt,
}
