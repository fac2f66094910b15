//! Invoices: the open period's draft (recomputed on every read) and finalization into
//! numbered, immutable invoices — [`finalize`] is the one place invoices are finalized.
use super::{BillingError, BillingSettings, currency, midnight, month_of, next_month, pricing};

use crate::{
    db::{self, entities},
    pagination,
};
use app::types::{
    Page,
    billing::{Currency, InvoiceLine, InvoiceStatus, InvoiceSummary, InvoiceView, Pricing},
    ids::{AccountId, InvoiceId, PlanId, ServiceId},
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use std::collections::HashMap;

type Result<T, E = BillingError> = std::result::Result<T, E>;

/// Prices one payer's unbilled calls: the invoice lines, numbered from 1.
pub(super) async fn price_lines(
    db: &impl ConnectionTrait,
    payer: &AccountId,
    period_start: NaiveDate,
    calls: &[db::billing::ServiceCalls],
) -> Result<Vec<InvoiceLine>> {
    let ids: Vec<ServiceId> = calls.iter().map(|c| c.service_id.clone()).collect();
    let services: HashMap<ServiceId, db::billing::Priced> =
        db::billing::services_by_id(db, &ids).await?.into_iter().map(|s| (s.id.clone(), s)).collect();
    let plan_ids: Vec<PlanId> = calls.iter().filter_map(|c| c.plan_id.clone()).collect();
    let plans = db::marketplace::plans_by_id(db, &plan_ids).await?;
    // Calls of each service already counted this month: earlier invoices', then this one's
    // earlier lines. A subscriber who changed plan mid-month has one group per plan, in the
    // order the plans were first used; each continues where the month's count stands.
    let mut counted: HashMap<ServiceId, i64> =
        db::billing::billed_in_period(db, payer, period_start).await?.into_iter().collect();
    let exponent = currency().exponent;
    let mut lines = Vec::new();
    for row in calls {
        let (slug, service_pricing) = match services.get(&row.service_id) {
            Some(s) => (s.slug.clone(), s.pricing.clone()),
            // Services with unbilled calls cannot be deleted; should one be missing, its calls
            // are listed at no charge rather than dropped.
            None => ("(deleted service)".to_owned(), Pricing::default()),
        };
        // A subscriber's calls are priced at their plan (plans with billed calls are never
        // deleted); the service's own pricing applies to its owner's calls.
        let (pricing, plan_name) = match row.plan_id.as_ref().and_then(|id| plans.get(id)) {
            Some(plan) => (plan.pricing.clone(), Some(plan.name.as_str())),
            None => (service_pricing, None),
        };
        let count = counted.entry(row.service_id.clone()).or_insert(0);
        let already = *count;
        *count += row.calls;
        for priced in pricing::price(&pricing, already, row.calls, exponent) {
            lines.push(InvoiceLine {
                position: i32::try_from(lines.len() + 1).unwrap_or(i32::MAX),
                service_id: row.service_id.clone(),
                service_slug: slug.clone(),
                provider_account_id: row.provider_account_id.clone(),
                plan_id: row.plan_id.clone(),
                description: match plan_name {
                    Some(plan) => format!("{plan} plan: {}", priced.description),
                    None => priced.description,
                },
                quantity: priced.quantity,
                unit_price_micros: priced.unit_price_micros,
                amount_minor: priced.amount_minor,
                first_call: priced.first_call,
                last_call: priced.last_call,
            });
        }
    }
    Ok(lines)
}

pub(super) fn totals(lines: &[InvoiceLine]) -> (i64, i64) {
    (lines.iter().map(|l| l.quantity).sum(), lines.iter().map(|l| l.amount_minor).sum())
}

/// The open period's invoice as it stands now: the payer's calls not yet invoiced, through
/// the end of the current month.
pub async fn preview(db: &DatabaseConnection, payer: &AccountId, now: DateTime<Utc>) -> Result<InvoiceView> {
    let period_start = month_of(now);
    let period_end = next_month(period_start);
    let calls = db::billing::unbilled(db, Some(payer), None, midnight(period_end)).await?;
    let lines = price_lines(db, payer, period_start, &calls).await?;
    let (total_calls, subtotal) = totals(&lines);
    Ok(InvoiceView {
        id: None,
        number: None,
        account_id: payer.clone(),
        status: InvoiceStatus::Draft,
        currency: currency(),
        period_start,
        period_end,
        lines,
        total_calls,
        subtotal_minor: subtotal,
        total_minor: subtotal,
        finalized_at: None,
    })
}

/// Finalizes one invoice: the payer's unbilled calls before `cutoff`, in the period starting
/// `period_start`. `None` when there is nothing to bill. The invoice, its lines and the
/// marking of its usage events commit together.
#[tracing::instrument(skip(db), err(level = "warn"))]
pub async fn finalize(
    db: &DatabaseConnection,
    payer: &AccountId,
    period_start: NaiveDate,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
    fee_bps: u32,
) -> Result<Option<InvoiceView>> {
    let txn = db.begin().await?;
    let calls = db::billing::unbilled(&txn, Some(payer), None, cutoff).await?;
    if calls.is_empty() {
        return Ok(None);
    }
    let lines = price_lines(&txn, payer, period_start, &calls).await?;
    let (total_calls, subtotal) = totals(&lines);
    let seq = db::billing::next_seq(&txn).await?;
    let id = InvoiceId::new(uuid::Uuid::now_v7().to_string());
    let number = format!("W4-{}{:02}-{seq:06}", period_start.year(), period_start.month());
    let currency = currency();
    let invoice = entities::invoices::Model {
        id: id.clone(),
        seq,
        number: number.clone(),
        account_id: payer.clone(),
        currency: currency.code.clone(),
        currency_exponent: i32::try_from(currency.exponent).unwrap_or(2),
        period_start,
        period_end: next_month(period_start),
        total_calls,
        subtotal_minor: subtotal,
        total_minor: subtotal,
        finalized_at: now,
    };
    let rows = lines
        .iter()
        .map(|l| entities::invoice_lines::Model {
            invoice_id: id.clone(),
            position: l.position,
            service_id: l.service_id.clone(),
            service_slug: l.service_slug.clone(),
            provider_account_id: l.provider_account_id.clone(),
            description: l.description.clone(),
            quantity: l.quantity,
            unit_price_micros: l.unit_price_micros,
            amount_minor: l.amount_minor,
            fee_minor: pricing::fee(l.amount_minor, fee_bps),
            first_call: l.first_call,
            last_call: l.last_call,
            plan_id: l.plan_id.clone(),
        })
        .collect();
    let marked = db::billing::insert_invoice(&txn, invoice.clone(), rows, cutoff).await?;
    if marked != u64::try_from(total_calls).unwrap_or(0) {
        // Every event is one call: anything else means the rows moved under us.
        return Err(anyhow::anyhow!(
            "invoice {number}: {total_calls} calls priced but {marked} events marked"
        )
        .into());
    }
    txn.commit().await?;
    tracing::info!(%number, total_calls, total_minor = subtotal, "invoice finalized");
    Ok(Some(view(invoice, lines)))
}

fn view(invoice: entities::invoices::Model, lines: Vec<InvoiceLine>) -> InvoiceView {
    InvoiceView {
        id: Some(invoice.id),
        number: Some(invoice.number),
        account_id: invoice.account_id,
        status: InvoiceStatus::Finalized,
        currency: Currency {
            code: invoice.currency,
            exponent: u32::try_from(invoice.currency_exponent).unwrap_or(2),
        },
        period_start: invoice.period_start,
        period_end: invoice.period_end,
        lines,
        total_calls: invoice.total_calls,
        subtotal_minor: invoice.subtotal_minor,
        total_minor: invoice.total_minor,
        finalized_at: Some(invoice.finalized_at),
    }
}

fn line_view(l: entities::invoice_lines::Model) -> InvoiceLine {
    InvoiceLine {
        position: l.position,
        service_id: l.service_id,
        service_slug: l.service_slug,
        provider_account_id: l.provider_account_id,
        plan_id: l.plan_id,
        description: l.description,
        quantity: l.quantity,
        unit_price_micros: l.unit_price_micros,
        amount_minor: l.amount_minor,
        first_call: l.first_call,
        last_call: l.last_call,
    }
}

/// Finalizes every period of unbilled calls before `until` (for one payer, or all): one
/// invoice per payer and calendar month, each cut at the month's end or at `until`.
pub async fn finalize_until(
    db: &DatabaseConnection,
    payer: Option<&AccountId>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
    fee_bps: u32,
) -> Result<Vec<InvoiceView>> {
    let mut invoices = Vec::new();
    // Each pass closes the earliest open month of every payer; a payer with calls in several
    // past months (the server was down at a month's end) gets one invoice per month.
    for _ in 0..1_000 {
        let due = db::billing::payers_unbilled(db, payer, until).await?;
        if due.is_empty() {
            break;
        }
        for payer in due {
            let period_start = month_of(payer.earliest);
            let cutoff = midnight(next_month(period_start)).min(until);
            if let Some(invoice) =
                finalize(db, &payer.payer_account_id, period_start, cutoff, now, fee_bps).await?
            {
                invoices.push(invoice);
            }
        }
    }
    Ok(invoices)
}

/// What the scheduler does on each tick: finalize every month that ended at least `grace`
/// before `now`.
pub async fn finalize_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    settings: &BillingSettings,
) -> Result<Vec<InvoiceView>> {
    let grace = Duration::from_std(settings.grace).unwrap_or_default();
    let until = midnight(month_of(now - grace));
    finalize_until(db, None, until, now, settings.fee_bps).await
}

/// The account's finalized invoices, newest first.
pub async fn invoices(
    db: &DatabaseConnection,
    account: &AccountId,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> Result<Page<InvoiceSummary>> {
    let limit = pagination::limit(limit);
    let before = pagination::before(cursor).map_err(|_| BillingError::BadCursor)?;
    let rows = db::billing::invoices_page(db, account, before.as_deref(), limit + 1).await?;
    Ok(pagination::finish(
        rows,
        limit,
        |r| &r.id,
        |r| InvoiceSummary {
            currency: Currency {
                code: r.currency,
                exponent: u32::try_from(r.currency_exponent).unwrap_or(2),
            },
            id: r.id,
            number: r.number,
            period_start: r.period_start,
            total_calls: r.total_calls,
            total_minor: r.total_minor,
            finalized_at: r.finalized_at,
        },
    ))
}

/// One of the account's finalized invoices.
pub async fn invoice(db: &DatabaseConnection, account: &AccountId, id: &InvoiceId) -> Result<InvoiceView> {
    let (invoice, lines) = db::billing::invoice(db, account, id).await?.ok_or(BillingError::NotFound)?;
    Ok(view(invoice, lines.into_iter().map(line_view).collect()))
}
