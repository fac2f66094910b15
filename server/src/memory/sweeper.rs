//! The expiry sweeper: reads already treat an expired value as absent; this task writes the
//! `expire` tombstone that makes the expiry a revision of its own, visible in history (and to
//! watchers, once there are any), as JetStream's per-message TTL markers do.
use super::store::KvStore;
use std::{sync::Arc, time::Duration};

/// Most tombstones one pass writes, so one pass never holds the database for long.
const BATCH: u64 = 500;

/// Runs passes every `interval` until aborted; a failed pass is logged and retried next time.
pub fn start(store: Arc<dyn KvStore>, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            // Keep going while passes are full: a backlog drains without waiting a tick each.
            loop {
                match store.expire_due(BATCH).await {
                    Ok(n) if n as u64 == BATCH => continue,
                    Ok(_) => break,
                    Err(err) => {
                        tracing::warn!(error = %err, "kv expiry sweep failed");
                        break;
                    }
                }
            }
        }
    })
}
