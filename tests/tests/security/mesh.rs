//! A hosted node is run by someone else: being a member of the mesh must not let it make
//! other nodes call URLs of its choosing or act as the platform's entry node.
use reqwest::StatusCode;
use serde_json::json;
use server::{
    mesh::{Keypair, NodeId, node},
    services::wire::{self, Failure, Reply},
};
use std::{sync::atomic::Ordering, time::Duration};
use web4_tests::{
    eventually,
    fixtures::{healthy, http_service, register},
    spawn_app,
    upstream::Upstream,
};

#[tokio::test]
async fn a_member_that_is_not_an_entry_node_cannot_make_a_node_call_an_upstream() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let service =
        register(&app, &app.client, http_service("target", &upstream, json!({ "replicas": 3 }))).await;
    let service_id = service["id"].as_str().unwrap().to_owned();
    healthy(&app, &service_id, 3).await;

    // Mallory joins properly with a token and links to the first embedded node.
    let (_, secret) = app.mint_token(false).await;
    let key = Keypair::generate_ed25519();
    let me = NodeId::from(&key);
    let join = app.signed_join(&key, &me, &secret).await;
    assert_eq!(app.post_json("/api/v1/mesh/join", &join).await.status(), StatusCode::OK);
    let (mallory, _inbox) = node::start(key, node::NodeConfig::default()).await.unwrap();
    let target = &app.mesh.nodes()[0].handle;
    mallory.allow(target.id()).unwrap();
    mallory.link(target.id(), target.listen_addr().clone()).unwrap();
    eventually("mallory to reach the node", || async {
        mallory.send(target.id(), "hi".into()).await.is_ok()
    })
    .await;
    let calls_before = upstream.controls.calls.load(Ordering::Relaxed);

    // A well-formed call for a service that node hosts, signed by a member: refused.
    let payload = wire::encode_request(wire::RequestParts {
        invoke_id: [7; 16],
        trace: None,
        service_id: &service_id,
        method: "GET",
        path_and_query: "/latest/meta-data",
        timeout_ms: 1000,
        max_response_bytes: 1 << 20,
        headers: std::iter::empty(),
        body: b"",
    })
    .unwrap();
    let answer = mallory.request(target.id(), payload, Duration::from_secs(5)).await.unwrap();
    match wire::decode_reply(answer.payload).unwrap() {
        Reply::Failed { failure, message } => {
            assert_eq!(failure, Failure::NotPermitted);
            assert!(message.contains("entry nodes"), "{message}");
        }
        other => panic!("the node executed a member's call: {other:?}"),
    }
    assert_eq!(upstream.controls.calls.load(Ordering::Relaxed), calls_before, "the upstream was not called");
    mallory.shutdown();
}

#[tokio::test]
async fn forgetting_a_peer_with_envelopes_in_flight_leaves_the_node_working() {
    let keys: Vec<Keypair> = (0..3).map(|_| Keypair::generate_ed25519()).collect();
    let ids: Vec<NodeId> = keys.iter().map(NodeId::from).collect();
    let mut nodes = Vec::new();
    for key in &keys {
        nodes.push(node::start(key.clone(), node::NodeConfig::default()).await.unwrap());
    }
    for (handle, _) in &nodes {
        for id in &ids {
            handle.allow(*id).unwrap();
        }
    }
    let (a, b, c) = (&nodes[0].0, &nodes[1].0, &nodes[2].0);
    a.link(ids[1], b.listen_addr().clone()).unwrap();
    a.link(ids[2], c.listen_addr().clone()).unwrap();
    eventually("a to reach b and c", || async {
        a.send(ids[1], "hi".into()).await.is_ok() && a.send(ids[2], "hi".into()).await.is_ok()
    })
    .await;

    // b never answers (nobody reads its inbox): the requests stay in flight while a forgets b.
    let out: Vec<_> = (0..3)
        .map(|_| {
            let a = a.clone();
            let to = ids[1];
            tokio::spawn(async move { a.request(to, "wait".into(), Duration::from_secs(3)).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.forget(ids[1]).unwrap();
    for request in out {
        assert!(request.await.unwrap().is_err(), "the forgotten peer's envelopes fail");
    }

    // The node still runs and routes: its count of b's envelopes did not wrap around.
    assert!(a.send(ids[2], "still here".into()).await.is_ok());
    a.allow(ids[1]).unwrap();
    a.link(ids[1], b.listen_addr().clone()).unwrap();
    eventually("a to reach b again", || async { a.send(ids[1], "again".into()).await.is_ok() }).await;
}
