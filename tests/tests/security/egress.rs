//! A tenant chooses its upstream URL: it must not be able to make the platform call the
//! host's cloud metadata, the platform itself, or the operator's private network.
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use web4_tests::{
    error_of, eventually,
    fixtures::{http_service, json_of},
    spawn_app, spawn_app_with,
    upstream::Upstream,
};

async fn register_raw(app: &web4_tests::TestApp, upstream_url: &str) -> reqwest::Response {
    let body = json!({ "slug": "probe", "http": { "upstream_url": upstream_url } });
    app.client.post(app.url("/api/v1/services")).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn metadata_link_local_and_credentialed_upstreams_are_refused_at_registration() {
    let app = spawn_app().await;
    app.sign_up("mallory@example.com", web4_tests::PASSWORD).await;
    for url in [
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:169.254.169.254]/",
        "http://[fe80::1]/",
        "http://0.0.0.0:22/",
        "http://2852039166/",
        "http://user:pass@example.com/",
    ] {
        let response = register_raw(&app, url).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let body: Value = response.json().await.unwrap();
        let reason = body["error"]["details"]["http.upstream_url"].as_str().unwrap_or_default();
        assert!(!reason.is_empty(), "{url}: {body}");
    }
    // Changing the URL afterwards is held to the same rule.
    let upstream = Upstream::start().await;
    let service =
        web4_tests::fixtures::register(&app, &app.client, http_service("ok", &upstream, json!({}))).await;
    let id = service["id"].as_str().unwrap();
    let patch = app
        .client
        .patch(app.url(&format!("/api/v1/services/{id}")))
        .json(&json!({ "http": { "upstream_url": "http://169.254.169.254" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn loopback_and_private_upstreams_are_refused_unless_the_operator_allows_them() {
    let app = spawn_app_with(|c| c.egress_allow.clear()).await;
    app.sign_up("mallory@example.com", web4_tests::PASSWORD).await;
    for url in
        ["http://127.0.0.1:9000", "http://10.0.0.5:2375", "http://[::ffff:127.0.0.1]:80", "http://0x7f.1/"]
    {
        let response = register_raw(&app, url).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let body: Value = response.json().await.unwrap();
        let reason = body["error"]["details"]["http.upstream_url"].as_str().unwrap();
        assert!(reason.contains("does not allow"), "{url}: {reason}");
    }
}

#[tokio::test]
async fn a_name_that_resolves_to_a_refused_address_is_never_connected_to() {
    let app = spawn_app_with(|c| c.egress_allow.clear()).await;
    app.sign_up("mallory@example.com", web4_tests::PASSWORD).await;
    let upstream = Upstream::start().await;
    // A name, so registration cannot know; the check happens when connecting.
    let url = format!("http://localhost:{}", upstream.address.port());
    let body = json!({ "slug": "sneaky", "replicas": 1, "http": { "upstream_url": url },
        "health_check": { "path": "/health", "interval_ms": 500, "timeout_ms": 400 } });
    let service = web4_tests::fixtures::register(&app, &app.client, body).await;
    let id = service["id"].as_str().unwrap().to_owned();
    // (Until the mesh has converged, a check may fail earlier, on the way to the hosting node.)
    eventually("the hosting node to refuse the check", || async {
        let view: Value = json_of(app.client.get(app.url(&format!("/api/v1/services/{id}")))).await;
        view["placements"][0]["health"] == "critical"
            && view["placements"][0]["output"].as_str().is_some_and(|o| o.contains("loopback address"))
    })
    .await;
    assert_eq!(upstream.controls.checks.load(Ordering::Relaxed), 0, "the upstream was never contacted");
    let invoke = app.invoker().await.get(app.url(&format!("/api/v1/invoke/{id}/x"))).send().await.unwrap();
    assert_eq!(invoke.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(upstream.controls.calls.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn the_platforms_own_api_is_not_an_upstream_even_where_loopback_is_allowed() {
    let app = spawn_app().await; // the harness allows 127.0.0.0/8
    app.sign_up("mallory@example.com", web4_tests::PASSWORD).await;
    let response = register_raw(&app, &app.url("")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // By name, it is refused when connecting.
    let url = format!("http://localhost:{}", app.address.port());
    let body = json!({ "slug": "self", "replicas": 1, "http": { "upstream_url": url },
        "health_check": { "path": "/healthz", "interval_ms": 500, "timeout_ms": 400 } });
    let service = web4_tests::fixtures::register(&app, &app.client, body).await;
    let id = service["id"].as_str().unwrap().to_owned();
    eventually("the check to be refused", || async {
        let view: Value = json_of(app.client.get(app.url(&format!("/api/v1/services/{id}")))).await;
        view["placements"][0]["output"].as_str().is_some_and(|o| o.contains("own listeners"))
    })
    .await;
}

#[tokio::test]
async fn failures_to_reach_an_upstream_do_not_echo_what_the_network_said() {
    let app = spawn_app().await;
    app.sign_up("mallory@example.com", web4_tests::PASSWORD).await;
    // A closed port: the OS says "Connection refused (os error 111)"; a scanner would love it.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let body = json!({ "slug": "scan", "replicas": 1, "http": { "upstream_url": format!("http://{closed}") },
        "health_check": { "path": "/", "interval_ms": 500, "timeout_ms": 400 } });
    let service = web4_tests::fixtures::register(&app, &app.client, body).await;
    let id = service["id"].as_str().unwrap().to_owned();
    // (Until the mesh has converged, a check may fail earlier, on the way to the hosting node.)
    eventually("the check to reach the upstream and fail", || async {
        let view: Value = json_of(app.client.get(app.url(&format!("/api/v1/services/{id}")))).await;
        let output = view["placements"][0]["output"].as_str().unwrap_or_default().to_owned();
        assert!(!output.contains("os error") && !output.contains("refused"), "{output}");
        view["placements"][0]["health"] == "critical" && output == "cannot connect to the upstream"
    })
    .await;
    let invoke = app.invoker().await.get(app.url(&format!("/api/v1/invoke/{id}/x"))).send().await.unwrap();
    let (code, message) = error_of(invoke).await;
    assert_eq!(code, "no_healthy_placement");
    assert!(!message.contains("os error"), "{message}");
}
