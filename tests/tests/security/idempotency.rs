//! The idempotency store cannot be filled with large answers, and a request dropped before its
//! answer does not hold its key.
use reqwest::StatusCode;
use web4_tests::{error_of, eventually, fixtures::routable, spawn_app, upstream::Upstream};

#[tokio::test]
async fn answers_over_64_kib_are_not_kept_and_not_run_again() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "echo", &upstream).await;
    let url = app.url(&format!("/api/v1/invoke/{id}/x"));
    let body = "x".repeat(100 * 1024);
    let call = || app.invoker();

    let first =
        call().await.post(&url).header("idempotency-key", "big").body(body.clone()).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.bytes().await.unwrap().len() > 100 * 1024, "the caller gets the whole answer");
    let retry = call().await.post(&url).header("idempotency-key", "big").body(body).send().await.unwrap();

    assert_eq!(retry.status(), StatusCode::CONFLICT);
    assert_eq!(error_of(retry).await.0, "idempotency_answer_not_kept");
    assert_eq!(upstream.controls.calls.load(std::sync::atomic::Ordering::Relaxed), 1, "not run again");
    let stored = app.count("SELECT COALESCE(MAX(LENGTH(body)), 0) FROM idempotency_records").await;
    assert_eq!(stored, 0, "no body kept");
}

#[tokio::test]
async fn a_request_its_client_abandoned_releases_its_key_at_once() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "slow", &upstream).await;
    let url = app.url(&format!("/api/v1/invoke/{id}/hang"));

    let gave_up = app
        .invoker()
        .await
        .post(&url)
        .header("idempotency-key", "impatient")
        .timeout(std::time::Duration::from_millis(500))
        .send()
        .await;
    assert!(gave_up.is_err(), "the client gave up");

    // Before, the key answered 409 "in progress" for two minutes.
    eventually("the key is released", || async {
        app.count("SELECT COUNT(*) FROM idempotency_records WHERE key = 'impatient'").await == 0
    })
    .await;
}
