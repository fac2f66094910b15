//! 2. Route convergence and memory: up to 100 nodes on a grid.
use crate::live::{cpu_seconds, mib, progress, reachable, rss_kib, snapshots, start_node};
use bytes::Bytes;
use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};
use web4_mesh::{
    NodeId,
    node::{MeshHandle, NodeSnapshot},
};

const POLL: Duration = Duration::from_millis(100);

/// Routes present over all nodes, given their snapshots, leaving `except` out.
fn routes_present(snaps: &[NodeSnapshot], except: Option<NodeId>) -> usize {
    snaps.iter().map(|s| reachable(s).iter().filter(|d| Some(**d) != except).count()).sum()
}

/// `side`×`side` nodes on a grid (each linked to its right and lower neighbour): time until
/// every node has a working route to every other, RSS per node, then time to converge again
/// after the middle node stops. Gives up after `timeout` per phase.
pub(crate) async fn convergence(side: usize, timeout: Duration) -> Result<(), String> {
    let n = side * side;
    let diameter = 2 * (side - 1);
    println!(
        "\n== convergence: {n} nodes on a {side}x{side} grid (4-neighbour links, diameter {diameter}) =="
    );
    let rss_before = rss_kib();
    let (nodes, ids, t_link) = start_grid(side).await?;
    let converged = wait_converged(&nodes, t_link, timeout).await;
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
    send_across(&nodes, &ids, side, diameter).await;
    if !converged {
        stop(&nodes).await;
        // Not converging is a result (printed above), not a failure of the benchmark.
        return Ok(());
    }
    remove_middle(&nodes, &ids, side, timeout).await;
    stop(&nodes).await;
    Ok(())
}

/// Starts the `side`×`side` nodes, admits every node on every node and links each to its
/// right and lower neighbour. Returns the nodes, their ids and when the links were requested.
async fn start_grid(side: usize) -> Result<(Vec<MeshHandle>, Vec<NodeId>, Instant), String> {
    let n = side * side;
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
    Ok((nodes, ids, t_link))
}

/// Waits, at most `timeout` after `t_link`, until every node has a working route to every
/// other; prints when 50, 90, 99 and 100% of the routes were there. Returns whether they all
/// were.
async fn wait_converged(nodes: &[MeshHandle], t_link: Instant, timeout: Duration) -> bool {
    let n = nodes.len();
    // Poll every node's routing table until every ordered pair has a working route.
    let pairs = n * (n - 1);
    let mut milestones: BTreeMap<u32, Duration> = BTreeMap::new();
    let mut last = (Duration::ZERO, cpu_seconds(), 0);
    let converged = loop {
        let snaps = snapshots(nodes).await;
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
        progress(nodes, &snaps, reached, pairs, elapsed, &mut last);
        if elapsed > timeout {
            break Err(reached);
        }
        tokio::time::sleep(POLL).await;
    };
    for (pct, at) in &milestones {
        println!("{pct:>3}% of the {pairs} routes present after {:>7} ms", at.as_millis());
    }
    match converged {
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
    }
}

/// Sends data across the grid and prints the outcome.
async fn send_across(nodes: &[MeshHandle], ids: &[NodeId], side: usize, diameter: usize) {
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
}

/// Stops the middle node; prints how long until no node routes to it and every other pair
/// is reachable again (or that this did not happen within `timeout`).
async fn remove_middle(nodes: &[MeshHandle], ids: &[NodeId], side: usize, timeout: Duration) {
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
}

/// Shuts every node down and gives their links a moment to close.
async fn stop(nodes: &[MeshHandle]) {
    for node in nodes {
        node.shutdown();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}
