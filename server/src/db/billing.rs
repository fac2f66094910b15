//! Queries of usage aggregates, invoices and earnings. Aggregations are plain SQL over the
//! indexed `usage_events` columns; every query names the account it is for.
use super::entities::{
    invoice_lines::{self, Entity as Lines},
    invoices::{self, Entity as Invoices},
};
use super::statement;
use app::types::ids::{AccountId, InvoiceId, PlanId, ServiceId};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Value,
};

/// Calls of one service by one payer, at one price: a marketplace plan's, or the service's
/// own (`plan_id` `None`).
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct ServiceCalls {
    pub payer_account_id: AccountId,
    pub service_id: ServiceId,
    pub provider_account_id: AccountId,
    pub plan_id: Option<PlanId>,
    pub calls: i64,
    /// When the first of these calls was made (the invoice prices a service's plans in the
    /// order they were first used).
    pub first_at: DateTime<Utc>,
}

/// Not yet invoiced calls that happened before `before`, per payer and service; for one
/// payer (`payer`) or one provider (`provider`).
pub async fn unbilled(
    db: &impl ConnectionTrait,
    payer: Option<&AccountId>,
    provider: Option<&AccountId>,
    before: DateTime<Utc>,
) -> Result<Vec<ServiceCalls>, DbErr> {
    let (column, account) = match (payer, provider) {
        (Some(p), _) => ("payer_account_id", p),
        (None, Some(p)) => ("provider_account_id", p),
        (None, None) => return Ok(Vec::new()),
    };
    let sql = format!(
        "SELECT payer_account_id, service_id, provider_account_id, plan_id, SUM(calls) AS calls, \
         MIN(occurred_at) AS first_at \
         FROM usage_events WHERE {column} = ? AND invoice_id IS NULL AND occurred_at < ? \
         GROUP BY payer_account_id, service_id, provider_account_id, plan_id \
         ORDER BY payer_account_id, service_id, first_at, plan_id"
    );
    ServiceCalls::find_by_statement(statement(&sql, [account.into(), before.into()])).all(db).await
}

/// A payer with calls not yet invoiced, and the time of the earliest.
#[derive(Clone, Debug, FromQueryResult)]
pub struct Unbilled {
    pub payer_account_id: AccountId,
    pub earliest: DateTime<Utc>,
}

/// Payers with calls not yet invoiced before `before` (optionally one payer only).
pub async fn payers_unbilled(
    db: &impl ConnectionTrait,
    payer: Option<&AccountId>,
    before: DateTime<Utc>,
) -> Result<Vec<Unbilled>, DbErr> {
    let mut sql = "SELECT payer_account_id, MIN(occurred_at) AS earliest FROM usage_events \
                   WHERE invoice_id IS NULL AND occurred_at < ?"
        .to_owned();
    let mut values: Vec<Value> = vec![before.into()];
    if let Some(payer) = payer {
        sql.push_str(" AND payer_account_id = ?");
        values.push(payer.into());
    }
    sql.push_str(" GROUP BY payer_account_id ORDER BY payer_account_id");
    Unbilled::find_by_statement(statement(&sql, values)).all(db).await
}

#[derive(FromQueryResult)]
struct Billed {
    service_id: ServiceId,
    quantity: i64,
}

/// Calls of each service (at any plan) that earlier invoices of this payer billed in the
/// period.
pub async fn billed_in_period(
    db: &impl ConnectionTrait,
    payer: &AccountId,
    period_start: NaiveDate,
) -> Result<Vec<(ServiceId, i64)>, DbErr> {
    let rows = Billed::find_by_statement(statement(
        "SELECT l.service_id AS service_id, SUM(l.quantity) AS quantity \
         FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id \
         WHERE i.account_id = ? AND i.period_start = ? GROUP BY l.service_id",
        [payer.into(), period_start.into()],
    ))
    .all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.service_id, r.quantity)).collect())
}

/// The next invoice sequence number.
pub async fn next_seq(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    #[derive(FromQueryResult)]
    struct Seq {
        seq: i64,
    }
    let row = Seq::find_by_statement(statement("SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM invoices", []))
        .one(db)
        .await?;
    Ok(row.map_or(1, |r| r.seq))
}

/// Inserts a finalized invoice with its lines and marks its usage events as invoiced.
pub async fn insert_invoice(
    db: &impl ConnectionTrait,
    invoice: invoices::Model,
    lines: Vec<invoice_lines::Model>,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let (id, account) = (invoice.id.clone(), invoice.account_id.clone());
    invoices::ActiveModel::from(invoice).insert(db).await?;
    if !lines.is_empty() {
        Lines::insert_many(lines.into_iter().map(invoice_lines::ActiveModel::from)).exec(db).await?;
    }
    let marked = db
        .execute(statement(
            "UPDATE usage_events SET invoice_id = ? \
             WHERE payer_account_id = ? AND invoice_id IS NULL AND occurred_at < ?",
            [id.into(), account.into(), before.into()],
        ))
        .await?;
    Ok(marked.rows_affected())
}

/// A page of the account's invoices, newest first.
pub async fn invoices_page(
    db: &impl ConnectionTrait,
    account: &AccountId,
    before: Option<&str>,
    limit: u64,
) -> Result<Vec<invoices::Model>, DbErr> {
    let mut query = Invoices::find().filter(invoices::Column::AccountId.eq(account));
    if let Some(before) = before {
        query = query.filter(invoices::Column::Id.lt(before));
    }
    query.order_by_desc(invoices::Column::Id).limit(limit).all(db).await
}

/// The account's invoice with this id, and its lines.
pub async fn invoice(
    db: &impl ConnectionTrait,
    account: &AccountId,
    id: &InvoiceId,
) -> Result<Option<(invoices::Model, Vec<invoice_lines::Model>)>, DbErr> {
    let Some(invoice) =
        Invoices::find_by_id(id.clone()).filter(invoices::Column::AccountId.eq(account)).one(db).await?
    else {
        return Ok(None);
    };
    let lines = Lines::find()
        .filter(invoice_lines::Column::InvoiceId.eq(id))
        .order_by_asc(invoice_lines::Column::Position)
        .all(db)
        .await?;
    Ok(Some((invoice, lines)))
}

/// The usage events behind positions `first..=last` of a service's calls on an invoice.
pub async fn line_events(
    db: &impl ConnectionTrait,
    invoice: &InvoiceId,
    service: &ServiceId,
    plan: Option<&PlanId>,
    first: i64,
    last: i64,
) -> Result<Vec<super::entities::usage_events::Model>, DbErr> {
    use super::entities::usage_events::{Column, Entity};
    let at_plan = match plan {
        Some(plan) => Column::PlanId.eq(plan),
        None => Column::PlanId.is_null(),
    };
    Entity::find()
        .filter(Column::InvoiceId.eq(invoice))
        .filter(Column::ServiceId.eq(service))
        .filter(at_plan)
        .order_by_asc(Column::OccurredAt)
        .order_by_asc(Column::InvokeId)
        .offset(u64::try_from(first - 1).unwrap_or(0))
        .limit(u64::try_from(last - first + 1).unwrap_or(0))
        .all(db)
        .await
}

/// A provider's finalized earnings per period and service.
#[derive(Clone, Debug, FromQueryResult)]
pub struct FinalizedEarnings {
    pub period_start: NaiveDate,
    pub service_id: ServiceId,
    pub service_slug: String,
    pub calls: i64,
    pub billed: i64,
    pub fee: i64,
}

/// What the provider's services billed on finalized invoices.
pub async fn finalized_earnings(
    db: &impl ConnectionTrait,
    provider: &AccountId,
) -> Result<Vec<FinalizedEarnings>, DbErr> {
    FinalizedEarnings::find_by_statement(statement(
        "SELECT i.period_start AS period_start, l.service_id AS service_id, MAX(l.service_slug) AS service_slug, \
         SUM(l.quantity) AS calls, SUM(l.amount_minor) AS billed, SUM(l.fee_minor) AS fee \
         FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE l.provider_account_id = ? \
         GROUP BY i.period_start, l.service_id ORDER BY i.period_start DESC, service_slug",
        [provider.into()],
    ))
    .all(db)
    .await
}

/// Calls per day (UTC) and service.
#[derive(Clone, Debug, FromQueryResult)]
pub struct DailyUsage {
    pub day: String,
    pub service_id: ServiceId,
    pub calls: i64,
    pub bytes_in: i64,
    pub bytes_out: i64,
}

/// The payer's calls per day and service in `[from, to)`.
pub async fn daily_usage(
    db: &impl ConnectionTrait,
    payer: &AccountId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DailyUsage>, DbErr> {
    DailyUsage::find_by_statement(statement(
        "SELECT substr(occurred_at, 1, 10) AS day, service_id, SUM(calls) AS calls, \
         SUM(bytes_in) AS bytes_in, SUM(bytes_out) AS bytes_out FROM usage_events \
         WHERE payer_account_id = ? AND occurred_at >= ? AND occurred_at < ? \
         GROUP BY day, service_id ORDER BY day, service_id",
        [payer.into(), from.into(), to.into()],
    ))
    .all(db)
    .await
}

/// Slug and pricing of services by id (deleted ones are missing).
#[derive(Clone, Debug, FromQueryResult)]
pub struct Priced {
    pub id: ServiceId,
    pub slug: String,
    pub pricing: app::types::billing::Pricing,
}

/// The services with these ids.
pub async fn services_by_id(db: &impl ConnectionTrait, ids: &[ServiceId]) -> Result<Vec<Priced>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    Priced::find_by_statement(statement(
        &format!("SELECT id, slug, pricing FROM services WHERE id IN ({marks})"),
        ids.iter().map(Value::from),
    ))
    .all(db)
    .await
}

/// Whether the service has calls not yet invoiced.
pub async fn has_unbilled(db: &impl ConnectionTrait, service: &ServiceId) -> Result<bool, DbErr> {
    #[derive(FromQueryResult)]
    struct Found {
        found: i64,
    }
    let row = Found::find_by_statement(statement(
        "SELECT EXISTS(SELECT 1 FROM usage_events WHERE service_id = ? AND invoice_id IS NULL) AS found",
        [service.into()],
    ))
    .one(db)
    .await?;
    Ok(row.is_some_and(|r| r.found != 0))
}
