//! Finalizes every finished calendar month's invoices, soon after it ends.
use super::BillingSettings;
use super::invoice::finalize_due;
use chrono::Utc;
use sea_orm::DatabaseConnection;

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
