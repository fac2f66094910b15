//! The mesh's control plane through the Cloud API: embedded nodes, join tokens, joins with
//! proof of key possession, a hosted node as a separate process, operator actions.
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::mesh::{Keypair, NodeId};
use std::time::Duration;
use web4_tests::{PASSWORD, client_with, error_of, eventually, spawn_app};

#[tokio::test]
async fn embedded_nodes_register_online_and_trusted_linked_in_a_line() {
    let app = spawn_app().await;
    app.sign_up_operator().await;

    eventually("three online, trusted embedded nodes", || async {
        let nodes = app.nodes().await;
        nodes.len() == 3 && nodes.iter().all(|n| n["state"] == "online" && n["trust"] == "trusted")
    })
    .await;
    eventually("two links in the topology", || async {
        let topology: Value = app.get("/api/v1/mesh/topology").await.json().await.unwrap();
        topology["links"].as_array().unwrap().len() == 2
    })
    .await;
    let detail: Value = app
        .get(&format!("/api/v1/nodes/{}", app.nodes().await[0]["id"].as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    let reasons: Vec<&str> =
        detail["trust_history"].as_array().unwrap().iter().map(|e| e["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["attested_by_control_plane", "handshake"]);
}

#[tokio::test]
async fn developers_cannot_see_or_manage_nodes_or_join_tokens() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let developer = client_with(Default::default());
    developer
        .post(app.url("/api/v1/auth/signup"))
        .json(&json!({ "email": "dev@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();

    for (method, path) in [
        ("GET", "/api/v1/nodes"),
        ("GET", "/api/v1/join-tokens"),
        ("POST", "/api/v1/join-tokens"),
        ("GET", "/api/v1/mesh/topology"),
    ] {
        let request = developer.request(method.parse().unwrap(), app.url(path));
        let request = if method == "POST" { request.json(&json!({})) } else { request };
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(error_of(response).await.0, "operator_only");
    }
    let anonymous = reqwest::Client::new().get(app.url("/api/v1/nodes")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_one_time_token_admits_one_node_and_then_says_it_was_used() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let (_, secret) = app.mint_token(false).await;
    let (a, b) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());

    let first =
        app.post_json("/api/v1/mesh/join", &app.signed_join(&a, &NodeId::from(&a), &secret).await).await;
    let second =
        app.post_json("/api/v1/mesh/join", &app.signed_join(&b, &NodeId::from(&b), &secret).await).await;

    assert_eq!(first.status(), StatusCode::OK);
    let membership: Value = first.json().await.unwrap();
    assert_eq!(membership["members"].as_array().unwrap().len(), 4);
    assert_eq!(second.status(), StatusCode::CONFLICT);
    let (code, message) = error_of(second).await;
    assert_eq!(code, "join_token_used");
    assert!(message.contains("already been used"), "{message}");
    let tokens: Value = app.get("/api/v1/join-tokens").await.json().await.unwrap();
    assert_eq!(tokens[0]["state"], "used");
    // The secret is nowhere in the database.
    let stored = app.query_strings("SELECT secret_hash || prefix || note FROM join_tokens").await;
    assert!(!stored[0].contains(&secret), "the secret must be stored only as a hash");
}

#[tokio::test]
async fn revoked_expired_and_unknown_tokens_are_refused_naming_why() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let key = Keypair::generate_ed25519();
    let id = NodeId::from(&key);
    let (revoked_id, revoked) = app.mint_token(true).await;
    let (expired_id, expired) = app.mint_token(true).await;
    app.post_json(&format!("/api/v1/join-tokens/{revoked_id}/revoke"), &json!({})).await;
    app.query_strings(&format!(
        "UPDATE join_tokens SET expires_at = '2020-01-01T00:00:00+00:00' WHERE id = '{expired_id}' RETURNING id"
    ))
    .await;

    for (token, code) in [
        (revoked, "join_token_revoked"),
        (expired, "join_token_expired"),
        ("w4jt_nope".to_string(), "join_token_invalid"),
    ] {
        let response = app.post_json("/api/v1/mesh/join", &app.signed_join(&key, &id, &token).await).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{code}");
        assert_eq!(error_of(response).await.0, code);
    }
    assert_eq!(app.nodes().await.len(), 3, "no node was admitted");
}

#[tokio::test]
async fn a_join_must_prove_the_key_with_a_fresh_challenge() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let (_, secret) = app.mint_token(true).await;
    let (real, impostor) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());

    let forged = app.signed_join(&impostor, &NodeId::from(&real), &secret).await;
    let response = app.post_json("/api/v1/mesh/join", &forged).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_of(response).await.0, "bad_signature");

    let honest = app.signed_join(&real, &NodeId::from(&real), &secret).await;
    assert_eq!(app.post_json("/api/v1/mesh/join", &honest).await.status(), StatusCode::OK);
    let replayed = app.post_json("/api/v1/mesh/join", &honest).await;
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_of(replayed).await.0, "challenge_invalid");
}

#[tokio::test]
async fn heartbeats_must_be_signed_by_the_node() {
    let app = spawn_app().await;
    let node = app.mesh.nodes()[0].handle.id();
    let body = json!({ "node_id": node.to_string(), "sent_at_ms": 0, "stats": {} }).to_string();

    let response = app
        .client
        .post(app.url("/api/v1/mesh/heartbeat"))
        .header("x-web4-node-id", node.to_string())
        .header("x-web4-signature", server::secrets::b64(&[7; 64]))
        .body(body)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_of(response).await.0, "bad_signature");
}

#[tokio::test]
async fn blocking_a_node_cuts_its_traffic_within_a_second_and_unblocking_restores_trust() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let (first, last) = (app.mesh.nodes()[0].handle.clone(), app.mesh.nodes()[2].handle.id());
    eventually("a route across the embedded line", || async { first.send(last, "hi".into()).await.is_ok() })
        .await;

    let response = app.post_json(&format!("/api/v1/nodes/{last}/block"), &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);

    let took = eventually("traffic to the blocked node to stop", || async {
        first.send(last, "hi".into()).await.is_err()
    })
    .await;
    assert!(took < Duration::from_secs(1), "{took:?}");
    let detail: Value = app.get(&format!("/api/v1/nodes/{last}")).await.json().await.unwrap();
    assert_eq!(detail["node"]["status"], "blocked");
    assert_eq!(detail["node"]["trust"], "blocked");
    assert_eq!(detail["trust_history"][0]["reason"], "operator_block");

    app.post_json(&format!("/api/v1/nodes/{last}/unblock"), &json!({})).await;
    eventually("the unblocked node to be trusted again after a heartbeat", || async {
        let detail: Value = app.get(&format!("/api/v1/nodes/{last}")).await.json().await.unwrap();
        detail["node"]["trust"] == "trusted"
    })
    .await;
    eventually("traffic to flow again", || async { first.send(last, "back".into()).await.is_ok() }).await;
}

#[tokio::test]
async fn drain_and_remove_are_operator_actions_with_clear_errors() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let id = app.mesh.nodes()[1].handle.id();

    let drained: Value =
        app.post_json(&format!("/api/v1/nodes/{id}/drain"), &json!({})).await.json().await.unwrap();
    assert_eq!(drained["status"], "draining");
    let unknown = app.post_json(&format!("/api/v1/nodes/{id}/explode"), &json!({})).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let removed = app.client.delete(app.url(&format!("/api/v1/nodes/{id}"))).send().await.unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let gone = app.get(&format!("/api/v1/nodes/{id}")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert!(
        app.query_strings(&format!("SELECT reason FROM node_trust_events WHERE node_id = '{id}'"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_hosted_node_process_joins_with_a_token_and_a_second_one_is_refused() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let (_, secret) = app.mint_token(false).await;
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let node = |dir: &std::path::Path| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_web4-server-under-test"));
        command
            .args(["node", "--control-plane", &app.url(""), "--token", &secret, "--name", "hosted-test"])
            .arg("--data-dir")
            .arg(dir)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        command
    };

    let _running = node(dirs.0.path()).spawn().expect("the node process starts");
    let hosted: NodeId = web4_tests::fixtures::online_hosted_node(&app).await.parse().unwrap();
    let embedded = app.mesh.nodes()[0].handle.clone();
    eventually("an embedded node to reach the hosted node over the mesh", || async {
        embedded.send(hosted, "welcome".into()).await.is_ok()
    })
    .await;

    let second =
        tokio::time::timeout(Duration::from_secs(30), node(dirs.1.path()).output()).await.unwrap().unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("join_token_used"), "{stderr}");
}

#[tokio::test]
async fn a_node_that_stops_heartbeating_goes_degraded_then_offline() {
    let app = web4_tests::spawn_app_with(|c| {
        c.mesh.degraded_after = Duration::from_millis(1500);
        c.mesh.offline_after = Duration::from_millis(3000);
    })
    .await;
    app.sign_up_operator().await;
    let stopped = app.mesh.nodes()[2].handle.id().to_string();
    let state = || async {
        let detail: Value = app.get(&format!("/api/v1/nodes/{stopped}")).await.json().await.unwrap();
        detail["node"]["state"].as_str().unwrap().to_owned()
    };
    eventually("the node to be online", || async { state().await == "online" }).await;

    app.mesh.nodes()[2].handle.shutdown();

    eventually("the node to be degraded", || async { state().await == "degraded" }).await;
    eventually("the node to be offline", || async { state().await == "offline" }).await;
    let others = app.nodes().await;
    assert!(others.iter().filter(|n| n["id"] != stopped.as_str()).all(|n| n["state"] == "online"));
}
