//! The node's tests: what an answer says about its timings, and live nodes on loopback
//! stamping a request's path and counting trust transitions.
use super::*;
use crate::envelope::now_us;

fn ids(n: usize) -> Vec<NodeId> {
    (0..n).map(|_| NodeId::from(&Keypair::generate_ed25519())).collect()
}

/// An answer over `ids` whose forward stamps are `forward`, replied at `replied`, received at
/// `received`.
fn answer(ids: &[NodeId], forward: &[u64], replied: u64, received: u64) -> Answer {
    let hops: Vec<HopStamp> =
        ids.iter().zip(forward).map(|(&node, &at_us)| HopStamp { node, at_us }).collect();
    let destination = *ids.last().unwrap();
    Answer {
        receipt: Receipt { id: [1; 16], route: ids.to_vec() },
        payload: Bytes::new(),
        hops,
        reply_hops: vec![HopStamp { node: destination, at_us: replied }],
        received_at_us: received,
    }
}

#[test]
fn an_answer_gives_each_link_its_duration() {
    let ids = ids(4);
    let a = answer(&ids, &[1_000, 1_250, 3_250, 3_300], 13_300, 14_000);
    let us = Duration::from_micros;
    assert_eq!(
        a.hop_durations(),
        vec![(ids[0], ids[1], us(250)), (ids[1], ids[2], us(2_000)), (ids[2], ids[3], us(50))]
    );
    assert_eq!(a.at_destination(), Some(us(10_000)));
    assert_eq!(a.reply_leg(), Some(us(700)));
    assert_eq!(a.round_trip(), Some(us(13_000)));
}

#[test]
fn a_clock_behind_shows_as_a_zero_duration_not_an_underflow() {
    let ids = ids(3);
    // The relay's clock is 5 ms behind the origin's, the destination's 1 ms ahead.
    let a = answer(&ids, &[10_000, 5_100, 11_200], 11_300, 10_900);
    let us = Duration::from_micros;
    assert_eq!(a.hop_durations(), vec![(ids[0], ids[1], us(0)), (ids[1], ids[2], us(6_100))]);
    assert_eq!(a.reply_leg(), Some(us(0)));
    assert_eq!(a.round_trip(), Some(us(900)), "the round trip reads one clock");
}

#[test]
fn an_answer_without_stamps_has_no_durations() {
    let ids = ids(1);
    let mut a = answer(&ids, &[5], 7, 9);
    assert!(a.hop_durations().is_empty(), "one node: no link");
    assert_eq!(a.at_destination(), Some(Duration::from_micros(2)));
    a.hops.clear();
    a.reply_hops.clear();
    assert_eq!((a.at_destination(), a.reply_leg(), a.round_trip()), (None, None, None));
}

struct Live {
    handle: MeshHandle,
    inbox: mpsc::Receiver<Delivery>,
}

/// `n` live nodes on loopback linked in a line, once the first has a route to the last.
async fn line(n: usize) -> Vec<Live> {
    let mut nodes = Vec::new();
    for _ in 0..n {
        let (handle, inbox) = start(Keypair::generate_ed25519(), NodeConfig::default()).await.unwrap();
        nodes.push(Live { handle, inbox });
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
    let started = std::time::Instant::now();
    loop {
        let snapshot = nodes[0].handle.snapshot().await.unwrap();
        if snapshot.routes.iter().any(|r| r.destination == ids[n - 1] && r.hops.is_some()) {
            return nodes;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "no route from the first node to the last");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_request_s_answer_carries_every_hop_s_time_both_ways() {
    let mut nodes = line(4).await;
    let ids: Vec<NodeId> = nodes.iter().map(|n| n.handle.id()).collect();
    let mut destination = nodes.pop().unwrap();
    let server = tokio::spawn(async move {
        let delivery = destination.inbox.recv().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        delivery.responder.unwrap().respond(Bytes::from_static(b"pong")).await;
        destination
    });

    let before = now_us();
    let answer =
        nodes[0].handle.request(ids[3], Bytes::from_static(b"ping"), Duration::from_secs(10)).await.unwrap();
    let after = now_us();
    let _destination = server.await.unwrap();

    assert_eq!(&answer.payload[..], b"pong");
    assert_eq!(answer.receipt.route, ids, "the route is unchanged");
    assert_eq!(answer.hops.iter().map(|h| h.node).collect::<Vec<_>>(), ids, "origin first, destination last");
    assert_eq!(answer.reply_hops.iter().map(|h| h.node).collect::<Vec<_>>(), vec![ids[3]]);
    // These nodes share one clock: every stamp is in order, within the call.
    let mut times: Vec<u64> = answer.hops.iter().map(|h| h.at_us).collect();
    times.push(answer.reply_hops[0].at_us);
    times.push(answer.received_at_us);
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(before <= times[0] && answer.received_at_us <= after, "{before} {times:?} {after}");
    assert_eq!(answer.hop_durations().len(), 3);
    assert!(answer.at_destination().unwrap() >= Duration::from_millis(20), "the application's 20 ms");
    let links: Duration = answer.hop_durations().iter().map(|(_, _, d)| *d).sum();
    let total = links + answer.at_destination().unwrap() + answer.reply_leg().unwrap();
    assert_eq!(total, answer.round_trip().unwrap(), "one clock: the parts add up to the round trip");
}

#[tokio::test]
async fn a_request_to_itself_is_stamped_once_each_way() {
    let (handle, inbox) = start(Keypair::generate_ed25519(), NodeConfig::default()).await.unwrap();
    let me = handle.id();
    let mut node = Live { handle: handle.clone(), inbox };
    let server = tokio::spawn(async move {
        let delivery = node.inbox.recv().await.unwrap();
        delivery.responder.unwrap().respond(Bytes::from_static(b"self")).await;
    });
    let answer = handle.request(me, Bytes::new(), Duration::from_secs(10)).await.unwrap();
    server.await.unwrap();
    assert_eq!(answer.receipt.route, vec![me]);
    assert_eq!(answer.hops.len(), 1);
    assert_eq!(answer.reply_hops.len(), 1);
    assert!(answer.hops[0].at_us <= answer.reply_hops[0].at_us);
    assert_eq!(answer.reply_hops[0].at_us, answer.received_at_us);
    assert!(answer.hop_durations().is_empty());
}

#[tokio::test]
async fn trust_transitions_are_counted() {
    let nodes = line(2).await;
    let (a, b) = (&nodes[0].handle, nodes[1].handle.id());
    // The link came up: unknown → probing (handshake) → trusted (attested), on each side.
    let count = |h: &MeshHandle| h.stats().trust_transitions.load(Ordering::Relaxed);
    assert_eq!(count(a), 2);
    assert_eq!(count(&nodes[1].handle), 2);
    a.block(b, TrustEvent::OperatorBlock).unwrap();
    a.block(b, TrustEvent::OperatorBlock).unwrap(); // already blocked: no transition
    a.unblock(b).unwrap();
    // Blocked, then back to probing; the link comes back up and the peer is attested again.
    let started = std::time::Instant::now();
    let history = loop {
        let snapshot = a.snapshot().await.unwrap();
        let peer = snapshot.peers.into_iter().find(|p| p.id == b).unwrap();
        if peer.trust == TrustLevel::Trusted {
            break peer.history;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "the peer is not trusted again");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(history.len(), 5);
    assert_eq!(count(a), 5, "one count per recorded transition");
}
