//! 3. Forwarding throughput and latency: 1 hop vs 3 hops on loopback.
use crate::live::{cpu_seconds, ms, percentile, start_node};
use bytes::Bytes;
use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
use web4_mesh::{NodeId, node::MeshHandle};

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

/// Messages per second, latency and CPU per message from A over 1 hop (to B) and over 3 hops
/// (to D), on a line A-B-C-D.
pub(crate) async fn forwarding() -> Result<(), String> {
    println!(
        "\n== forwarding: {PAYLOAD} B payloads over loopback, line A-B-C-D; {ROUNDS} alternating rounds \
         of {} s per case ==",
        ROUND_TIME.as_secs()
    );
    let (nodes, ids) = start_line().await?;
    let a = &nodes[0];
    let cases = [("1 hop  A->B", ids[1]), ("3 hops A->D", ids[3])];
    let rates = measure(a, cases).await;
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

/// Starts the line A-B-C-D and waits for A's 3-hop route to D; checks that envelopes from A
/// cross 1 link to B and 3 to D.
async fn start_line() -> Result<([MeshHandle; 4], Vec<NodeId>), String> {
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
    Ok((nodes, ids))
}

/// Loads each case from `a` at concurrency 1 and 32, in alternating rounds, and prints a
/// table row per case and concurrency. Returns each round's messages per second, by
/// (concurrency, case).
async fn measure(a: &MeshHandle, cases: [(&str, NodeId); 2]) -> BTreeMap<(usize, usize), Vec<f64>> {
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
    rates
}
