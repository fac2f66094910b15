//! Webhook delivery benchmark (results: `BENCHMARKS.md`, "Webhooks"): signed deliveries per
//! second to a local receiver (an axum server on port 0 answering 200), from a bulk replay of
//! 1 000 messages until the receiver has them all — matching, persisting each delivery,
//! signing, the POST, and recording the attempt — with one endpoint and with four.
//!
//! ```sh
//! cargo bench -p web4-tests --bench webhooks
//! ```
//!
//! The whole platform runs in this process (`spawn_app_with`, rate limits off, the default
//! webhook concurrency: 64 attempts in flight, 4 per endpoint); nothing asserts on timings.
use app::types::{events::NewMessage, ids::AccountId};
use axum::{Router, routing::post};
use serde_json::{Value, json};
use server::events::{EventSettings, Events};
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use web4_tests::{spawn_app_with, unlimited};

const MESSAGES: usize = 1_000;
const ROUNDS: usize = 3;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let app = spawn_app_with(|config| {
        unlimited(config);
        config.nodes = 0;
        config.webhooks.poll_every = Duration::from_millis(10);
    })
    .await;
    app.sign_up_operator().await;
    let me: Value = app.client.get(app.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    let account = AccountId::new(me["id"].as_str().unwrap());
    let events = Events::sqlite(app.db.clone(), EventSettings::default());
    let topic = format!("acct.{account}.bench");
    for i in 0..MESSAGES {
        let message =
            NewMessage { data: json!({ "i": i }).to_string(), msg_id: None, headers: Default::default() };
        events.publish(&account, &topic, message).await.unwrap();
    }

    let received = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let counter = received.clone();
    let receiver = Router::new().route(
        "/hook",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                "ok"
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let mut endpoints = Vec::new();
    for endpoint_count in [1usize, 4] {
        while endpoints.len() < endpoint_count {
            let created: Value = app
                .client
                .post(app.url("/api/v1/webhooks"))
                .json(&json!({ "url": url, "filters": [format!("acct.{account}.>")] }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            endpoints.push(created["webhook"]["id"].as_str().unwrap().to_owned());
        }
        let mut rates = Vec::new();
        for _ in 0..ROUNDS {
            let expected = received.load(Ordering::Relaxed) + MESSAGES * endpoint_count;
            let started = Instant::now();
            for id in &endpoints {
                let response = app
                    .client
                    .post(app.url(&format!("/api/v1/webhooks/{id}/replay")))
                    .json(&json!({ "since_seq": 0 }))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
            }
            while received.load(Ordering::Relaxed) < expected {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            rates.push((MESSAGES * endpoint_count) as f64 / started.elapsed().as_secs_f64());
        }
        println!(
            "webhook deliveries, {endpoint_count} endpoint(s) × {MESSAGES} messages: median {:.0}/s over {ROUNDS} rounds ({:?})",
            median(rates.clone()),
            rates.iter().map(|r| r.round()).collect::<Vec<_>>()
        );
    }
}
