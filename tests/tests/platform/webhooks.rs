//! Signed webhooks through the Cloud API, against real receivers on port 0: deliveries the
//! Standard Webhooks reference verifier accepts (and refuses once stale), replays with the
//! same `webhook-id`, retries on the configured schedule with every attempt logged, automatic
//! disabling and re-enabling with what was missed, the egress policy at creation and at
//! delivery time, and one account seeing nothing of another's endpoints or events.
use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::Config;
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU16, Ordering},
    },
    time::Duration,
};
use web4_tests::{TestApp, error_of, eventually, fixtures::second_account, spawn_app_with};

/// A webhook receiver: records every request and answers `status`.
#[derive(Clone)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    status: Arc<AtomicU16>,
    port: u16,
}

impl Receiver {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver {
            got: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            port: listener.local_addr().unwrap().port(),
        };
        async fn hook(
            State(r): State<Receiver>,
            headers: HeaderMap,
            body: Bytes,
        ) -> (axum::http::StatusCode, String) {
            r.got.lock().unwrap().push((headers, body));
            let status = r.status.load(Ordering::SeqCst);
            let answer =
                if status == 200 { "thanks".to_owned() } else { format!("boom {}", "x".repeat(2000)) };
            (axum::http::StatusCode::from_u16(status).unwrap(), answer)
        }
        let app = Router::new().route("/hook", post(hook)).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn requests(&self) -> Vec<(HeaderMap, Bytes)> {
        self.got.lock().unwrap().clone()
    }

    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}

/// Short timing for tests: retries after ~100 ms and ~200 ms (± 20 %), disabled after 180 ms of
/// failures (between the second attempt and the third).
fn quick(config: &mut Config) {
    config.nodes = 0;
    config.webhooks.retry_schedule = vec![Duration::from_millis(100), Duration::from_millis(200)];
    config.webhooks.disable_after = Duration::from_millis(180);
    config.webhooks.poll_every = Duration::from_millis(20);
    config.webhooks.timeout = Duration::from_secs(2);
}

async fn send(request: reqwest::RequestBuilder, expected: StatusCode) -> Value {
    let response = request.send().await.unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, expected, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

async fn account_id(app: &TestApp, client: &Client) -> String {
    let me = send(client.get(app.url("/api/v1/me")), StatusCode::OK).await;
    me["id"].as_str().expect("an account id").to_owned()
}

async fn publish(app: &TestApp, client: &Client, topic: &str, data: Value) -> i64 {
    let url = app.url(&format!("/api/v1/events/topics/{topic}/messages"));
    let published =
        send(client.post(url).json(&json!({ "data": data.to_string() })), StatusCode::CREATED).await;
    published["seq"].as_i64().unwrap()
}

async fn create(app: &TestApp, client: &Client, url: &str, filters: &[&str]) -> (String, String) {
    let created = send(
        client
            .post(app.url("/api/v1/webhooks"))
            .json(&json!({ "url": url, "filters": filters, "description": "test" })),
        StatusCode::CREATED,
    )
    .await;
    (created["webhook"]["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned())
}

async fn deliveries(app: &TestApp, client: &Client, id: &str, query: &str) -> Vec<Value> {
    let page =
        send(client.get(app.url(&format!("/api/v1/webhooks/{id}/deliveries?{query}"))), StatusCode::OK).await;
    page["items"].as_array().unwrap().clone()
}

/// The endpoint's deliveries once `done` holds of them (within 15 s).
async fn deliveries_when(
    app: &TestApp,
    client: &Client,
    id: &str,
    query: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..750 {
        let listed = deliveries(app, client, id, query).await;
        if done(&listed) {
            return listed;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for the deliveries of {id} ({query})");
}

async fn attempts(app: &TestApp, client: &Client, id: &str, delivery: &str) -> Vec<Value> {
    let url = app.url(&format!("/api/v1/webhooks/{id}/deliveries/{delivery}/attempts"));
    send(client.get(url), StatusCode::OK).await.as_array().unwrap().clone()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).unwrap().to_str().unwrap()
}

#[tokio::test]
async fn deliveries_verify_with_the_reference_library_replays_keep_the_id_and_stale_ones_are_refused() {
    let app = spawn_app_with(quick).await;
    app.sign_up_operator().await;
    let me = account_id(&app, &app.client).await;
    let receiver = Receiver::start().await;
    let (id, secret) = create(&app, &app.client, &receiver.url(), &[&format!("acct.{me}.orders.>")]).await;
    assert!(secret.starts_with("whsec_"));

    publish(&app, &app.client, &format!("acct.{me}.other"), json!({ "skip": true })).await;
    let seq = publish(&app, &app.client, &format!("acct.{me}.orders.new"), json!({ "order": 7 })).await;
    eventually("the delivery", || async { receiver.count() >= 1 }).await;

    // Exactly the matching message, signed so the reference verifier accepts it.
    let (headers, body) = receiver.requests().remove(0);
    let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
    verifier.verify(&body, &headers).expect("a valid Standard Webhooks signature");
    assert_eq!(header(&headers, "webhook-id"), format!("evt_{seq}"));
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["type"], format!("acct.{me}.orders.new"));
    assert_eq!((payload["seq"].as_i64(), payload["data"].clone()), (Some(seq), json!({ "order": 7 })));
    assert!(payload["timestamp"].as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()));
    let wrong = standardwebhooks::Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    assert!(wrong.verify(&body, &headers).is_err(), "another secret does not verify it");

    // The delivery and its attempt are logged.
    let listed = deliveries_when(&app, &app.client, &id, "status=succeeded", |l| l.len() == 1).await;
    let delivery = listed[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed[0]["message_id"], format!("evt_{seq}"));
    let tried = attempts(&app, &app.client, &id, &delivery).await;
    assert_eq!(tried.len(), 1);
    assert_eq!(
        (tried[0]["status_code"].as_u64(), tried[0]["response_snippet"].as_str()),
        (Some(200), Some("thanks"))
    );

    // A replay: a new delivery, the same webhook-id and body, a fresh signature that verifies.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let url = app.url(&format!("/api/v1/webhooks/{id}/deliveries/{delivery}/replay"));
    let replayed = send(app.client.post(url), StatusCode::ACCEPTED).await;
    assert_ne!(replayed["id"].as_str(), Some(delivery.as_str()));
    eventually("the replay", || async { receiver.count() >= 2 }).await;
    let (again, again_body) = receiver.requests().remove(1);
    verifier.verify(&again_body, &again).expect("the replay verifies");
    assert_eq!(header(&again, "webhook-id"), header(&headers, "webhook-id"));
    assert_eq!(again_body, body);
    assert!(
        header(&again, "webhook-timestamp").parse::<i64>().unwrap()
            > header(&headers, "webhook-timestamp").parse::<i64>().unwrap()
    );

    // The same delivery signed correctly but older than the tolerance (5 minutes): refused.
    let stale_at = header(&again, "webhook-timestamp").parse::<i64>().unwrap() - 301;
    let key = server::webhooks::signing::key_of(&secret).unwrap();
    let mut stale = again.clone();
    stale.insert("webhook-timestamp", stale_at.to_string().parse().unwrap());
    let signature = server::webhooks::signing::sign(&key, &format!("evt_{seq}"), stale_at, &again_body);
    stale.insert("webhook-signature", signature.parse().unwrap());
    assert!(matches!(
        verifier.verify(&again_body, &stale),
        Err(standardwebhooks::WebhookError::TimestampTooOldError)
    ));

    // Secrets never appear in a list or a get answer.
    let key_text = secret.trim_start_matches("whsec_");
    for path in ["/api/v1/webhooks".to_owned(), format!("/api/v1/webhooks/{id}")] {
        let text = app.client.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
        assert!(text.contains(&id) && !text.contains(key_text) && !text.contains("whsec_"), "{path}: {text}");
    }

    // Rotating: a new secret, and later deliveries verify with it only.
    let rotated =
        send(app.client.post(app.url(&format!("/api/v1/webhooks/{id}/rotate-secret"))), StatusCode::OK).await;
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    publish(&app, &app.client, &format!("acct.{me}.orders.new"), json!({ "order": 8 })).await;
    eventually("the delivery after rotation", || async { receiver.count() >= 3 }).await;
    let (headers, body) = receiver.requests().remove(2);
    standardwebhooks::Webhook::new(&new_secret).unwrap().verify(&body, &headers).expect("the new secret");
    assert!(verifier.verify(&body, &headers).is_err(), "the old secret no longer verifies");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_on_schedule_disabled_and_re_enabled_with_what_it_missed() {
    let app = spawn_app_with(quick).await;
    app.sign_up_operator().await;
    let me = account_id(&app, &app.client).await;
    let receiver = Receiver::start().await;
    receiver.status.store(500, Ordering::SeqCst);
    let (id, secret) = create(&app, &app.client, &receiver.url(), &[">"]).await;

    let first = publish(&app, &app.client, &format!("acct.{me}.jobs"), json!({ "n": 1 })).await;
    let failed = deliveries_when(&app, &app.client, &id, "status=failed", |l| l.len() == 1).await;
    // One attempt and one per step of the schedule, each logged with its status and answer.
    assert_eq!(failed[0]["attempts"], 3);
    assert_eq!(receiver.count(), 3);
    let tried = attempts(&app, &app.client, &id, failed[0]["id"].as_str().unwrap()).await;
    assert_eq!(tried.len(), 3);
    for attempt in &tried {
        assert_eq!(attempt["status_code"], 500);
        let snippet = attempt["response_snippet"].as_str().unwrap();
        assert!(
            snippet.starts_with("boom") && snippet.len() == 1024,
            "the first KiB only: {}",
            snippet.len()
        );
        assert!(attempt["latency_ms"].as_u64().is_some());
    }
    let at =
        |i: usize| chrono::DateTime::parse_from_rfc3339(tried[i]["attempted_at"].as_str().unwrap()).unwrap();
    assert!((at(1) - at(0)).num_milliseconds() >= 80, "the first wait is 100 ms ± 20 %");
    assert!((at(2) - at(1)).num_milliseconds() >= 160, "the second 200 ms ± 20 %");

    // Failing for longer than 180 ms disabled it, with why and when.
    let endpoint = send(app.client.get(app.url(&format!("/api/v1/webhooks/{id}"))), StatusCode::OK).await;
    assert_eq!(endpoint["status"], "disabled");
    assert!(endpoint["disabled_reason"].as_str().unwrap().contains("failed"));
    assert!(endpoint["disabled_at"].is_string());

    // Nothing is delivered while it is off.
    let second = publish(&app, &app.client, &format!("acct.{me}.jobs"), json!({ "n": 2 })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.count(), 3);

    // Back on with replay: the failed message and the one published meanwhile arrive.
    receiver.status.store(200, Ordering::SeqCst);
    let url = app.url(&format!("/api/v1/webhooks/{id}/enable"));
    let enabled = send(app.client.post(url).json(&json!({ "replay_missed": true })), StatusCode::OK).await;
    assert_eq!(enabled["status"], "enabled");
    eventually("what it missed", || async { receiver.count() >= 5 }).await;
    let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
    let mut ids: Vec<String> = receiver.requests()[3..]
        .iter()
        .map(|(headers, body)| {
            verifier.verify(body, headers).unwrap();
            header(headers, "webhook-id").to_owned()
        })
        .collect();
    ids.sort();
    let mut expected = vec![format!("evt_{first}"), format!("evt_{second}")];
    expected.sort();
    assert_eq!(ids, expected);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.count(), 5, "each once");
    assert_eq!(deliveries(&app, &app.client, &id, "status=succeeded").await.len(), 2);
}

#[tokio::test]
async fn refused_webhook_urls_are_422_and_a_name_resolving_to_a_refused_address_fails_with_egress_refused() {
    // The default egress policy: loopback refused.
    let app = spawn_app_with(|config| {
        quick(config);
        config.egress_allow = Vec::new();
    })
    .await;
    app.sign_up_operator().await;
    for url in [
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:169.254.169.254]/",
        "ftp://example.com/",
        "http://user:pw@example.com/",
    ] {
        let response = app
            .client
            .post(app.url("/api/v1/webhooks"))
            .json(&json!({ "url": url, "filters": [">"] }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let (code, _) = error_of(response).await;
        assert_eq!(code, "validation_failed");
    }

    // A name is checked when it is called: localhost is loopback, refused here.
    let receiver = Receiver::start().await;
    let (id, _) =
        create(&app, &app.client, &format!("http://localhost:{}/hook", receiver.port), &[">"]).await;
    let me = account_id(&app, &app.client).await;
    publish(&app, &app.client, &format!("acct.{me}.jobs"), json!({ "n": 1 })).await;
    let listed = deliveries_when(&app, &app.client, &id, "", |l| {
        l.first().is_some_and(|d| d["attempts"].as_u64() >= Some(1))
    })
    .await;
    let tried = attempts(&app, &app.client, &id, listed[0]["id"].as_str().unwrap()).await;
    assert_eq!(tried[0]["error"], "egress_refused");
    assert!(tried[0]["status_code"].is_null());
    let text = tried[0].to_string();
    assert!(!text.contains("os error") && !text.contains("127.0.0.1") && !text.contains("::1"), "{text}");
    assert_eq!(receiver.count(), 0, "nothing reached the receiver");
}

#[tokio::test]
async fn another_account_sees_none_of_an_accounts_endpoints_and_receives_none_of_its_events() {
    let app = spawn_app_with(|config| {
        quick(config);
        config.webhooks.max_per_account = 2;
    })
    .await;
    app.sign_up_operator().await;
    let a = account_id(&app, &app.client).await;
    let b_client = second_account(&app, "b@example.com").await;
    let b = account_id(&app, &b_client).await;
    let (a_receiver, b_receiver) = (Receiver::start().await, Receiver::start().await);
    let (a_hook, _) = create(&app, &app.client, &a_receiver.url(), &[">"]).await;
    publish(&app, &app.client, &format!("acct.{a}.orders"), json!({ "n": 1 })).await;
    eventually("A's delivery", || async { a_receiver.count() == 1 }).await;
    let delivery = deliveries(&app, &app.client, &a_hook, "").await[0]["id"].as_str().unwrap().to_owned();

    // B can neither list nor touch A's endpoint: 404, as if it did not exist.
    let listed = send(b_client.get(app.url("/api/v1/webhooks")), StatusCode::OK).await;
    assert_eq!(listed, json!([]));
    let base = format!("/api/v1/webhooks/{a_hook}");
    for request in [
        b_client.get(app.url(&base)),
        b_client.patch(app.url(&base)).json(&json!({ "description": "mine" })),
        b_client.delete(app.url(&base)),
        b_client.post(app.url(&format!("{base}/rotate-secret"))),
        b_client.post(app.url(&format!("{base}/disable"))),
        b_client.post(app.url(&format!("{base}/enable"))),
        b_client.post(app.url(&format!("{base}/replay"))).json(&json!({ "since_seq": 0 })),
        b_client.get(app.url(&format!("{base}/deliveries"))),
        b_client.get(app.url(&format!("{base}/deliveries/{delivery}/attempts"))),
        b_client.post(app.url(&format!("{base}/deliveries/{delivery}/replay"))),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    // Nor filter on A's topics.
    let response = b_client
        .post(app.url("/api/v1/webhooks"))
        .json(&json!({ "url": b_receiver.url(), "filters": [format!("acct.{a}.>")] }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.0, "topic_forbidden");

    // B's catch-all endpoint gets B's messages, never A's.
    create(&app, &b_client, &b_receiver.url(), &[">"]).await;
    publish(&app, &app.client, &format!("acct.{a}.orders"), json!({ "n": 2 })).await;
    let b_seq = publish(&app, &b_client, &format!("acct.{b}.orders"), json!({ "n": 3 })).await;
    eventually("A's second and B's deliveries", || async {
        a_receiver.count() == 2 && b_receiver.count() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = b_receiver.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(header(&got[0].0, "webhook-id"), format!("evt_{b_seq}"));
    // A's endpoint is untouched by B's attempts.
    let endpoint = send(app.client.get(app.url(&base)), StatusCode::OK).await;
    assert_eq!(
        (endpoint["description"].as_str(), endpoint["status"].as_str()),
        (Some("test"), Some("enabled"))
    );

    // The per-account limit.
    create(&app, &app.client, &a_receiver.url(), &[">"]).await;
    let response = app
        .client
        .post(app.url("/api/v1/webhooks"))
        .json(&json!({ "url": a_receiver.url(), "filters": [">"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_of(response).await.0, "webhook_limit_reached");
}

#[tokio::test]
async fn a_pending_retry_survives_a_restart_and_is_delivered_after_it() {
    let app = spawn_app_with(|config| {
        quick(config);
        // Retry after about a second: the restart comes first.
        config.webhooks.retry_schedule = vec![Duration::from_secs(1)];
    })
    .await;
    app.sign_up_operator().await;
    let me = account_id(&app, &app.client).await;
    let receiver = Receiver::start().await;
    receiver.status.store(503, Ordering::SeqCst);
    let (id, secret) = create(&app, &app.client, &receiver.url(), &[">"]).await;
    let seq = publish(&app, &app.client, &format!("acct.{me}.jobs"), json!({ "n": 1 })).await;
    deliveries_when(&app, &app.client, &id, "status=pending", |l| {
        l.first().is_some_and(|d| d["attempts"] == 1)
    })
    .await;

    // The process stops; the delivery and its schedule are in the database.
    receiver.status.store(200, Ordering::SeqCst);
    let app = app.restart().await;
    eventually("the retry after the restart", || async { receiver.count() >= 2 }).await;
    let (headers, body) = receiver.requests().remove(1);
    standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .verify(&body, &headers)
        .expect("signed with the same secret");
    assert_eq!(header(&headers, "webhook-id"), format!("evt_{seq}"));
    let settled = deliveries_when(&app, &app.client, &id, "status=succeeded", |l| l.len() == 1).await;
    assert_eq!(settled[0]["attempts"], 2);
}
