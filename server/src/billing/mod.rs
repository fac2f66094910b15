//! Billing: usage reports, the open period's draft invoice (recomputed on every read),
//! finalization into numbered, immutable invoices (by the scheduler after each calendar month
//! (UTC) and by the operator on demand), exports, tracing lines back to usage events, and
//! providers' earnings net of the platform fee.
//!
//! An invoice covers one payer's calls not yet invoiced that happened before its cut-off.
//! Calls are priced per service in the order they happened: the month's free calls first,
//! then the graduated tiers, continuing from calls that an earlier invoice of the same month
//! already billed. [`finalize`] is the one place invoices are finalized, where an invoice
//! event will also be published to the event log.
pub mod pricing;

use crate::{
    db::{self, entities},
    error::{Classified, Classify, ErrorCode, Problem},
    pagination,
};
use app::types::{
    Page,
    billing::{
        Currency, EarningsLine, EarningsView, InvoiceLine, InvoiceStatus, InvoiceSummary, InvoiceView,
        Pricing, UsageDay, UsageEventView, UsageReport,
    },
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use std::collections::{BTreeMap, HashMap};

/// Billing settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BillingSettings {
    /// The platform's fee on what providers' services bill, in basis points (2000 = 20%).
    pub fee_bps: u32,
    /// How often the scheduler looks for months to finalize.
    pub interval: std::time::Duration,
    /// How long after a month ends the scheduler waits before finalizing it (lets the last
    /// calls' usage land).
    pub grace: std::time::Duration,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            fee_bps: 2_000,
            interval: std::time::Duration::from_secs(60),
            grace: std::time::Duration::from_secs(60),
        }
    }
}

/// Why a billing operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("no such invoice")]
    NotFound,
    #[error("the cursor is not one this API returned")]
    BadCursor,
    #[error("{0}")]
    BadRange(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Classify for BillingError {
    fn classify(self) -> Classified {
        let problem = match self {
            BillingError::NotFound => Problem::not_found("No such invoice."),
            BillingError::BadCursor => {
                Problem::new(ErrorCode::BadCursor, "That page link (cursor) is not one this API gave out.")
            }
            BillingError::BadRange(message) => Problem::new(ErrorCode::BadRange, message),
            BillingError::Internal(err) => return Classified::Internal(err),
        };
        problem.into()
    }
}

impl From<DbErr> for BillingError {
    fn from(err: DbErr) -> Self {
        BillingError::Internal(err.into())
    }
}

type Result<T, E = BillingError> = std::result::Result<T, E>;

/// The platform currency: US dollars, amounts in cents, prices in micros.
pub fn currency() -> Currency {
    Currency::usd()
}

/// The first day of `at`'s month.
pub fn month_of(at: DateTime<Utc>) -> NaiveDate {
    NaiveDate::from_ymd_opt(at.year(), at.month(), 1).unwrap_or_default()
}

/// The first day of the next month.
pub fn next_month(day: NaiveDate) -> NaiveDate {
    let (year, month) = if day.month() == 12 { (day.year() + 1, 1) } else { (day.year(), day.month() + 1) };
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default()
}

/// Midnight UTC at the start of `day`.
pub fn midnight(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// Prices one payer's unbilled calls: the invoice lines, numbered from 1.
async fn price_lines(
    db: &impl ConnectionTrait,
    payer: &str,
    period_start: NaiveDate,
    calls: &[db::billing::ServiceCalls],
) -> Result<Vec<InvoiceLine>> {
    let ids: Vec<String> = calls.iter().map(|c| c.service_id.clone()).collect();
    let services: HashMap<String, db::billing::Priced> =
        db::billing::services_by_id(db, &ids).await?.into_iter().map(|s| (s.id.clone(), s)).collect();
    let billed: HashMap<String, i64> =
        db::billing::billed_in_period(db, payer, period_start).await?.into_iter().collect();
    let exponent = currency().exponent;
    let mut lines = Vec::new();
    for row in calls {
        let (slug, pricing) = match services.get(&row.service_id) {
            Some(s) => (s.slug.clone(), pricing::pricing_of(&s.pricing)),
            // Services with unbilled calls cannot be deleted; should one be missing, its calls
            // are listed at no charge rather than dropped.
            None => ("(deleted service)".to_owned(), Pricing::default()),
        };
        let already = billed.get(&row.service_id).copied().unwrap_or(0);
        for priced in pricing::price(&pricing, already, row.calls, exponent) {
            lines.push(InvoiceLine {
                position: i32::try_from(lines.len() + 1).unwrap_or(i32::MAX),
                service_id: row.service_id.clone(),
                service_slug: slug.clone(),
                provider_account_id: row.provider_account_id.clone(),
                description: priced.description,
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

fn totals(lines: &[InvoiceLine]) -> (i64, i64) {
    (lines.iter().map(|l| l.quantity).sum(), lines.iter().map(|l| l.amount_minor).sum())
}

/// The open period's invoice as it stands now: the payer's calls not yet invoiced, through
/// the end of the current month.
pub async fn preview(db: &DatabaseConnection, payer: &str, now: DateTime<Utc>) -> Result<InvoiceView> {
    let period_start = month_of(now);
    let period_end = next_month(period_start);
    let calls = db::billing::unbilled(db, Some(payer), None, midnight(period_end)).await?;
    let lines = price_lines(db, payer, period_start, &calls).await?;
    let (total_calls, subtotal) = totals(&lines);
    Ok(InvoiceView {
        id: None,
        number: None,
        account_id: payer.to_owned(),
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
    payer: &str,
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
    let id = uuid::Uuid::now_v7().to_string();
    let number = format!("W4-{}{:02}-{seq:06}", period_start.year(), period_start.month());
    let currency = currency();
    let invoice = entities::invoices::Model {
        id: id.clone(),
        seq,
        number: number.clone(),
        account_id: payer.to_owned(),
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
    payer: Option<&str>,
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

/// Runs [`finalize_due`] every `interval` until the task is aborted.
pub fn start_scheduler(db: DatabaseConnection, settings: BillingSettings) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(settings.interval);
        loop {
            tick.tick().await;
            match finalize_due(&db, Utc::now(), &settings).await {
                Ok(done) if !done.is_empty() => {
                    tracing::info!(invoices = done.len(), "monthly invoices finalized")
                }
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "cannot finalize monthly invoices"),
            }
        }
    })
}

/// The account's finalized invoices, newest first.
pub async fn invoices(
    db: &DatabaseConnection,
    account: &str,
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
pub async fn invoice(db: &DatabaseConnection, account: &str, id: &str) -> Result<InvoiceView> {
    let (invoice, lines) = db::billing::invoice(db, account, id).await?.ok_or(BillingError::NotFound)?;
    Ok(view(invoice, lines.into_iter().map(line_view).collect()))
}

/// The invoice as CSV: one row per line, amounts as decimals in the currency.
pub fn csv(invoice: &InvoiceView) -> Result<String> {
    let mut out = ::csv::Writer::from_writer(Vec::new());
    let write =
        |out: &mut ::csv::Writer<Vec<u8>>, row: &[String]| out.write_record(row).map_err(anyhow::Error::from);
    write(
        &mut out,
        &[
            "invoice_number",
            "period_start",
            "position",
            "service_slug",
            "service_id",
            "description",
            "quantity",
            "unit_price",
            "amount",
            "currency",
            "first_call",
            "last_call",
        ]
        .map(str::to_owned),
    )?;
    let decimals = |minor: i64| {
        let scale = 10i64.pow(invoice.currency.exponent);
        if invoice.currency.exponent == 0 {
            minor.to_string()
        } else {
            format!("{}.{:0w$}", minor / scale, (minor % scale).abs(), w = invoice.currency.exponent as usize)
        }
    };
    for line in &invoice.lines {
        write(
            &mut out,
            &[
                invoice.number.clone().unwrap_or_else(|| "draft".into()),
                invoice.period_start.to_string(),
                line.position.to_string(),
                line.service_slug.clone(),
                line.service_id.clone(),
                line.description.clone(),
                line.quantity.to_string(),
                app::types::billing::plain_units(line.unit_price_micros),
                decimals(line.amount_minor),
                invoice.currency.code.clone(),
                line.first_call.to_string(),
                line.last_call.to_string(),
            ],
        )?;
    }
    write(
        &mut out,
        &[
            invoice.number.clone().unwrap_or_else(|| "draft".into()),
            invoice.period_start.to_string(),
            String::new(),
            String::new(),
            String::new(),
            "Total".into(),
            invoice.total_calls.to_string(),
            String::new(),
            decimals(invoice.total_minor),
            invoice.currency.code.clone(),
            String::new(),
            String::new(),
        ],
    )?;
    let bytes = out.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {e}"))?;
    Ok(String::from_utf8(bytes).map_err(anyhow::Error::from)?)
}

/// The usage events behind one line of the account's finalized invoice, a page at a time
/// (`after`: how many of the line's events to skip).
pub async fn line_events(
    db: &DatabaseConnection,
    account: &str,
    invoice_id: &str,
    position: i32,
    after: i64,
    limit: Option<u64>,
) -> Result<Page<UsageEventView>> {
    let (_, lines) = db::billing::invoice(db, account, invoice_id).await?.ok_or(BillingError::NotFound)?;
    let line = lines.into_iter().find(|l| l.position == position).ok_or(BillingError::NotFound)?;
    let limit = i64::try_from(pagination::limit(limit)).unwrap_or(20);
    let first = line.first_call + after.max(0);
    let last = (first + limit - 1).min(line.last_call);
    if first > line.last_call {
        return Ok(Page { items: Vec::new(), next_cursor: None });
    }
    let rows = db::billing::line_events(db, invoice_id, &line.service_id, first, last).await?;
    let next_cursor = (last < line.last_call).then(|| (last - line.first_call + 1).to_string());
    Ok(Page {
        items: rows
            .into_iter()
            .map(|e| UsageEventView {
                invoke_id: e.invoke_id,
                service_id: e.service_id,
                api_key_id: e.api_key_id,
                calls: e.calls,
                bytes_in: e.bytes_in,
                bytes_out: e.bytes_out,
                duration_us: e.duration_us,
                status: u16::try_from(e.status).unwrap_or(0),
                occurred_at: e.occurred_at,
            })
            .collect(),
        next_cursor,
    })
}

/// The provider's earnings: finalized periods, then the open period's drafts.
pub async fn earnings(
    db: &DatabaseConnection,
    provider: &str,
    now: DateTime<Utc>,
    fee_bps: u32,
) -> Result<EarningsView> {
    let mut lines: Vec<EarningsLine> = db::billing::finalized_earnings(db, provider)
        .await?
        .into_iter()
        .map(|e| EarningsLine {
            period_start: e.period_start,
            service_id: e.service_id,
            service_slug: e.service_slug,
            calls: e.calls,
            billed_minor: e.billed,
            fee_minor: e.fee,
            net_minor: e.billed - e.fee,
            finalized: true,
        })
        .collect();
    let period_start = month_of(now);
    let open = db::billing::unbilled(db, None, Some(provider), midnight(next_month(period_start))).await?;
    let mut by_payer: BTreeMap<&str, Vec<db::billing::ServiceCalls>> = BTreeMap::new();
    for row in &open {
        by_payer.entry(row.payer_account_id.as_str()).or_default().push(row.clone());
    }
    let mut drafts: BTreeMap<(String, String), EarningsLine> = BTreeMap::new();
    for (payer, calls) in by_payer {
        for line in price_lines(db, payer, period_start, &calls).await? {
            let fee = pricing::fee(line.amount_minor, fee_bps);
            let entry =
                drafts.entry((line.service_slug.clone(), line.service_id.clone())).or_insert(EarningsLine {
                    period_start,
                    service_id: line.service_id.clone(),
                    service_slug: line.service_slug.clone(),
                    calls: 0,
                    billed_minor: 0,
                    fee_minor: 0,
                    net_minor: 0,
                    finalized: false,
                });
            entry.calls += line.quantity;
            entry.billed_minor += line.amount_minor;
            entry.fee_minor += fee;
            entry.net_minor += line.amount_minor - fee;
        }
    }
    let mut all: Vec<EarningsLine> = drafts.into_values().collect();
    all.append(&mut lines);
    Ok(EarningsView {
        currency: currency(),
        fee_bps,
        billed_minor: all.iter().map(|l| l.billed_minor).sum(),
        fee_minor: all.iter().map(|l| l.fee_minor).sum(),
        net_minor: all.iter().map(|l| l.net_minor).sum(),
        lines: all,
    })
}

/// Longest usage report.
pub const MAX_USAGE_DAYS: i64 = 366;

/// The payer's metered calls per day and service, `from..=to` (UTC days; default: the last
/// 30 days).
pub async fn usage(
    db: &DatabaseConnection,
    payer: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<UsageReport> {
    let out_of_range = || BillingError::BadRange("The dates are out of the calendar's range.".into());
    let to = to.unwrap_or_else(|| now.date_naive());
    let from = match from {
        Some(from) => from,
        None => to.checked_sub_signed(Duration::days(29)).ok_or_else(out_of_range)?,
    };
    let end = to.checked_add_signed(Duration::days(1)).ok_or_else(out_of_range)?;
    if from > to {
        return Err(BillingError::BadRange("`from` must not be after `to`.".into()));
    }
    if (to - from).num_days() >= MAX_USAGE_DAYS {
        return Err(BillingError::BadRange(format!("A report covers at most {MAX_USAGE_DAYS} days.")));
    }
    let rows = db::billing::daily_usage(db, payer, midnight(from), midnight(end)).await?;
    let ids: Vec<String> = {
        let mut ids: Vec<String> = rows.iter().map(|r| r.service_id.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let slugs: HashMap<String, String> =
        db::billing::services_by_id(db, &ids).await?.into_iter().map(|s| (s.id, s.slug)).collect();
    let days: Vec<UsageDay> = rows
        .into_iter()
        .filter_map(|r| {
            Some(UsageDay {
                day: r.day.parse().ok()?,
                service_slug: slugs.get(&r.service_id).cloned().unwrap_or_else(|| "(deleted service)".into()),
                service_id: r.service_id,
                calls: r.calls,
                bytes_in: r.bytes_in,
                bytes_out: r.bytes_out,
            })
        })
        .collect();
    Ok(UsageReport { from, to, total_calls: days.iter().map(|d| d.calls).sum(), days })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_months_in_utc() {
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(month_of(at), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(next_month(month_of(at)), NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        assert_eq!(midnight(next_month(month_of(at))), Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
    }

    #[test]
    fn csv_quotes_descriptions_and_writes_decimals() {
        let invoice = InvoiceView {
            id: Some("i".into()),
            number: Some("W4-202611-000001".into()),
            account_id: "a".into(),
            status: InvoiceStatus::Finalized,
            currency: Currency::usd(),
            period_start: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            period_end: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            lines: vec![InvoiceLine {
                position: 1,
                service_id: "s".into(),
                service_slug: "echo".into(),
                provider_account_id: "p".into(),
                description: "Calls 1–1,000".into(),
                quantity: 1000,
                unit_price_micros: 2500,
                amount_minor: 250,
                first_call: 1,
                last_call: 1000,
            }],
            total_calls: 1000,
            subtotal_minor: 250,
            total_minor: 250,
            finalized_at: None,
        };
        let text = csv(&invoice).unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(
            rows[1],
            "W4-202611-000001,2026-11-01,1,echo,s,\"Calls 1–1,000\",1000,0.0025,2.50,USD,1,1000"
        );
        assert_eq!(rows[2], "W4-202611-000001,2026-11-01,,,,Total,1000,,2.50,USD,,");
    }
}
