//! KV benchmark (results: `BENCHMARKS.md`, "KV"): puts and gets per second through the Cloud
//! API and through the invoke path (a `kv` service, over the mesh to its hosting node) side by
//! side; watch fan-out to 100 watchers (time from a put until all 100 have it); puts per
//! second with 100 watchers open against none.
//!
//! ```sh
//! cargo bench -p web4-tests --bench kv
//! ```
//!
//! The whole platform runs in this process (`spawn_app_with`, rate limits off), so the
//! watchers' readers share the CPUs with the server; nothing asserts on timings.
use reqwest::Client;
use serde_json::{Value, json};
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::sync::mpsc;
use web4_tests::{
    TestApp,
    fixtures::{api_key, bearer},
    load::{median_of, rate},
    spawn_app_with, unlimited,
};

const OPS: usize = 1_000;
const CONCURRENCY: usize = 16;
const ROUNDS: usize = 3;
const WATCHERS: usize = 100;
const FAN_OUT_PUTS: usize = 50;

fn percentile(mut values: Vec<f64>, p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * p).round() as usize]
}

/// Puts (or gets) `OPS` keys at `base` + `/{prefix}{i}`; per second.
async fn run(client: &Client, base: String, prefix: String, put: bool) -> f64 {
    let client = client.clone();
    rate(OPS, CONCURRENCY, move |i| {
        let url = format!("{base}/{prefix}{}", i % 200);
        let request =
            if put { client.put(url).json(&json!({ "value": "aGVsbG8gd29ybGQ=" })) } else { client.get(url) };
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            response.bytes().await.unwrap();
        }
    })
    .await
}

/// Opens `n` watchers of `bucket`; each reports `(revision, when)` of every put it receives.
/// Answers once all have caught up, with the count of watchers told they lagged.
async fn watchers(
    app: &TestApp,
    client: &Client,
    bucket: &str,
    n: usize,
) -> (mpsc::UnboundedReceiver<(u64, Instant)>, Arc<AtomicUsize>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let ready = Arc::new(tokio::sync::Barrier::new(n + 1));
    let lagged = Arc::new(AtomicUsize::new(0));
    for _ in 0..n {
        let mut response =
            client.get(app.url(&format!("/api/v1/kv/buckets/{bucket}/watch"))).send().await.unwrap();
        assert!(response.status().is_success());
        let (tx, ready, lagged) = (tx.clone(), ready.clone(), lagged.clone());
        tokio::spawn(async move {
            let mut pending = String::new();
            let mut waiting = true;
            while let Ok(Some(chunk)) = response.chunk().await {
                pending.push_str(std::str::from_utf8(&chunk).unwrap());
                while let Some(end) = pending.find("\n\n") {
                    let block: String = pending.drain(..end + 2).collect();
                    let event = block.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or_default();
                    let id = block.lines().find_map(|l| l.strip_prefix("id: ")).and_then(|i| i.parse().ok());
                    match (event, id) {
                        ("caught_up", _) if waiting => {
                            waiting = false;
                            ready.wait().await;
                        }
                        ("put", Some(revision)) => {
                            let _ = tx.send((revision, Instant::now()));
                        }
                        ("lagged", _) => {
                            lagged.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {}
                    }
                }
            }
        });
    }
    ready.wait().await;
    (rx, lagged)
}

async fn wait_for_placement(app: &TestApp, id: &str) {
    for _ in 0..750 {
        let view: Value = app
            .client
            .get(app.url(&format!("/api/v1/services/{id}/discovery")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if view["instances"].as_array().is_some_and(|i| !i.is_empty()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the kv service was never placed");
}

#[tokio::main]
async fn main() {
    let app = spawn_app_with(|config| {
        unlimited(config);
        config.memory.max_watchers = 2 * WATCHERS as u32;
        // Readers share the two CPUs with the server: room for bursts, so none lags.
        config.memory.watch_buffer = 4096;
    })
    .await;
    app.sign_up_operator().await;
    let (_, secret) = api_key(&app, &app.client, &["read", "write", "invoke"]).await;
    let api = bearer(&secret);
    for bucket in ["direct", "quiet", "fan"] {
        let response =
            api.post(app.url("/api/v1/kv/buckets")).json(&json!({ "name": bucket })).send().await.unwrap();
        assert!(response.status().is_success());
    }
    let service: Value = api
        .post(app.url("/api/v1/services"))
        .json(&json!({ "slug": "kvbench", "kind": "kv", "replicas": 1 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    wait_for_placement(&app, service["id"].as_str().unwrap()).await;
    let direct = app.url("/api/v1/kv/buckets/direct/keys");
    let invoke = app.url("/api/v1/invoke/kvbench/keys");

    // 1. Put and get: the Cloud API against the invoke path, alternating rounds.
    let (mut puts, mut gets, mut invoke_puts, mut invoke_gets) = (vec![], vec![], vec![], vec![]);
    for round in 0..ROUNDS {
        puts.push(run(&api, direct.clone(), "k".into(), true).await);
        invoke_puts.push(run(&api, invoke.clone(), "k".into(), true).await);
        gets.push(run(&api, direct.clone(), "k".into(), false).await);
        invoke_gets.push(run(&api, invoke.clone(), "k".into(), false).await);
        println!(
            "round {round}: put {:.0}/s, invoke put {:.0}/s, get {:.0}/s, invoke get {:.0}/s",
            puts[round], invoke_puts[round], gets[round], invoke_gets[round]
        );
    }

    // 2. Fan-out: sequential puts to a bucket 100 watchers follow.
    let (mut events, lagged) = watchers(&app, &api, "fan", WATCHERS).await;
    let (mut all, mut first) = (vec![], vec![]);
    for i in 0..FAN_OUT_PUTS {
        let started = Instant::now();
        let put: Value = api
            .put(format!("{}/f{i}", app.url("/api/v1/kv/buckets/fan/keys")))
            .json(&json!({ "value": "aGk=" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let revision = put["revision"].as_u64().unwrap();
        let mut arrivals = Vec::new();
        while arrivals.len() < WATCHERS {
            let (got, at) =
                tokio::time::timeout(Duration::from_secs(10), events.recv()).await.unwrap().unwrap();
            if got == revision {
                arrivals.push(at);
            }
        }
        let ms = |at: &Instant| at.duration_since(started).as_secs_f64() * 1000.0;
        all.push(arrivals.iter().map(ms).fold(0.0, f64::max));
        first.push(arrivals.iter().map(ms).fold(f64::MAX, f64::min));
    }
    println!(
        "fan-out to {WATCHERS} watchers over {FAN_OUT_PUTS} puts: all have it after median {:.1} ms (p95 {:.1} ms); first after median {:.1} ms",
        median_of(all.clone()),
        percentile(all, 0.95),
        median_of(first)
    );

    // 3. Puts per second with the 100 watchers following against a bucket nobody watches.
    let drain = tokio::spawn(async move { while events.recv().await.is_some() {} });
    let (mut watched, mut quiet) = (vec![], vec![]);
    for round in 0..ROUNDS {
        quiet.push(run(&api, app.url("/api/v1/kv/buckets/quiet/keys"), "q".into(), true).await);
        watched.push(run(&api, app.url("/api/v1/kv/buckets/fan/keys"), "w".into(), true).await);
        println!(
            "round {round}: puts with 0 watchers {:.0}/s, with {WATCHERS} watchers {:.0}/s",
            quiet[round], watched[round]
        );
    }
    drain.abort();
    println!("watchers told they lagged: {}", lagged.load(Ordering::Relaxed));

    println!("\n| | Cloud API | invoke path | invoke / API |\n|---|---:|---:|---:|");
    for (name, a, b) in [("put", puts, invoke_puts), ("get", gets, invoke_gets)] {
        let (a, b) = (median_of(a), median_of(b));
        println!("| {name} | {a:.0} /s | {b:.0} /s | {:.2} |", b / a);
    }
    let (q, w) = (median_of(quiet), median_of(watched));
    println!("\n| | 0 watchers | {WATCHERS} watchers | ratio |\n|---|---:|---:|---:|");
    println!("| puts | {q:.0} /s | {w:.0} /s | {:.2} |", w / q);
}
