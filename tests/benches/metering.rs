//! Metering and billing benchmark (results: `BENCHMARKS.md`, "Metering and billing"):
//!
//! 1. usage events durably recorded per second through the meter's group commit, with 1
//!    caller (every event waits for its own commit) and with 256 concurrent callers, under
//!    SQLite `synchronous = NORMAL` (the platform's setting: survives a process crash) and
//!    `FULL` (also survives power loss);
//! 2. invoke throughput with metering on and off, side by side in alternating rounds;
//! 3. the time to preview and to finalize an invoice over one million usage events.
//!
//! ```sh
//! cargo bench -p web4-tests --bench metering
//! ```
use app::types::ids::{AccountId, ServiceId};
use reqwest::Client;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use server::metering::{Meter, UsageEvent};
use std::{
    sync::{Arc, atomic::AtomicUsize, atomic::Ordering},
    time::{Duration, Instant},
};
use web4_tests::{TestApp, eventually, spawn_app_with, unlimited, upstream::Upstream};

fn event(payer: &str) -> UsageEvent {
    UsageEvent {
        invoke_id: uuid::Uuid::now_v7(),
        payer_account_id: payer.into(),
        service_id: "svc".into(),
        provider_account_id: "provider".into(),
        api_key_id: Some("key".into()),
        plan_id: None,
        calls: 1,
        bytes_in: 64,
        bytes_out: 256,
        duration_us: 900,
        status: 200,
        occurred_at: chrono::Utc::now(),
    }
}

async fn fresh_db(dir: &tempfile::TempDir, synchronous: &str) -> sea_orm::DatabaseConnection {
    let url = format!("sqlite://{}", dir.path().join(format!("{synchronous}.db")).display());
    let db = server::db::connect(&url).await.unwrap();
    server::startup::migrate(&db).await.unwrap();
    db.execute_unprepared(&format!("PRAGMA synchronous = {synchronous}")).await.unwrap();
    db
}

/// Events per second recorded with `callers` concurrent callers, each waiting for its commit.
async fn record_rate(db: sea_orm::DatabaseConnection, events: usize, callers: usize) -> (f64, f64) {
    let meter = Meter::start(db, None);
    // Warm up: the database files, the writer task, the allocator.
    for _ in 0..200 {
        meter.record(event("payer")).await.expect("recorded");
    }
    let before = meter.stats().batches.load(Ordering::Relaxed);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (meter, next) = (meter.clone(), next.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < events {
                    meter.record(event("payer")).await.expect("recorded");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let rate = events as f64 / started.elapsed().as_secs_f64();
    let batches = (meter.stats().batches.load(Ordering::Relaxed) - before).max(1);
    (rate, events as f64 / batches as f64)
}

async fn invoke_round(client: &Client, url: &str, key: &str, requests: usize, concurrency: usize) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, key, next) = (client.clone(), url.to_owned(), key.to_owned(), next.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let response = client.get(&url).bearer_auth(&key).send().await.expect("request");
                    assert!(response.status().is_success(), "{}", response.status());
                    response.bytes().await.expect("body");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    requests as f64 / started.elapsed().as_secs_f64()
}

/// An app with one service placed on the entry node; returns its invoke URL and an API key.
async fn app_with_service(metering: bool, upstream: &Upstream) -> (TestApp, String, String) {
    let app = spawn_app_with(|c| {
        unlimited(c);
        c.metering = metering;
    })
    .await;
    app.sign_up_operator().await;
    let ids: Vec<String> = app.mesh.nodes().iter().map(|n| n.handle.id().to_string()).collect();
    for id in &ids[1..] {
        app.client.post(app.url(&format!("/api/v1/nodes/{id}/drain"))).send().await.unwrap();
    }
    let body = json!({
        "slug": "bench", "replicas": 1, "price_per_call_micros": 1000,
        "http": { "upstream_url": upstream.url(), "timeout_ms": 10000 },
        "health_check": { "path": "/health", "interval_ms": 1000, "timeout_ms": 500 },
    });
    let created: Value =
        app.client.post(app.url("/api/v1/services")).json(&body).send().await.unwrap().json().await.unwrap();
    let service = created["id"].as_str().unwrap().to_owned();
    eventually("a healthy placement", || async {
        app.services.catalog().get(&service).is_some_and(|e| e.healthy.len() == 1)
    })
    .await;
    let url = app.url(&format!("/api/v1/invoke/{service}/bench/hello"));
    let (_, key) = web4_tests::fixtures::api_key(&app, &app.client, &["invoke"]).await;
    (app, url, key)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn invoice_of_a_million(events: usize) {
    let app = spawn_app_with(|c| c.nodes = 0).await;
    app.sign_up_operator().await;
    let mut services = Vec::new();
    for i in 0..10 {
        let body = json!({
            "slug": format!("svc-{i}"), "kind": "kv", "free_calls_per_month": 1000,
            "tiers": [
                { "up_to": 10_000, "price_per_call_micros": 2_000 },
                { "up_to": 50_000, "price_per_call_micros": 1_500 },
                { "up_to": null, "price_per_call_micros": 1_000 },
            ],
        });
        let created: Value = app
            .client
            .post(app.url("/api/v1/services"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        services.push(ServiceId::new(created["id"].as_str().unwrap()));
    }
    let payer = AccountId::new(app.query_strings("SELECT id FROM accounts").await.remove(0));
    let started = Instant::now();
    let base = chrono::Utc::now() - chrono::Duration::seconds(events as i64 / 1000 + 10);
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..events {
        let mut e = event(payer.as_str());
        e.service_id = services[i % services.len()].clone();
        e.provider_account_id = payer.clone();
        e.occurred_at = base + chrono::Duration::milliseconds(i as i64);
        batch.push(server::db::entities::usage_events::Model::from(e));
        if batch.len() == 10_000 || i + 1 == events {
            let txn = sea_orm::TransactionTrait::begin(&app.db).await.unwrap();
            server::db::usage::insert_new(&txn, std::mem::take(&mut batch)).await.unwrap();
            txn.commit().await.unwrap();
        }
    }
    println!("  loaded {events} usage events in {:.1} s", started.elapsed().as_secs_f64());
    let now = chrono::Utc::now();
    let t = Instant::now();
    let preview = server::billing::preview(&app.db, &payer, now).await.unwrap();
    let preview_time = t.elapsed();
    let t = Instant::now();
    let made = server::billing::finalize_until(&app.db, Some(&payer), now, now, 2_000).await.unwrap();
    let finalize_time = t.elapsed();
    assert_eq!(made.iter().map(|i| i.total_calls).sum::<i64>(), events as i64);
    assert_eq!(preview.total_calls, events as i64);
    println!(
        "  {:<44} {:>8.2} s   ({} lines, total {})",
        "preview (draft) over all events",
        preview_time.as_secs_f64(),
        preview.lines.len(),
        preview.currency.format_minor(preview.total_minor)
    );
    println!(
        "  {:<44} {:>8.2} s   ({} invoice(s), events marked as invoiced)",
        "finalize",
        finalize_time.as_secs_f64(),
        made.len()
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("metering benchmark: run with `cargo bench -p web4-tests --bench metering`");
        return;
    }
    let env =
        |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let events = env("METERING_BENCH_EVENTS", 50_000);
    let dir = tempfile::tempdir().unwrap();

    println!("1. usage events durably recorded ({events} events per run)");
    println!("  {:<44} {:>12} {:>12}", "", "events/s", "per commit");
    for synchronous in ["NORMAL", "FULL"] {
        for callers in [1usize, 256] {
            let n = if callers == 1 { events / 10 } else { events };
            let db = fresh_db(&dir, &format!("{synchronous}_{callers}")).await;
            let (rate, per_batch) = record_rate(db, n, callers).await;
            println!(
                "  {:<44} {:>12.0} {:>12.1}",
                format!("synchronous={synchronous}, {callers} caller(s)"),
                rate,
                per_batch
            );
        }
    }

    let requests = env("METERING_BENCH_REQUESTS", 2000);
    let concurrency = env("METERING_BENCH_CONCURRENCY", 16);
    println!(
        "2. invoke throughput with an API key, metering on vs off ({requests} requests per round, {concurrency} in flight)"
    );
    let upstream = Upstream::start().await;
    let (off_app, off_url, off_key) = app_with_service(false, &upstream).await;
    let (on_app, on_url, on_key) = app_with_service(true, &upstream).await;
    let client = Client::builder().tcp_nodelay(true).build().unwrap();
    invoke_round(&client, &off_url, &off_key, 300, concurrency).await;
    invoke_round(&client, &on_url, &on_key, 300, concurrency).await;
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        off.push(invoke_round(&client, &off_url, &off_key, requests, concurrency).await);
        on.push(invoke_round(&client, &on_url, &on_key, requests, concurrency).await);
    }
    let (off, on) = (median(off), median(on));
    println!("  {:<44} {:>12.0}", "metering off (req/s, median of 5)", off);
    println!("  {:<44} {:>12.0}   ratio {:.2}", "metering on (req/s, median of 5)", on, on / off);
    let recorded = on_app.count("SELECT COUNT(*) FROM usage_events").await;
    let unrecorded = off_app.count("SELECT COUNT(*) FROM usage_events").await;
    println!("  usage events: {recorded} with metering on, {unrecorded} with it off");
    drop((off_app, on_app));

    let million = env("METERING_BENCH_INVOICE_EVENTS", 1_000_000);
    println!("3. invoice generation over {million} usage events (1 payer, 10 services, 3 tiers each)");
    invoice_of_a_million(million).await;
    let _ = Duration::ZERO;
}
