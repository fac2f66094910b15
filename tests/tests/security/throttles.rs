//! Throttles a stranger meets without an account, each tried from one address and shown not
//! to reach anyone at another (the server trusts `X-Forwarded-For` here, as behind a proxy).
use reqwest::StatusCode;
use serde_json::json;
use web4_tests::{PASSWORD, TestApp, error_of, spawn_app_with};

const ATTACKER: &str = "203.0.113.66";
const OWNER: &str = "198.51.100.7";

async fn from(app: &TestApp, address: &str, path: &str, body: serde_json::Value) -> reqwest::Response {
    // A fresh client: no cookies shared with the app's own.
    reqwest::Client::new()
        .post(app.url(path))
        .header("x-forwarded-for", address)
        .json(&body)
        .send()
        .await
        .expect("request sent")
}

#[tokio::test]
async fn failing_log_ins_on_purpose_does_not_lock_the_owner_out() {
    let app = spawn_app_with(|c| c.trust_forwarded_for = true).await;
    app.sign_up("victim@example.com", PASSWORD).await;
    let guess = json!({ "email": "victim@example.com", "password": "wrong password 123" });

    let mut refused = 0;
    for _ in 0..20 {
        let answer = from(&app, ATTACKER, "/api/v1/auth/login", guess.clone()).await;
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    let owner = json!({ "email": "victim@example.com", "password": PASSWORD });
    let answer = from(&app, OWNER, "/api/v1/auth/login", owner).await;

    assert!(refused >= 16, "the attacker's own guesses slow down ({refused} of 20 refused)");
    assert_eq!(answer.status(), StatusCode::OK, "the owner, elsewhere, logs in");
}

#[tokio::test]
async fn sign_ups_from_one_address_are_throttled() {
    let app = spawn_app_with(|c| {
        c.trust_forwarded_for = true;
        c.rate_limits.sign_up = server::ratelimit::Budget::per_hour(3);
    })
    .await;
    for i in 0..3 {
        let body = json!({ "email": format!("bot{i}@example.com"), "password": PASSWORD });
        assert_eq!(from(&app, ATTACKER, "/api/v1/auth/signup", body).await.status(), StatusCode::CREATED);
    }
    let body = json!({ "email": "bot3@example.com", "password": PASSWORD });
    let refused = from(&app, ATTACKER, "/api/v1/auth/signup", body).await;
    let body = json!({ "email": "person@example.com", "password": PASSWORD });
    let elsewhere = from(&app, OWNER, "/api/v1/auth/signup", body).await;

    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1_100..=1_200).contains(&wait), "one more every 20 minutes: {wait}");
    assert_eq!(error_of(refused).await.0, "too_many_sign_ups");
    assert_eq!(elsewhere.status(), StatusCode::CREATED);
    let accounts = app.query_strings("SELECT email FROM accounts WHERE email LIKE 'bot%'").await;
    assert_eq!(accounts.len(), 3, "the refused sign-up created nothing");
}

#[tokio::test]
async fn join_challenges_from_one_address_cannot_exhaust_the_pool() {
    let app = spawn_app_with(|c| c.trust_forwarded_for = true).await;
    let mut refused = None;
    for _ in 0..100 {
        let answer = from(&app, ATTACKER, "/api/v1/mesh/challenges", json!({})).await;
        if answer.status() != StatusCode::CREATED {
            refused = Some(answer);
            break;
        }
    }
    let refused = refused.expect("an address's challenges are limited");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_of(refused).await.0, "too_many_challenges");

    let honest = from(&app, OWNER, "/api/v1/mesh/challenges", json!({})).await;
    assert_eq!(honest.status(), StatusCode::CREATED, "a joining node elsewhere still gets one");
}

#[tokio::test]
async fn a_member_cannot_send_heartbeats_faster_than_its_interval_allows() {
    use sha2::Digest;
    let app = web4_tests::spawn_app().await;
    app.sign_up_operator().await;
    let (_, token) = app.mint_token(false).await;
    let key = server::mesh::Keypair::generate_ed25519();
    let id = server::mesh::NodeId::from(&key);
    let join = app.signed_join(&key, &id, &token).await;
    assert_eq!(app.post_json("/api/v1/mesh/join", &join).await.status(), reqwest::StatusCode::OK);

    let mut refused = None;
    for _ in 0..40 {
        let sent_at_ms = chrono::Utc::now().timestamp_millis();
        let body = json!({ "node_id": id.to_string(), "sent_at_ms": sent_at_ms, "stats": {
            "originated": 0, "delivered": 0, "forwarded": 0, "received": 0, "drops": {}, "peers": [], "routes": [] } })
        .to_string();
        let mut message = server::nodes::HEARTBEAT_SIGNING_TAG.to_vec();
        message.extend_from_slice(&sha2::Sha256::digest(body.as_bytes()));
        let answer = app
            .client
            .post(app.url("/api/v1/mesh/heartbeat"))
            .header("content-type", "application/json")
            .header("x-web4-node-id", id.to_string())
            .header("x-web4-signature", server::secrets::b64(&key.sign(&message).unwrap()))
            .body(body)
            .send()
            .await
            .unwrap();
        if answer.status() != StatusCode::OK {
            refused = Some(answer);
            break;
        }
    }
    let refused = refused.expect("a flood of heartbeats is cut off");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_of(refused).await.0, "too_many_heartbeats");
}
