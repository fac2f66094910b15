//! The consumer's calls: `--calls` invokes of the service across the mesh, a few in flight at
//! once, each timed end to end as the consumer sees it, with a progress counter on stderr.
use futures::StreamExt;
use reqwest::StatusCode;
use serde::Serialize;
use std::{
    collections::BTreeMap,
    io::{IsTerminal, Write},
    time::{Duration, Instant},
};

/// Calls in flight at once: enough to cross several nodes, few enough for a small machine.
const IN_FLIGHT: usize = 8;
/// How often one call is retried after `429 Too Many Requests` (such answers are not billed).
const MAX_THROTTLED_RETRIES: u32 = 20;

/// What the calls did.
#[derive(Debug, Default)]
pub struct CallStats {
    pub requested: u64,
    /// Answered 2xx: what the consumer should be billed for.
    pub succeeded: u64,
    pub failed: u64,
    /// `429` answers waited out and retried.
    pub throttled: u64,
    /// Latency of each successful call.
    pub latencies: Vec<Duration>,
    /// How many calls took each route (`x-web4-route`: entry node first, host last).
    pub routes: BTreeMap<String, u64>,
    /// Why calls failed, with counts.
    pub failures: BTreeMap<String, u64>,
    pub elapsed: Duration,
}

/// Latency percentiles in milliseconds (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

impl CallStats {
    /// p50, p95 and p99 of the successful calls; `None` without any.
    pub fn percentiles(&self) -> Option<Percentiles> {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let ms = |p| percentile(&sorted, p).map(|d| d.as_secs_f64() * 1000.0);
        Some(Percentiles { p50_ms: ms(50.0)?, p95_ms: ms(95.0)?, p99_ms: ms(99.0)? })
    }

    /// The route most calls took (of equally common ones, the one crossing most nodes).
    pub fn usual_route(&self) -> Option<(&str, u64)> {
        self.routes.iter().max_by_key(|(r, n)| (**n, r.split(',').count())).map(|(r, n)| (r.as_str(), *n))
    }
}

/// The nearest-rank percentile `p` (0–100) of `sorted`.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The outcome of one call.
enum Outcome {
    Ok { latency: Duration, route: String, throttled: u64 },
    Failed { reason: String, throttled: u64 },
}

/// Makes `calls` GETs of `{url}/quote?n=i` with `client` (the consumer's key); shows a
/// counter on stderr while it runs.
pub async fn make_calls(client: &reqwest::Client, url: &str, calls: u64) -> CallStats {
    let started = Instant::now();
    let mut stats = CallStats { requested: calls, ..CallStats::default() };
    let mut outcomes = futures::stream::iter(0..calls)
        .map(|i| call(client, format!("{url}/quote?n={i}")))
        .buffer_unordered(IN_FLIGHT);
    // On a terminal the counter is redrawn in place after every call; into a file or a pipe,
    // a line every tenth of the way.
    let terminal = std::io::stderr().is_terminal();
    let every = if terminal { 1 } else { (calls / 10).max(1) };
    let mut done = 0u64;
    while let Some(outcome) = outcomes.next().await {
        done += 1;
        match outcome {
            Outcome::Ok { latency, route, throttled } => {
                stats.succeeded += 1;
                stats.throttled += throttled;
                stats.latencies.push(latency);
                *stats.routes.entry(route).or_default() += 1;
            }
            Outcome::Failed { reason, throttled } => {
                stats.failed += 1;
                stats.throttled += throttled;
                *stats.failures.entry(reason).or_default() += 1;
            }
        }
        if done.is_multiple_of(every) || done == calls {
            let mut err = std::io::stderr().lock();
            let line = format!("  calling the service: {done}/{calls} ({} failed)", stats.failed);
            let _ = if terminal { write!(err, "\r{line}") } else { writeln!(err, "{line}") };
            let _ = err.flush();
        }
    }
    if terminal {
        eprintln!();
    }
    stats.elapsed = started.elapsed();
    stats
}

async fn call(client: &reqwest::Client, url: String) -> Outcome {
    let mut throttled = 0;
    loop {
        let started = Instant::now();
        let response = match client.get(&url).send().await {
            Ok(response) => response,
            Err(err) => return Outcome::Failed { reason: format!("transport: {err}"), throttled },
        };
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS && throttled < u64::from(MAX_THROTTLED_RETRIES) {
            throttled += 1;
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(1)
                .clamp(1, 5);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            continue;
        }
        let route = response
            .headers()
            .get("x-web4-route")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        // The body is part of the call: read it before stopping the clock.
        let body = response.bytes().await;
        let latency = started.elapsed();
        return match body {
            Ok(_) if status.is_success() => Outcome::Ok { latency, route, throttled },
            Ok(_) => Outcome::Failed { reason: format!("HTTP {status}"), throttled },
            Err(err) => Outcome::Failed { reason: format!("body: {err}"), throttled },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 50.0), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&sorted, 95.0), Some(Duration::from_millis(95)));
        assert_eq!(percentile(&sorted, 99.0), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&sorted[..1], 99.0), Some(Duration::from_millis(1)));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn the_usual_route_is_the_most_taken() {
        let mut stats = CallStats::default();
        stats.routes.insert("a,b".into(), 3);
        stats.routes.insert("a".into(), 5);
        assert_eq!(stats.usual_route(), Some(("a", 5)));
        stats.routes.insert("c,d,e".into(), 5);
        assert_eq!(stats.usual_route(), Some(("c,d,e", 5)), "a tie shows the route across the mesh");
        assert!(stats.percentiles().is_none());
    }
}
