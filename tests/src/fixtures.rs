//! Fixtures shared by the whole-system tests: registering services against a real upstream,
//! waiting for them to be routable, second accounts, API keys.
use crate::{PASSWORD, TestApp, client_with, eventually, upstream::Upstream};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// Registers a service as the app's logged-in account; returns its view.
pub async fn register(app: &TestApp, client: &Client, body: Value) -> Value {
    let response = client.post(app.url("/api/v1/services")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "{:?}", response.text().await);
    response.json().await.unwrap()
}

pub fn http_service(slug: &str, upstream: &Upstream, extra: Value) -> Value {
    // The shortest interval the platform allows for this many replicas.
    let replicas = extra["replicas"].as_u64().unwrap_or(2);
    let interval_ms = (250 * replicas).max(500);
    let mut body = json!({
        "slug": slug,
        "http": { "upstream_url": upstream.url(), "timeout_ms": 2000 },
        "health_check": { "path": "/health", "interval_ms": interval_ms, "timeout_ms": 400 },
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    body
}

/// Sends a request and reads its JSON body.
pub async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

pub async fn discovery(app: &TestApp, client: &Client, id: &str) -> Value {
    let response = client.get(app.url(&format!("/api/v1/services/{id}/discovery"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Waits until discovery offers `n` healthy instances — the condition a caller waits for.
/// Discovery reads the gateway's own catalog, so an invoke right after this succeeds.
pub async fn healthy(app: &TestApp, id: &str, n: usize) {
    eventually("healthy instances", || async {
        discovery(app, &app.client, id).await["instances"].as_array().map_or(0, Vec::len) == n
    })
    .await;
}

pub fn node_ids(app: &TestApp) -> Vec<String> {
    app.mesh.nodes().iter().map(|n| n.handle.id().to_string()).collect()
}

pub async fn node_action(app: &TestApp, id: &str, action: &str) {
    let response = app.client.post(app.url(&format!("/api/v1/nodes/{id}/{action}"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{action} {id}");
}

pub async fn second_account(app: &TestApp, email: &str) -> Client {
    let client = client_with(Default::default());
    let response = client
        .post(app.url("/api/v1/auth/signup"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    client
}

/// Creates an API key with `scopes` as the client's account; returns (id, secret).
pub async fn api_key(app: &TestApp, client: &Client, scopes: &[&str]) -> (String, String) {
    let response = client
        .post(app.url("/api/v1/keys"))
        .json(&json!({ "name": "test key", "scopes": scopes }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "{:?}", response.text().await);
    let created: Value = response.json().await.unwrap();
    (created["key"]["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned())
}

/// Registers an http service on `upstream` with one replica as the app's logged-in account
/// and waits until it is callable; returns its id.
pub async fn routable(app: &TestApp, slug: &str, upstream: &Upstream) -> String {
    let service = register(app, &app.client, http_service(slug, upstream, json!({ "replicas": 1 }))).await;
    let id = service["id"].as_str().unwrap().to_owned();
    healthy(app, &id, 1).await;
    id
}

/// Waits until a hosted node shows online and trusted; returns its id.
pub async fn online_hosted_node(app: &TestApp) -> String {
    eventually("the hosted node to show online and trusted", || async {
        app.nodes()
            .await
            .iter()
            .any(|n| n["kind"] == "hosted" && n["state"] == "online" && n["trust"] == "trusted")
    })
    .await;
    let hosted = app.nodes().await.into_iter().find(|n| n["kind"] == "hosted").expect("a hosted node");
    hosted["id"].as_str().expect("an id").to_owned()
}

/// A client that calls the API with the key `secret` (no cookies).
pub fn bearer(secret: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers
        .insert(reqwest::header::AUTHORIZATION, format!("Bearer {secret}").parse().expect("a header value"));
    Client::builder().default_headers(headers).tcp_nodelay(true).build().expect("a client")
}
