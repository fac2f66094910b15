//! Helpers for the live sections (2 and 3): nodes, snapshots, and what the process uses.
use libp2p::futures::future::join_all;
use std::{
    collections::{BTreeMap, HashSet},
    sync::atomic::Ordering,
    time::Duration,
};
use web4_mesh::{
    Keypair, NodeId,
    node::{self, MeshHandle, NodeConfig, NodeSnapshot},
};

/// Starts a node with default settings and keeps its inbox drained (a full inbox would turn
/// deliveries into `Backpressure` drops).
pub(crate) async fn start_node() -> MeshHandle {
    let (handle, mut inbox) =
        node::start(Keypair::generate_ed25519(), NodeConfig::default()).await.expect("the node starts");
    tokio::spawn(async move { while inbox.recv().await.is_some() {} });
    handle
}

/// Resident set size of this process, in KiB (`VmRSS` in `/proc/self/status`).
pub(crate) fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// CPU time this process has used (user + system), in seconds; assumes 100 ticks a second.
pub(crate) fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which is in parentheses): utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// Every 5 s while waiting: routes present, links up, envelopes received per second (route
/// adverts, when no data flows), drops by reason, CPU use.
pub(crate) fn progress(
    nodes: &[MeshHandle],
    snaps: &[NodeSnapshot],
    reached: usize,
    pairs: usize,
    elapsed: Duration,
    last: &mut (Duration, f64, u64),
) {
    if elapsed < last.0 + Duration::from_secs(5) {
        return;
    }
    let cpu = cpu_seconds();
    let received: u64 = nodes.iter().map(|n| n.stats().received.load(Ordering::Relaxed)).sum();
    let secs = (elapsed - last.0).as_secs_f64();
    let (cores, rate) = ((cpu - last.1) / secs, received.saturating_sub(last.2) as f64 / secs);
    *last = (elapsed, cpu, received);
    let links: usize =
        snaps.iter().map(|s| s.peers.iter().filter(|p| p.connected).count()).sum::<usize>() / 2;
    let in_flight = snaps.iter().flat_map(|s| &s.peers).map(|p| p.in_flight).max().unwrap_or(0);
    let mut drops: BTreeMap<&str, u64> = BTreeMap::new();
    for n in nodes {
        for (reason, count) in n.stats().drops() {
            if count > 0 {
                *drops.entry(reason.as_str()).or_default() += count;
            }
        }
    }
    println!(
        "  .. {:>5.1} s: {reached}/{pairs} routes, {links} links up, {rate:.0} envelopes/s received \
         (periodic adverts alone: {}/s), max {in_flight} in flight to a peer, {cores:.2} cores busy, \
         drops so far {drops:?}",
        elapsed.as_secs_f64(),
        2 * links
    );
}

pub(crate) async fn snapshots(nodes: &[MeshHandle]) -> Vec<NodeSnapshot> {
    join_all(nodes.iter().map(|n| n.snapshot()))
        .await
        .into_iter()
        .map(|s| s.expect("a running node answers"))
        .collect()
}

/// Destinations `snapshot`'s node has a working (non-broken) route to.
pub(crate) fn reachable(snapshot: &NodeSnapshot) -> HashSet<NodeId> {
    snapshot.routes.iter().filter(|r| r.hops.is_some()).map(|r| r.destination).collect()
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}
