//! Cloud API: usage, the billing preview, invoices (with CSV/JSON export and the usage events
//! behind each line), earnings, and the operator's finalize action.
use super::error::ErrorBody;
use super::{
    caller::Caller,
    error::ApiError,
    extract::{AppJson, AppPath, Operator, PageQuery},
};
use crate::error::ErrorCode;
use crate::state::AppState;
use app::types::{
    Page,
    billing::{EarningsView, FinalizeRequest, InvoiceSummary, InvoiceView, UsageEventView, UsageReport},
    ids::InvoiceId,
};
use axum::{
    Router,
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::NaiveDate;
use serde::Deserialize;

/// Billing routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/usage", get(get_usage))
        .route("/billing/preview", get(preview_invoice))
        .route("/billing/finalize", post(finalize_invoices))
        .route("/invoices", get(list_invoices))
        .route("/invoices/{id}", get(get_invoice))
        .route("/invoices/{id}/export.json", get(export_invoice_json))
        .route("/invoices/{id}/export.csv", get(export_invoice_csv))
        .route("/invoices/{id}/lines/{position}/events", get(list_line_events))
        .route("/earnings", get(get_earnings))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageQuery {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// `GET /usage?from=YYYY-MM-DD&to=YYYY-MM-DD`: the caller's metered calls per day and service.
#[utoipa::path(get, path = "/api/v1/usage", tag = "Billing", params(("from" = Option<String>, Query, description = "First day, YYYY-MM-DD (default: 29 days before `to`)"), ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD (default: today, UTC)")), responses((status = 200, body = UsageReport), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_usage(
    caller: Caller,
    State(state): State<AppState>,
    query: Result<Query<UsageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<AppJson<UsageReport>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::new(ErrorCode::BadQuery, e.body_text()))?;
    Ok(AppJson(state.billing.usage(&caller.account.id, q.from, q.to).await?))
}

/// `GET /billing/preview`: the open period's draft invoice, as it stands now.
#[utoipa::path(get, path = "/api/v1/billing/preview", tag = "Billing", responses((status = 200, body = InvoiceView, description = "The open period's draft"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn preview_invoice(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<AppJson<InvoiceView>, ApiError> {
    Ok(AppJson(state.billing.preview(&caller.account.id).await?))
}

/// `POST /billing/finalize` (operator): finalizes every unbilled call up to now, for one
/// account or all, as the month-end scheduler would. Answers the invoices made.
#[utoipa::path(post, path = "/api/v1/billing/finalize", tag = "Billing", request_body = FinalizeRequest, responses((status = 200, body = Vec<InvoiceView>, description = "The invoices finalized"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn finalize_invoices(
    _: Operator,
    State(state): State<AppState>,
    AppJson(request): AppJson<FinalizeRequest>,
) -> Result<AppJson<Vec<InvoiceView>>, ApiError> {
    Ok(AppJson(state.billing.finalize_invoices(request.account_id.as_ref()).await?))
}

/// `GET /invoices`: the caller's finalized invoices, newest first.
#[utoipa::path(get, path = "/api/v1/invoices", tag = "Billing", params(("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "1–100, default 20")), responses((status = 200, body = Page<InvoiceSummary>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_invoices(
    caller: Caller,
    State(state): State<AppState>,
    query: PageQuery,
) -> Result<AppJson<Page<InvoiceSummary>>, ApiError> {
    Ok(AppJson(state.billing.invoices(&caller.account.id, query.cursor.as_deref(), query.limit).await?))
}

/// `GET /invoices/{id}`.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "Billing", params(("id" = String, Path, description = "The invoice's id")), responses((status = 200, body = InvoiceView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_invoice(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<InvoiceId>,
) -> Result<AppJson<InvoiceView>, ApiError> {
    Ok(AppJson(state.billing.invoice(&caller.account.id, &id).await?))
}

fn attachment(invoice: &InvoiceView, extension: &str, content_type: &'static str, body: String) -> Response {
    let name = invoice.number.clone().unwrap_or_else(|| "draft".into());
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.{extension}\"")),
        ],
        body,
    )
        .into_response()
}

/// `GET /invoices/{id}/export.json`: the invoice as a JSON file.
#[utoipa::path(get, path = "/api/v1/invoices/{id}/export.json", tag = "Billing", params(("id" = String, Path, description = "The invoice's id")), responses((status = 200, body = InvoiceView, description = "A JSON file download"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn export_invoice_json(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<InvoiceId>,
) -> Result<Response, ApiError> {
    let invoice = state.billing.invoice(&caller.account.id, &id).await?;
    let body = serde_json::to_string_pretty(&invoice).map_err(anyhow::Error::from)?;
    Ok(attachment(&invoice, "json", "application/json", body))
}

/// `GET /invoices/{id}/export.csv`: one row per line, then the total.
#[utoipa::path(get, path = "/api/v1/invoices/{id}/export.csv", tag = "Billing", params(("id" = String, Path, description = "The invoice's id")), responses((status = 200, body = String, content_type = "text/csv", description = "A CSV file download: one row per line, then the total"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn export_invoice_csv(
    caller: Caller,
    State(state): State<AppState>,
    AppPath(id): AppPath<InvoiceId>,
) -> Result<Response, ApiError> {
    let (invoice, body) = state.billing.invoice_csv(&caller.account.id, &id).await?;
    Ok(attachment(&invoice, "csv", "text/csv; charset=utf-8", body))
}

/// `GET /invoices/{id}/lines/{position}/events?cursor=&limit=`: the usage events behind a
/// line, in the order they were priced (`cursor`: events of the line already listed).
#[utoipa::path(get, path = "/api/v1/invoices/{id}/lines/{position}/events", tag = "Billing", params(("id" = String, Path, description = "The invoice's id"), ("position" = i32, Path, description = "The line's position"), ("cursor" = Option<String>, Query, description = "Events of the line already listed"), ("limit" = Option<u64>, Query, description = "1–100, default 20")), responses((status = 200, body = Page<UsageEventView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_line_events(
    caller: Caller,
    State(state): State<AppState>,
    AppPath((id, position)): AppPath<(InvoiceId, i32)>,
    query: PageQuery,
) -> Result<AppJson<Page<UsageEventView>>, ApiError> {
    let page =
        state.billing.line_events(&caller.account.id, &id, position, query.cursor.as_deref(), query.limit);
    Ok(AppJson(page.await?))
}

/// `GET /earnings`: what the caller's services billed, the platform fee, and the net.
#[utoipa::path(get, path = "/api/v1/earnings", tag = "Billing", responses((status = 200, body = EarningsView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_earnings(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<AppJson<EarningsView>, ApiError> {
    Ok(AppJson(state.billing.earnings(&caller.account.id).await?))
}
