//! What a provider's services billed, the platform fee, and the net.
use super::invoice::price_lines;
use super::{BillingError, currency, midnight, month_of, next_month, pricing};
use crate::db::{self};
use app::types::{
    billing::{EarningsLine, EarningsView},
    ids::{AccountId, ServiceId},
};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use std::collections::BTreeMap;

type Result<T, E = BillingError> = std::result::Result<T, E>;

/// The provider's earnings: finalized periods, then the open period's drafts.
pub async fn earnings(
    db: &DatabaseConnection,
    provider: &AccountId,
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
    let mut by_payer: BTreeMap<&AccountId, Vec<db::billing::ServiceCalls>> = BTreeMap::new();
    for row in &open {
        by_payer.entry(&row.payer_account_id).or_default().push(row.clone());
    }
    let mut drafts: BTreeMap<(String, ServiceId), EarningsLine> = BTreeMap::new();
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
