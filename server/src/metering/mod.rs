//! Usage metering: every successful invoke becomes one usage event, recorded exactly once
//! (keyed by its invoke id) and durably before the caller sees its 2xx.
//!
//! Group commit: callers hand their event to one writer task and wait; the writer takes
//! everything queued, writes it in a single transaction, and answers every waiting caller
//! when that transaction has committed. Under load one commit (and, with
//! `synchronous = FULL`, one fsync) serves hundreds of calls; alone, a call waits for its
//! own. [`Meter::record`] is the one place usage is recorded from. What was recorded is told
//! to each payer once per interval (`platform.usage.recorded`: calls per service), not once
//! per call, so the event log never costs a write per call.
use crate::{
    db::{self, entities::usage_events},
    events::{Events, platform},
};
use app::types::ids::{AccountId, KeyId, PlanId, ServiceId};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};
use tokio::sync::{mpsc, oneshot};

/// Events queued before callers wait for room (the queue never drops one).
pub const QUEUE: usize = 16_384;
/// Most events written in one transaction.
pub const MAX_BATCH: usize = 2_048;

/// One metered call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageEvent {
    pub invoke_id: uuid::Uuid,
    pub payer_account_id: AccountId,
    pub service_id: ServiceId,
    pub provider_account_id: AccountId,
    pub api_key_id: Option<KeyId>,
    /// The marketplace plan the call is billed at (`None`: the service's own pricing).
    pub plan_id: Option<PlanId>,
    pub calls: i64,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub duration_us: i64,
    pub status: u16,
    pub occurred_at: DateTime<Utc>,
}

impl From<UsageEvent> for usage_events::Model {
    fn from(e: UsageEvent) -> Self {
        usage_events::Model {
            invoke_id: e.invoke_id.to_string(),
            payer_account_id: e.payer_account_id,
            service_id: e.service_id,
            provider_account_id: e.provider_account_id,
            api_key_id: e.api_key_id,
            calls: e.calls,
            bytes_in: e.bytes_in,
            bytes_out: e.bytes_out,
            duration_us: e.duration_us,
            status: i32::from(e.status),
            occurred_at: e.occurred_at,
            invoice_id: None,
            plan_id: e.plan_id,
        }
    }
}

/// Why an event could not be recorded (the call must then not be acknowledged as a success).
#[derive(Clone, Debug, thiserror::Error)]
pub enum MeterError {
    #[error("the usage database failed: {0}")]
    Database(Arc<DbErr>),
    #[error("the meter has stopped")]
    Stopped,
    /// An event whose invoke id is already recorded for another payer or service: never
    /// dropped as a duplicate, or a reused id would make a call free.
    #[error("invoke id {0} is already recorded for another payer or service")]
    Conflict(uuid::Uuid),
}

/// Counters since start.
#[derive(Debug, Default)]
pub struct MeterStats {
    /// Events handed in.
    pub recorded: AtomicU64,
    /// Events that were already recorded (same invoke id).
    pub duplicates: AtomicU64,
    /// Transactions committed.
    pub batches: AtomicU64,
}

type Pending = (usage_events::Model, oneshot::Sender<Result<(), MeterError>>);

/// The meter: a handle to the group-commit writer.
pub struct Meter {
    tx: mpsc::Sender<Pending>,
    stats: Arc<MeterStats>,
}

/// Where the meter tells payers what was recorded, and how often.
pub struct Feed {
    pub events: Arc<Events>,
    pub every: Duration,
}

/// Calls recorded since the feed last told, per payer and service.
type Tally = Arc<Mutex<HashMap<AccountId, BTreeMap<ServiceId, i64>>>>;

impl Meter {
    /// Starts the writer over `db`; with a `feed`, also the task that tells payers.
    pub fn start(db: DatabaseConnection, feed: Option<Feed>) -> Arc<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let stats = Arc::new(MeterStats::default());
        let tally = feed.map(|feed| {
            let tally = Tally::default();
            tokio::spawn(tell_loop(feed, tally.clone()));
            tally
        });
        tokio::spawn(write_loop(db, rx, stats.clone(), tally));
        Arc::new(Self { tx, stats })
    }

    /// Records one event; returns once it is committed (or was already recorded).
    pub async fn record(&self, event: UsageEvent) -> Result<(), MeterError> {
        let (done, wait) = oneshot::channel();
        self.tx.send((event.into(), done)).await.map_err(|_| MeterError::Stopped)?;
        wait.await.map_err(|_| MeterError::Stopped)?
    }

    /// Counters since start.
    pub fn stats(&self) -> &MeterStats {
        &self.stats
    }
}

/// Every `feed.every`, tells each payer its calls recorded since the last time, per service.
async fn tell_loop(feed: Feed, tally: Tally) {
    let mut tick = tokio::time::interval(feed.every);
    tick.tick().await;
    let mut since = Utc::now();
    loop {
        tick.tick().await;
        let now = Utc::now();
        let told = std::mem::take(&mut *tally.lock().unwrap_or_else(|e| e.into_inner()));
        for (payer, services) in told {
            let data = serde_json::json!({
                "from": since,
                "to": now,
                "calls": services.values().sum::<i64>(),
                "services": services
                    .into_iter()
                    .map(|(service_id, calls)| serde_json::json!({ "service_id": service_id, "calls": calls }))
                    .collect::<Vec<_>>(),
            });
            feed.events.emit(&payer, platform::USAGE_RECORDED, data).await;
        }
        since = now;
    }
}

async fn write_loop(
    db: DatabaseConnection,
    mut rx: mpsc::Receiver<Pending>,
    stats: Arc<MeterStats>,
    tally: Option<Tally>,
) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (rows, waiting): (Vec<usage_events::Model>, Vec<_>) = batch.drain(..).unzip();
        let events = rows.len() as u64;
        let parties: Vec<_> = rows
            .iter()
            .map(|r| (r.invoke_id.clone(), r.payer_account_id.clone(), r.service_id.clone()))
            .collect();
        let started = std::time::Instant::now();
        let outcome = write(&db, rows).await;
        if outcome.is_ok() {
            crate::observability::metrics::usage_batch(events, started.elapsed());
        }
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.recorded.fetch_add(events, Ordering::Relaxed);
        let recorded = match outcome {
            Ok((new, recorded)) => {
                stats.duplicates.fetch_add(events - new.len() as u64, Ordering::Relaxed);
                if let Some(tally) = &tally {
                    count_new(tally, &parties, new);
                }
                Ok(recorded)
            }
            Err(err) => {
                tracing::error!(error = %err, events, "cannot record usage events");
                Err(MeterError::Database(Arc::new(err)))
            }
        };
        for ((id, payer, service), done) in parties.into_iter().zip(waiting) {
            let answer = match &recorded {
                Err(err) => Err(err.clone()),
                Ok(recorded) => match recorded.get(&id) {
                    Some((p, s)) if (p, s) != (&payer, &service) => {
                        tracing::error!(invoke_id = %id, "usage event refused: its id is recorded for another payer or service");
                        Err(MeterError::Conflict(id.parse().unwrap_or_default()))
                    }
                    _ => Ok(()),
                },
            };
            // A caller that gave up waiting still has its event recorded.
            let _ = done.send(answer);
        }
    }
}

/// Adds the batch's new events (`new` invoke ids among `parties`) to the tally.
fn count_new(tally: &Tally, parties: &[(String, AccountId, ServiceId)], new: Vec<String>) {
    let all = new.len() == parties.len();
    let new: std::collections::HashSet<String> =
        if all { Default::default() } else { new.into_iter().collect() };
    let mut tally = tally.lock().unwrap_or_else(|e| e.into_inner());
    for (id, payer, service) in parties {
        if all || new.contains(id) {
            *tally.entry(payer.clone()).or_default().entry(service.clone()).or_default() += 1;
        }
    }
}

/// Who a recorded event belongs to, by invoke id: read only for the ids a batch found taken.
type Recorded = HashMap<String, (AccountId, ServiceId)>;

/// Writes the batch; returns the invoke ids that were new and, when some were not, the
/// parties of every id in the batch as recorded (to tell a retry of the same call from a
/// conflict).
async fn write(
    db: &DatabaseConnection,
    rows: Vec<usage_events::Model>,
) -> Result<(Vec<String>, Recorded), DbErr> {
    let ids: Vec<String> = rows.iter().map(|r| r.invoke_id.clone()).collect();
    let events = rows.len();
    let txn = db.begin().await?;
    let new = db::usage::insert_new(&txn, rows).await?;
    let recorded =
        if new.len() < events { db::usage::recorded_parties(&txn, &ids).await? } else { Recorded::new() };
    txn.commit().await?;
    Ok((new, recorded))
}
