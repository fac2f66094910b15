//! Health checks, run by the nodes that host a service: `GET` the upstream's check path every
//! interval, and judge the answer the way Consul does — 2xx in time is passing, 429 (or a 2xx
//! slower than half the timeout) is warning, anything else (another status, a timeout, a
//! refused connection) is critical. Embedded nodes record results straight into the registry;
//! hosted nodes report them with their next heartbeat. Both schedule with [`Schedule`].
use app::types::{nodes::HealthCheckAssignment, services::HealthStatus};
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

/// One check's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: HealthStatus,
    /// e.g. `HTTP 200 in 3 ms`, `HTTP 503 in 2 ms`, `timed out after 2000 ms`.
    pub output: String,
}

/// Judges an answer.
pub fn judge(status: Option<u16>, elapsed: Duration, timeout: Duration) -> HealthStatus {
    match status {
        Some(200..=299) if elapsed > timeout / 2 => HealthStatus::Warning,
        Some(200..=299) => HealthStatus::Passing,
        Some(429) => HealthStatus::Warning,
        _ => HealthStatus::Critical,
    }
}

/// Runs one check.
pub async fn check(client: &reqwest::Client, assignment: &HealthCheckAssignment) -> Outcome {
    let timeout = Duration::from_millis(u64::from(assignment.timeout_ms));
    let started = Instant::now();
    let result =
        client.get(&assignment.url).timeout(timeout).header("user-agent", "web4-health-check").send().await;
    let elapsed = started.elapsed();
    match result {
        Ok(response) => {
            let code = response.status().as_u16();
            Outcome {
                status: judge(Some(code), elapsed, timeout),
                output: format!("HTTP {code} in {} ms", elapsed.as_millis()),
            }
        }
        Err(err) if err.is_timeout() => Outcome {
            status: HealthStatus::Critical,
            output: format!("timed out after {} ms", timeout.as_millis()),
        },
        Err(err) => Outcome { status: HealthStatus::Critical, output: super::executor::root_cause(&err) },
    }
}

/// Starts the checks of `assigned` that are due, each in its own task; `done` gets each
/// outcome with the node and the check. Embedded nodes and hosted nodes both run this.
pub fn start_due<'a, F, Fut>(
    schedule: &mut Schedule,
    client: &reqwest::Client,
    assigned: impl IntoIterator<Item = (&'a str, &'a HealthCheckAssignment)>,
    done: F,
) where
    F: Fn(String, HealthCheckAssignment, Outcome) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    for (node, assignment) in schedule.due(assigned, Instant::now()) {
        let (client, done) = (client.clone(), done.clone());
        tokio::spawn(async move {
            let outcome = check(&client, &assignment).await;
            done(node, assignment, outcome).await;
        });
    }
}

/// When each check last started; says which are due.
#[derive(Default)]
pub struct Schedule {
    last: HashMap<(String, String), Instant>,
}

impl Schedule {
    /// The checks of `assigned` (keyed by node) due at `now`, marked as started. Checks no
    /// longer assigned are forgotten.
    pub fn due<'a>(
        &mut self,
        assigned: impl IntoIterator<Item = (&'a str, &'a HealthCheckAssignment)>,
        now: Instant,
    ) -> Vec<(String, HealthCheckAssignment)> {
        let mut due = Vec::new();
        let mut seen = HashMap::new();
        for (node, check) in assigned {
            let key = (node.to_owned(), check.service_id.clone());
            let interval = Duration::from_millis(u64::from(check.interval_ms));
            let last = self.last.get(&key).copied();
            let at = if last.is_none_or(|t| now.duration_since(t) >= interval) {
                due.push((node.to_owned(), check.clone()));
                now
            } else {
                last.unwrap_or(now)
            };
            seen.insert(key, at);
        }
        self.last = seen;
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_judged_like_consul() {
        let t = Duration::from_millis(1000);
        let fast = Duration::from_millis(10);
        assert_eq!(judge(Some(200), fast, t), HealthStatus::Passing);
        assert_eq!(judge(Some(204), Duration::from_millis(600), t), HealthStatus::Warning);
        assert_eq!(judge(Some(429), fast, t), HealthStatus::Warning);
        assert_eq!(judge(Some(503), fast, t), HealthStatus::Critical);
        assert_eq!(judge(Some(301), fast, t), HealthStatus::Critical);
        assert_eq!(judge(None, t, t), HealthStatus::Critical);
    }

    #[test]
    fn checks_are_due_once_per_interval() {
        let check = HealthCheckAssignment {
            service_id: "s".into(),
            url: "http://127.0.0.1:1/".into(),
            interval_ms: 1000,
            timeout_ms: 500,
        };
        let mut s = Schedule::default();
        let t0 = Instant::now();
        assert_eq!(s.due([("n", &check)], t0).len(), 1);
        assert!(s.due([("n", &check)], t0 + Duration::from_millis(500)).is_empty());
        assert_eq!(s.due([("n", &check)], t0 + Duration::from_millis(1000)).len(), 1);
        // Another node hosting the same service has its own schedule.
        assert_eq!(s.due([("n", &check), ("m", &check)], t0 + Duration::from_millis(1100)).len(), 1);
    }
}
