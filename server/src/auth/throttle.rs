//! Log-in throttling: at most `limit` failures per window, per account and per client address.
//! This module holds the pure sliding-window rule; the failures themselves live in the
//! database (`db::login_failures`) so restarts and sibling processes share them.
use chrono::{DateTime, Duration, Utc};

/// The throttle's rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Failures allowed inside one window before further attempts are refused.
    pub limit: u32,
    /// How far back failures count.
    pub window: Duration,
}

impl Default for LoginThrottle {
    /// 10 failures in 15 minutes.
    fn default() -> Self {
        Self { limit: 10, window: Duration::minutes(15) }
    }
}

impl LoginThrottle {
    /// The oldest failure time that still counts at `now`.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }

    /// Given the failures inside the window (oldest first), decides whether another attempt
    /// may be made at `now`. `Err(wait)` says how long until one failure ages out and the
    /// count drops below the limit again.
    pub fn check(&self, failures: &[DateTime<Utc>], now: DateTime<Utc>) -> Result<(), Duration> {
        let start = self.window_start(now);
        let recent: Vec<_> = failures.iter().filter(|t| **t > start).collect();
        let limit = self.limit as usize;
        if recent.len() < limit {
            return Ok(());
        }
        // With n ≥ limit failures in the window, attempts resume when the (n - limit + 1)-th
        // oldest leaves it.
        let pivot = *recent[recent.len() - limit];
        let wait = pivot + self.window - now;
        Err(wait.max(Duration::seconds(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn allows_attempts_below_the_limit() {
        let throttle = LoginThrottle::default();
        let failures: Vec<_> = (0..9).map(at).collect();
        assert_eq!(throttle.check(&failures, at(10)), Ok(()));
    }

    #[test]
    fn refuses_at_the_limit_until_the_oldest_failure_ages_out() {
        let throttle = LoginThrottle::default();
        let failures: Vec<_> = (0..10).map(|i| at(i * 60)).collect();
        // Oldest at t=0: free again at t=900.
        assert_eq!(throttle.check(&failures, at(600)), Err(Duration::seconds(300)));
        assert_eq!(throttle.check(&failures, at(899)), Err(Duration::seconds(1)));
        assert_eq!(throttle.check(&failures, at(900)), Ok(()));
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let throttle = LoginThrottle::default();
        let mut failures: Vec<_> = (0..5).map(at).collect();
        failures.extend((0..5).map(|i| at(2000 + i)));
        assert_eq!(throttle.check(&failures, at(2010)), Ok(()));
    }

    #[test]
    fn with_more_failures_than_the_limit_the_wait_follows_the_right_one() {
        let throttle = LoginThrottle { limit: 3, window: Duration::seconds(100) };
        let failures = [at(0), at(10), at(20), at(30)];
        // 4 in window, limit 3: attempts resume when at(10) leaves, at t=110.
        assert_eq!(throttle.check(&failures, at(50)), Err(Duration::seconds(60)));
    }

    #[test]
    fn the_wait_is_never_under_a_second() {
        let throttle = LoginThrottle { limit: 1, window: Duration::seconds(10) };
        let failures = [DateTime::from_timestamp_millis(1_800_000_000_000).unwrap()];
        let now = DateTime::from_timestamp_millis(1_800_000_009_900).unwrap();
        assert_eq!(throttle.check(&failures, now), Err(Duration::seconds(1)));
    }
}
