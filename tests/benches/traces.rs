//! Traces benchmark: invoke throughput and latency with the trace store on and off
//! (`traces = false`), side by side in alternating rounds, the service two mesh hops from the
//! entry node (so every call records three hop spans' worth of stamps).
//!
//! ```sh
//! cargo bench -p web4-tests --bench traces
//! TRACES_BENCH_REQUESTS=5000 TRACES_BENCH_CONCURRENCY=32 cargo bench -p web4-tests --bench traces
//! ```
//!
//! Both platforms run in this process and take turns (5 rounds each), so a noisy machine
//! slows both alike; the median round by throughput is reported. Nothing asserts on timings.
use serde_json::{Value, json};
use web4_tests::{
    TestApp, eventually,
    fixtures::{api_key, bearer},
    load::{Round, median, ms, round},
    spawn_app_with, unlimited,
    upstream::Upstream,
};

/// A platform with traces `on`, one service on the far end of the line; its invoke URL and
/// a client with an invoke key.
async fn platform(on: bool, upstream: &Upstream) -> (TestApp, String, reqwest::Client) {
    let app = spawn_app_with(|c| {
        unlimited(c);
        c.traces.enabled = on;
    })
    .await;
    app.sign_up_operator().await;
    let ids: Vec<String> = app.mesh.nodes().iter().map(|n| n.handle.id().to_string()).collect();
    for id in &ids[..2] {
        app.client.post(app.url(&format!("/api/v1/nodes/{id}/drain"))).send().await.unwrap();
    }
    let body = json!({
        "slug": "bench", "replicas": 1,
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
    let (_, key) = api_key(&app, &app.client, &["invoke"]).await;
    (app, url, bearer(&key))
}

fn line(name: &str, r: &Round) -> String {
    format!(
        "{name:<12} {:>9.0} req/s   p50 {} ms   p90 {} ms   p99 {} ms",
        r.per_sec,
        ms(r.p50),
        ms(r.p90),
        ms(r.p99)
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("traces benchmark: run with `cargo bench -p web4-tests --bench traces`");
        return;
    }
    let var =
        |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (requests, concurrency) = (var("TRACES_BENCH_REQUESTS", 2000), var("TRACES_BENCH_CONCURRENCY", 16));
    let upstream = Upstream::start().await;
    let (on_app, on_url, on_client) = platform(true, &upstream).await;
    let (off_app, off_url, off_client) = platform(false, &upstream).await;
    // Warm up both: connections, caches, the allocator.
    round(&on_client, &on_url, 200, concurrency).await;
    round(&off_client, &off_url, 200, concurrency).await;
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        on.push(round(&on_client, &on_url, requests, concurrency).await);
        off.push(round(&off_client, &off_url, requests, concurrency).await);
    }
    let (on, off) = (median(on), median(off));
    println!("invoke, 2 hops, {requests} requests × 5 rounds, {concurrency} in flight");
    println!("{}", line("traces off", &off));
    println!("{}", line("traces on", &on));
    println!("throughput with traces: {:.1} % of without", 100.0 * on.per_sec / off.per_sec);
    drop((on_app, off_app));
}
