//! Usage metering on the invoke path: one usage event per successful invoke, exactly once.
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::{collections::BTreeSet, sync::atomic::Ordering};
use web4_tests::{
    TestApp,
    fixtures::{api_key, healthy, http_service, register},
    spawn_app,
    upstream::Upstream,
};

/// An account with a healthy echo service and an invoke key: (service id, key id, secret).
async fn metered_service(app: &TestApp, upstream: &Upstream) -> (String, String, String) {
    app.sign_up("payer@example.com", web4_tests::PASSWORD).await;
    let service = register(app, &app.client, http_service("echo", upstream, json!({ "replicas": 2 }))).await;
    let id = service["id"].as_str().unwrap().to_owned();
    healthy(app, &id, 2).await;
    let (key_id, secret) = api_key(app, &app.client, &["invoke", "read"]).await;
    (id, key_id, secret)
}

#[tokio::test]
async fn n_concurrent_invokes_make_exactly_n_usage_events() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (service, key_id, secret) = metered_service(&app, &upstream).await;
    let client = Client::new();
    let n = 120;
    let calls = (0..n).map(|i| {
        let request = client
            .post(app.url(&format!("/api/v1/invoke/{service}/echo")))
            .bearer_auth(&secret)
            .body(format!("call {i:04}"));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.headers()["x-web4-invoke-id"].to_str().unwrap().to_owned()
        }
    });
    let acknowledged: BTreeSet<String> = futures::future::join_all(calls).await.into_iter().collect();
    assert_eq!(acknowledged.len(), n);

    let recorded: BTreeSet<String> =
        app.query_strings("SELECT invoke_id FROM usage_events").await.into_iter().collect();
    assert_eq!(recorded, acknowledged, "every acknowledged call, once, and nothing else");
    let account = app.query_strings("SELECT id FROM accounts").await.remove(0);
    let summary = app
        .query_strings(&format!(
            "SELECT COUNT(*) || ',' || SUM(calls) || ',' || SUM(bytes_in) || ',' || COUNT(DISTINCT api_key_id) \
             FROM usage_events WHERE payer_account_id = '{account}' AND provider_account_id = '{account}' \
             AND service_id = '{service}' AND api_key_id = '{key_id}' AND status = 200 AND bytes_out > 0"
        ))
        .await;
    assert_eq!(summary, [format!("{n},{n},{},1", n * "call 0000".len())]);

    // Answers that are not 2xx are not metered.
    let teapot = client
        .get(app.url(&format!("/api/v1/invoke/{service}/teapot")))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(teapot.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(app.count("SELECT COUNT(*) FROM usage_events").await, n as i64);
}

/// The one call the next test retries: a POST with `Idempotency-Key: order-17`.
fn order_17(
    client: &Client,
    app: &TestApp,
    service: &str,
    secret: &str,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
    client
        .post(app.url(&format!("/api/v1/invoke/{service}/echo")))
        .bearer_auth(secret)
        .header("idempotency-key", "order-17")
        .body("pay once")
        .send()
}

#[tokio::test]
async fn a_retried_call_with_the_same_invoke_id_counts_once() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (service, _, secret) = metered_service(&app, &upstream).await;
    let client = Client::new();
    let post = || order_17(&client, &app, &service, &secret);
    let first = post().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let invoke_id = first.headers()["x-web4-invoke-id"].to_str().unwrap().to_owned();
    let first_body = first.text().await.unwrap();

    // A client retry is answered from the stored response: the upstream is not called again.
    let calls = upstream.controls.calls.load(Ordering::SeqCst);
    let again = post().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["x-web4-invoke-id"], invoke_id.as_str());
    assert_eq!(again.text().await.unwrap(), first_body);
    assert_eq!(upstream.controls.calls.load(Ordering::SeqCst), calls);
    assert_eq!(app.count("SELECT COUNT(*) FROM usage_events").await, 1);

    // If the answer was never stored (the server died between metering and storing it), the
    // retry to the restarted server runs the call again, with the same invoke id, and it is
    // still counted once.
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        "UPDATE idempotency_records SET status = NULL, headers = NULL, body = NULL",
    )
    .await
    .unwrap();
    let app = app.restart().await;
    // As a caller would: wait until the restarted platform offers the service again (its
    // mesh links come back a moment after the server answers).
    healthy(&app, &service, 2).await;
    let post = || order_17(&client, &app, &service, &secret);
    let rerun = post().await.unwrap();
    assert_eq!(rerun.status(), StatusCode::OK);
    assert!(rerun.headers().get("idempotent-replayed").is_none());
    assert_eq!(rerun.headers()["x-web4-invoke-id"], invoke_id.as_str());
    assert_eq!(upstream.controls.calls.load(Ordering::SeqCst), calls + 1, "the upstream ran it again");
    assert_eq!(app.query_strings("SELECT invoke_id FROM usage_events").await, vec![invoke_id.clone()]);

    // The meter itself ignores an event it already has, and refuses one that claims its id
    // for another payer.
    let meter = app.services.meter().expect("metering is on");
    let duplicates = meter.stats().duplicates.load(Ordering::SeqCst);
    let payer = app.query_strings("SELECT payer_account_id FROM usage_events").await.remove(0);
    let mut event = server::metering::UsageEvent {
        invoke_id: invoke_id.parse().unwrap(),
        payer_account_id: payer.clone().into(),
        service_id: service.clone().into(),
        provider_account_id: "someone".into(),
        api_key_id: None,
        plan_id: None,
        calls: 1,
        bytes_in: 0,
        bytes_out: 0,
        duration_us: 1,
        status: 200,
        occurred_at: chrono::Utc::now(),
    };
    meter.record(event.clone()).await.unwrap();
    assert_eq!(meter.stats().duplicates.load(Ordering::SeqCst), duplicates + 1);
    event.payer_account_id = "someone".into();
    assert!(meter.record(event).await.is_err(), "a conflicting id is refused");
    assert_eq!(app.count("SELECT COUNT(*) FROM usage_events").await, 1);
    let payers = app.query_strings("SELECT payer_account_id FROM usage_events").await;
    assert_eq!(payers, [payer], "the first record stands");
}
