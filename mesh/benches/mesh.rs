//! Mesh benchmarks (results and how to read them: `BENCHMARKS.md`).
//!
//! ```sh
//! cargo bench -p web4-mesh --bench mesh                # everything, ~2.5 minutes on 2 cores
//! cargo bench -p web4-mesh --bench mesh -- envelope    # only the envelope micro-benchmarks
//! cargo bench -p web4-mesh --bench mesh -- forwarding  # or: routing, convergence
//! MESH_BENCH_GRIDS=10 MESH_BENCH_TIMEOUT=180 cargo bench -p web4-mesh --bench mesh -- convergence
//! ```
//!
//! 1. `envelope/*`, `routing/*`: criterion benchmarks of signing, verifying, the wire format
//!    and route advertisements (decode + apply).
//! 2. `convergence`: 25, 49 and 100 in-process nodes on a grid (loopback TCP, default node
//!    settings): time until every node has a route to every other, memory per node, and time
//!    to converge again after the middle node stops. Each grid runs in a fresh child process
//!    (this binary again, with `MESH_BENCH_GRID_CHILD` set), so its memory baseline is clean.
//! 3. `forwarding`: messages per second, send latency and CPU per message over 1 hop (A→B)
//!    and 3 hops (A→B→C→D) on loopback, measured in alternating rounds so the ratio is fair.
//!
//! Sections 2 and 3 are hand-written measurements that print tables; they run live nodes, so
//! they only run under `cargo bench` (with `--bench`), like criterion's measurements;
//! `cargo test --benches` runs each criterion benchmark once, as a smoke test. Nothing here
//! asserts on timings: a mesh that does not converge in time is reported, not failed.
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput};
use libp2p::futures::future::join_all;
use std::{
    collections::{BTreeMap, HashSet},
    hint::black_box,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
use web4_mesh::{
    Keypair, NodeId,
    envelope::{Envelope, Freshness, KeyCache, Kind},
    node::{self, MeshHandle, NodeConfig, NodeSnapshot},
    routing::{self, AdvertEntry, RoutingTable},
};

/// A fixed clock for the micro-benchmarks (verification checks freshness against it).
const NOW: u64 = 1_800_000_000_000;
const PAYLOADS: [(&str, usize); 2] = [("64B", 64), ("16KiB", 16 * 1024)];

// ---------------------------------------------------------------------------------------------
// 1. Envelope micro-benchmarks
// ---------------------------------------------------------------------------------------------

/// An envelope from `keys[0]` to `dest`, signed by the origin and then by `hops - 1` forwarders.
fn envelope_with_hops(keys: &[Keypair], dest: NodeId, hops: usize, payload: &Bytes) -> Envelope {
    let mut e = Envelope::new(&keys[0], [7; 16], Kind::Data, dest, 16, payload.clone(), NOW);
    let digest = e.digest();
    for k in &keys[1..hops] {
        e.sign_hop(k, &digest);
    }
    e
}

fn envelope_benches(c: &mut Criterion) {
    let keys: Vec<Keypair> = (0..5).map(|_| Keypair::generate_ed25519()).collect();
    let dest = NodeId::from(&keys[4]);
    let mut group = c.benchmark_group("envelope");
    group.sample_size(30).warm_up_time(Duration::from_millis(700)).measurement_time(Duration::from_secs(2));
    // One envelope per iteration: criterion's "thrpt" column is operations per second.
    group.throughput(Throughput::Elements(1));

    for (label, size) in PAYLOADS {
        let payload = Bytes::from(vec![0xA5; size]);

        // Origin: header + payload digest (SHA-256) and one Ed25519 signature.
        group.bench_with_input(BenchmarkId::new("sign_origin", label), &payload, |b, payload| {
            b.iter(|| Envelope::new(&keys[0], [7; 16], Kind::Data, dest, 16, black_box(payload.clone()), NOW))
        });

        // A forwarder appending its hop to a 1-hop envelope, given the digest (a node has it
        // from verifying). Cost is independent of the payload by design.
        let one_hop = envelope_with_hops(&keys, dest, 1, &payload);
        let digest = one_hop.digest();
        group.bench_with_input(BenchmarkId::new("sign_hop", label), &one_hop, |b, e| {
            b.iter_batched_ref(
                || e.clone(),
                |e| e.sign_hop(&keys[1], black_box(&digest)),
                criterion::BatchSize::SmallInput,
            )
        });

        // Full verification: freshness, digest over the payload, every hop's signature.
        // The key cache is warm, as on a running node (decoding a key from its id is cached).
        for hops in [1, 4] {
            let e = envelope_with_hops(&keys, dest, hops, &payload);
            let mut cache = KeyCache::default();
            e.verify(NOW, Freshness::default(), &mut cache).expect("the envelope verifies");
            group.bench_with_input(BenchmarkId::new(format!("verify_{hops}hop"), label), &e, |b, e| {
                b.iter(|| black_box(e).verify(NOW, Freshness::default(), &mut cache).unwrap())
            });
        }

        // Wire format of a 4-hop envelope: encode to bytes and parse back (no verification).
        let four = envelope_with_hops(&keys, dest, 4, &payload);
        group.bench_with_input(BenchmarkId::new("encode_decode_4hop", label), &four, |b, e| {
            b.iter(|| Envelope::decode(black_box(e).encode()).unwrap())
        });

        // What a forwarder does to each envelope in CPU terms: decode, verify the 3-hop chain,
        // append its own hop, encode again.
        let three = envelope_with_hops(&keys, dest, 3, &payload).encode();
        let mut cache = KeyCache::default();
        group.bench_with_input(BenchmarkId::new("forwarder_pipeline_3hop", label), &three, |b, bytes| {
            b.iter(|| {
                let mut e = Envelope::decode(black_box(bytes.clone())).unwrap();
                let digest = e.verify(NOW, Freshness::default(), &mut cache).unwrap();
                e.sign_hop(&keys[3], &digest);
                e.encode()
            })
        });
    }

    // The one-off cost a cold key cache adds: decoding Ed25519 public keys from node ids.
    let e = envelope_with_hops(&keys, dest, 4, &Bytes::from(vec![0xA5; 64]));
    group.bench_function("verify_4hop_cold_key_cache/64B", |b| {
        b.iter(|| black_box(&e).verify(NOW, Freshness::default(), &mut KeyCache::default()).unwrap())
    });
    group.finish();

    let mut group = c.benchmark_group("routing");
    group.sample_size(30).warm_up_time(Duration::from_millis(700)).measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(1));
    // Route advertisements: a node sends its whole table (one entry per destination) to each
    // neighbour; the receiver decodes it (each entry's node id is parsed and its Ed25519 key
    // checked) and applies it to its routing table.
    for n in [25usize, 100] {
        let ids: Vec<NodeId> = (0..n).map(|_| NodeId::from(&Keypair::generate_ed25519())).collect();
        let entries: Vec<AdvertEntry> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| AdvertEntry {
                destination: *id,
                metric: (i % 18) as u8,
                seq: NOW * 2,
                signature: [7; 64],
            })
            .collect();
        let bytes = routing::encode_advert(&entries);
        group.bench_with_input(
            BenchmarkId::new("advert_decode", format!("{n}_entries")),
            &bytes,
            |b, bytes| b.iter(|| routing::decode_advert(black_box(bytes.clone())).unwrap()),
        );
        let me = NodeId::from(&Keypair::generate_ed25519());
        let neighbor = ids[0];
        let mut table = RoutingTable::new(me, NOW);
        table.neighbor_up(neighbor);
        let mut seq = NOW * 2;
        group.bench_with_input(
            BenchmarkId::new("advert_apply", format!("{n}_entries")),
            &entries,
            |b, entries| {
                b.iter_batched_ref(
                    || {
                        // Fresher sequence numbers every time, as in the running mesh.
                        seq += 2;
                        entries.iter().map(|e| AdvertEntry { seq, ..e.clone() }).collect::<Vec<_>>()
                    },
                    |fresh| table.apply(neighbor, fresh, Instant::now()),
                    criterion::BatchSize::SmallInput,
                )
            },
        );
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Helpers for the live sections
// ---------------------------------------------------------------------------------------------

/// Starts a node with default settings and keeps its inbox drained (a full inbox would turn
/// deliveries into `Backpressure` drops).
async fn start_node() -> MeshHandle {
    let (handle, mut inbox) =
        node::start(Keypair::generate_ed25519(), NodeConfig::default()).await.expect("the node starts");
    tokio::spawn(async move { while inbox.recv().await.is_some() {} });
    handle
}

/// Resident set size of this process, in KiB (`VmRSS` in `/proc/self/status`).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// CPU time this process has used (user + system), in seconds; assumes 100 ticks a second.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which is in parentheses): utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// Every 5 s while waiting: routes present, links up, envelopes received per second (route
/// adverts, when no data flows), drops by reason, CPU use.
fn progress(
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

async fn snapshots(nodes: &[MeshHandle]) -> Vec<NodeSnapshot> {
    join_all(nodes.iter().map(|n| n.snapshot()))
        .await
        .into_iter()
        .map(|s| s.expect("a running node answers"))
        .collect()
}

/// Destinations `snapshot`'s node has a working (non-broken) route to.
fn reachable(snapshot: &NodeSnapshot) -> HashSet<NodeId> {
    snapshot.routes.iter().filter(|r| r.hops.is_some()).map(|r| r.destination).collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

// ---------------------------------------------------------------------------------------------
// 2. Route convergence and memory: up to 100 nodes on a grid
// ---------------------------------------------------------------------------------------------

const POLL: Duration = Duration::from_millis(100);

/// Routes present over all nodes, given their snapshots, leaving `except` out.
fn routes_present(snaps: &[NodeSnapshot], except: Option<NodeId>) -> usize {
    snaps.iter().map(|s| reachable(s).iter().filter(|d| Some(**d) != except).count()).sum()
}

/// `side`×`side` nodes on a grid (each linked to its right and lower neighbour): time until
/// every node has a working route to every other, RSS per node, then time to converge again
/// after the middle node stops. Gives up after `timeout` per phase.
async fn convergence(side: usize, timeout: Duration) -> Result<(), String> {
    let n = side * side;
    let diameter = 2 * (side - 1);
    println!(
        "\n== convergence: {n} nodes on a {side}x{side} grid (4-neighbour links, diameter {diameter}) =="
    );
    let rss_before = rss_kib();
    let t_start = Instant::now();
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        nodes.push(start_node().await);
    }
    let started = t_start.elapsed();
    let ids: Vec<NodeId> = nodes.iter().map(|n| n.id()).collect();
    // As the control plane would: every node admits every registered node.
    for node in &nodes {
        for id in &ids {
            node.allow(*id).map_err(|e| e.to_string())?;
        }
    }
    let mut links = 0;
    let t_link = Instant::now();
    for r in 0..side {
        for c in 0..side {
            let i = r * side + c;
            for j in
                [(c + 1 < side).then_some(i + 1), (r + 1 < side).then_some(i + side)].into_iter().flatten()
            {
                nodes[i].link(ids[j], nodes[j].listen_addr().clone()).map_err(|e| e.to_string())?;
                links += 1;
            }
        }
    }
    println!(
        "{n} nodes started (one after the other) in {} ms; {links} links requested",
        started.as_millis()
    );

    // Poll every node's routing table until every ordered pair has a working route.
    let pairs = n * (n - 1);
    let mut milestones: BTreeMap<u32, Duration> = BTreeMap::new();
    let mut last = (Duration::ZERO, cpu_seconds(), 0);
    let converged = loop {
        let snaps = snapshots(&nodes).await;
        let reached = routes_present(&snaps, None);
        let elapsed = t_link.elapsed();
        for pct in [50u32, 90, 99] {
            if reached * 100 >= pairs * pct as usize {
                milestones.entry(pct).or_insert(elapsed);
            }
        }
        if reached == pairs {
            break Ok(elapsed);
        }
        progress(&nodes, &snaps, reached, pairs, elapsed, &mut last);
        if elapsed > timeout {
            break Err(reached);
        }
        tokio::time::sleep(POLL).await;
    };
    for (pct, at) in &milestones {
        println!("{pct:>3}% of the {pairs} routes present after {:>7} ms", at.as_millis());
    }
    let converged = match converged {
        Ok(at) => {
            println!(
                "converged: all {pairs} routes after {:>7} ms (polled every {} ms)",
                at.as_millis(),
                POLL.as_millis()
            );
            true
        }
        Err(reached) => {
            println!("NOT converged after {} s: {reached}/{pairs} routes", timeout.as_secs());
            false
        }
    };
    // Let the triggered updates settle before reading memory.
    tokio::time::sleep(Duration::from_secs(1)).await;
    match (rss_before, rss_kib()) {
        (Some(before), Some(after)) => println!(
            "memory: RSS {:.1} MiB before starting, {:.1} MiB now: {:.0} KiB per node",
            mib(before),
            mib(after),
            after.saturating_sub(before) as f64 / n as f64
        ),
        _ => println!("memory: /proc/self/status unavailable"),
    }

    // Data across the grid: corner to corner, and (where the grid is wider than the default
    // hop limit of 16) to a node exactly 16 links away.
    let mut targets = vec![(side - 1, side - 1)];
    if diameter > 16 {
        targets.push((side - 1, 16 - (side - 1)));
    }
    for (r, c) in targets {
        let result = nodes[0].send(ids[r * side + c], Bytes::from_static(b"across the grid")).await;
        let outcome = match result {
            Ok(receipt) => format!("delivered over {} links", receipt.route.len() - 1),
            Err(e) => format!("failed: {e}"),
        };
        println!("send (0,0)->({r},{c}), {} links: {outcome}", r + c);
    }
    if !converged {
        for node in &nodes {
            node.shutdown();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Not converging is a result (printed above), not a failure of the benchmark.
        return Ok(());
    }

    // Remove the middle node and wait until nobody routes to it while every remaining pair
    // is still reachable.
    let victim = (side / 2) * side + side / 2;
    let victim_id = ids[victim];
    let rest: Vec<MeshHandle> =
        nodes.iter().enumerate().filter(|(i, _)| *i != victim).map(|(_, n)| n.clone()).collect();
    let rest_pairs = rest.len() * (rest.len() - 1);
    let t_remove = Instant::now();
    nodes[victim].shutdown();
    let mut withdrawn_at = None;
    let mut lowest = rest_pairs;
    let mut last = (Duration::ZERO, cpu_seconds(), 0);
    let reconverged = loop {
        let snaps = snapshots(&rest).await;
        let elapsed = t_remove.elapsed();
        let to_victim = snaps.iter().filter(|s| reachable(s).contains(&victim_id)).count();
        let reached = routes_present(&snaps, Some(victim_id));
        lowest = lowest.min(reached);
        if to_victim == 0 {
            withdrawn_at.get_or_insert(elapsed);
        }
        if to_victim == 0 && reached == rest_pairs {
            break Ok(elapsed);
        }
        progress(&rest, &snaps, reached, rest_pairs, elapsed, &mut last);
        if elapsed > timeout {
            break Err(format!(
                "{to_victim} nodes still route to the removed node, {reached}/{rest_pairs} routes among the rest"
            ));
        }
        tokio::time::sleep(POLL).await;
    };
    let (r, c) = (victim / side, victim % side);
    match reconverged {
        Ok(at) => {
            println!(
                "node ({r},{c}) stopped: no route to it after {} ms; all {rest_pairs} remaining routes \
                 working after {} ms (fewest meanwhile: {lowest})",
                withdrawn_at.unwrap_or(at).as_millis(),
                at.as_millis()
            );
        }
        Err(state) => {
            println!("node ({r},{c}) stopped: NOT reconverged after {} s: {state}", timeout.as_secs());
        }
    }
    for node in &nodes {
        node.shutdown();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 3. Forwarding throughput and latency: 1 hop vs 3 hops on loopback
// ---------------------------------------------------------------------------------------------

const PAYLOAD: usize = 1024;
const ROUNDS: usize = 3;
const ROUND_TIME: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Load {
    latencies: Vec<Duration>,
    errors: BTreeMap<String, usize>,
    wall: Duration,
    /// CPU time the whole process (all four nodes and the senders) used meanwhile, seconds.
    cpu: f64,
}

/// `concurrency` tasks sending back to back from `from` to `to` for `time`.
async fn load(from: &MeshHandle, to: NodeId, concurrency: usize, time: Duration) -> Load {
    let payload = Bytes::from(vec![0x5A; PAYLOAD]);
    let stop = Arc::new(AtomicBool::new(false));
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (from, payload, stop) = (from.clone(), payload.clone(), stop.clone());
        tasks.spawn(async move {
            let mut out = Load::default();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match from.send(to, payload.clone()).await {
                    Ok(_) => out.latencies.push(t.elapsed()),
                    Err(e) => {
                        let key = e.reason().map_or_else(|| e.to_string(), |r| r.as_str().to_string());
                        *out.errors.entry(key).or_default() += 1;
                    }
                }
            }
            out
        });
    }
    tokio::time::sleep(time).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = Load::default();
    for part in tasks.join_all().await {
        total.latencies.extend(part.latencies);
        for (k, v) in part.errors {
            *total.errors.entry(k).or_default() += v;
        }
    }
    total.wall = started.elapsed();
    total.cpu = cpu_seconds() - cpu;
    total
}

async fn forwarding() -> Result<(), String> {
    println!(
        "\n== forwarding: {PAYLOAD} B payloads over loopback, line A-B-C-D; {ROUNDS} alternating rounds \
         of {} s per case ==",
        ROUND_TIME.as_secs()
    );
    let nodes = [start_node().await, start_node().await, start_node().await, start_node().await];
    let ids: Vec<NodeId> = nodes.iter().map(|n| n.id()).collect();
    for node in &nodes {
        for id in &ids {
            node.allow(*id).map_err(|e| e.to_string())?;
        }
    }
    for i in 0..3 {
        nodes[i].link(ids[i + 1], nodes[i + 1].listen_addr().clone()).map_err(|e| e.to_string())?;
    }
    let a = &nodes[0];
    let t = Instant::now();
    loop {
        let snap = a.snapshot().await.map_err(|e| e.to_string())?;
        if snap.routes.iter().any(|r| r.destination == ids[3] && r.hops == Some(3)) {
            break;
        }
        if t.elapsed() > Duration::from_secs(30) {
            return Err("no 3-hop route from A to D after 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (dest, links) in [(ids[1], 1), (ids[3], 3)] {
        let receipt = a.send(dest, Bytes::from_static(b"hello")).await.map_err(|e| e.to_string())?;
        if receipt.route.len() != links + 1 {
            return Err(format!("expected {links} links, the receipt shows {:?}", receipt.route));
        }
    }

    let cases = [("1 hop  A->B", ids[1]), ("3 hops A->D", ids[3])];
    println!(
        "{:<12} {:>5} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>6} {:>7}  errors",
        "case", "conc", "sent ok", "msgs/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "cores", "CPU/msg"
    );
    let mut rates: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
    for concurrency in [1usize, 32] {
        // Warm-up (connections, caches, allocator), not reported.
        for (_, dest) in cases {
            load(a, dest, concurrency, Duration::from_millis(300)).await;
        }
        let mut merged: Vec<Load> = (0..cases.len()).map(|_| Load::default()).collect();
        for round in 0..ROUNDS {
            // Alternate which case goes first so drift in machine load hits both alike.
            let order: Vec<usize> = if round % 2 == 0 { vec![0, 1] } else { vec![1, 0] };
            for c in order {
                let l = load(a, cases[c].1, concurrency, ROUND_TIME).await;
                rates
                    .entry((concurrency, c))
                    .or_default()
                    .push(l.latencies.len() as f64 / l.wall.as_secs_f64());
                let m = &mut merged[c];
                m.latencies.extend(l.latencies);
                m.wall += l.wall;
                m.cpu += l.cpu;
                for (k, v) in l.errors {
                    *m.errors.entry(k).or_default() += v;
                }
            }
        }
        for (c, m) in merged.iter_mut().enumerate() {
            m.latencies.sort();
            let l = &m.latencies;
            let errors = if m.errors.is_empty() { "none".to_string() } else { format!("{:?}", m.errors) };
            println!(
                "{:<12} {:>5} {:>9} {:>9.0} {:>8} {:>8} {:>8} {:>8} {:>6.2} {:>5.0}us  {errors}",
                cases[c].0,
                concurrency,
                l.len(),
                l.len() as f64 / m.wall.as_secs_f64(),
                ms(percentile(l, 50.0)),
                ms(percentile(l, 90.0)),
                ms(percentile(l, 99.0)),
                ms(l.last().copied().unwrap_or_default()),
                m.cpu / m.wall.as_secs_f64(),
                m.cpu * 1e6 / l.len().max(1) as f64,
            );
        }
    }
    println!("per-round msgs/s (shows the noise):");
    for ((concurrency, c), r) in &rates {
        let list: Vec<String> = r.iter().map(|x| format!("{x:.0}")).collect();
        println!("  {:<12} conc {concurrency:>2}: {}", cases[*c].0, list.join(", "));
    }
    for concurrency in [1usize, 32] {
        let mean = |c: usize| {
            let r = &rates[&(concurrency, c)];
            r.iter().sum::<f64>() / r.len() as f64
        };
        println!("1-hop / 3-hop throughput ratio, concurrency {concurrency:>2}: {:.2}", mean(0) / mean(1));
    }
    let stats: Vec<String> = nodes
        .iter()
        .zip(["A", "B", "C", "D"])
        .map(|(n, name)| {
            let s = n.stats();
            let drops: u64 = s.drops().values().sum();
            format!(
                "{name}: originated {} forwarded {} delivered {} drops {drops}",
                s.originated.load(Ordering::Relaxed),
                s.forwarded.load(Ordering::Relaxed),
                s.delivered.load(Ordering::Relaxed)
            )
        })
        .collect();
    println!("node counters: {}", stats.join("; "));
    for node in &nodes {
        node.shutdown();
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------

/// The name filter given on the command line (criterion's positional argument), if any.
fn filter() -> Option<String> {
    const WITH_VALUE: [&str; 17] = [
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--measurement-time",
        "--warm-up-time",
        "--sample-size",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--nresamples",
        "--profile-time",
        "--color",
        "--output-format",
        "--plotting-backend",
        "--format",
        "-s",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut skip = false;
    for arg in &args {
        if skip {
            skip = false;
        } else if WITH_VALUE.contains(&arg.as_str()) || arg == "-b" || arg == "-c" {
            skip = true;
        } else if !arg.starts_with('-') {
            return Some(arg.clone());
        }
    }
    None
}

/// Set (to the grid's side) in the child process that runs one convergence measurement.
const GRID_CHILD: &str = "MESH_BENCH_GRID_CHILD";

fn main() {
    if let Some(side) = std::env::var(GRID_CHILD).ok().and_then(|v| v.parse::<usize>().ok()) {
        let timeout = std::env::var("MESH_BENCH_TIMEOUT").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
        let runtime =
            tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
        let result = runtime.block_on(convergence(side, Duration::from_secs(timeout)));
        runtime.shutdown_timeout(Duration::from_secs(2));
        if let Err(e) = result {
            println!("convergence FAILED: {e}");
            std::process::exit(1);
        }
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    envelope_benches(&mut criterion);
    criterion.final_summary();

    let args: Vec<String> = std::env::args().collect();
    let benchmarking = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list");
    if !benchmarking {
        println!("mesh: live sections (convergence, forwarding) run only under `cargo bench`");
        return;
    }
    let filter = filter();
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    println!(
        "\nlive sections: one process, tokio multi-thread runtime with {} worker threads",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut failed = false;
    if wanted("convergence") {
        // Smaller grids first, for contrast with the 100-node ceiling; each grid in a fresh
        // process, so its memory baseline and CPU are its own. MESH_BENCH_GRIDS="10" (grid
        // sides, comma-separated) runs other sizes; MESH_BENCH_TIMEOUT (seconds, default 30)
        // bounds each phase.
        let grids = std::env::var("MESH_BENCH_GRIDS").unwrap_or_else(|_| "5,7,10".into());
        for side in grids.split(',').filter_map(|s| s.trim().parse::<usize>().ok()).filter(|s| *s >= 2) {
            let status = std::env::current_exe().and_then(|exe| {
                std::process::Command::new(exe).arg("--bench").env(GRID_CHILD, side.to_string()).status()
            });
            if !status.as_ref().is_ok_and(|s| s.success()) {
                println!("convergence FAILED for a {side}x{side} grid: {status:?}");
                failed = true;
            }
        }
    }
    if wanted("forwarding")
        && let Err(e) = runtime.block_on(forwarding())
    {
        println!("forwarding FAILED: {e}");
        failed = true;
    }
    runtime.shutdown_timeout(Duration::from_secs(2));
    if failed {
        std::process::exit(1);
    }
}
