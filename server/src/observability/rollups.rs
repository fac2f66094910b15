//! Per-minute rollups: the in-memory aggregator every finished invoke feeds (per service and
//! per entry node: requests, errors, a latency histogram), flushed to the database every
//! `rollup_flush_secs` and on shutdown, pruned past the retention.
//!
//! The invoke path only takes a mutex for a few hash-map updates (no allocation once a
//! service's minute is open, no I/O); the flusher swaps the open minutes out under the same
//! lock and writes them afterwards, so a slow database never holds up a call. Rows are
//! appended per flush (readers add a minute's rows up), so a flush never reads or rewrites.
//!
//! Nodes' forwarded and dropped envelopes come from their cumulative heartbeat counters (the
//! `nodes` table's stats): each flush takes the delta from the previous reading. A counter
//! that went backwards means the node restarted: its new value is the delta. The first reading
//! after start is only a baseline (what it counts happened at unknown times).
use super::{InvokeRecord, metrics::known_drop_reason};
use crate::db::{
    self,
    entities::{node_rollups, service_rollups},
};
use crate::histogram::Histogram;
use crate::mesh::NodeId as MeshNodeId;
use app::types::ids::{AccountId, NodeId, ServiceId};
use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ActiveValue::NotSet, DatabaseConnection, Set, TransactionTrait};
use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::Duration,
};

/// How often rollups older than the retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// One subject's calls in one minute.
#[derive(Clone, Debug, Default)]
struct Cell {
    requests: u64,
    errors: u64,
    latency: Histogram,
}

impl Cell {
    fn add(&mut self, error: bool, ms: f64) {
        self.requests += 1;
        self.errors += u64::from(error);
        self.latency.record_ms(ms);
    }
}

/// Minutes (unix seconds of their start) of one subject not yet flushed: one or two.
type Minutes = Vec<(i64, Cell)>;

fn cell_of(minutes: &mut Minutes, minute: i64) -> &mut Cell {
    match minutes.iter().position(|(m, _)| *m == minute) {
        Some(i) => &mut minutes[i].1,
        None => {
            minutes.push((minute, Cell::default()));
            let last = minutes.len() - 1;
            &mut minutes[last].1
        }
    }
}

#[derive(Default)]
struct Open {
    services: HashMap<ServiceId, (AccountId, Minutes)>,
    nodes: HashMap<MeshNodeId, Minutes>,
}

/// A node's cumulative counters at the last reading.
#[derive(Clone, Debug, Default, PartialEq)]
struct Reading {
    forwarded: u64,
    drops: BTreeMap<String, u64>,
}

/// The aggregator, and the flusher's memory of the nodes' counters.
#[derive(Default)]
pub struct Rollups {
    open: Mutex<Open>,
    readings: Mutex<HashMap<NodeId, Reading>>,
}

/// The start of the minute `at` falls in, in unix seconds.
pub fn minute_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(60) * 60
}

/// How much a cumulative counter grew between two readings; a counter that went backwards
/// was reset (the node restarted), so all of its new value is new.
pub fn counter_delta(previous: u64, now: u64) -> u64 {
    if now >= previous { now - previous } else { now }
}

impl Rollups {
    /// Adds one finished invoke to its minute (the minute it started in).
    pub fn record(&self, record: &InvokeRecord<'_>) {
        let minute = minute_of(record.started_at);
        let ms = record.duration.as_secs_f64() * 1000.0;
        let error = record.status >= 500;
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let service = match open.services.get_mut(record.service) {
            Some(service) => service,
            None => open
                .services
                .entry(record.service.clone())
                .or_insert_with(|| (record.owner.clone(), Vec::with_capacity(2))),
        };
        cell_of(&mut service.1, minute).add(error, ms);
        if let Some(node) = record.entry {
            cell_of(open.nodes.entry(node).or_default(), minute).add(error, ms);
        }
    }

    /// The minutes of `service` not flushed yet (start, requests, errors, latency): what a
    /// chart adds to the stored rows, so a call shows at once, not after the next flush.
    pub fn pending_service(&self, service: &ServiceId) -> Vec<(DateTime<Utc>, i64, i64, Histogram)> {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.services.get(service).map(|(_, minutes)| pending(minutes)).unwrap_or_default()
    }

    /// The minutes of the entry node `node` not flushed yet (see [`Self::pending_service`]).
    pub fn pending_node(&self, node: &NodeId) -> Vec<(DateTime<Utc>, i64, i64, Histogram)> {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.nodes
            .iter()
            .find(|(id, _)| id.to_string() == node.as_str())
            .map(|(_, minutes)| pending(minutes))
            .unwrap_or_default()
    }

    fn take(&self) -> Open {
        std::mem::take(&mut *self.open.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Writes the open minutes and the nodes' counters' growth since the last flush.
    pub async fn flush(&self, db: &DatabaseConnection, now: DateTime<Utc>) -> anyhow::Result<()> {
        let nodes = db::nodes::nodes(db).await?;
        let mut grown = {
            let mut readings = self.readings.lock().unwrap_or_else(|e| e.into_inner());
            nodes
                .into_iter()
                .filter_map(|n| {
                    let drops = n.stats.drops.into_iter().filter(|(r, _)| known_drop_reason(r)).collect();
                    let now = Reading { forwarded: n.stats.forwarded, drops };
                    let before = readings.insert(n.id.clone(), now.clone())?;
                    let growth = growth(&before, &now);
                    (growth != Reading::default()).then_some((n.id, growth))
                })
                .collect::<HashMap<_, _>>()
        };
        let open = self.take();
        let services: Vec<_> = open
            .services
            .into_iter()
            .flat_map(|(service, (owner, minutes))| {
                minutes.into_iter().map(move |(minute, cell)| service_rollups::ActiveModel {
                    id: NotSet,
                    service_id: Set(service.clone()),
                    account_id: Set(owner.clone()),
                    minute: Set(at(minute)),
                    requests: Set(cell.requests as i64),
                    errors: Set(cell.errors as i64),
                    latency: Set(cell.latency),
                })
            })
            .collect();
        let this_minute = minute_of(now);
        let mut nodes = Vec::new();
        for (node, minutes) in open.nodes {
            let node = NodeId::new(node.to_string());
            for (minute, cell) in minutes {
                let carried = if minute == this_minute { grown.remove(&node) } else { None };
                nodes.push(node_row(node.clone(), minute, cell, carried.unwrap_or_default()));
            }
        }
        for (node, growth) in grown {
            nodes.push(node_row(node, this_minute, Cell::default(), growth));
        }
        if services.is_empty() && nodes.is_empty() {
            return Ok(());
        }
        let txn = db.begin().await?;
        db::observability::insert_service_rollups(&txn, services).await?;
        db::observability::insert_node_rollups(&txn, nodes).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Flushes every `every` and prunes rows older than `retention` every hour, until aborted.
    pub fn start(
        self: Arc<Self>,
        db: DatabaseConnection,
        every: Duration,
        retention: Duration,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut pruned_at: Option<tokio::time::Instant> = None;
            loop {
                tick.tick().await;
                if let Err(err) = self.flush(&db, Utc::now()).await {
                    tracing::warn!(error = %err, "cannot write the metrics rollups");
                }
                if pruned_at.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
                    pruned_at = Some(tokio::time::Instant::now());
                    let before = Utc::now() - chrono::Duration::from_std(retention).unwrap_or_default();
                    match db::observability::prune(&db, before).await {
                        Ok(0) => {}
                        Ok(rows) => tracing::debug!(rows, "old metrics rollups pruned"),
                        Err(err) => tracing::warn!(error = %err, "cannot prune the metrics rollups"),
                    }
                }
            }
        })
    }
}

fn pending(minutes: &Minutes) -> Vec<(DateTime<Utc>, i64, i64, Histogram)> {
    minutes
        .iter()
        .map(|(minute, cell)| (at(*minute), cell.requests as i64, cell.errors as i64, cell.latency.clone()))
        .collect()
}

fn at(minute: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(minute, 0).single().unwrap_or_default()
}

fn growth(before: &Reading, now: &Reading) -> Reading {
    Reading {
        forwarded: counter_delta(before.forwarded, now.forwarded),
        drops: now
            .drops
            .iter()
            .map(|(reason, n)| {
                (reason.clone(), counter_delta(before.drops.get(reason).copied().unwrap_or(0), *n))
            })
            .filter(|(_, n)| *n > 0)
            .collect(),
    }
}

fn node_row(node: NodeId, minute: i64, cell: Cell, growth: Reading) -> node_rollups::ActiveModel {
    node_rollups::ActiveModel {
        id: NotSet,
        node_id: Set(node),
        minute: Set(at(minute)),
        requests: Set(cell.requests as i64),
        errors: Set(cell.errors as i64),
        latency: Set(cell.latency),
        forwarded: Set(growth.forwarded as i64),
        drops: Set(node_rollups::DropCounts(growth.drops)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_grows_by_its_difference_and_a_reset_counts_from_zero() {
        assert_eq!(counter_delta(10, 15), 5);
        assert_eq!(counter_delta(10, 10), 0);
        // The node restarted: it counted 3 since.
        assert_eq!(counter_delta(10, 3), 3);
    }

    #[test]
    fn drops_grow_per_reason_and_new_reasons_count_whole() {
        let before = Reading { forwarded: 5, drops: [("no_route".to_owned(), 2)].into() };
        let now = Reading {
            forwarded: 9,
            drops: [("no_route".to_owned(), 2), ("backpressure".to_owned(), 4)].into(),
        };
        let g = growth(&before, &now);
        assert_eq!(g.forwarded, 4);
        assert_eq!(g.drops, [("backpressure".to_owned(), 4)].into());
    }

    #[test]
    fn minutes_start_on_the_minute() {
        let t = Utc.with_ymd_and_hms(2026, 11, 27, 13, 45, 59).unwrap();
        assert_eq!(minute_of(t), Utc.with_ymd_and_hms(2026, 11, 27, 13, 45, 0).unwrap().timestamp());
    }
}
