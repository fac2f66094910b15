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
        service_id: &service_id,
        method: "GET",
        path_and_query: "/latest/meta-data",
        timeout_ms: 1000,
        max_response_bytes: 1 << 20,
        headers: std::iter::empty(),
        body: b"",
    });
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
