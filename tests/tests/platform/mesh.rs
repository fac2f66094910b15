//! The mesh over real loopback sockets: multi-hop delivery with a verified hop record, route
//! withdrawal, blocking, backpressure, admission and reconnection.
use server::mesh::{
    DropReason, Keypair, NodeId,
    envelope::{Freshness, KeyCache},
    node::{self, Delivery, MeshHandle, NodeConfig, SendError},
    trust::{TrustEvent, TrustLevel},
};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::Receiver;

struct Node {
    handle: MeshHandle,
    inbox: Receiver<Delivery>,
    key: Keypair,
}

async fn start(config: NodeConfig) -> Node {
    let key = Keypair::generate_ed25519();
    let (handle, inbox) = node::start(key.clone(), config).await.expect("node starts");
    Node { handle, inbox, key }
}

/// `n` nodes linked in a line (each knows all the others, as the control plane would tell
/// it), waiting until the first has a route to the last.
async fn line(n: usize) -> Vec<Node> {
    let mut nodes = Vec::new();
    for _ in 0..n {
        nodes.push(start(NodeConfig::default()).await);
    }
    let ids: Vec<NodeId> = nodes.iter().map(|n| n.handle.id()).collect();
    for node in &nodes {
        for id in &ids {
            node.handle.allow(*id).unwrap();
        }
    }
    for i in 0..n - 1 {
        nodes[i].handle.link(ids[i + 1], nodes[i + 1].handle.listen_addr().clone()).unwrap();
    }
    let (first, last) = (&nodes[0].handle, ids[n - 1]);
    wait_for("a route from the first node to the last", || async {
        first.snapshot().await.unwrap().routes.iter().any(|r| r.destination == last && r.hops.is_some())
    })
    .await;
    nodes
}

async fn wait_for<F, Fut>(what: &str, mut condition: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        if condition().await {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn an_envelope_crosses_five_nodes_with_four_verified_hops() {
    let mut nodes = line(5).await;
    let ids: Vec<NodeId> = nodes.iter().map(|n| n.handle.id()).collect();

    let receipt = nodes[0].handle.send(ids[4], "across the mesh".into()).await.unwrap();

    assert_eq!(receipt.route, ids);
    let delivery = nodes[4].inbox.recv().await.unwrap();
    let envelope = delivery.envelope;
    assert_eq!(&envelope.payload[..], b"across the mesh");
    assert_eq!(envelope.hops.len(), 4, "origin plus three forwarders signed");
    assert_eq!(envelope.route().collect::<Vec<_>>(), ids[..4]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    assert!(envelope.verify(now, Freshness::default(), &mut KeyCache::default()).is_ok());
    assert_eq!(nodes[2].handle.stats().forwarded.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[tokio::test]
async fn stopping_the_middle_node_withdraws_the_route_and_sends_report_no_route() {
    let nodes = line(5).await;
    let last = nodes[4].handle.id();

    nodes[2].handle.shutdown();

    let first = &nodes[0].handle;
    wait_for("the route to be withdrawn at the origin", || async {
        matches!(first.send(last, "hello?".into()).await, Err(SendError::Dropped { reason: DropReason::NoRoute, at }) if at == first.id())
    })
    .await;
    let snapshot = first.snapshot().await.unwrap();
    assert!(
        snapshot.routes.iter().all(|r| r.destination != last || r.hops.is_none()),
        "{:?}",
        snapshot.routes
    );
    // Each drop is counted where it happened: here, at the origin itself.
    assert!(first.stats().drops()[&DropReason::NoRoute] >= 1);
}

#[tokio::test]
async fn blocking_a_node_cuts_its_traffic_within_a_second() {
    let nodes = line(4).await;
    let blocked = nodes[3].handle.id();
    let first = nodes[0].handle.id();
    assert!(nodes[0].handle.send(blocked, "before".into()).await.is_ok());

    // The control plane tells every node at once.
    for node in &nodes[..3] {
        node.handle.block(blocked, TrustEvent::OperatorBlock).unwrap();
    }

    let took = wait_for("traffic to the blocked node to be refused", || async {
        nodes[0].handle.send(blocked, "after".into()).await.is_err()
    })
    .await;
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let from_blocked = nodes[3].handle.send(first, "let me in".into()).await;
    assert!(from_blocked.is_err(), "{from_blocked:?}");
    let view = nodes[2].handle.snapshot().await.unwrap();
    let peer = view.peers.iter().find(|p| p.id == blocked).unwrap();
    assert_eq!(peer.trust, TrustLevel::Blocked);
    assert!(!peer.connected);
    assert_eq!(peer.history.last().unwrap().reason, TrustEvent::OperatorBlock);
}

#[tokio::test]
async fn a_slow_receiver_causes_backpressure_errors_while_queues_stay_bounded() {
    let config = NodeConfig { inbox: 8, peer_queue: 16, ..NodeConfig::default() };
    let sender = start(config.clone()).await;
    let receiver = start(config).await; // its inbox is never read
    for n in [&sender, &receiver] {
        n.handle.allow(sender.handle.id()).unwrap();
        n.handle.allow(receiver.handle.id()).unwrap();
    }
    sender.handle.link(receiver.handle.id(), receiver.handle.listen_addr().clone()).unwrap();
    let (s, r) = (sender.handle.clone(), receiver.handle.id());
    wait_for("the link", || async { s.send(r, "ping".into()).await.is_ok() }).await;

    let mut sends = tokio::task::JoinSet::new();
    for i in 0..200 {
        let s = sender.handle.clone();
        sends.spawn(async move { s.send(r, format!("message {i}").into()).await });
    }
    let results = sends.join_all().await;

    let delivered = results.iter().filter(|r| r.is_ok()).count();
    let backpressured = results
        .iter()
        .filter(|r| matches!(r, Err(e) if e.reason() == Some(DropReason::Backpressure)))
        .count();
    assert_eq!(delivered + backpressured, 200, "every send is answered: {results:?}");
    assert!(delivered <= 7, "the receiver's inbox holds 8 (one taken by the ping): {delivered}");
    assert!(backpressured >= 193);
    assert!(sender.handle.stats().peak_in_flight.load(std::sync::atomic::Ordering::Relaxed) <= 16);
    assert!(receiver.handle.stats().drops()[&DropReason::Backpressure] >= 1);
    drop(receiver.inbox);
}

#[tokio::test]
async fn a_peer_the_control_plane_did_not_register_is_refused() {
    let a = start(NodeConfig::default()).await;
    let stranger = start(NodeConfig::default()).await;
    a.handle.allow(a.handle.id()).unwrap();
    stranger.handle.allow(a.handle.id()).unwrap();

    stranger.handle.link(a.handle.id(), a.handle.listen_addr().clone()).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let view = a.handle.snapshot().await.unwrap();
    assert!(view.peers.iter().all(|p| !p.connected), "{:?}", view.peers);
    let sent = stranger.handle.send(a.handle.id(), "hi".into()).await;
    assert_eq!(sent.unwrap_err().reason(), Some(DropReason::NoRoute));
}

#[tokio::test]
async fn a_node_that_restarts_is_reconnected_and_routed_to_again() {
    let mut nodes = line(3).await;
    let middle_key = nodes[1].key.clone();
    let middle_addr = nodes[1].handle.listen_addr().clone();
    let ids: Vec<NodeId> = nodes.iter().map(|n| n.handle.id()).collect();

    nodes[1].handle.shutdown();
    let first = nodes[0].handle.clone();
    wait_for("the route to break", || async { first.send(ids[2], "x".into()).await.is_err() }).await;

    let config = NodeConfig { listen: middle_addr, ..NodeConfig::default() };
    let (middle, _inbox) = node::start(middle_key, config).await.expect("restarts on the same address");
    for id in &ids {
        middle.allow(*id).unwrap();
    }
    middle.link(ids[2], nodes[2].handle.listen_addr().clone()).unwrap();

    wait_for("the first node to redial and route again", || async {
        first.send(ids[2], "back".into()).await.is_ok()
    })
    .await;
    let delivered = nodes[2].inbox.recv().await.unwrap();
    assert_eq!(delivered.envelope.route().collect::<Vec<_>>(), ids[..2]);
}
