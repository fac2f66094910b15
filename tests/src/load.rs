//! Load generation for the benchmarks: rounds of concurrent GETs with their throughput and
//! latency percentiles.
use reqwest::Client;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

/// One round's throughput and latency percentiles.
pub struct Round {
    pub per_sec: f64,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
}

/// `requests` GETs of `url`, `concurrency` in flight; every answer must be a success.
pub async fn round(client: &Client, url: &str, requests: usize, concurrency: usize) -> Round {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, next) = (client.clone(), url.to_owned(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < requests {
                let t = Instant::now();
                let response = client.get(&url).send().await.expect("request");
                assert!(response.status().is_success(), "{url}: {}", response.status());
                response.bytes().await.expect("body");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::with_capacity(requests);
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Round {
        per_sec: all.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p90: pct(0.90),
        p99: pct(0.99),
    }
}

/// The median round by throughput.
pub fn median(mut rounds: Vec<Round>) -> Round {
    rounds.sort_by(|a, b| a.per_sec.total_cmp(&b.per_sec));
    rounds.swap_remove(rounds.len() / 2)
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Runs `job(i)` for i in 0..n with `concurrency` in flight; answers jobs per second.
pub async fn rate<F, Fut>(n: usize, concurrency: usize, job: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (job, next) = (job.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    job(i).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a job panicked");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// The median of some rates.
pub fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
