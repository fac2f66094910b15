//! Billing: usage reports, the open period's draft invoice (recomputed on every read),
//! finalization into numbered, immutable invoices (by the scheduler after each calendar month
//! (UTC) and by the operator on demand), exports, tracing lines back to usage events, and
//! providers' earnings net of the platform fee.
//!
//! An invoice covers one payer's calls not yet invoiced that happened before its cut-off.
//! Calls are priced per service in the order they happened: the month's free calls first,
//! then the graduated tiers, continuing from calls that an earlier invoice of the same month
//! already billed. [`finalize`] is the one place invoices are finalized; the façade and the
//! scheduler tell each payer (`platform.invoice.finalized`).
pub mod earnings;
pub mod export;
pub mod invoice;
pub mod pricing;
pub mod scheduler;
pub mod usage;

pub use earnings::earnings;
pub use export::{csv, line_events};
pub use invoice::{finalize, finalize_due, finalize_until, invoice, invoices, preview};
pub use scheduler::start_scheduler;
pub use usage::{MAX_USAGE_DAYS, usage};

use crate::{
    error::{Classified, Classify, ErrorCode, Problem},
    events::{Events, platform},
};
use app::types::{
    Page,
    billing::{Currency, EarningsView, InvoiceSummary, InvoiceView, UsageEventView, UsageReport},
    ids::{AccountId, InvoiceId},
};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use std::sync::Arc;

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

/// Billing's use cases, as the Cloud API and the portal call them: every read scoped to the
/// caller's account; finalizing is the operator's.
pub struct Billing {
    db: DatabaseConnection,
    settings: BillingSettings,
    /// Told about finalized invoices (`platform.invoice.finalized`).
    events: Arc<Events>,
}

/// Tells each invoice's payer that it was finalized.
async fn tell_finalized(events: &Events, invoices: &[InvoiceView]) {
    for invoice in invoices {
        let data = serde_json::json!({
            "invoice_id": invoice.id,
            "number": invoice.number,
            "period_start": invoice.period_start,
            "period_end": invoice.period_end,
            "total_calls": invoice.total_calls,
            "total_minor": invoice.total_minor,
            "currency": invoice.currency,
        });
        events.emit(&invoice.account_id, platform::INVOICE_FINALIZED, data).await;
    }
}

impl Billing {
    /// Billing over `db` with `settings` (the platform fee, the scheduler's period).
    pub fn new(db: DatabaseConnection, settings: BillingSettings, events: Arc<Events>) -> Self {
        Self { db, settings, events }
    }

    /// Starts finalizing each finished month's invoices.
    pub fn start_scheduler(&self) -> tokio::task::JoinHandle<()> {
        start_scheduler(self.db.clone(), self.settings, self.events.clone())
    }

    /// The account's metered calls per day and service, between two dates (inclusive;
    /// by default the last 30 days).
    pub async fn usage(
        &self,
        account: &AccountId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<UsageReport> {
        usage(&self.db, account, from, to, Utc::now()).await
    }

    /// The open period's draft invoice, as it stands now.
    pub async fn preview(&self, account: &AccountId) -> Result<InvoiceView> {
        preview(&self.db, account, Utc::now()).await
    }

    /// Finalizes every unbilled call up to now, for one account or all (the operator's act).
    pub async fn finalize_invoices(&self, account: Option<&AccountId>) -> Result<Vec<InvoiceView>> {
        let now = Utc::now();
        let done = finalize_until(&self.db, account, now, now, self.settings.fee_bps).await?;
        tell_finalized(&self.events, &done).await;
        Ok(done)
    }

    /// The account's finalized invoices, newest first.
    pub async fn invoices(
        &self,
        account: &AccountId,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Page<InvoiceSummary>> {
        invoices(&self.db, account, cursor, limit).await
    }

    /// One of the account's invoices.
    pub async fn invoice(&self, account: &AccountId, id: &InvoiceId) -> Result<InvoiceView> {
        invoice(&self.db, account, id).await
    }

    /// One of the account's invoices as CSV: one row per line, then the total.
    pub async fn invoice_csv(&self, account: &AccountId, id: &InvoiceId) -> Result<(InvoiceView, String)> {
        let invoice = self.invoice(account, id).await?;
        let csv = csv(&invoice)?;
        Ok((invoice, csv))
    }

    /// The usage events behind an invoice line, in the order they were priced; `cursor` is
    /// the number of the line's events already listed.
    pub async fn line_events(
        &self,
        account: &AccountId,
        invoice: &InvoiceId,
        position: i32,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Page<UsageEventView>> {
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => 0,
            Some(c) => c.parse::<i64>().ok().filter(|n| *n >= 0).ok_or(BillingError::BadCursor)?,
        };
        line_events(&self.db, account, invoice, position, after, limit).await
    }

    /// What the account's services billed, the platform fee, and the net.
    pub async fn earnings(&self, account: &AccountId) -> Result<EarningsView> {
        earnings(&self.db, account, Utc::now(), self.settings.fee_bps).await
    }
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
}
