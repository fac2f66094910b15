//! KV buckets of the memory context through the Cloud API: revisions and compare-and-swap,
//! create-only, tombstones and purges in history, bounded history, prefix listing, TTL expiry
//! and touch, size limits and quotas, isolation between accounts, and durability across a
//! restart and a SIGKILL.
use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use web4_tests::{
    PASSWORD, TestApp, eventually,
    fixtures::{api_key, second_account},
    spawn_app, spawn_app_with,
};

pub(crate) fn b64(text: &str) -> String {
    STANDARD.encode(text)
}

pub(crate) fn text_of(entry: &Value) -> String {
    String::from_utf8(STANDARD.decode(entry["value"].as_str().expect("a value")).unwrap()).unwrap()
}

/// Sends `request`, checks the status, and returns the JSON body (`Null` when empty).
pub(crate) async fn send(request: reqwest::RequestBuilder, expected: StatusCode) -> Value {
    let response = request.send().await.unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, expected, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// An app with a signed-up account (the app's client holds its session).
pub(crate) async fn app_with_account() -> TestApp {
    let app = spawn_app().await;
    assert_eq!(app.sign_up("ada@example.com", PASSWORD).await.status(), StatusCode::CREATED);
    app
}

pub(crate) async fn create_bucket(app: &TestApp, client: &Client, body: Value) -> Value {
    send(client.post(app.url("/api/v1/kv/buckets")).json(&body), StatusCode::CREATED).await
}

pub(crate) fn key_url(app: &TestApp, bucket: &str, key: &str) -> String {
    // Keys may hold `/`: it travels percent-encoded in the path.
    app.url(&format!("/api/v1/kv/buckets/{bucket}/keys/{}", key.replace('/', "%2F")))
}

pub(crate) async fn put(
    app: &TestApp,
    client: &Client,
    bucket: &str,
    key: &str,
    body: Value,
) -> reqwest::Response {
    client.put(key_url(app, bucket, key)).json(&body).send().await.unwrap()
}

pub(crate) async fn put_ok(app: &TestApp, bucket: &str, key: &str, value: &str) -> Value {
    let response = put(app, &app.client, bucket, key, json!({ "value": b64(value) })).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn history(app: &TestApp, bucket: &str, key: &str) -> Vec<Value> {
    let url = format!("{}/history", key_url(app, bucket, key));
    let body = send(app.client.get(url), StatusCode::OK).await;
    body.as_array().expect("a list").clone()
}

fn operations(history: &[Value]) -> Vec<&str> {
    history.iter().map(|e| e["operation"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn kv_compare_and_swap_on_a_stale_revision_answers_409_with_the_current_revision() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "config" })).await;
    let first = put_ok(&app, "config", "mode", "a").await;
    let first_revision = first["revision"].as_u64().unwrap();
    let second = put(
        &app,
        &app.client,
        "config",
        "mode",
        json!({ "value": b64("b"), "expected_revision": first_revision }),
    )
    .await;
    assert_eq!(second.status(), StatusCode::OK);
    let second: Value = second.json().await.unwrap();
    let current = second["revision"].as_u64().unwrap();
    assert!(current > first_revision);

    let stale = put(
        &app,
        &app.client,
        "config",
        "mode",
        json!({ "value": b64("c"), "expected_revision": first_revision }),
    )
    .await;

    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let body: Value = stale.json().await.unwrap();
    assert_eq!(body["error"]["code"], "kv_revision_mismatch");
    assert_eq!(body["error"]["details"]["current_revision"], current.to_string());
    let got = send(app.client.get(key_url(&app, "config", "mode")), StatusCode::OK).await;
    assert_eq!(text_of(&got), "b", "the stale write changed nothing");
}

#[tokio::test]
async fn kv_create_on_an_existing_key_answers_409_and_revisions_increase_per_bucket() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "locks" })).await;
    let created =
        put(&app, &app.client, "locks", "job-1", json!({ "value": b64("me"), "create_only": true })).await;
    assert_eq!(created.status(), StatusCode::OK);
    let other = put_ok(&app, "locks", "job-2", "you").await;

    let again =
        put(&app, &app.client, "locks", "job-1", json!({ "value": b64("them"), "create_only": true })).await;

    assert_eq!(again.status(), StatusCode::CONFLICT);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"]["code"], "kv_key_exists");
    assert_eq!(body["error"]["details"]["current_revision"], "1");
    assert_eq!(other["revision"], 2, "revisions count per bucket, not per key");
    let bucket = send(app.client.get(app.url("/api/v1/kv/buckets/locks")), StatusCode::OK).await;
    assert_eq!(bucket["revision"], 2);
    assert_eq!(bucket["live_keys"], 2);
}

#[tokio::test]
async fn kv_delete_leaves_a_tombstone_in_history_and_get_is_404() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "users", "history": 10 })).await;
    put_ok(&app, "users", "users/42", "Ada").await;

    let deleted = send(app.client.delete(key_url(&app, "users", "users/42")), StatusCode::OK).await;

    assert_eq!(deleted["operation"], "delete");
    assert_eq!(deleted["value"], Value::Null);
    let response = app.client.get(key_url(&app, "users", "users/42")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let kept = history(&app, "users", "users/42").await;
    assert_eq!(operations(&kept), ["put", "delete"]);
    assert_eq!(text_of(&kept[0]), "Ada");
    // Created again after a delete: create-only sees the key as absent.
    let recreated =
        put(&app, &app.client, "users", "users/42", json!({ "value": b64("Bea"), "create_only": true }))
            .await;
    assert_eq!(recreated.status(), StatusCode::OK);

    let purged =
        send(app.client.post(format!("{}/purge", key_url(&app, "users", "users/42"))), StatusCode::OK).await;
    assert_eq!(purged["operation"], "purge");
    assert_eq!(operations(&history(&app, "users", "users/42").await), ["purge"], "a purge drops the history");
}

#[tokio::test]
async fn kv_history_is_bounded_by_the_bucket_setting() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "counters", "history": 3 })).await;
    for i in 1..=6 {
        put_ok(&app, "counters", "hits", &i.to_string()).await;
    }

    let kept = history(&app, "counters", "hits").await;

    let values: Vec<String> = kept.iter().map(text_of).collect();
    assert_eq!(values, ["4", "5", "6"], "the newest three, oldest first");
    let revisions: Vec<u64> = kept.iter().map(|e| e["revision"].as_u64().unwrap()).collect();
    assert_eq!(revisions, [4, 5, 6]);
    let too_many = app
        .client
        .post(app.url("/api/v1/kv/buckets"))
        .json(&json!({ "name": "x", "history": 65 }))
        .send()
        .await
        .unwrap();
    assert_eq!(too_many.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn kv_listing_by_prefix_paginates_in_key_order() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "tree" })).await;
    for key in ["a/1", "a/2", "a/3", "a/4", "a/5", "b/1", "a"] {
        put_ok(&app, "tree", key, key).await;
    }
    send(app.client.delete(key_url(&app, "tree", "a/3")), StatusCode::OK).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = app.url("/api/v1/kv/buckets/tree/keys?prefix=a%2F&limit=2");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={}", cursor.replace('/', "%2F")));
        }
        let page = send(app.client.get(url), StatusCode::OK).await;
        seen.extend(page["items"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }

    assert_eq!(seen, ["a/1", "a/2", "a/4", "a/5"], "deleted and other-prefix keys are left out");
    let all = send(app.client.get(app.url("/api/v1/kv/buckets/tree/keys")), StatusCode::OK).await;
    assert_eq!(all["items"], json!(["a", "a/1", "a/2", "a/4", "a/5", "b/1"]));
    let bad =
        app.client.get(app.url("/api/v1/kv/buckets/tree/keys?cursor=not%20a%20key")).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn kv_ttl_expiry_makes_the_key_absent_and_shows_in_history_and_touch_extends_it() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "sessions", "history": 5 })).await;
    let short =
        put(&app, &app.client, "sessions", "s1", json!({ "value": b64("x"), "ttl_seconds": 1 })).await;
    assert_eq!(short.status(), StatusCode::OK);
    let kept = put(&app, &app.client, "sessions", "s2", json!({ "value": b64("y"), "ttl_seconds": 1 })).await;
    let kept: Value = kept.json().await.unwrap();

    let touched = send(
        app.client
            .post(format!("{}/touch", key_url(&app, "sessions", "s2")))
            .json(&json!({ "ttl_seconds": 60 })),
        StatusCode::OK,
    )
    .await;
    assert_eq!(touched["revision"], kept["revision"], "touch keeps the revision");
    let at =
        |entry: &Value| chrono::DateTime::parse_from_rfc3339(entry["expires_at"].as_str().unwrap()).unwrap();
    assert!(at(&touched) - at(&kept) > chrono::TimeDelta::seconds(50), "{touched} {kept}");

    eventually("the expiry tombstone", || async {
        let response =
            app.client.get(format!("{}/history", key_url(&app, "sessions", "s1"))).send().await.unwrap();
        let kept: Value = response.json().await.unwrap();
        kept.as_array().is_some_and(|h| operations(h) == ["put", "expire"])
    })
    .await;
    let gone = app.client.get(key_url(&app, "sessions", "s1")).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    // s2's first TTL ended within milliseconds of s1's.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let alive = send(app.client.get(key_url(&app, "sessions", "s2")), StatusCode::OK).await;
    assert_eq!(text_of(&alive), "y", "the touched key outlived its first TTL");
    let keys = send(app.client.get(app.url("/api/v1/kv/buckets/sessions/keys")), StatusCode::OK).await;
    assert_eq!(keys["items"], json!(["s2"]));
    let bucket = send(app.client.get(app.url("/api/v1/kv/buckets/sessions")), StatusCode::OK).await;
    assert_eq!(bucket["live_keys"], 1, "the expired key no longer counts");
}

#[tokio::test]
async fn kv_huge_keys_and_values_are_refused_with_clear_errors() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "small", "max_value_bytes": 16 })).await;
    create_bucket(&app, &app.client, json!({ "name": "big" })).await;

    let long_key = "k".repeat(1025);
    let response = put(&app, &app.client, "small", &long_key, json!({ "value": b64("v") })).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["details"]["key"].as_str().unwrap().contains("1024"), "{body}");

    let response = put(&app, &app.client, "small", "k", json!({ "value": b64(&"v".repeat(17)) })).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert!(body["error"]["message"].as_str().unwrap().contains("16 bytes"), "{body}");

    // A full 1 MiB value is accepted; one byte more is not.
    let mib = STANDARD.encode(vec![7u8; 1024 * 1024]);
    let response = put(&app, &app.client, "big", "blob", json!({ "value": mib })).await;
    assert_eq!(response.status(), StatusCode::OK);
    let over = STANDARD.encode(vec![7u8; 1024 * 1024 + 1]);
    let response = put(&app, &app.client, "big", "blob", json!({ "value": over })).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Far beyond: the body limit refuses it before it is read whole.
    let huge = "A".repeat(4 * 1024 * 1024);
    let response = put(&app, &app.client, "big", "blob", json!({ "value": huge })).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let response = put(&app, &app.client, "small", "bad key!", json!({ "value": b64("v") })).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn kv_quotas_on_buckets_and_live_keys_answer_409() {
    let app = spawn_app_with(|config| {
        config.memory.max_buckets = 2;
        config.memory.max_live_keys = 3;
    })
    .await;
    app.sign_up("ada@example.com", PASSWORD).await;
    create_bucket(&app, &app.client, json!({ "name": "one" })).await;
    create_bucket(&app, &app.client, json!({ "name": "two" })).await;
    let third = app
        .client
        .post(app.url("/api/v1/kv/buckets"))
        .json(&json!({ "name": "three" }))
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), StatusCode::CONFLICT);
    assert_eq!(third.json::<Value>().await.unwrap()["error"]["code"], "kv_bucket_limit_reached");
    let duplicate =
        app.client.post(app.url("/api/v1/kv/buckets")).json(&json!({ "name": "one" })).send().await.unwrap();
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);

    put_ok(&app, "one", "a", "1").await;
    put_ok(&app, "one", "b", "1").await;
    put_ok(&app, "two", "c", "1").await;
    put_ok(&app, "two", "c", "2").await; // overwriting a live key takes no more quota
    let fourth = put(&app, &app.client, "two", "d", json!({ "value": b64("1") })).await;

    assert_eq!(fourth.status(), StatusCode::CONFLICT);
    let body: Value = fourth.json().await.unwrap();
    assert_eq!(body["error"]["code"], "kv_key_limit_reached");
    assert!(body["error"]["message"].as_str().unwrap().contains('3'));
    send(app.client.delete(key_url(&app, "one", "a")), StatusCode::OK).await;
    put_ok(&app, "two", "d", "1").await;

    // Deleting a bucket takes its entries with it and frees its place.
    send(app.client.delete(app.url("/api/v1/kv/buckets/one")), StatusCode::NO_CONTENT).await;
    let gone = app.client.get(app.url("/api/v1/kv/buckets/one")).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM kv_entries WHERE key IN ('a', 'b')").await, 0);
    create_bucket(&app, &app.client, json!({ "name": "three" })).await;
}

#[tokio::test]
async fn kv_another_account_can_neither_read_list_write_nor_purge_a_bucket() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "secrets", "history": 5 })).await;
    put_ok(&app, "secrets", "token", "hunter2").await;
    let bob = second_account(&app, "bob@example.com").await;

    let attempts = [
        bob.get(app.url("/api/v1/kv/buckets/secrets")),
        bob.get(key_url(&app, "secrets", "token")),
        bob.get(app.url("/api/v1/kv/buckets/secrets/keys")),
        bob.get(format!("{}/history", key_url(&app, "secrets", "token"))),
        bob.put(key_url(&app, "secrets", "token")).json(&json!({ "value": b64("pwned") })),
        bob.delete(key_url(&app, "secrets", "token")),
        bob.post(format!("{}/purge", key_url(&app, "secrets", "token"))),
        bob.post(format!("{}/touch", key_url(&app, "secrets", "token"))).json(&json!({ "ttl_seconds": 1 })),
        bob.delete(app.url("/api/v1/kv/buckets/secrets")),
    ];
    for attempt in attempts {
        let response = attempt.send().await.unwrap();
        let url = response.url().to_string();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{url}");
    }

    let listed = send(bob.get(app.url("/api/v1/kv/buckets")), StatusCode::OK).await;
    assert_eq!(listed, json!([]));
    // Bob's bucket of the same name is his own; Ada's is untouched.
    create_bucket(&app, &bob, json!({ "name": "secrets" })).await;
    let response = bob.get(key_url(&app, "secrets", "token")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let kept = history(&app, "secrets", "token").await;
    assert_eq!(operations(&kept), ["put"]);
    assert_eq!(text_of(&kept[0]), "hunter2");
}

#[tokio::test]
async fn kv_api_keys_need_the_read_scope_to_read_and_write_to_write() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "scoped" })).await;
    put_ok(&app, "scoped", "k", "v").await;
    let (_, reader) = api_key(&app, &app.client, &["read"]).await;
    let client = Client::new();

    let read = client.get(key_url(&app, "scoped", "k")).bearer_auth(&reader).send().await.unwrap();
    let write = client
        .put(key_url(&app, "scoped", "k"))
        .bearer_auth(&reader)
        .json(&json!({ "value": b64("w") }))
        .send()
        .await
        .unwrap();

    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    assert_eq!(write.json::<Value>().await.unwrap()["error"]["code"], "missing_scope");
}

#[tokio::test]
async fn kv_an_acknowledged_put_survives_a_restart() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "durable", "history": 2 })).await;
    put_ok(&app, "durable", "k", "one").await;
    let acknowledged = put_ok(&app, "durable", "k", "two").await;

    let app = app.restart().await;

    let got = send(app.client.get(key_url(&app, "durable", "k")), StatusCode::OK).await;
    assert_eq!(text_of(&got), "two");
    assert_eq!(got["revision"], acknowledged["revision"]);
    let next = put_ok(&app, "durable", "k", "three").await;
    assert_eq!(next["revision"], 3, "the revision counter survived too");
}

#[tokio::test]
async fn kv_acknowledged_puts_survive_a_sigkill() {
    let mut process = crate::crash::Process::signed_up().await;
    let (base, client) = (process.base.clone(), process.client.clone());
    send(
        client.post(format!("{base}/api/v1/kv/buckets")).json(&json!({ "name": "wal" })),
        StatusCode::CREATED,
    )
    .await;
    for i in 0..20 {
        let url = format!("{base}/api/v1/kv/buckets/wal/keys/k{i}");
        send(client.put(url).json(&json!({ "value": b64(&i.to_string()) })), StatusCode::OK).await;
    }

    process.kill_and_restart().await;

    for i in 0..20 {
        let got = send(client.get(format!("{base}/api/v1/kv/buckets/wal/keys/k{i}")), StatusCode::OK).await;
        assert_eq!(text_of(&got), i.to_string());
    }
}

#[tokio::test]
async fn kv_answers_in_the_one_error_shape_without_a_caller_or_with_a_wrong_method() {
    let app = spawn_app().await;

    let anonymous = app.client.get(app.url("/api/v1/kv/buckets")).send().await.unwrap();
    let wrong_method = app.client.patch(app.url("/api/v1/kv/buckets")).send().await.unwrap();

    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(web4_tests::error_of(anonymous).await.0, "unauthenticated");
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(web4_tests::error_of(wrong_method).await.0, "method_not_allowed");
}

#[tokio::test]
async fn kv_concurrent_compare_and_swaps_on_one_revision_let_exactly_one_win() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "race", "history": 64 })).await;
    let start = put_ok(&app, "race", "leader", "nobody").await;
    let revision = start["revision"].as_u64().unwrap();

    let attempts = (0..10).map(|i| {
        let request = app
            .client
            .put(key_url(&app, "race", "leader"))
            .json(&json!({ "value": b64(&format!("node-{i}")), "expected_revision": revision }));
        async move { request.send().await.unwrap().status() }
    });
    let statuses = futures::future::join_all(attempts).await;

    let won = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let lost = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((won, lost), (1, 9), "{statuses:?}");
    assert_eq!(history(&app, "race", "leader").await.len(), 2);

    // Concurrent writes to different keys take distinct, gapless revisions of the bucket.
    let writes =
        (0..10).map(|i| {
            let request =
                app.client.put(key_url(&app, "race", &format!("k{i}"))).json(&json!({ "value": b64("v") }));
            async move {
                request.send().await.unwrap().json::<Value>().await.unwrap()["revision"].as_u64().unwrap()
            }
        });
    let mut revisions = futures::future::join_all(writes).await;
    revisions.sort_unstable();
    assert_eq!(revisions, (revision + 2..revision + 12).collect::<Vec<_>>());
}
