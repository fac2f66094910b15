//! Invoke benchmark (results: `BENCHMARKS.md`, "Invoke path"): throughput and latency
//! percentiles of `GET /api/v1/invoke/{id}/…` through 0, 1 and 2 mesh hops against a local
//! upstream, next to calling the upstream directly, in one run.
//!
//! ```sh
//! cargo bench -p web4-tests --bench invoke                      # ~1 minute after the build
//! INVOKE_BENCH_REQUESTS=5000 INVOKE_BENCH_CONCURRENCY=32 cargo bench -p web4-tests --bench invoke
//! ```
//!
//! The whole platform runs in this process (`spawn_app`: HTTP server, SQLite, three embedded
//! nodes in a line); the upstream is an axum server on loopback answering a 64-byte body. The
//! service is placed with replicas = 1 on the node at the wanted distance from the entry node
//! by draining the others. For each distance the direct and the invoked calls are measured in
//! alternating rounds (3 each), and the median round is reported, so the ratio compares like
//! with like on a noisy machine. Nothing asserts on timings.
use reqwest::Client;
use serde_json::{Value, json};
use web4_tests::{
    TestApp, eventually,
    load::{median, ms, round},
    spawn_app_with,
    upstream::Upstream,
};

async fn act(app: &TestApp, node: &str, action: &str) {
    let response = app.client.post(app.url(&format!("/api/v1/nodes/{node}/{action}"))).send().await.unwrap();
    assert!(response.status().is_success());
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("invoke benchmark: run with `cargo bench -p web4-tests --bench invoke`");
        return;
    }
    let requests: usize =
        std::env::var("INVOKE_BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let concurrency: usize =
        std::env::var("INVOKE_BENCH_CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    // Rate limits would cap the load; the benchmark measures the path, not the limits.
    let app = spawn_app_with(web4_tests::unlimited).await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let ids: Vec<String> = app.mesh.nodes().iter().map(|n| n.handle.id().to_string()).collect();
    let body = json!({
        "slug": "bench", "replicas": 1,
        "http": { "upstream_url": upstream.url(), "timeout_ms": 10000 },
        "health_check": { "path": "/health", "interval_ms": 1000, "timeout_ms": 500 },
    });
    // Start with only the entry node eligible.
    act(&app, &ids[1], "drain").await;
    act(&app, &ids[2], "drain").await;
    let created: Value =
        app.client.post(app.url("/api/v1/services")).json(&body).send().await.unwrap().json().await.unwrap();
    let service = created["id"].as_str().expect("service id").to_owned();
    let direct_url = format!("{}/bench/hello", upstream.url());
    let invoke_url = app.url(&format!("/api/v1/invoke/{service}/bench/hello"));
    let direct = Client::builder().tcp_nodelay(true).build().unwrap();

    println!(
        "invoke benchmark: {requests} GET requests per round, {concurrency} in flight, 3 rounds each, median round"
    );
    println!(
        "{:<28} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "path", "req/s", "p50 ms", "p90 ms", "p99 ms", "vs direct"
    );
    for hops in 0..3usize {
        if hops > 0 {
            act(&app, &ids[hops], "undrain").await;
            act(&app, &ids[hops - 1], "drain").await;
        }
        let host = ids[hops].clone();
        eventually("the placement to settle", || async {
            let d: Value = app
                .client
                .get(app.url(&format!("/api/v1/services/{service}/discovery")))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            d["instances"].as_array().is_some_and(|i| i.len() == 1 && i[0]["node_id"] == host.as_str())
        })
        .await;
        // Warm both paths (connections, routes).
        round(&direct, &direct_url, 200, concurrency).await;
        round(app.invoker().await, &invoke_url, 200, concurrency).await;
        let (mut d, mut v) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            d.push(round(&direct, &direct_url, requests, concurrency).await);
            v.push(round(app.invoker().await, &invoke_url, requests, concurrency).await);
        }
        let (d, v) = (median(d), median(v));
        let check = app.invoker().await.get(&invoke_url).send().await.unwrap();
        let route = check.headers()["x-web4-route"].to_str().unwrap().split(',').count();
        assert_eq!(route, hops + 1, "the route crosses {hops} hop(s)");
        println!(
            "{:<28} {:>10.0} {:>9} {:>9} {:>9} {:>8}",
            format!("direct (round with {hops} hop)"),
            d.per_sec,
            ms(d.p50),
            ms(d.p90),
            ms(d.p99),
            "1.00"
        );
        println!(
            "{:<28} {:>10.0} {:>9} {:>9} {:>9} {:>8.2}",
            format!("invoke, {hops} mesh hop(s)"),
            v.per_sec,
            ms(v.p50),
            ms(v.p90),
            ms(v.p99),
            v.per_sec / d.per_sec
        );
    }
}
