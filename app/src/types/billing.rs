//! Pricing, usage, invoices and earnings as the Cloud API and the portal show them.
//!
//! Money: every amount (a line, a total, a fee, earnings) is an integer number of the
//! platform currency's minor units (cents for USD, whose exponent is 2). Per-call prices are
//! finer than a cent, so they are integer **micros**: millionths of the currency unit
//! (`2500` micros = $0.0025). A line's amount is `quantity × price` rounded half to even to a
//! whole minor unit, once per line.
use super::ids::{AccountId, InvoiceId, KeyId, PlanId, ServiceId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Micros in one currency unit.
pub const MICROS_PER_UNIT: i64 = 1_000_000;

/// One graduated tier: calls up to `up_to` (counted within the month, after the free calls)
/// cost `price_per_call_micros` each; the last tier has no bound.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PriceTier {
    pub up_to: Option<i64>,
    pub price_per_call_micros: i64,
}

/// How a service is priced, as the service shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sea_orm::FromJsonQueryResult))]
pub struct Pricing {
    /// The first calls of each calendar month (UTC) that are free, per payer.
    pub free_calls_per_month: i64,
    /// Graduated tiers, never empty: a flat price is one unbounded tier.
    pub tiers: Vec<PriceTier>,
}

/// A currency as the platform bills in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Currency {
    /// ISO 4217 code, e.g. `USD`.
    pub code: String,
    /// Digits of the minor unit (2 for USD: amounts are cents).
    pub exponent: u32,
}

impl Currency {
    /// US dollars.
    pub fn usd() -> Self {
        Currency { code: "USD".into(), exponent: 2 }
    }

    fn symbol(&self) -> Option<&'static str> {
        match self.code.as_str() {
            "USD" => Some("$"),
            "EUR" => Some("€"),
            "GBP" => Some("£"),
            "JPY" => Some("¥"),
            _ => None,
        }
    }

    fn with_symbol(&self, negative: bool, digits: String) -> String {
        let sign = if negative { "-" } else { "" };
        match self.symbol() {
            Some(symbol) => format!("{sign}{symbol}{digits}"),
            None => format!("{sign}{digits} {}", self.code),
        }
    }

    /// `1234` → `$12.34`.
    pub fn format_minor(&self, amount: i64) -> String {
        let scale = 10i64.pow(self.exponent);
        let abs = amount.unsigned_abs();
        let digits = if self.exponent == 0 {
            abs.to_string()
        } else {
            format!("{}.{:0width$}", abs / scale as u64, abs % scale as u64, width = self.exponent as usize)
        };
        self.with_symbol(amount < 0, digits)
    }

    /// `2500` → `$0.0025` (at least the minor unit's digits, more only when needed).
    pub fn format_micros(&self, micros: i64) -> String {
        let abs = micros.unsigned_abs();
        let whole = abs / MICROS_PER_UNIT as u64;
        let mut fraction = format!("{:06}", abs % MICROS_PER_UNIT as u64);
        while fraction.len() > self.exponent as usize && fraction.ends_with('0') {
            fraction.pop();
        }
        let digits = if fraction.is_empty() { whole.to_string() } else { format!("{whole}.{fraction}") };
        self.with_symbol(micros < 0, digits)
    }
}

/// Parses a price typed in currency units (`0.0025`, `$1`, `12`) into micros: at most six
/// decimals, not negative.
pub fn parse_price(text: &str) -> Result<i64, String> {
    let text = text.trim().trim_start_matches(['$', '€', '£', '¥']).trim();
    let error = || format!("{text:?} is not a price: use a number like 0.0025 (at most 6 decimals).");
    if text.is_empty() {
        return Ok(0);
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 6
        || whole.len() > 12
    {
        return Err(error());
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| error())? };
    let fraction: i64 = format!("{fraction:0<6}").parse().map_err(|_| error())?;
    Ok(whole * MICROS_PER_UNIT + fraction)
}

impl Pricing {
    /// One flat price for every call (a single unbounded tier), if that is what this is.
    pub fn flat_price(&self) -> Option<i64> {
        match self.tiers.as_slice() {
            [only] if only.up_to.is_none() => Some(only.price_per_call_micros),
            _ => None,
        }
    }

    /// For a person: `$0.0025 per call`, `100 free calls a month, then …`.
    pub fn describe(&self, currency: &Currency) -> String {
        let prices = match self.flat_price() {
            Some(0) => "free".to_owned(),
            Some(price) => format!("{} per call", currency.format_micros(price)),
            None => self
                .tiers
                .iter()
                .map(|t| match t.up_to {
                    Some(up_to) => {
                        format!("{} per call up to {up_to}", currency.format_micros(t.price_per_call_micros))
                    }
                    None => {
                        format!("{} per call above that", currency.format_micros(t.price_per_call_micros))
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        match self.free_calls_per_month {
            0 => capitalise(&prices),
            free => format!("{free} free calls a month, then {prices}"),
        }
    }

    /// The portal form's tier text: `1000=0.002, *=0.001` (empty for a flat price).
    pub fn tiers_text(&self) -> String {
        if self.flat_price().is_some() {
            return String::new();
        }
        self.tiers
            .iter()
            .map(|t| {
                let bound = t.up_to.map_or("*".to_owned(), |u| u.to_string());
                format!("{bound}={}", plain_units(t.price_per_call_micros))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Micros as a plain decimal in currency units: `2500` → `0.0025`.
pub fn plain_units(micros: i64) -> String {
    let mut fraction = format!("{:06}", micros.rem_euclid(MICROS_PER_UNIT));
    while fraction.ends_with('0') {
        fraction.pop();
    }
    let whole = micros.div_euclid(MICROS_PER_UNIT);
    if fraction.is_empty() { whole.to_string() } else { format!("{whole}.{fraction}") }
}

/// Usage of one service on one day (UTC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageDay {
    pub day: NaiveDate,
    pub service_id: ServiceId,
    pub service_slug: String,
    pub calls: i64,
    pub bytes_in: i64,
    pub bytes_out: i64,
}

/// `GET /api/v1/usage`: the caller's metered calls per day and service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageReport {
    pub from: NaiveDate,
    /// Inclusive.
    pub to: NaiveDate,
    pub days: Vec<UsageDay>,
    pub total_calls: i64,
}

/// `draft` (the open period, recomputed on every read) or `finalized` (numbered, immutable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Draft,
    Finalized,
}

/// One line: a service's calls in one tier (or its free calls).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvoiceLine {
    /// 1-based position on the invoice.
    pub position: i32,
    pub service_id: ServiceId,
    pub service_slug: String,
    pub provider_account_id: AccountId,
    /// The marketplace plan the calls were made on (`None`: the service's own pricing).
    pub plan_id: Option<PlanId>,
    /// e.g. `Free calls`, `Calls 1–10,000`, `Pro plan: Calls above 10,000`.
    pub description: String,
    pub quantity: i64,
    pub unit_price_micros: i64,
    pub amount_minor: i64,
    /// The calls behind this line: positions `first_call..=last_call` (1-based) of the
    /// service's calls on this invoice, ordered by time then invoke id; listed by
    /// `GET /api/v1/invoices/{id}/lines/{position}/events`.
    pub first_call: i64,
    pub last_call: i64,
}

/// An invoice: the payer's metered calls in one calendar month (UTC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvoiceView {
    /// `None` for the draft.
    pub id: Option<InvoiceId>,
    /// e.g. `W4-202611-000042`; `None` for the draft.
    pub number: Option<String>,
    pub account_id: AccountId,
    pub status: InvoiceStatus,
    pub currency: Currency,
    pub period_start: NaiveDate,
    /// Exclusive: the first day of the next month.
    pub period_end: NaiveDate,
    pub lines: Vec<InvoiceLine>,
    pub total_calls: i64,
    pub subtotal_minor: i64,
    pub total_minor: i64,
    pub finalized_at: Option<DateTime<Utc>>,
}

/// A finalized invoice in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvoiceSummary {
    pub id: InvoiceId,
    pub number: String,
    pub period_start: NaiveDate,
    pub total_calls: i64,
    pub total_minor: i64,
    pub currency: Currency,
    pub finalized_at: DateTime<Utc>,
}

/// A usage event behind an invoice line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageEventView {
    pub invoke_id: String,
    pub service_id: ServiceId,
    pub api_key_id: Option<KeyId>,
    pub calls: i64,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub duration_us: i64,
    pub status: u16,
    pub occurred_at: DateTime<Utc>,
}

/// What one of the provider's services earned in one period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EarningsLine {
    pub period_start: NaiveDate,
    pub service_id: ServiceId,
    pub service_slug: String,
    pub calls: i64,
    /// What payers were billed.
    pub billed_minor: i64,
    /// The platform's fee.
    pub fee_minor: i64,
    /// `billed - fee`.
    pub net_minor: i64,
    /// From finalized invoices (`true`) or the open period's drafts (`false`).
    pub finalized: bool,
}

/// `GET /api/v1/earnings`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EarningsView {
    pub currency: Currency,
    /// The platform fee in basis points (2000 = 20%).
    pub fee_bps: u32,
    pub lines: Vec<EarningsLine>,
    pub billed_minor: i64,
    pub fee_minor: i64,
    pub net_minor: i64,
}

/// Operator: `POST /api/v1/billing/finalize`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FinalizeRequest {
    /// One account; omitted: every account with unbilled usage.
    #[serde(default)]
    pub account_id: Option<AccountId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats_in_minor_units_and_micros() {
        let usd = Currency::usd();
        assert_eq!(usd.format_minor(1234), "$12.34");
        assert_eq!(usd.format_minor(5), "$0.05");
        assert_eq!(usd.format_minor(-120), "-$1.20");
        assert_eq!(usd.format_micros(2500), "$0.0025");
        assert_eq!(usd.format_micros(1_000_000), "$1.00");
        assert_eq!(usd.format_micros(10_000), "$0.01");
        let chf = Currency { code: "CHF".into(), exponent: 2 };
        assert_eq!(chf.format_minor(100), "1.00 CHF");
        let jpy = Currency { code: "JPY".into(), exponent: 0 };
        assert_eq!(jpy.format_minor(500), "¥500");
    }

    #[test]
    fn pricing_reads_well_and_round_trips_through_the_form() {
        let usd = Currency::usd();
        let flat = Pricing {
            free_calls_per_month: 0,
            tiers: vec![PriceTier { up_to: None, price_per_call_micros: 2500 }],
        };
        assert_eq!(flat.describe(&usd), "$0.0025 per call");
        assert_eq!(flat.tiers_text(), "");
        let tiered = Pricing {
            free_calls_per_month: 100,
            tiers: vec![
                PriceTier { up_to: Some(1000), price_per_call_micros: 2000 },
                PriceTier { up_to: None, price_per_call_micros: 1000 },
            ],
        };
        assert_eq!(
            tiered.describe(&usd),
            "100 free calls a month, then $0.002 per call up to 1000, $0.001 per call above that"
        );
        assert_eq!(tiered.tiers_text(), "1000=0.002, *=0.001");
        assert_eq!(plain_units(12_500_000), "12.5");
    }

    #[test]
    fn prices_parse_to_micros() {
        assert_eq!(parse_price("0.0025"), Ok(2500));
        assert_eq!(parse_price("$1"), Ok(1_000_000));
        assert_eq!(parse_price(" 12.5 "), Ok(12_500_000));
        assert_eq!(parse_price(".5"), Ok(500_000));
        assert_eq!(parse_price(""), Ok(0));
        for bad in ["-1", "0.0000001", "abc", "1.2.3", "."] {
            assert!(parse_price(bad).is_err(), "{bad}");
        }
    }
}
