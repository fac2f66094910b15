//! Billing cannot be bypassed by replaying ids.
use reqwest::StatusCode;
use web4_tests::{fixtures::routable, spawn_app, upstream::Upstream};

#[tokio::test]
async fn the_same_idempotency_key_on_calls_the_platform_does_not_replay_meters_each_call() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "paid", &upstream).await;
    let url = app.url(&format!("/api/v1/invoke/{id}/x"));

    // GET, PUT and DELETE are not replayed by the idempotency layer: each runs, each is billed.
    for method in [reqwest::Method::GET, reqwest::Method::GET, reqwest::Method::PUT, reqwest::Method::DELETE]
    {
        let response = app
            .invoker()
            .await
            .request(method, &url)
            .header("idempotency-key", "free-ride")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM usage_events").await, 4);
    assert_eq!(upstream.controls.calls.load(std::sync::atomic::Ordering::Relaxed), 4);

    // A POST is replayed (not run again) and billed once.
    for _ in 0..2 {
        let response =
            app.invoker().await.post(&url).header("idempotency-key", "once").body("x").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM usage_events").await, 5);
    assert_eq!(upstream.controls.calls.load(std::sync::atomic::Ordering::Relaxed), 5);
}
