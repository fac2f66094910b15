//! Marketplace benchmark (results: `BENCHMARKS.md`, "Marketplace"):
//!
//! 1. invoke throughput of a subscriber (plan quota, spending cap and plan pricing checked on
//!    every call, in memory) next to the service's owner calling the same service (no checks),
//!    in alternating rounds in one run;
//! 2. search latency (`GET /api/v1/listings`) over 10 000 published listings.
//!
//! ```sh
//! cargo bench -p web4-tests --bench marketplace
//! ```
//!
//! The whole platform runs in this process (`spawn_app`); nothing asserts on timings.
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Instant;
use web4_tests::{
    TestApp,
    fixtures::{api_key, bearer, routable, second_account},
    load::{median, ms, round},
    spawn_app_with,
    upstream::Upstream,
};

const LISTINGS: usize = 10_000;
const WORDS: [&str; 16] = [
    "weather",
    "forecast",
    "geocoder",
    "translate",
    "payments",
    "invoice",
    "image",
    "resize",
    "email",
    "sms",
    "fraud",
    "identity",
    "sentiment",
    "summary",
    "storage",
    "metrics",
];

async fn post(client: &Client, url: String, body: Value) -> Value {
    let response = client.post(url).json(&body).send().await.unwrap();
    assert!(response.status().is_success(), "{:?}", response.text().await);
    response.json().await.unwrap()
}

/// Lists `n` copies of the service row (inactive, so nothing is placed) with generated text.
async fn many_listings(app: &TestApp, template: &str, n: usize) {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let txn = app.db.begin().await.unwrap();
    let now = chrono::Utc::now().to_rfc3339();
    for i in 0..n {
        let (a, b) = (WORDS[i % WORDS.len()], WORDS[(i / WORDS.len()) % WORDS.len()]);
        let service = format!("{:08x}-0000-7000-8000-{:012x}", i, i);
        txn.execute_unprepared(&format!(
            "INSERT INTO services (id, account_id, slug, name, description, version, tags, kind, pricing, replicas, \
             status, settings, unhealthy_since, available, created_at, updated_at, proxy_secret_generation) \
             SELECT '{service}', account_id, 'bench-{i}', name, description, version, tags, kind, pricing, replicas, \
             'inactive', settings, NULL, available, created_at, updated_at, 1 FROM services WHERE id = '{template}'"
        ))
        .await
        .unwrap();
        txn.execute_unprepared(&format!(
            "INSERT INTO listings (id, account_id, service_id, publisher, title, summary, description, category, \
             tags, openapi, status, approval, sunset_at, published_at, created_at, updated_at) \
             SELECT '{service}', account_id, '{service}', 'bench', 'The {a} {b} API {i}', \
             'Fast {a} for {b} teams', 'Call {a} endpoints with {b} data; number {i}.', 'other', \
             '[\"{a}\",\"{b}\"]', NULL, 'published', 'automatic', NULL, '{now}', '{now}', '{now}' \
             FROM services WHERE id = '{template}'"
        ))
        .await
        .unwrap();
        txn.execute_unprepared(&format!(
            "INSERT INTO plans (id, listing_id, name, position, pricing, quota_per_month, quota_kind, visibility, \
             invitation_hash, created_at, rate_per_minute) VALUES ('{service}', '{service}', 'Free', 0, \
             '{{\"free_calls_per_month\":0,\"tiers\":[{{\"up_to\":null,\"price_per_call_micros\":{}}}]}}', \
             NULL, 'hard', 'public', NULL, '{now}', NULL)",
            (i % 7) * 100
        ))
        .await
        .unwrap();
    }
    txn.commit().await.unwrap();
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("marketplace benchmark: run with `cargo bench -p web4-tests --bench marketplace`");
        return;
    }
    let (requests, concurrency) = (2000, 16);
    let app = spawn_app_with(web4_tests::unlimited).await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let service = routable(&app, "bench", &upstream).await;
    let listing = post(
        &app.client,
        app.url("/api/v1/listings"),
        json!({ "service_id": service, "title": "Bench", "summary": "Benchmark", "category": "other" }),
    )
    .await;
    let id = listing["id"].as_str().unwrap().to_owned();
    let plan = post(
        &app.client,
        app.url(&format!("/api/v1/listings/{id}/plans")),
        json!({ "name": "Metered", "price_per_call_micros": 1, "quota_per_month": 1_000_000_000 }),
    )
    .await;
    post(&app.client, app.url(&format!("/api/v1/listings/{id}/publish")), json!({})).await;
    let consumer = second_account(&app, "bench-consumer@example.com").await;
    let (_, secret) = api_key(&app, &consumer, &["invoke", "write"]).await;
    let subscriber = bearer(&secret);
    post(
        &subscriber,
        app.url("/api/v1/subscriptions"),
        json!({ "plan_id": plan["plan"]["id"], "spending_cap_minor": 1_000_000_000_000i64 }),
    )
    .await;
    let url = app.url(&format!("/api/v1/invoke/{service}/bench/hello"));
    let owner = app.invoker().await.clone();
    round(&owner, &url, 200, concurrency).await;
    round(&subscriber, &url, 200, concurrency).await;
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        off.push(round(&owner, &url, requests, concurrency).await);
        on.push(round(&subscriber, &url, requests, concurrency).await);
    }
    let (off, on) = (median(off), median(on));
    println!(
        "1. invoke: {requests} GET requests per round, {concurrency} in flight, 3 alternating rounds, median"
    );
    println!("{:<44} {:>9} {:>8} {:>8} {:>7}", "caller", "req/s", "p50 ms", "p99 ms", "ratio");
    println!(
        "{:<44} {:>9.0} {:>8} {:>8} {:>7}",
        "owner (no plan checks)",
        off.per_sec,
        ms(off.p50),
        ms(off.p99),
        "1.00"
    );
    println!(
        "{:<44} {:>9.0} {:>8} {:>8} {:>7.3}",
        "subscriber (quota + spending cap + plan price)",
        on.per_sec,
        ms(on.p50),
        ms(on.p99),
        on.per_sec / off.per_sec
    );

    many_listings(&app, &service, LISTINGS).await;
    let public = Client::new();
    for (i, q) in
        ["", "weather", "forecast api", "pay", "identity fraud", "nothing-matches-this"].iter().enumerate()
    {
        let mut times = Vec::new();
        for _ in 0..if i == 0 { 20 } else { 50 } {
            let t = Instant::now();
            let response = public.get(app.url("/api/v1/listings")).query(&[("q", *q)]).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.bytes().await.unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
        if i == 0 {
            println!("\n2. search over {} published listings (one request at a time)", LISTINGS + 1);
            println!("{:<24} {:>8} {:>8}", "q", "p50 ms", "p99 ms");
        }
        println!(
            "{:<24} {:>8} {:>8}",
            if q.is_empty() { "(none: newest)" } else { q },
            ms(times[times.len() / 2]),
            ms(p99)
        );
    }
}
