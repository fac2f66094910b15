//! Limits a stranger can reach without an account.
use reqwest::StatusCode;
use web4_tests::spawn_app;

#[tokio::test]
async fn an_oversized_form_post_to_a_server_function_is_refused_with_413() {
    let app = spawn_app().await;
    for size in [1 << 20, 3 << 20] {
        let body = format!("email=a%40example.com&password={}", "x".repeat(size));
        let response = app.post_body("/_fn/log_in", "application/x-www-form-urlencoded", body).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{size} bytes");
    }
}

#[tokio::test]
async fn an_account_holds_at_most_its_limit_of_services_and_keys() {
    use serde_json::json;
    let app = web4_tests::spawn_app_with(|c| {
        c.limits.services = 2;
        c.limits.keys = 2;
    })
    .await;
    app.sign_up("mallory@example.com", web4_tests::PASSWORD).await;
    let upstream = web4_tests::upstream::Upstream::start().await;
    for slug in ["one", "two"] {
        let body = web4_tests::fixtures::http_service(slug, &upstream, json!({ "replicas": 1 }));
        web4_tests::fixtures::register(&app, &app.client, body).await;
    }
    let body = web4_tests::fixtures::http_service("three", &upstream, json!({ "replicas": 1 }));
    let third = app.post_json("/api/v1/services", &body).await;
    assert_eq!(third.status(), StatusCode::CONFLICT);
    let (code, message) = web4_tests::error_of(third).await;
    assert_eq!(code, "service_limit_reached");
    assert!(message.contains('2'), "{message}");

    for _ in 0..2 {
        web4_tests::fixtures::api_key(&app, &app.client, &["read"]).await;
    }
    let third = app.post_json("/api/v1/keys", &json!({ "name": "k3", "scopes": ["read"] })).await;
    assert_eq!(third.status(), StatusCode::CONFLICT);
    assert_eq!(web4_tests::error_of(third).await.0, "key_limit_reached");
}
