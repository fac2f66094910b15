//! The mesh's control plane: join tokens, registered nodes, and every trust transition.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(JoinTokens::Table)
                    .col(ColumnDef::new(JoinTokens::Id).string().not_null().primary_key())
                    // SHA-256 of the secret: the secret itself is shown once and never stored.
                    .col(ColumnDef::new(JoinTokens::SecretHash).string().not_null().unique_key())
                    .col(ColumnDef::new(JoinTokens::Prefix).string().not_null())
                    .col(ColumnDef::new(JoinTokens::Note).string().not_null())
                    .col(ColumnDef::new(JoinTokens::Reusable).boolean().not_null())
                    .col(ColumnDef::new(JoinTokens::ExpiresAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(JoinTokens::RevokedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(JoinTokens::Uses).integer().not_null().default(0))
                    .col(ColumnDef::new(JoinTokens::CreatedBy).string().not_null())
                    .col(ColumnDef::new(JoinTokens::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(JoinTokens::Table, JoinTokens::CreatedBy)
                            .to(Accounts::Table, Accounts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Nodes::Table)
                    // The node id (derived from its Ed25519 public key).
                    .col(ColumnDef::new(Nodes::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Nodes::Name).string().not_null())
                    // "embedded" (runs inside a `serve` process) or "hosted" (joined with a token).
                    .col(ColumnDef::new(Nodes::Kind).string().not_null())
                    .col(ColumnDef::new(Nodes::Address).string().not_null())
                    .col(ColumnDef::new(Nodes::Labels).json().not_null())
                    .col(ColumnDef::new(Nodes::Version).string().not_null())
                    .col(ColumnDef::new(Nodes::JoinTokenId).string().null())
                    // Administrative status: "active", "draining" or "blocked".
                    .col(ColumnDef::new(Nodes::Status).string().not_null())
                    .col(ColumnDef::new(Nodes::TrustLevel).string().not_null())
                    .col(ColumnDef::new(Nodes::LastHeartbeatAt).timestamp_with_time_zone().null())
                    // The node's last reported counters, peers and routes (JSON).
                    .col(ColumnDef::new(Nodes::Stats).json().not_null())
                    .col(ColumnDef::new(Nodes::RegisteredAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Nodes::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Nodes::Table, Nodes::JoinTokenId)
                            .to(JoinTokens::Table, JoinTokens::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NodeTrustEvents::Table)
                    .col(
                        ColumnDef::new(NodeTrustEvents::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(NodeTrustEvents::NodeId).string().not_null())
                    .col(ColumnDef::new(NodeTrustEvents::FromLevel).string().not_null())
                    .col(ColumnDef::new(NodeTrustEvents::ToLevel).string().not_null())
                    .col(ColumnDef::new(NodeTrustEvents::Reason).string().not_null())
                    .col(ColumnDef::new(NodeTrustEvents::At).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(NodeTrustEvents::Table, NodeTrustEvents::NodeId)
                            .to(Nodes::Table, Nodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_node_trust_events_node_id")
                    .table(NodeTrustEvents::Table)
                    .col(NodeTrustEvents::NodeId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(NodeTrustEvents::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Nodes::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(JoinTokens::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum JoinTokens {
    Table,
    Id,
    SecretHash,
    Prefix,
    Note,
    Reusable,
    ExpiresAt,
    RevokedAt,
    Uses,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Nodes {
    Table,
    Id,
    Name,
    Kind,
    Address,
    Labels,
    Version,
    JoinTokenId,
    Status,
    TrustLevel,
    LastHeartbeatAt,
    Stats,
    RegisteredAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NodeTrustEvents {
    Table,
    Id,
    NodeId,
    FromLevel,
    ToLevel,
    Reason,
    At,
}
