//! A member node must not be able to pull routes through itself by advertising destinations
//! it is not, with sequence numbers it invented.
use server::mesh::{
    Keypair, NodeId,
    envelope::{Envelope, Kind},
    node::{self, NodeConfig},
    routing::{self, AdvertEntry},
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

#[tokio::test]
async fn a_forged_advert_with_a_huge_sequence_number_does_not_move_a_route() {
    // victim — honest — far, in a line; mallory is linked to the victim too.
    let keys: Vec<Keypair> = (0..4).map(|_| Keypair::generate_ed25519()).collect();
    let ids: Vec<NodeId> = keys.iter().map(NodeId::from).collect();
    let mut nodes = Vec::new();
    for key in &keys {
        nodes.push(node::start(key.clone(), NodeConfig::default()).await.unwrap());
    }
    for (handle, _) in &nodes {
        for id in &ids {
            handle.allow(*id).unwrap();
        }
    }
    let (victim, honest, far, mallory) = (&nodes[0].0, &nodes[1].0, ids[2], &nodes[3].0);
    victim.link(ids[1], honest.listen_addr().clone()).unwrap();
    honest.link(far, nodes[2].0.listen_addr().clone()).unwrap();
    mallory.link(ids[0], victim.listen_addr().clone()).unwrap();
    let route_to_far = || async {
        victim.snapshot().await.unwrap().routes.into_iter().find(|r| r.destination == far && r.hops.is_some())
    };
    let started = std::time::Instant::now();
    while route_to_far().await.is_none_or(|r| r.next_hop != ids[1]) {
        assert!(started.elapsed() < Duration::from_secs(15), "no route to the far node");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    while !victim.snapshot().await.unwrap().peers.iter().any(|p| p.id == ids[3] && p.connected) {
        assert!(started.elapsed() < Duration::from_secs(15), "mallory never connected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Mallory claims to be one hop from the far node, with a sequence number from the future
    // and with a fresh-looking one — signed by herself: she cannot sign as the far node — and
    // a route to a node that is no member at all.
    let stranger = NodeId::from(&Keypair::generate_ed25519());
    let entry = |destination: NodeId, seq: u64| AdvertEntry {
        destination,
        metric: 0,
        seq,
        signature: keys[3].sign(&routing::seq_message(destination, seq)).unwrap().try_into().unwrap(),
    };
    let quiet = vec![entry(far, u64::MAX - 1), entry(stranger, now_ms() * 2)];
    let loud = vec![entry(far, now_ms() * 2 + 2)];
    for advert in [&quiet, &quiet, &quiet, &loud] {
        let payload = routing::encode_advert(advert);
        let envelope = Envelope::new(&keys[3], rand_id(), Kind::RouteAdvert, ids[0], 1, payload, now_ms());
        mallory.inject(ids[0], envelope.encode().to_vec()).unwrap();
    }
    // Wait until the victim has judged the last one: refused, and counted against mallory.
    let bad = || victim.stats().drops()[&server::mesh::DropReason::BadSignature];
    while bad() < 1 {
        assert!(started.elapsed() < Duration::from_secs(30), "the forged adverts never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let route = route_to_far().await.expect("the route to the far node survives");
    assert_eq!(route.next_hop, ids[1], "the route still goes through the honest node");
    let view = victim.snapshot().await.unwrap();
    assert!(view.routes.iter().all(|r| r.destination != stranger), "no route to a non-member");
    // And traffic to the far node still arrives there.
    assert!(victim.send(far, "still here".into()).await.is_ok());
}

fn rand_id() -> [u8; 16] {
    *uuid::Uuid::now_v7().as_bytes()
}
