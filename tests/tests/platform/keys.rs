//! API keys, scopes, rate limits and `Idempotency-Key` through the real server.
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use web4_tests::{
    error_of,
    fixtures::{api_key, second_account},
    spawn_app, spawn_app_with,
};

/// A client with no cookies: it authenticates with its bearer key only.
fn bare() -> Client {
    Client::new()
}

#[tokio::test]
async fn a_key_is_shown_once_stored_only_as_a_hash_and_authenticates_alone() {
    let app = spawn_app().await;
    app.sign_up("dev@example.com", web4_tests::PASSWORD).await;
    let (id, secret) = api_key(&app, &app.client, &["read", "write", "invoke"]).await;
    assert!(secret.starts_with("w4k_"), "{secret}");
    assert_eq!(secret.len(), 4 + 43, "256 bits in base64url");

    // The secret is never shown again.
    let listed = app.client.get(app.url("/api/v1/keys")).send().await.unwrap().text().await.unwrap();
    let one =
        app.client.get(app.url(&format!("/api/v1/keys/{id}"))).send().await.unwrap().text().await.unwrap();
    let random = &secret[4..];
    for shown in [&listed, &one] {
        assert!(shown.contains(&id) && shown.contains(&secret[..10]), "{shown}");
        assert!(!shown.contains(random), "the secret leaked: {shown}");
    }

    // Neither the table nor any byte of the database files holds it.
    let cells = app
        .query_strings(
            "SELECT id || name || prefix || key_hash || scopes || created_at || COALESCE(expires_at, '') FROM api_keys",
        )
        .await;
    assert_eq!(cells.len(), 1);
    assert!(!cells[0].contains(random));
    for entry in std::fs::read_dir(app.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(random.len()).any(|w| w == random.as_bytes()),
                "found in {}",
                path.display()
            );
        }
    }

    // The key alone is enough.
    let me: Value =
        bare().get(app.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["email"], "dev@example.com");

    // "Last used" is recorded within a few seconds.
    web4_tests::eventually("last_used_at", || async {
        let key: Value = app
            .client
            .get(app.url(&format!("/api/v1/keys/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        key["last_used_at"].is_string()
    })
    .await;
}

#[tokio::test]
async fn unknown_malformed_revoked_and_expired_keys_get_401() {
    let app = spawn_app().await;
    app.sign_up("dev@example.com", web4_tests::PASSWORD).await;
    for auth in ["Bearer w4k_notakeyatall", "Basic ZGV2OnB3", "Bearer"] {
        let response = bare().get(app.url("/api/v1/me")).header("authorization", auth).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{auth}");
        assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
        let (code, _) = error_of(response).await;
        assert!(code == "invalid_api_key" || code == "malformed_authorization", "{code}");
    }

    // Revoked: the very next request fails, although the key was just cached.
    let (id, secret) = api_key(&app, &app.client, &["read"]).await;
    let me = || bare().get(app.url("/api/v1/me")).bearer_auth(&secret).send();
    assert_eq!(me().await.unwrap().status(), StatusCode::OK);
    let revoked_at = Instant::now();
    let response = app.client.delete(app.url(&format!("/api/v1/keys/{id}"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["state"], "revoked");
    let response = me().await.unwrap();
    assert!(revoked_at.elapsed() < Duration::from_secs(1));
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(response).await.0, "api_key_revoked");

    // Expired: works until its time, then 401.
    let expires_at = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let response = app
        .client
        .post(app.url("/api/v1/keys"))
        .json(&json!({ "name": "short-lived", "scopes": ["read"], "expires_at": expires_at }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let secret = response.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
    let me = || bare().get(app.url("/api/v1/me")).bearer_auth(&secret).send();
    assert_eq!(me().await.unwrap().status(), StatusCode::OK);
    tokio::time::sleep_until((Instant::now() + Duration::from_millis(1600)).into()).await;
    let response = me().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(response).await.0, "api_key_expired");

    // Bad key requests are 422 with every field named.
    let response = app
        .client
        .post(app.url("/api/v1/keys"))
        .json(&json!({ "name": "", "scopes": [], "expires_at": "2001-01-01T00:00:00Z" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    for field in ["name", "scopes", "expires_at"] {
        assert!(body["error"]["details"][field].is_string(), "{field}: {body}");
    }
    let response = app
        .client
        .post(app.url("/api/v1/keys"))
        .json(&json!({ "name": "x", "scopes": ["root"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_key_can_do_only_what_its_scopes_allow() {
    let app = spawn_app().await;
    app.sign_up("dev@example.com", web4_tests::PASSWORD).await;
    let (_, read_only) = api_key(&app, &app.client, &["read"]).await;
    let get = bare().get(app.url("/api/v1/services")).bearer_auth(&read_only).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::OK);
    let post = bare()
        .post(app.url("/api/v1/services"))
        .bearer_auth(&read_only)
        .json(&json!({ "slug": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::FORBIDDEN);
    let (code, message) = error_of(post).await;
    assert_eq!(code, "missing_scope");
    assert!(message.contains("write"), "{message}");
    let invoke = bare().get(app.url("/api/v1/invoke/x/")).bearer_auth(&read_only).send().await.unwrap();
    assert_eq!(invoke.status(), StatusCode::FORBIDDEN);

    // A key cannot mint a stronger key.
    let (_, read_write) = api_key(&app, &app.client, &["read", "write"]).await;
    let response = bare()
        .post(app.url("/api/v1/keys"))
        .bearer_auth(&read_write)
        .json(&json!({ "name": "escalate", "scopes": ["invoke"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_of(response).await.0, "scope_escalation");
    let response = bare()
        .post(app.url("/api/v1/keys"))
        .bearer_auth(&read_write)
        .json(&json!({ "name": "weaker", "scopes": ["read"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn another_account_cannot_see_or_revoke_a_key() {
    let app = spawn_app().await;
    app.sign_up("a@example.com", web4_tests::PASSWORD).await;
    let (id, secret) = api_key(&app, &app.client, &["read"]).await;
    let b = second_account(&app, "b@example.com").await;
    let read = b.get(app.url(&format!("/api/v1/keys/{id}"))).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::NOT_FOUND);
    let revoke = b.delete(app.url(&format!("/api/v1/keys/{id}"))).send().await.unwrap();
    assert_eq!(revoke.status(), StatusCode::NOT_FOUND);
    let list: Value = b.get(app.url("/api/v1/keys")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"], json!([]));
    // A's key still works, and it sees A's data only.
    let me: Value =
        bare().get(app.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["email"], "a@example.com");
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_ratelimit_headers() {
    let app = spawn_app_with(|c| {
        c.rate_limits.key = server::ratelimit::Limit { per_second: 1, burst: 3 };
    })
    .await;
    app.sign_up("dev@example.com", web4_tests::PASSWORD).await;
    let (_, secret) = api_key(&app, &app.client, &["read"]).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let response = bare().get(app.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["ratelimit-limit"], "3");
        remaining.push(response.headers()["ratelimit-remaining"].to_str().unwrap().to_owned());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let response = bare().get(app.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_eq!(response.headers()["ratelimit-remaining"], "0");
    assert!(response.headers()["ratelimit-policy"].to_str().unwrap().contains("key"));
    assert_eq!(error_of(response).await.0, "rate_limited");
    // After the wait it works again.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let response = bare().get(app.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let app = spawn_app().await;
    app.sign_up("dev@example.com", web4_tests::PASSWORD).await;
    let upstream = web4_tests::upstream::Upstream::start().await;
    let body = web4_tests::fixtures::http_service("once", &upstream, json!({}));
    let post = |body: &Value, key: &str| {
        app.client.post(app.url("/api/v1/services")).header("idempotency-key", key).json(body).send()
    };
    let first = post(&body, "create-once-1").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = post(&body, "create-once-1").await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let mut expected = first.clone();
    expected["proxy_secret"] = Value::Null;
    assert_eq!(again.json::<Value>().await.unwrap(), expected, "the same answer, without its secret");
    assert_eq!(app.count("SELECT COUNT(*) FROM services").await, 1);

    let other = post(&json!({ "slug": "twice", "kind": "kv" }), "create-once-1").await.unwrap();
    assert!(first["proxy_secret"].as_str().is_some_and(|s| s.starts_with("w4ps_")));
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT COUNT(*) FROM services").await, 1);

    // Keys are per account: another account's identical key is its own.
    let b = second_account(&app, "b@example.com").await;
    let theirs = b
        .post(app.url("/api/v1/services"))
        .header("idempotency-key", "create-once-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), StatusCode::CREATED);
    assert!(theirs.headers().get("idempotent-replayed").is_none());

    let bad = post(&body, "with space").await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_of(bad).await.0, "bad_idempotency_key");

    // A key's secret is never stored for a replay.
    let create_key = || {
        app.client
            .post(app.url("/api/v1/keys"))
            .header("idempotency-key", "key-1")
            .json(&json!({ "name": "ci", "scopes": ["read"] }))
            .send()
    };
    let created: Value = create_key().await.unwrap().json().await.unwrap();
    assert!(created["secret"].is_string());
    let replayed: Value = create_key().await.unwrap().json().await.unwrap();
    assert_eq!(replayed["secret"], Value::Null);
    assert_eq!(replayed["key"]["id"], created["key"]["id"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, 1);
}

#[tokio::test]
async fn guessing_keys_from_one_address_is_throttled_before_any_lookup() {
    let app = spawn_app_with(|c| {
        c.rate_limits.failed_auth = server::ratelimit::Limit { per_second: 1, burst: 3 };
    })
    .await;
    app.sign_up("dev@example.com", web4_tests::PASSWORD).await;
    let (_, secret) = api_key(&app, &app.client, &["read"]).await;
    for i in 0..3 {
        let guess = format!("w4k_guess{i}");
        let response = bare().get(app.url("/api/v1/me")).bearer_auth(guess).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = bare().get(app.url("/api/v1/me")).bearer_auth("w4k_guess3").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(error_of(response).await.0, "too_many_failed_authentications");
    // While blocked, the address gets 429 even with a valid key; after the wait it works.
    let blocked = bare().get(app.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let ok = bare().get(app.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    // The portal session is not affected.
    assert_eq!(app.me().await.status(), StatusCode::OK);
}
