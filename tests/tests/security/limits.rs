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

#[tokio::test]
async fn an_account_cannot_hold_more_calls_in_flight_than_its_limit() {
    use web4_tests::{fixtures::routable, upstream::Upstream};
    let app = web4_tests::spawn_app_with(|c| c.services.max_concurrent_invokes_per_account = 2).await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "slow", &upstream).await;
    let url = app.url(&format!("/api/v1/invoke/{id}/hang"));
    let invoker = app.invoker().await.clone();
    let hanging: Vec<_> = (0..2).map(|_| tokio::spawn(invoker.get(&url).send())).collect();
    web4_tests::eventually("both calls to reach the upstream", || async {
        upstream.controls.calls.load(std::sync::atomic::Ordering::Relaxed) == 2
    })
    .await;

    let third = invoker.get(&url).send().await.unwrap();

    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.headers()["retry-after"], "1");
    assert_eq!(web4_tests::error_of(third).await.0, "too_many_concurrent_calls");
    for call in hanging {
        call.abort();
    }
}

#[tokio::test]
async fn an_invoke_body_that_trickles_in_is_cut_off_with_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use web4_tests::{fixtures::routable, upstream::Upstream};
    let app = web4_tests::spawn_app_with(|c| {
        c.services.body_read_timeout = std::time::Duration::from_millis(500);
    })
    .await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "echo", &upstream).await;
    let (_, secret) = web4_tests::fixtures::api_key(&app, &app.client, &["invoke"]).await;

    let address = app.url("").trim_start_matches("http://").to_owned();
    // Plain, and with an Idempotency-Key (that layer reads the body first, under the same bound).
    for extra in ["", "Idempotency-Key: slow\r\n"] {
        let started = std::time::Instant::now();
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        let head = format!(
            "POST /api/v1/invoke/{id}/x HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {secret}\r\n{extra}Content-Length: 1000\r\n\r\nonly ten b"
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0; 4096];
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), socket.read(&mut answer))
            .await
            .expect("the server answers without the rest of the body")
            .unwrap();

        let answer = String::from_utf8_lossy(&answer[..read]);
        assert!(answer.starts_with("HTTP/1.1 408"), "{extra:?}: {answer}");
        assert!(answer.contains("body_timeout"), "{answer}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
    assert_eq!(upstream.controls.calls.load(std::sync::atomic::Ordering::Relaxed), 0);
}

#[tokio::test]
async fn more_replicas_need_a_longer_health_interval() {
    use serde_json::json;
    let app = web4_tests::spawn_app().await;
    app.sign_up("mallory@example.com", web4_tests::PASSWORD).await;
    let body = json!({ "slug": "reflector", "replicas": 5,
        "http": { "upstream_url": "http://127.0.0.1:9" },
        "health_check": { "path": "/", "interval_ms": 500, "timeout_ms": 400 } });

    let refused = app.post_json("/api/v1/services", &body).await;

    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: serde_json::Value = refused.json().await.unwrap();
    let message = error["error"]["details"]["health_check.interval_ms"].as_str().unwrap();
    assert!(message.contains("1250 ms"), "{message}");
}
