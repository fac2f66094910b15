//! Usage reports: an account's metered calls per day and service.
use super::{BillingError, midnight};
use crate::db::{self};
use app::types::{
    billing::{UsageDay, UsageReport},
    ids::{AccountId, ServiceId},
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::DatabaseConnection;
use std::collections::HashMap;

type Result<T, E = BillingError> = std::result::Result<T, E>;

/// Longest usage report.
pub const MAX_USAGE_DAYS: i64 = 366;

/// The payer's metered calls per day and service, `from..=to` (UTC days; default: the last
/// 30 days).
pub async fn usage(
    db: &DatabaseConnection,
    payer: &AccountId,
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
    let ids: Vec<ServiceId> = {
        let mut ids: Vec<ServiceId> = rows.iter().map(|r| r.service_id.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let slugs: HashMap<ServiceId, String> =
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
