//! A `kv` service's operations through the invoke path: entered at the entry node, carried
//! over the mesh to the hosting node, run there against the owner's bucket named like the
//! slug — with the Cloud API's answers, compare-and-swap by `If-Match`, entitlements and
//! metering as for any invoke.
use super::kv::{b64, key_url, send, text_of};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use web4_tests::{
    error_of,
    fixtures::{api_key, healthy, node_action, node_ids, register, second_account},
    spawn_app,
};

/// A client calling with the given API key secret.
fn with_key(secret: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {secret}").parse().unwrap());
    Client::builder().default_headers(headers).build().unwrap()
}

#[tokio::test]
async fn kv_calls_through_an_entry_node_two_hops_away_run_on_the_hosting_node_and_are_metered() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let ids = node_ids(&app);
    // Only the far end of the line (embedded-1 — embedded-2 — embedded-3) may host it.
    node_action(&app, &ids[0], "drain").await;
    node_action(&app, &ids[1], "drain").await;
    let service = register(&app, &app.client, json!({ "slug": "cache", "kind": "kv", "replicas": 1 })).await;
    let id = service["id"].as_str().unwrap().to_owned();
    assert_eq!(service["placements"][0]["node_id"], ids[2]);
    healthy(&app, &id, 1).await;
    let bucket = send(app.client.get(app.url("/api/v1/kv/buckets/cache")), StatusCode::OK).await;
    assert_eq!(bucket["revision"], 0, "registering the service made its bucket");
    let invoker = app.invoker().await;
    let call = |path: &str| app.url(&format!("/api/v1/invoke/cache/keys{path}"));

    let put =
        invoker.put(call("/greeting%2Fen")).json(&json!({ "value": b64("hello") })).send().await.unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let route: Vec<String> =
        put.headers()["x-web4-route"].to_str().unwrap().split(',').map(str::to_owned).collect();
    assert_eq!(route, ids, "entry node, the middle node, the hosting node");
    assert_eq!(put.headers()["etag"], "\"1\"");
    let put: Value = put.json().await.unwrap();
    assert_eq!(
        (put["bucket"].as_str(), put["key"].as_str(), put["revision"].as_u64()),
        (Some("cache"), Some("greeting/en"), Some(1))
    );

    let got = invoker.get(call("/greeting%2Fen")).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert!(got.headers().contains_key("x-web4-invoke-id"));
    let got: Value = got.json().await.unwrap();
    assert_eq!(text_of(&got), "hello");
    // The same bucket as the Cloud API's.
    let direct = send(app.client.get(key_url(&app, "cache", "greeting/en")), StatusCode::OK).await;
    assert_eq!(direct, got, "the same answer as the Cloud API's");

    // Compare-and-swap on a stale revision, and create-only on a key holding a value.
    let stale =
        invoker.put(call("/greeting%2Fen")).header("if-match", "7").json(&json!({ "value": b64("x") }));
    let stale = stale.send().await.unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let body: Value = stale.json().await.unwrap();
    assert_eq!(body["error"]["code"], "kv_revision_mismatch");
    assert_eq!(body["error"]["details"]["current_revision"], "1");
    let create =
        invoker.put(call("/greeting%2Fen")).header("if-none-match", "*").json(&json!({ "value": b64("x") }));
    let (code, _) = error_of(create.send().await.unwrap()).await;
    assert_eq!(code, "kv_key_exists");
    let swapped =
        invoker.put(call("/greeting%2Fen")).header("if-match", "\"1\"").json(&json!({ "value": b64("hi") }));
    let swapped = send(swapped, StatusCode::OK).await;
    assert_eq!(swapped["revision"], 2);

    // A key that looks like a path is a key of this bucket, nothing more.
    send(invoker.put(call("/..%2Fother")).json(&json!({ "value": b64("v") })), StatusCode::OK).await;
    send(app.client.get(key_url(&app, "cache", "../other")), StatusCode::OK).await;
    let listed = send(invoker.get(call("?prefix=greeting")), StatusCode::OK).await;
    assert_eq!(listed["items"], json!(["greeting/en"]));
    let deleted = send(invoker.delete(call("/greeting%2Fen")), StatusCode::OK).await;
    assert_eq!(deleted["operation"], "delete");
    send(invoker.get(call("/greeting%2Fen")), StatusCode::NOT_FOUND).await;
    let refused = invoker.post(call("/k")).body("{}").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(refused.headers()["allow"], "GET, PUT, DELETE");

    // put, get, put (swap), put (../other), list, delete: six 2xx answers, six usage events.
    let metered = app.count(&format!("SELECT COUNT(*) FROM usage_events WHERE service_id = '{id}'")).await;
    assert_eq!(metered, 6);
}

#[tokio::test]
async fn kv_calls_to_another_accounts_kv_service_are_not_found() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let service = register(&app, &app.client, json!({ "slug": "cache", "kind": "kv", "replicas": 1 })).await;
    let id = service["id"].as_str().unwrap().to_owned();
    healthy(&app, &id, 1).await;
    let owner: Value = app.me().await.json().await.unwrap();
    let owner = owner["id"].as_str().unwrap();
    let invoker = app.invoker().await;
    send(
        invoker.put(app.url("/api/v1/invoke/cache/keys/k")).json(&json!({ "value": b64("v") })),
        StatusCode::OK,
    )
    .await;
    let bob = second_account(&app, "bob@example.com").await;
    let (_, secret) = api_key(&app, &bob, &["invoke"]).await;
    let bob = with_key(&secret);

    for path in [format!("/api/v1/invoke/{id}/keys/k"), format!("/api/v1/invoke/{owner}/cache/keys/k")] {
        let response = bob.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // Bob's own slug "cache" is not the operator's.
    send(bob.get(app.url("/api/v1/invoke/cache/keys/k")), StatusCode::NOT_FOUND).await;
    let metered = app.count(&format!("SELECT COUNT(*) FROM usage_events WHERE service_id = '{id}'")).await;
    assert_eq!(metered, 1, "only the owner's put");
}
