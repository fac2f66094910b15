//! Invoices as files (CSV), and each invoice line traced back to the usage events it prices.
use super::BillingError;
use crate::{
    db::{self},
    pagination,
};
use app::types::{
    Page,
    billing::{InvoiceView, UsageEventView},
    ids::{AccountId, InvoiceId},
};
use sea_orm::DatabaseConnection;

type Result<T, E = BillingError> = std::result::Result<T, E>;

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
                line.service_id.to_string(),
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
    account: &AccountId,
    invoice_id: &InvoiceId,
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
    let rows = db::billing::line_events(db, invoice_id, &line.service_id, line.plan_id.as_ref(), first, last)
        .await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use app::types::billing::{Currency, InvoiceLine, InvoiceStatus};
    use chrono::NaiveDate;

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
                plan_id: None,
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
