//! Finalizes every finished calendar month's invoices, soon after it ends.
use super::BillingSettings;
use super::invoice::finalize_due;
use crate::events::Events;
use chrono::Utc;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Runs [`finalize_due`] every `interval` until the task is aborted; tells each payer.
pub fn start_scheduler(
    db: DatabaseConnection,
    settings: BillingSettings,
    events: Arc<Events>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(settings.interval);
        loop {
            tick.tick().await;
            match finalize_due(&db, Utc::now(), &settings).await {
                Ok(done) if !done.is_empty() => {
                    tracing::info!(invoices = done.len(), "monthly invoices finalized");
                    super::tell_finalized(&events, &done).await;
                }
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "cannot finalize monthly invoices"),
            }
        }
    })
}
