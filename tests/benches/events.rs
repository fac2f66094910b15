//! Event log benchmark (results: `BENCHMARKS.md`, "Event log"): messages published per second
//! and consumed per second with an ack each, through the Cloud API and through the façade
//! directly (the same store, no HTTP), in alternating rounds in one run.
//!
//! ```sh
//! cargo bench -p web4-tests --bench events
//! ```
//!
//! The whole platform runs in this process (`spawn_app_with`, rate limits off); nothing
//! asserts on timings.
use app::types::{
    events::{FetchRequest, NewConsumer, NewMessage},
    ids::AccountId,
};
use serde_json::{Value, json};
use server::events::{EventSettings, Events};
use std::{sync::Arc, time::Instant};
use web4_tests::{
    fixtures::{api_key, bearer},
    load::{median_of, rate},
    spawn_app_with, unlimited,
};

const MESSAGES: usize = 2_000;
const CONCURRENCY: usize = 16;
const ROUNDS: usize = 3;

#[tokio::main]
async fn main() {
    let app = spawn_app_with(unlimited).await;
    app.sign_up_operator().await;
    let me: Value = app.client.get(app.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    let account = AccountId::new(me["id"].as_str().unwrap());
    let (_, secret) = api_key(&app, &app.client, &["read", "write"]).await;
    let api = bearer(&secret);
    let direct = Arc::new(Events::sqlite(app.db.clone(), EventSettings::default()));
    let topic = format!("acct.{account}.bench");

    let (mut api_publish, mut direct_publish, mut api_consume, mut direct_consume) =
        (vec![], vec![], vec![], vec![]);
    for round in 0..ROUNDS {
        // Publish: through the Cloud API, then the façade.
        let url = app.url(&format!("/api/v1/events/topics/{topic}/messages"));
        let client = api.clone();
        api_publish.push(
            rate(MESSAGES, CONCURRENCY, move |i| {
                let (client, url) = (client.clone(), url.clone());
                async move {
                    let response = client
                        .post(url)
                        .json(&json!({ "data": format!("{{\"n\":{i}}}") }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
                }
            })
            .await,
        );
        let (events, account_, topic_) = (direct.clone(), account.clone(), topic.clone());
        direct_publish.push(
            rate(MESSAGES, CONCURRENCY, move |i| {
                let (events, account, topic) = (events.clone(), account_.clone(), topic_.clone());
                async move {
                    let message = NewMessage {
                        data: format!("{{\"n\":{i}}}"),
                        msg_id: None,
                        headers: Default::default(),
                    };
                    events.publish(&account, &topic, message).await.unwrap();
                }
            })
            .await,
        );

        // Consume with an ack each: a consumer from the start fetches batches of 100 and acks
        // every message (acks in parallel), through the API, then through the façade.
        let name = format!("api-{round}");
        let body =
            json!({ "name": name, "filter": topic, "deliver": { "from": "all" }, "ack_wait_ms": 60_000 });
        api.post(app.url("/api/v1/events/consumers")).json(&body).send().await.unwrap();
        let total = (round + 1) * 2 * MESSAGES;
        let started = Instant::now();
        let mut consumed = 0;
        while consumed < total {
            let fetch = app.url(&format!("/api/v1/events/consumers/{name}/fetch"));
            let batch: Vec<Value> =
                api.post(fetch).json(&json!({ "batch": 100 })).send().await.unwrap().json().await.unwrap();
            assert!(!batch.is_empty(), "the log ran dry at {consumed}");
            let acks = batch.iter().map(|d| {
                let seq = d["message"]["seq"].as_i64().unwrap();
                api.post(app.url(&format!("/api/v1/events/consumers/{name}/messages/{seq}/ack"))).send()
            });
            for ack in futures::future::join_all(acks).await {
                assert_eq!(ack.unwrap().status(), reqwest::StatusCode::NO_CONTENT);
            }
            consumed += batch.len();
        }
        api_consume.push(consumed as f64 / started.elapsed().as_secs_f64());

        let name = format!("direct-{round}");
        let consumer = NewConsumer {
            name: name.clone(),
            filter: topic.clone(),
            deliver: app::types::events::DeliverFrom::All,
            ack_wait_ms: Some(60_000),
            backoff_ms: None,
            max_deliver: None,
        };
        direct.create_consumer(&account, consumer).await.unwrap();
        let started = Instant::now();
        let mut consumed = 0;
        while consumed < total {
            let batch = direct.fetch(&account, &name, FetchRequest { batch: Some(100) }).await.unwrap();
            assert!(!batch.is_empty());
            let acks = batch.iter().map(|d| direct.ack(&account, &name, d.message.seq));
            for ack in futures::future::join_all(acks).await {
                ack.unwrap();
            }
            consumed += batch.len();
        }
        direct_consume.push(consumed as f64 / started.elapsed().as_secs_f64());
        println!(
            "round {round}: publish api {:.0}/s direct {:.0}/s; consume+ack api {:.0}/s direct {:.0}/s",
            api_publish[round], direct_publish[round], api_consume[round], direct_consume[round]
        );
    }
    let (ap, dp, ac, dc) = (
        median_of(api_publish),
        median_of(direct_publish),
        median_of(api_consume),
        median_of(direct_consume),
    );
    println!(
        "median of {ROUNDS} rounds ({MESSAGES} messages published per path per round, {CONCURRENCY} in flight):"
    );
    println!("  publish        Cloud API {ap:>8.0}/s   façade {dp:>8.0}/s   API/façade {:.2}", ap / dp);
    println!("  consume + ack  Cloud API {ac:>8.0}/s   façade {dc:>8.0}/s   API/façade {:.2}", ac / dc);
}
