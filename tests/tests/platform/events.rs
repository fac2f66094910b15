//! The event log through the Cloud API: publishing on the account's topics with message-id
//! deduplication, replay by sequence number and by time, durable consumers with ack / nak /
//! term, redelivery by the backoff schedule, dead letters with their reason and publishing
//! them again, durability across a restart, and one account seeing nothing of another's.
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use web4_tests::{TestApp, error_of, fixtures::second_account, spawn_app};

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

async fn publish(app: &TestApp, client: &Client, topic: &str, body: Value) -> Value {
    send(
        client.post(app.url(&format!("/api/v1/events/topics/{topic}/messages"))).json(&body),
        StatusCode::CREATED,
    )
    .await
}

async fn replay(app: &TestApp, client: &Client, query: &str) -> Vec<Value> {
    let page = send(client.get(app.url(&format!("/api/v1/events/messages?{query}"))), StatusCode::OK).await;
    page.as_array().expect("a list").clone()
}

fn seqs(messages: &[Value]) -> Vec<i64> {
    messages.iter().map(|m| m["seq"].as_i64().unwrap()).collect()
}

async fn fetch(app: &TestApp, client: &Client, consumer: &str) -> Vec<Value> {
    let url = app.url(&format!("/api/v1/events/consumers/{consumer}/fetch"));
    send(client.post(url).json(&json!({ "batch": 10 })), StatusCode::OK).await.as_array().unwrap().clone()
}

async fn settle(
    app: &TestApp,
    client: &Client,
    consumer: &str,
    seq: i64,
    action: &str,
    body: Option<Value>,
) -> StatusCode {
    let url = app.url(&format!("/api/v1/events/consumers/{consumer}/messages/{seq}/{action}"));
    let request = client.post(url);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn publish_dedupe_replay_by_sequence_and_time_and_the_topics_rules() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let me = account_id(&app, &app.client).await;
    let orders = format!("acct.{me}.orders");

    let first =
        publish(&app, &app.client, &orders, json!({ "data": "{\"n\":1}", "msg_id": "order-1" })).await;
    // The same message id again within the window: 200, the first message's number, nothing stored.
    let again = send(
        app.client
            .post(app.url(&format!("/api/v1/events/topics/{orders}/messages")))
            .json(&json!({ "data": "{\"n\":1}", "msg_id": "order-1" })),
        StatusCode::OK,
    )
    .await;
    assert_eq!((again["seq"].clone(), again["duplicate"].clone()), (first["seq"].clone(), json!(true)));
    let between = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second =
        publish(&app, &app.client, &orders, json!({ "data": "two", "headers": { "kind": "order" } })).await;
    let payment =
        publish(&app, &app.client, &format!("acct.{me}.payments.eu"), json!({ "data": "paid" })).await;
    let [first, second, payment] = [&first, &second, &payment].map(|p| p["seq"].as_i64().unwrap());
    assert!(first < second && second < payment);

    assert_eq!(seqs(&replay(&app, &app.client, "").await), [first, second, payment]);
    assert_eq!(seqs(&replay(&app, &app.client, &format!("filter=acct.{me}.orders")).await), [first, second]);
    assert_eq!(seqs(&replay(&app, &app.client, "filter=acct.*.payments.>").await), [payment]);
    assert_eq!(seqs(&replay(&app, &app.client, &format!("after_seq={first}")).await), [second, payment]);
    let since = urlencode(&between.to_rfc3339());
    assert_eq!(seqs(&replay(&app, &app.client, &format!("since={since}")).await), [second, payment]);
    assert_eq!(seqs(&replay(&app, &app.client, "limit=1").await), [first]);
    let stored = replay(&app, &app.client, &format!("after_seq={first}&limit=1")).await;
    assert_eq!(
        (stored[0]["data"].as_str(), stored[0]["headers"]["kind"].as_str()),
        (Some("two"), Some("order"))
    );

    // Only the account's own topics; platform.* and dlq.* are the platform's.
    for topic in ["platform.service.registered", "dlq.worker", "orders", "acct.someone-else.orders"] {
        let response = app
            .client
            .post(app.url(&format!("/api/v1/events/topics/{topic}/messages")))
            .json(&json!({ "data": "x" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{topic}");
        assert_eq!(error_of(response).await.0, "topic_forbidden");
    }
    // Bad input: a clear 4xx, nothing stored.
    let url = app.url(&format!("/api/v1/events/topics/{orders}/messages"));
    let huge =
        app.client.post(&url).json(&json!({ "data": "x".repeat(256 * 1024 + 1) })).send().await.unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let bad =
        app.client.post(app.url("/api/v1/events/topics/acct..x/messages")).json(&json!({ "data": "x" }));
    assert_eq!(bad.send().await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    let too_many: serde_json::Map<String, Value> = (0..17).map(|i| (format!("h{i}"), json!("v"))).collect();
    let response =
        app.client.post(&url).json(&json!({ "data": "x", "headers": too_many })).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app.client.get(app.url("/api/v1/events/messages?filter=a.>.b")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(seqs(&replay(&app, &app.client, "").await).len(), 3, "nothing stored by the refusals");

    // An acknowledged publish is on disk: it is there after a restart.
    let app = app.restart().await;
    assert_eq!(seqs(&replay(&app, &app.client, "").await), [first, second, payment]);
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn another_account_can_neither_read_nor_publish_on_nor_consume_my_topics() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let me = account_id(&app, &app.client).await;
    let mine = publish(&app, &app.client, &format!("acct.{me}.secrets"), json!({ "data": "mine" })).await;
    let consumer =
        json!({ "name": "worker", "filter": format!("acct.{me}.>"), "deliver": { "from": "all" } });
    send(app.client.post(app.url("/api/v1/events/consumers")).json(&consumer), StatusCode::CREATED).await;

    let eve = second_account(&app, "eve@example.com").await;
    // Naming my topics is refused, not answered empty.
    for request in [
        eve.get(app.url(&format!("/api/v1/events/messages?filter=acct.{me}.>"))),
        eve.post(app.url(&format!("/api/v1/events/topics/acct.{me}.secrets/messages")))
            .json(&json!({ "data": "x" })),
        eve.post(app.url("/api/v1/events/consumers")).json(
            &json!({ "name": "spy", "filter": format!("acct.{me}.secrets"), "deliver": { "from": "all" } }),
        ),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(error_of(response).await.0, "topic_forbidden");
    }
    // A wildcard reads her own messages only; my consumer and my message are not hers.
    assert!(replay(&app, &eve, "").await.is_empty());
    assert!(replay(&app, &eve, "filter=acct.*.secrets").await.is_empty());
    let spy = json!({ "name": "spy", "filter": ">", "deliver": { "from": "all" } });
    send(eve.post(app.url("/api/v1/events/consumers")).json(&spy), StatusCode::CREATED).await;
    assert!(fetch(&app, &eve, "spy").await.is_empty());
    let seq = mine["seq"].as_i64().unwrap();
    for request in [
        eve.get(app.url("/api/v1/events/consumers/worker")),
        eve.post(app.url("/api/v1/events/consumers/worker/fetch")),
        eve.delete(app.url("/api/v1/events/consumers/worker")),
        eve.post(app.url(&format!("/api/v1/events/consumers/worker/messages/{seq}/ack"))),
        eve.post(app.url(&format!("/api/v1/events/messages/{seq}/republish"))),
    ] {
        assert_eq!(request.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
    let list = send(eve.get(app.url("/api/v1/events/consumers")), StatusCode::OK).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "only her own: {list}");
    // Mine still has my message, untouched by her attempts.
    let handed = fetch(&app, &app.client, "worker").await;
    assert_eq!(handed.len(), 1);
    assert_eq!(handed[0]["message"]["data"], "mine");
}

#[tokio::test]
async fn a_consumer_that_never_acks_gets_redeliveries_by_the_schedule_then_the_message_is_a_dead_letter() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let me = account_id(&app, &app.client).await;
    let jobs = format!("acct.{me}.jobs");
    let consumer = json!({
        "name": "worker", "filter": jobs, "deliver": { "from": "new" },
        "ack_wait_ms": 300, "backoff_ms": [600, 900], "max_deliver": 3,
    });
    let created =
        send(app.client.post(app.url("/api/v1/events/consumers")).json(&consumer), StatusCode::CREATED).await;
    assert_eq!(created["dead_letter_topic"], "dlq.worker");
    let again = app.client.post(app.url("/api/v1/events/consumers")).json(&consumer).send().await.unwrap();
    assert_eq!(error_of(again).await.0, "consumer_exists");

    let seq = publish(&app, &app.client, &jobs, json!({ "data": "job-1" })).await["seq"].as_i64().unwrap();
    // Delivery 1 waits the ack wait, then 2 and 3 the backoff steps; nothing in between.
    // When each successful fetch was sent and answered: the server handed delivery n+1 at
    // least its wait after delivery n, so (answered n+1) - (sent n) is at least that wait
    // however slow the machine is.
    let mut times = Vec::new();
    let started = std::time::Instant::now();
    for delivery in 1..=3 {
        let handed = loop {
            let sent = started.elapsed();
            let handed = fetch(&app, &app.client, "worker").await;
            if !handed.is_empty() {
                times.push((sent, started.elapsed()));
                break handed;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "delivery {delivery} never came");
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        assert_eq!(handed.len(), 1);
        assert_eq!(
            (handed[0]["message"]["seq"].as_i64(), handed[0]["delivery"].as_u64()),
            (Some(seq), Some(delivery))
        );
    }
    let gaps: Vec<u128> = times.windows(2).map(|w| (w[1].1 - w[0].0).as_millis()).collect();
    assert!(gaps[0] >= 300 && gaps[1] >= 600, "redelivered by the schedule: {gaps:?}");

    // After the third delivery's wait it is not delivered again: it is a dead letter.
    tokio::time::sleep(Duration::from_millis(950)).await;
    assert!(fetch(&app, &app.client, "worker").await.is_empty());
    let letters = replay(&app, &app.client, "filter=dlq.worker").await;
    assert_eq!(letters.len(), 1);
    let headers = &letters[0]["headers"];
    assert_eq!(headers["dlq-deliveries"], "3");
    assert_eq!(headers["dlq-topic"], jobs.as_str());
    assert_eq!(headers["dlq-seq"], seq.to_string());
    assert!(headers["dlq-reason"].as_str().unwrap().contains("3 deliveries"), "{headers}");
    let consumer = send(app.client.get(app.url("/api/v1/events/consumers/worker")), StatusCode::OK).await;
    assert_eq!(consumer["pending"], 0);

    // Published again, it comes back on its topic, without the dead-letter headers.
    let letter = letters[0]["seq"].as_i64().unwrap();
    let back = send(
        app.client.post(app.url(&format!("/api/v1/events/messages/{letter}/republish"))),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(back["topic"], jobs.as_str());
    let handed = fetch(&app, &app.client, "worker").await;
    assert_eq!(handed.len(), 1);
    assert_eq!(handed[0]["message"]["data"], "job-1");
    assert!(handed[0]["message"]["headers"].as_object().unwrap().is_empty());
    let republished = handed[0]["message"]["seq"].as_i64().unwrap();
    assert_eq!(settle(&app, &app.client, "worker", republished, "ack", None).await, StatusCode::NO_CONTENT);
    assert_eq!(settle(&app, &app.client, "worker", republished, "ack", None).await, StatusCode::NOT_FOUND);
    // Only a dead letter can be published again.
    let response =
        app.client.post(app.url(&format!("/api/v1/events/messages/{seq}/republish"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn nak_term_and_two_consumers_each_get_every_message() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let me = account_id(&app, &app.client).await;
    let topic = format!("acct.{me}.tasks");
    let seqs: Vec<i64> = {
        let mut seqs = Vec::new();
        for n in 0..3 {
            seqs.push(
                publish(&app, &app.client, &topic, json!({ "data": format!("t{n}") })).await["seq"]
                    .as_i64()
                    .unwrap(),
            );
        }
        seqs
    };
    for (name, deliver) in [("a", json!({ "from": "all" })), ("b", json!({ "from": "seq", "seq": seqs[1] }))]
    {
        let body = json!({ "name": name, "filter": topic, "deliver": deliver, "ack_wait_ms": 60_000 });
        send(app.client.post(app.url("/api/v1/events/consumers")).json(&body), StatusCode::CREATED).await;
    }
    let of =
        |handed: &[Value]| handed.iter().map(|h| h["message"]["seq"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(of(&fetch(&app, &app.client, "a").await), seqs);
    assert_eq!(of(&fetch(&app, &app.client, "b").await), seqs[1..], "b started at its sequence number");
    assert!(fetch(&app, &app.client, "a").await.is_empty(), "nothing due before the ack wait");

    // nak: delivered again (after its delay); term: never again, a dead letter with the reason.
    assert_eq!(settle(&app, &app.client, "a", seqs[0], "nak", None).await, StatusCode::NO_CONTENT);
    assert_eq!(
        settle(&app, &app.client, "a", seqs[1], "nak", Some(json!({ "delay_ms": 400 }))).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        settle(&app, &app.client, "a", seqs[2], "term", Some(json!({ "reason": "poison: bad input" }))).await,
        StatusCode::NO_CONTENT
    );
    let handed = fetch(&app, &app.client, "a").await;
    assert_eq!((of(&handed), handed[0]["delivery"].as_u64()), (vec![seqs[0]], Some(2)));
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(of(&fetch(&app, &app.client, "a").await), [seqs[1]]);
    let letters = replay(&app, &app.client, "filter=dlq.a").await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["headers"]["dlq-reason"], "poison: bad input");
    // b was not disturbed: it still holds its two, unsettled.
    let b = send(app.client.get(app.url("/api/v1/events/consumers/b")), StatusCode::OK).await;
    assert_eq!(b["pending"], 2);
    // A consumer that is deleted is gone, with what it held.
    send(app.client.delete(app.url("/api/v1/events/consumers/b")), StatusCode::NO_CONTENT).await;
    assert_eq!(
        app.client.get(app.url("/api/v1/events/consumers/b")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn platform_events_tell_each_account_about_its_own_services_only() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let eve = second_account(&app, "eve@example.com").await;
    let service = send(
        app.client.post(app.url("/api/v1/services")).json(&json!({ "slug": "cache", "kind": "kv" })),
        StatusCode::CREATED,
    )
    .await;
    let id = service["id"].as_str().unwrap();
    send(
        app.client.patch(app.url(&format!("/api/v1/services/{id}"))).json(&json!({ "status": "inactive" })),
        StatusCode::OK,
    )
    .await;
    send(app.client.delete(app.url(&format!("/api/v1/services/{id}"))), StatusCode::NO_CONTENT).await;

    let all = replay(&app, &app.client, "filter=platform.service.*").await;
    // (A kv service is up once placed: `health_changed` is told too, tested with services.)
    let events: Vec<Value> =
        all.iter().filter(|e| e["topic"] != "platform.service.health_changed").cloned().collect();
    let topics: Vec<&str> = events.iter().map(|e| e["topic"].as_str().unwrap()).collect();
    assert_eq!(
        topics,
        ["platform.service.registered", "platform.service.updated", "platform.service.deleted"]
    );
    let registered: Value = serde_json::from_str(events[0]["data"].as_str().unwrap()).unwrap();
    assert_eq!((registered["service_id"].as_str(), registered["slug"].as_str()), (Some(id), Some("cache")));
    let updated: Value = serde_json::from_str(events[1]["data"].as_str().unwrap()).unwrap();
    assert_eq!(updated["status"], "inactive");
    // A durable consumer can follow them; another account sees none of them.
    let consumer = json!({ "name": "audit", "filter": "platform.>", "deliver": { "from": "all" } });
    send(app.client.post(app.url("/api/v1/events/consumers")).json(&consumer), StatusCode::CREATED).await;
    assert_eq!(fetch(&app, &app.client, "audit").await.len(), all.len());
    assert!(replay(&app, &eve, "filter=platform.>").await.is_empty());
    send(eve.post(app.url("/api/v1/events/consumers")).json(&consumer), StatusCode::CREATED).await;
    assert!(fetch(&app, &eve, "audit").await.is_empty());
}

/// The data of each of `account`'s platform messages on topics matching `filter`.
async fn told(app: &TestApp, client: &Client, filter: &str) -> Vec<(String, Value)> {
    replay(app, client, &format!("filter={filter}&limit=100"))
        .await
        .into_iter()
        .map(|m| {
            let data = serde_json::from_str(m["data"].as_str().unwrap()).unwrap();
            (m["topic"].as_str().unwrap().to_owned(), data)
        })
        .collect()
}

#[tokio::test]
async fn listings_subscriptions_usage_alerts_invoices_and_nodes_are_told_to_their_accounts_only() {
    let app = web4_tests::spawn_app_with(|c| {
        web4_tests::unlimited(c);
        c.usage_events_every = Duration::from_millis(200);
    })
    .await;
    let upstream = web4_tests::upstream::Upstream::start().await;
    // The provider (also the operator) publishes a listing with a hard quota of 4 calls.
    let (listing, plans) = crate::marketplace::published(
        &app,
        &upstream,
        &[json!({ "name": "Small", "quota_per_month": 4, "price_per_call_micros": 10_000 })],
    )
    .await;
    let listing_id = listing["id"].as_str().unwrap();
    let buyer = second_account(&app, "buyer@example.com").await;
    let eve = second_account(&app, "eve@example.com").await;
    let subscription = send(
        buyer.post(app.url("/api/v1/subscriptions")).json(&json!({ "plan_id": plans[0]["plan"]["id"] })),
        StatusCode::CREATED,
    )
    .await;
    let (_, secret) = web4_tests::fixtures::api_key(&app, &buyer, &["invoke"]).await;
    let key = Client::builder()
        .default_headers(
            [(reqwest::header::AUTHORIZATION, format!("Bearer {secret}").parse().unwrap())]
                .into_iter()
                .collect(),
        )
        .build()
        .unwrap();
    let path = format!("/api/v1/invoke/{}/forecast", listing["invoke_path"].as_str().unwrap());
    for _ in 0..4 {
        send(key.get(app.url(&path)), StatusCode::OK).await;
    }
    let sunset = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    send(
        app.client
            .post(app.url(&format!("/api/v1/listings/{listing_id}/deprecate")))
            .json(&json!({ "sunset_at": sunset })),
        StatusCode::OK,
    )
    .await;
    send(app.client.post(app.url("/api/v1/billing/finalize")).json(&json!({})), StatusCode::OK).await;
    let node = web4_tests::fixtures::node_ids(&app).pop().unwrap();
    web4_tests::fixtures::node_action(&app, &node, "drain").await;

    // The provider: its listing's states, the subscription, its node.
    web4_tests::eventually("the node's change to be told", || async {
        !told(&app, &app.client, "platform.node.>").await.is_empty()
    })
    .await;
    let provider = told(&app, &app.client, "platform.>").await;
    let topics: Vec<&str> =
        provider.iter().map(|(t, _)| t.as_str()).filter(|t| !t.starts_with("platform.service.")).collect();
    assert_eq!(
        topics,
        [
            "platform.listing.published",
            "platform.subscription.changed",
            "platform.listing.deprecated",
            "platform.node.state_changed"
        ],
        "{provider:?}"
    );
    let (_, drained) = provider.last().unwrap();
    assert_eq!(
        (drained["node_id"].as_str(), drained["status"].as_str()),
        (Some(node.as_str()), Some("draining"))
    );

    // The consumer: its subscription, its usage (batched), the alerts, the notice, its invoice.
    web4_tests::eventually("the usage to be told", || async {
        told(&app, &buyer, "platform.usage.recorded")
            .await
            .iter()
            .map(|(_, d)| d["calls"].as_i64().unwrap())
            .sum::<i64>()
            == 4
    })
    .await;
    let consumer = told(&app, &buyer, "platform.>").await;
    let of =
        |topic: &str| consumer.iter().filter(|(t, _)| t == topic).map(|(_, d)| d.clone()).collect::<Vec<_>>();
    let changed = of("platform.subscription.changed");
    assert_eq!(changed.len(), 1);
    assert_eq!(
        (changed[0]["subscription_id"].clone(), changed[0]["change"].as_str()),
        (subscription["id"].clone(), Some("created"))
    );
    let alerts: Vec<(i64, i64)> = of("platform.subscription.usage_alert")
        .iter()
        .map(|a| (a["percent"].as_i64().unwrap(), a["used"].as_i64().unwrap()))
        .collect();
    assert_eq!(alerts, [(75, 3), (100, 4)], "{consumer:?}");
    assert_eq!(of("platform.subscription.deprecation_notice")[0]["listing_id"], listing_id);
    let invoices = of("platform.invoice.finalized");
    assert_eq!(
        (invoices.len(), invoices[0]["total_calls"].as_i64(), invoices[0]["total_minor"].as_i64()),
        (1, Some(4), Some(4))
    );
    assert!(of("platform.node.state_changed").is_empty(), "nodes are the operator's");
    for usage in of("platform.usage.recorded") {
        assert_eq!(usage["services"][0]["service_id"], listing["service_id"]);
    }

    // A third account was told nothing.
    assert!(told(&app, &eve, "platform.>").await.is_empty());
}

#[tokio::test]
async fn acknowledged_publishes_and_acks_survive_a_sigkill() {
    let mut process = crate::crash::Process::signed_up().await;
    let (base, client) = (process.base.clone(), process.client.clone());
    let me = send(client.get(format!("{base}/api/v1/me")), StatusCode::OK).await;
    let topic = format!("acct.{}.wal", me["id"].as_str().unwrap());
    let consumer = json!({ "name": "w", "filter": topic, "deliver": { "from": "all" }, "ack_wait_ms": 100 });
    send(client.post(format!("{base}/api/v1/events/consumers")).json(&consumer), StatusCode::CREATED).await;
    let mut published = Vec::new();
    for i in 0..20 {
        let url = format!("{base}/api/v1/events/topics/{topic}/messages");
        let answer =
            send(client.post(url).json(&json!({ "data": i.to_string() })), StatusCode::CREATED).await;
        published.push(answer["seq"].as_i64().unwrap());
    }
    let fetch = || {
        send(
            client.post(format!("{base}/api/v1/events/consumers/w/fetch")).json(&json!({ "batch": 10 })),
            StatusCode::OK,
        )
    };
    let handed: Vec<i64> =
        fetch().await.as_array().unwrap().iter().map(|d| d["message"]["seq"].as_i64().unwrap()).collect();
    assert_eq!(handed, published[..10]);
    for seq in &handed[..5] {
        let url = format!("{base}/api/v1/events/consumers/w/messages/{seq}/ack");
        assert_eq!(client.post(url).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    }

    process.kill_and_restart().await;

    let all = send(client.get(format!("{base}/api/v1/events/messages?filter={topic}")), StatusCode::OK).await;
    let seqs: Vec<i64> = all.as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, published, "every acknowledged publish, in order, with its sequence number");
    // The acknowledged five are never handed out again; the other five come back, then the rest.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = Vec::new();
    for _ in 0..3 {
        let batch = fetch().await;
        again.extend(batch.as_array().unwrap().iter().map(|d| d["message"]["seq"].as_i64().unwrap()));
    }
    again.sort_unstable();
    again.dedup();
    assert_eq!(again, published[5..]);
}
