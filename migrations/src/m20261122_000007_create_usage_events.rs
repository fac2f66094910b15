//! Usage events: one row per metered call, keyed by its invoke id (so a call recorded twice
//! counts once). Append-only facts, written in batches by the meter; invoices point back at
//! them (`invoice_id`, set when an invoice is finalized).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UsageEvents::Table)
                    .col(ColumnDef::new(UsageEvents::InvokeId).string().not_null().primary_key())
                    // Who pays: the calling account.
                    .col(ColumnDef::new(UsageEvents::PayerAccountId).string().not_null())
                    .col(ColumnDef::new(UsageEvents::ServiceId).string().not_null())
                    // Who earns: the service's owner.
                    .col(ColumnDef::new(UsageEvents::ProviderAccountId).string().not_null())
                    // Null for calls made through the portal's session.
                    .col(ColumnDef::new(UsageEvents::ApiKeyId).string().null())
                    .col(ColumnDef::new(UsageEvents::Calls).big_integer().not_null())
                    .col(ColumnDef::new(UsageEvents::BytesIn).big_integer().not_null())
                    .col(ColumnDef::new(UsageEvents::BytesOut).big_integer().not_null())
                    .col(ColumnDef::new(UsageEvents::DurationUs).big_integer().not_null())
                    .col(ColumnDef::new(UsageEvents::Status).integer().not_null())
                    .col(ColumnDef::new(UsageEvents::OccurredAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(UsageEvents::InvoiceId).string().null())
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("ix_usage_events_payer", [UsageEvents::PayerAccountId, UsageEvents::OccurredAt]),
            ("ix_usage_events_provider", [UsageEvents::ProviderAccountId, UsageEvents::OccurredAt]),
            ("ix_usage_events_invoice", [UsageEvents::InvoiceId, UsageEvents::ServiceId]),
        ] {
            let mut index = Index::create();
            index.name(name).table(UsageEvents::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(UsageEvents::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum UsageEvents {
    Table,
    InvokeId,
    PayerAccountId,
    ServiceId,
    ProviderAccountId,
    ApiKeyId,
    Calls,
    BytesIn,
    BytesOut,
    DurationUs,
    Status,
    OccurredAt,
    InvoiceId,
}
