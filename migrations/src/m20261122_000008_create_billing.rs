//! Billing: a service's pricing (free calls per month and graduated tiers, prices in micros)
//! replaces the flat `price_per_call` in minor units; finalized invoices and their lines,
//! which triggers keep immutable.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .alter_table(
                Table::alter()
                    .table(Services::Table)
                    .add_column(ColumnDef::new(Services::Pricing).json().not_null().default("{}"))
                    .to_owned(),
            )
            .await?;
        // Minor units of USD (cents) → micros: × 10 000.
        db.execute_unprepared(
            "UPDATE services SET pricing = json_object('free_calls_per_month', 0, 'tiers', \
             json_array(json_object('up_to', NULL, 'price_per_call_micros', price_per_call * 10000)))",
        )
        .await?;
        manager
            .alter_table(Table::alter().table(Services::Table).drop_column(Services::PricePerCall).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Invoices::Table)
                    .col(ColumnDef::new(Invoices::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Invoices::Seq).big_integer().not_null().unique_key())
                    .col(ColumnDef::new(Invoices::Number).string().not_null().unique_key())
                    .col(ColumnDef::new(Invoices::AccountId).string().not_null())
                    .col(ColumnDef::new(Invoices::Currency).string().not_null())
                    .col(ColumnDef::new(Invoices::CurrencyExponent).integer().not_null())
                    .col(ColumnDef::new(Invoices::PeriodStart).date().not_null())
                    .col(ColumnDef::new(Invoices::PeriodEnd).date().not_null())
                    .col(ColumnDef::new(Invoices::TotalCalls).big_integer().not_null())
                    .col(ColumnDef::new(Invoices::SubtotalMinor).big_integer().not_null())
                    .col(ColumnDef::new(Invoices::TotalMinor).big_integer().not_null())
                    .col(ColumnDef::new(Invoices::FinalizedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invoices::Table, Invoices::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_invoices_account")
                    .table(Invoices::Table)
                    .col(Invoices::AccountId)
                    .col(Invoices::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InvoiceLines::Table)
                    .col(ColumnDef::new(InvoiceLines::InvoiceId).string().not_null())
                    .col(ColumnDef::new(InvoiceLines::Position).integer().not_null())
                    .col(ColumnDef::new(InvoiceLines::ServiceId).string().not_null())
                    .col(ColumnDef::new(InvoiceLines::ServiceSlug).string().not_null())
                    .col(ColumnDef::new(InvoiceLines::ProviderAccountId).string().not_null())
                    .col(ColumnDef::new(InvoiceLines::Description).string().not_null())
                    .col(ColumnDef::new(InvoiceLines::Quantity).big_integer().not_null())
                    .col(ColumnDef::new(InvoiceLines::UnitPriceMicros).big_integer().not_null())
                    .col(ColumnDef::new(InvoiceLines::AmountMinor).big_integer().not_null())
                    // The platform's fee on this line, at the rate in force when finalized.
                    .col(ColumnDef::new(InvoiceLines::FeeMinor).big_integer().not_null())
                    .col(ColumnDef::new(InvoiceLines::FirstCall).big_integer().not_null())
                    .col(ColumnDef::new(InvoiceLines::LastCall).big_integer().not_null())
                    .primary_key(Index::create().col(InvoiceLines::InvoiceId).col(InvoiceLines::Position))
                    .foreign_key(
                        ForeignKey::create()
                            .from(InvoiceLines::Table, InvoiceLines::InvoiceId)
                            .to(Invoices::Table, Invoices::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_invoice_lines_provider")
                    .table(InvoiceLines::Table)
                    .col(InvoiceLines::ProviderAccountId)
                    .to_owned(),
            )
            .await?;
        // Finalized means final: the database itself refuses to change or remove an invoice.
        for table in ["invoices", "invoice_lines"] {
            for op in ["UPDATE", "DELETE"] {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_immutable_{} BEFORE {op} ON {table} \
                     BEGIN SELECT RAISE(ABORT, 'finalized invoices are immutable'); END",
                    op.to_lowercase()
                ))
                .await?;
            }
        }
        // An event, once on an invoice, stays on it.
        db.execute_unprepared(
            "CREATE TRIGGER usage_events_invoiced_immutable BEFORE UPDATE ON usage_events \
             WHEN OLD.invoice_id IS NOT NULL \
             BEGIN SELECT RAISE(ABORT, 'invoiced usage is immutable'); END",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP TRIGGER IF EXISTS usage_events_invoiced_immutable").await?;
        for table in ["invoices", "invoice_lines"] {
            for op in ["update", "delete"] {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {table}_immutable_{op}")).await?;
            }
        }
        manager.drop_table(Table::drop().table(InvoiceLines::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Invoices::Table).to_owned()).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Services::Table)
                    .add_column(ColumnDef::new(Services::PricePerCall).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "UPDATE services SET price_per_call = \
             COALESCE(json_extract(pricing, '$.tiers[0].price_per_call_micros'), 0) / 10000",
        )
        .await?;
        manager
            .alter_table(Table::alter().table(Services::Table).drop_column(Services::Pricing).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    PricePerCall,
    Pricing,
}

#[derive(DeriveIden)]
enum Invoices {
    Table,
    Id,
    Seq,
    Number,
    AccountId,
    Currency,
    CurrencyExponent,
    PeriodStart,
    PeriodEnd,
    TotalCalls,
    SubtotalMinor,
    TotalMinor,
    FinalizedAt,
}

#[derive(DeriveIden)]
enum InvoiceLines {
    Table,
    InvoiceId,
    Position,
    ServiceId,
    ServiceSlug,
    ProviderAccountId,
    Description,
    Quantity,
    UnitPriceMicros,
    AmountMinor,
    FeeMinor,
    FirstCall,
    LastCall,
}
