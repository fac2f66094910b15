//! Watching KV buckets through the Cloud API (`GET /kv/buckets/{bucket}/watch`, server-sent
//! events): the backlog from a revision in order then `caught_up` then live changes, expiry
//! as an event, isolation between accounts, a watcher that stops reading told it lagged, and
//! the per-account watcher limit.
use super::kv::{app_with_account, b64, create_bucket, key_url, put, put_ok, send, text_of};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use web4_tests::{PASSWORD, TestApp, eventually, fixtures::second_account, spawn_app_with};

/// One server-sent event.
#[derive(Debug)]
struct SseEvent {
    event: String,
    id: Option<u64>,
    data: Value,
}

/// A watch stream read as server-sent events (comments, the keep-alives, are skipped).
struct Watcher {
    response: reqwest::Response,
    pending: String,
}

impl Watcher {
    /// `GET /api/v1/kv/buckets/{bucket}/watch?{query}`, expecting an event stream.
    async fn open(app: &TestApp, client: &Client, bucket: &str, query: &str) -> Watcher {
        let url = app.url(&format!("/api/v1/kv/buckets/{bucket}/watch?{query}"));
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Watcher { response, pending: String::new() }
    }

    /// The next event; `None` once the server ended the stream. Fails after 10 s of silence.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::from("message"), None, None);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().parse().unwrap());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = Some(serde_json::from_str(v.trim()).unwrap());
                    }
                }
                match data {
                    Some(data) => return Some(SseEvent { event, id, data }),
                    None => continue, // a keep-alive comment
                }
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk())
                .await
                .expect("an event within 10 s")
                .unwrap();
            self.pending.push_str(std::str::from_utf8(&chunk?).unwrap());
        }
    }

    /// The next event, which must be `event` (returned).
    async fn expect(&mut self, event: &str) -> SseEvent {
        let got = self.next().await.unwrap_or_else(|| panic!("the stream ended before {event}"));
        assert_eq!(got.event, event, "{got:?}");
        got
    }
}

#[tokio::test]
async fn kv_watch_from_a_revision_sends_every_change_in_order_then_caught_up_then_live_changes() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "feed", "history": 10 })).await;
    put_ok(&app, "feed", "a", "1").await; // revision 1
    put_ok(&app, "feed", "b", "2").await; // 2
    send(app.client.delete(key_url(&app, "feed", "a")), StatusCode::OK).await; // 3
    put_ok(&app, "feed", "c/d", "4").await; // 4

    let mut all = Watcher::open(&app, &app.client, "feed", "from_revision=1").await;
    let mut only_a = Watcher::open(&app, &app.client, "feed", "key=a&from_revision=0").await;

    let backlog = [all.expect("put").await, all.expect("delete").await, all.expect("put").await];
    let ids: Vec<_> = backlog.iter().map(|e| e.id.unwrap()).collect();
    assert_eq!(ids, [2, 3, 4]);
    assert_eq!((backlog[0].data["key"].as_str(), text_of(&backlog[0].data).as_str()), (Some("b"), "2"));
    assert_eq!(backlog[1].data["key"], "a");
    assert_eq!(backlog[1].data["value"], Value::Null);
    assert_eq!(backlog[2].data["key"], "c/d");
    assert_eq!(backlog[2].data["revision"], 4);
    let caught_up = all.expect("caught_up").await;
    assert_eq!((caught_up.id, &caught_up.data["revision"]), (Some(4), &json!(4)));

    put_ok(&app, "feed", "a", "5").await;
    send(app.client.post(format!("{}/purge", key_url(&app, "feed", "b"))), StatusCode::OK).await;
    let live = [all.expect("put").await, all.expect("purge").await];
    assert_eq!(
        live.map(|e| (e.id, e.data["key"].as_str().unwrap().to_owned())),
        [(Some(5), "a".to_owned()), (Some(6), "b".to_owned())]
    );

    // A watcher of one key sees that key's changes only.
    let a: Vec<_> =
        [only_a.expect("put").await, only_a.expect("delete").await].into_iter().map(|e| e.id).collect();
    assert_eq!(a, [Some(1), Some(3)]);
    assert_eq!(only_a.expect("caught_up").await.id, Some(4));
    assert_eq!(only_a.expect("put").await.id, Some(5));
}

#[tokio::test]
async fn kv_watch_shows_an_expiry_as_an_event() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "sessions" })).await;
    let mut watcher = Watcher::open(&app, &app.client, "sessions", "prefix=s").await;
    assert_eq!(watcher.expect("caught_up").await.data["revision"], 0, "from now: nothing before");

    let put = put(&app, &app.client, "sessions", "s1", json!({ "value": b64("x"), "ttl_seconds": 1 })).await;
    assert_eq!(put.status(), StatusCode::OK);
    put_ok(&app, "sessions", "other", "not watched").await;

    let written = watcher.expect("put").await;
    assert_eq!((written.id, written.data["key"].as_str()), (Some(1), Some("s1")));
    let expired = watcher.expect("expire").await;
    assert_eq!((expired.id, expired.data["key"].as_str()), (Some(3), Some("s1")));
    assert_eq!(expired.data["operation"], "expire");
}

#[tokio::test]
async fn kv_watch_of_another_accounts_bucket_is_404() {
    let app = app_with_account().await;
    create_bucket(&app, &app.client, json!({ "name": "private" })).await;
    let bob = second_account(&app, "bob@example.com").await;

    let response = bob.get(app.url("/api/v1/kv/buckets/private/watch?from_revision=0")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (code, _) = web4_tests::error_of(response).await;
    assert_eq!(code, "not_found");

    // A revision past what the store can hold names none: refused, not watched from.
    let too_far = app.url("/api/v1/kv/buckets/private/watch?from_revision=9223372036854775808");
    let response = app.client.get(too_far).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(web4_tests::error_of(response).await.0, "validation_failed");
}

#[tokio::test]
async fn kv_a_watcher_that_never_reads_is_disconnected_with_lagged_and_can_resume() {
    let app = spawn_app_with(|config| config.memory.watch_buffer = 4).await;
    assert_eq!(app.sign_up("ada@example.com", PASSWORD).await.status(), StatusCode::CREATED);
    create_bucket(&app, &app.client, json!({ "name": "firehose" })).await;
    let mut watcher = Watcher::open(&app, &app.client, "firehose", "").await;
    watcher.expect("caught_up").await;

    // Far more than the socket buffers between the two hold: the server's stream stops
    // being polled and the watcher's buffer of 4 fills.
    let value = "v".repeat(256 * 1024);
    for i in 0..100 {
        put_ok(&app, "firehose", &format!("k{i}"), &value).await;
    }
    let mut received = Vec::new();
    let lagged = loop {
        let event = watcher.next().await.expect("a lagged event before the end");
        match event.event.as_str() {
            "put" => received.push(event.id.unwrap()),
            "lagged" => break event,
            other => panic!("unexpected {other}"),
        }
    };

    assert!(received.len() < 100, "{} changes got through", received.len());
    assert_eq!(received, (1..=received.len() as u64).collect::<Vec<_>>(), "in order, no gap");
    assert_eq!(lagged.data["last_revision"], json!(received.last().copied().unwrap_or(0)));
    assert!(watcher.next().await.is_none(), "disconnected after lagged");
    // It resumes where it stopped.
    let from = lagged.data["last_revision"].as_u64().unwrap();
    let mut again = Watcher::open(&app, &app.client, "firehose", &format!("from_revision={from}")).await;
    assert_eq!(again.expect("put").await.id, Some(from + 1));
}

#[tokio::test]
async fn kv_the_watcher_limit_is_enforced_and_released_when_a_watcher_closes() {
    let app = spawn_app_with(|config| {
        config.memory.max_watchers = 2;
        config.memory.watch_keep_alive = Duration::from_millis(100);
    })
    .await;
    assert_eq!(app.sign_up("ada@example.com", PASSWORD).await.status(), StatusCode::CREATED);
    create_bucket(&app, &app.client, json!({ "name": "b" })).await;
    let mut first = Watcher::open(&app, &app.client, "b", "").await;
    let mut second = Watcher::open(&app, &app.client, "b", "key=k").await;
    first.expect("caught_up").await;
    second.expect("caught_up").await;

    let third = app.client.get(app.url("/api/v1/kv/buckets/b/watch")).send().await.unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    let (code, message) = web4_tests::error_of(third).await;
    assert_eq!(code, "kv_watcher_limit_reached");
    assert!(message.contains('2'), "{message}");

    drop(first);
    eventually("the closed watcher's slot to be given back", || async {
        let response = app.client.get(app.url("/api/v1/kv/buckets/b/watch")).send().await.unwrap();
        response.status() == StatusCode::OK
    })
    .await;
    put_ok(&app, "b", "k", "still watched").await;
    assert_eq!(second.expect("put").await.id, Some(1));
}

#[tokio::test]
async fn kv_a_watcher_started_while_puts_run_gets_every_revision_once_in_order() {
    let app = app_with_account().await;
    // Every revision is kept (7 keys × at most 29 puts each), so the backlog has them all.
    create_bucket(&app, &app.client, json!({ "name": "busy", "history": 64 })).await;
    let writer = {
        let (client, url) = (app.client.clone(), app.url("/api/v1/kv/buckets/busy/keys"));
        tokio::spawn(async move {
            for i in 0..200 {
                let put = client.put(format!("{url}/k{}", i % 7)).json(&json!({ "value": b64("v") }));
                assert_eq!(put.send().await.unwrap().status(), StatusCode::OK);
            }
        })
    };
    // Start while the puts run: part of them come from the store, the rest live.
    eventually("some puts", || async {
        let bucket = send(app.client.get(app.url("/api/v1/kv/buckets/busy")), StatusCode::OK).await;
        bucket["revision"].as_u64().unwrap() >= 20
    })
    .await;
    let mut watcher = Watcher::open(&app, &app.client, "busy", "from_revision=0").await;

    let mut revisions = Vec::new();
    let mut caught_up = 0;
    while revisions.len() < 200 {
        let event = watcher.next().await.expect("the stream goes on");
        match event.event.as_str() {
            "put" => revisions.push(event.id.unwrap()),
            "caught_up" => caught_up += 1,
            other => panic!("unexpected {other}: {event:?}"),
        }
    }
    writer.await.unwrap();

    assert_eq!(revisions, (1..=200).collect::<Vec<u64>>(), "every revision once, in order");
    assert_eq!(caught_up, 1);
}
