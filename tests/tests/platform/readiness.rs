//! What the platform reports as healthy is callable at that moment: discovery and the gateway
//! agree, a health check takes the path a call takes (so a placement the entry node cannot
//! reach is never offered, whatever its node claims), and a call that meets a keep-alive
//! connection the upstream closed is not failed for it.
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;
use std::sync::atomic::Ordering;
use web4_tests::{
    TestApp, error_of, eventually,
    fixtures::{discovery, healthy, http_service, json_of, node_ids, register},
    spawn_app, spawn_app_with, unlimited,
    upstream::{ClosingUpstream, Upstream},
};

#[tokio::test]
async fn every_service_is_callable_the_moment_discovery_shows_it_healthy() {
    let app = spawn_app_with(unlimited).await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let app = &app;
    let upstream = &upstream;

    // 50 services, eight registered at a time, each invoked the instant discovery lists an
    // instance.
    use futures::StreamExt;
    let calls: Vec<(StatusCode, String)> = futures::stream::iter((0..50).map(|i| async move {
        let body = http_service(&format!("svc-{i}"), upstream, json!({ "replicas": 1 }));
        let service = register(app, &app.client, body).await;
        let id = service["id"].as_str().unwrap().to_owned();
        eventually("discovery to list a healthy instance", || async {
            !discovery(app, &app.client, &id).await["instances"].as_array().unwrap().is_empty()
        })
        .await;
        let response =
            app.invoker().await.get(app.url(&format!("/api/v1/invoke/{id}/ping"))).send().await.unwrap();
        let status = response.status();
        (status, if status == StatusCode::OK { String::new() } else { response.text().await.unwrap() })
    }))
    .buffer_unordered(8)
    .collect()
    .await;

    let failed: Vec<_> = calls.iter().filter(|(s, _)| *s != StatusCode::OK).collect();
    assert!(failed.is_empty(), "{} of 50 first calls failed: {failed:?}", failed.len());
}

#[tokio::test]
async fn an_idempotent_call_on_a_connection_the_upstream_closed_is_sent_again_on_a_new_one() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = ClosingUpstream::start().await;
    // One check when placed, then none for an hour: only the calls below use the pool.
    let service = register(
        &app,
        &app.client,
        json!({ "slug": "closer", "replicas": 1,
            "http": { "upstream_url": upstream.url(), "timeout_ms": 2000 },
            "health_check": { "path": "/health", "interval_ms": 3_600_000, "timeout_ms": 1000 },
            "policy": { "retries": 0, "breaker_failures": 5, "breaker_cooldown_ms": 1000 } }),
    )
    .await;
    let id = service["id"].as_str().unwrap();
    healthy(&app, id, 1).await;
    let url = app.url(&format!("/api/v1/invoke/{id}/x"));

    // The health check's connection is pooled; each GET meets it (or the last GET's) closed.
    for _ in 0..4 {
        assert_eq!(app.invoker().await.get(&url).send().await.unwrap().status(), StatusCode::OK);
    }
    let dropped = upstream.dropped.load(Ordering::Relaxed);
    assert!(dropped >= 2, "the calls met closed connections {dropped} times");
    assert_eq!(upstream.answered.load(Ordering::Relaxed), 5, "the check and the four calls");

    // A POST may have been acted on: it is not sent again, and the caller hears why.
    let answered = upstream.answered.load(Ordering::Relaxed);
    let response = app.invoker().await.post(&url).body("once").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(error_of(response).await.0, "upstream_unreachable");
    assert_eq!(upstream.answered.load(Ordering::Relaxed), answered);
}

/// Sends a heartbeat for `key`'s node, signed as the node protocol requires.
async fn heartbeat(app: &TestApp, key: &server::mesh::Keypair, extra: Value) -> StatusCode {
    let id = server::mesh::NodeId::from(key).to_string();
    let sent_at_ms = chrono::Utc::now().timestamp_millis();
    let stats = json!({ "originated": 0, "delivered": 0, "forwarded": 0, "received": 0, "drops": {}, "peers": [], "routes": [] });
    let mut body = json!({ "node_id": id, "sent_at_ms": sent_at_ms, "stats": stats });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let body = body.to_string();
    let mut message = server::nodes::HEARTBEAT_SIGNING_TAG.to_vec();
    message.extend_from_slice(&sha2::Sha256::digest(body.as_bytes()));
    let signature = server::secrets::b64(&key.sign(&message).unwrap());
    let response = app
        .client
        .post(app.url("/api/v1/mesh/heartbeat"))
        .header("content-type", "application/json")
        .header("x-web4-node-id", id)
        .header("x-web4-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert!(status.is_success(), "{:?}", response.text().await);
    status
}

#[tokio::test]
async fn a_placement_the_entry_node_cannot_reach_is_never_offered_whatever_its_node_claims() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    // A node that joins properly and heartbeats, but runs no mesh node anyone can reach.
    let (_, secret) = app.mint_token(false).await;
    let key = server::mesh::Keypair::generate_ed25519();
    let ghost = server::mesh::NodeId::from(&key).to_string();
    let join = app.signed_join(&key, &ghost.parse().unwrap(), &secret).await;
    assert_eq!(app.post_json("/api/v1/mesh/join", &join).await.status(), StatusCode::OK);
    let service =
        register(&app, &app.client, http_service("everywhere", &upstream, json!({ "replicas": 4 }))).await;
    let id = service["id"].as_str().unwrap().to_owned();

    // It keeps heartbeating, and claims (in the field older nodes used) that its checks pass.
    let claim = json!({ "health": [{ "service_id": id, "status": "passing", "output": "trust me",
        "checked_at_ms": chrono::Utc::now().timestamp_millis() }] });
    let placed_on_ghost = || async {
        let view: Value = json_of(app.client.get(app.url(&format!("/api/v1/services/{id}")))).await;
        view["placements"].as_array().unwrap().iter().find(|p| p["node_id"] == ghost.as_str()).cloned()
    };
    eventually("the ghost to hold a placement checked through the mesh", || async {
        assert_eq!(heartbeat(&app, &key, claim.clone()).await, StatusCode::OK);
        placed_on_ghost().await.is_some_and(|p| p["health"] == "critical")
    })
    .await;
    healthy(&app, &id, 3).await;

    let placement = placed_on_ghost().await.unwrap();
    let output = placement["output"].as_str().unwrap();
    assert!(output.contains("mesh could not reach"), "{output}");
    let offered = discovery(&app, &app.client, &id).await;
    let offered: Vec<&str> =
        offered["instances"].as_array().unwrap().iter().map(|i| i["node_id"].as_str().unwrap()).collect();
    assert!(!offered.contains(&ghost.as_str()), "{offered:?}");
    let mut embedded = node_ids(&app);
    embedded.sort();
    let mut offered: Vec<String> = offered.iter().map(|s| (*s).to_owned()).collect();
    offered.sort();
    assert_eq!(offered, embedded);
    // Every call lands on a reachable placement.
    for _ in 0..6 {
        let response =
            app.invoker().await.get(app.url(&format!("/api/v1/invoke/{id}/x"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn a_hosted_node_process_passes_its_checks_through_the_mesh_and_serves_calls() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let (_, secret) = app.mint_token(false).await;
    let dir = tempfile::tempdir().unwrap();
    let _node = tokio::process::Command::new(env!("CARGO_BIN_EXE_web4-server-under-test"))
        .args(["node", "--control-plane", &app.url(""), "--token", &secret, "--name", "hosted-test"])
        .args(["--egress-allow", "127.0.0.0/8"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the node process starts");
    let hosted = web4_tests::fixtures::online_hosted_node(&app).await;
    // Only the hosted node may take it.
    for id in node_ids(&app) {
        web4_tests::fixtures::node_action(&app, &id, "drain").await;
    }
    let service = register(&app, &app.client, http_service("far", &upstream, json!({ "replicas": 1 }))).await;
    let id = service["id"].as_str().unwrap();
    assert_eq!(service["placements"][0]["node_id"], hosted.as_str());
    healthy(&app, id, 1).await;

    let response =
        app.invoker().await.get(app.url(&format!("/api/v1/invoke/{id}/hello"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let route = response.headers()["x-web4-route"].to_str().unwrap().to_owned();
    assert!(route.ends_with(&hosted), "{route}");
    assert!(upstream.controls.checks.load(Ordering::Relaxed) >= 1);
}
