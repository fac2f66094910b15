//! Observability benchmark (results: `BENCHMARKS.md`, "Observability"): what recording metrics,
//! rollups and traces cost the invoke path, and how long a `/metrics` scrape takes with 1 000
//! services' series.
//!
//! ```sh
//! cargo bench -p web4-tests --bench observability
//! OBS_BENCH_REQUESTS=5000 OBS_BENCH_CONCURRENCY=32 cargo bench -p web4-tests --bench observability
//! ```
//!
//! Three servers run in this process, identical but for `metrics` and `traces` (the "off" one
//! records neither metrics, rollups nor traces) and OTLP export (the third one also sends every
//! call's spans, protobuf, to a receiver on a local socket), each with its service on the
//! entry node (the other nodes drained) and its own upstream. Rounds alternate between them
//! (5 each) and the median round is reported, so the ratio compares like with like on a noisy
//! machine. The scrape is measured after 1 000 services' calls were recorded the way the
//! gateway records them (registering 1 000 services would measure the registry instead); the
//! median of 20 scrapes through `GET /metrics` with the operator's key. Nothing asserts on
//! timings.
use app::types::ids::{AccountId, ServiceId};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use web4_tests::{
    TestApp, eventually,
    fixtures::{api_key, bearer},
    load::{median, median_of, ms, round},
    spawn_app_with,
    upstream::Upstream,
};

const ROUNDS: usize = 5;
const SERVICES: usize = 1000;

async fn act(app: &TestApp, node: &str, action: &str) {
    let response = app.client.post(app.url(&format!("/api/v1/nodes/{node}/{action}"))).send().await.unwrap();
    assert!(response.status().is_success());
}

/// An operator with a service placed on the entry node; returns its invoke URL.
async fn service_on_entry_node(app: &TestApp, upstream: &Upstream) -> String {
    app.sign_up_operator().await;
    let ids: Vec<String> = app.mesh.nodes().iter().map(|n| n.handle.id().to_string()).collect();
    for node in &ids[1..] {
        act(app, node, "drain").await;
    }
    let body = json!({
        "slug": "bench", "replicas": 1,
        "http": { "upstream_url": upstream.url(), "timeout_ms": 10000 },
        "health_check": { "path": "/health", "interval_ms": 1000, "timeout_ms": 500 },
    });
    let created: Value =
        app.client.post(app.url("/api/v1/services")).json(&body).send().await.unwrap().json().await.unwrap();
    let service = created["id"].as_str().expect("service id").to_owned();
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
        d["instances"].as_array().is_some_and(|i| i.len() == 1 && i[0]["node_id"] == ids[0].as_str())
    })
    .await;
    app.url(&format!("/api/v1/invoke/{service}/bench/hello"))
}

/// `n` services' ids.
fn service_ids(n: usize) -> Vec<ServiceId> {
    (0..n).map(|i| ServiceId::new(format!("00000000-0000-7000-8000-{i:012}"))).collect()
}

/// A finished call of `service`, as the gateway reports it.
fn record<'a>(
    service: &'a ServiceId,
    owner: &'a AccountId,
    entry: server::mesh::NodeId,
    i: usize,
) -> server::observability::InvokeRecord<'a> {
    server::observability::InvokeRecord {
        invoke_id: uuid::Uuid::nil(),
        trace: server::observability::trace_context::TraceContext::start(),
        service,
        service_name: "bench",
        owner,
        payer: owner,
        entry: Some(entry),
        method: "GET",
        path: "/",
        started_at: chrono::Utc::now(),
        duration: Duration::from_micros(500 + (i as u64 % 50) * 100),
        status: if i.is_multiple_of(10) { 500 } else { 200 },
        error_code: None,
        route: &[],
        attempts: &[],
    }
}

/// Nanoseconds per call of `sink` over 1 000 services' records (round robin).
fn per_call_ns(
    services: &[ServiceId],
    entry: server::mesh::NodeId,
    sink: impl Fn(&server::observability::InvokeRecord<'_>),
) -> f64 {
    let owner = AccountId::new("bench-owner");
    let records: Vec<_> = services.iter().enumerate().map(|(i, s)| record(s, &owner, entry, i)).collect();
    let calls = 200_000;
    let started = Instant::now();
    for i in 0..calls {
        sink(&records[i % records.len()]);
    }
    started.elapsed().as_nanos() as f64 / calls as f64
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("observability benchmark: run with `cargo bench -p web4-tests --bench observability`");
        return;
    }
    let requests: usize =
        std::env::var("OBS_BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let concurrency: usize =
        std::env::var("OBS_BENCH_CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    let on = spawn_app_with(web4_tests::unlimited).await;
    let (collector, _) = web4_tests::collector::start(false).await;
    let exporting = spawn_app_with(|c| {
        web4_tests::unlimited(c);
        let otlp = server::observability::otlp::OtlpProtocol::Protobuf;
        c.observability.otlp =
            Some(server::observability::otlp::OtlpSettings::new(&collector, otlp).unwrap());
    })
    .await;
    let off = spawn_app_with(|c| {
        web4_tests::unlimited(c);
        c.observability.metrics = false;
        c.traces.enabled = false;
    })
    .await;
    let (on_upstream, off_upstream) = (Upstream::start().await, Upstream::start().await);
    let otlp_upstream = Upstream::start().await;
    let on_url = service_on_entry_node(&on, &on_upstream).await;
    let off_url = service_on_entry_node(&off, &off_upstream).await;
    let otlp_url = service_on_entry_node(&exporting, &otlp_upstream).await;
    let (on_client, off_client) = (on.invoker().await, off.invoker().await);
    let otlp_client = exporting.invoker().await;
    round(on_client, &on_url, 200, concurrency).await;
    round(off_client, &off_url, 200, concurrency).await;
    round(otlp_client, &otlp_url, 200, concurrency).await;

    println!(
        "observability benchmark: {requests} GET requests per round, {concurrency} in flight, {ROUNDS} rounds each, median round"
    );
    println!(
        "{:<22} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "metrics+rollups+traces", "req/s", "p50 ms", "p90 ms", "p99 ms", "vs off"
    );
    let (mut with, mut without, mut exported) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        without.push(round(off_client, &off_url, requests, concurrency).await);
        with.push(round(on_client, &on_url, requests, concurrency).await);
        exported.push(round(otlp_client, &otlp_url, requests, concurrency).await);
    }
    let (with, without, exported) = (median(with), median(without), median(exported));
    for (name, r) in [("off", &without), ("on (all three)", &with), ("on + OTLP export", &exported)] {
        println!(
            "{:<22} {:>10.0} {:>9} {:>9} {:>9} {:>8.3}",
            name,
            r.per_sec,
            ms(r.p50),
            ms(r.p90),
            ms(r.p99),
            r.per_sec / without.per_sec
        );
    }

    let entry = on.mesh.nodes()[0].handle.id();
    let services = service_ids(SERVICES);
    let rollups = server::observability::rollups::Rollups::default();
    println!(
        "hot path per call ({SERVICES} services round robin): metrics {:.0} ns, rollup aggregator {:.0} ns",
        per_call_ns(&services, entry, server::observability::metrics::invoke_finished),
        per_call_ns(&services, entry, |r| rollups.record(r)),
    );
    let (_, key) = api_key(&on, &on.client, &["read"]).await;
    let scraper = bearer(&key);
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..20 {
        let started = Instant::now();
        let text = scraper.get(on.url("/metrics")).send().await.unwrap().text().await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        size = text.len();
    }
    println!(
        "/metrics with {SERVICES} services' series: median {:.2} ms per scrape, {} KiB, {} lines",
        median_of(times),
        size / 1024,
        scraper.get(on.url("/metrics")).send().await.unwrap().text().await.unwrap().lines().count()
    );
}
