//! Log-in throttling, two rules:
//! - per client address, at most `limit` failures per window (guessing many accounts from one
//!   place);
//! - per (account, address), a delay that doubles with every failure past `free` (guessing one
//!   account). It is keyed by the pair, never by the account alone: a stranger who knows an
//!   email can slow down their own guesses, not lock its owner out.
//!
//! This module holds the pure rules; the failures themselves live in the database
//! (`db::login_failures`) so restarts and sibling processes share them.
use chrono::{DateTime, Duration, Utc};

/// The throttle's rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Failures allowed inside one window before further attempts are refused.
    pub limit: u32,
    /// How far back failures count.
    pub window: Duration,
    /// Failures of one (account, address) pair inside the window before attempts are delayed.
    pub free: u32,
}

impl Default for LoginThrottle {
    /// 10 failures in 15 minutes per address; per (account, address), 3 failures free, then
    /// 1 s, 2 s, 4 s … between attempts (at most the window).
    fn default() -> Self {
        Self { limit: 10, window: Duration::minutes(15), free: 3 }
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

    /// Failures of one pair worth reading: past this many the delay is the whole window.
    pub fn pair_history(&self) -> u64 {
        u64::from(self.free) + 32
    }

    /// The progressive rule for one (account, address) pair: given its failures inside the
    /// window (oldest first), `Err(wait)` until the delay after the last failure has passed.
    /// The delay is 0 for the first `free` failures, then doubles from one second, never
    /// beyond the window.
    pub fn check_pair(&self, failures: &[DateTime<Utc>], now: DateTime<Utc>) -> Result<(), Duration> {
        let start = self.window_start(now);
        let recent: Vec<_> = failures.iter().filter(|t| **t > start).collect();
        let Some(past_free) = recent.len().checked_sub(self.free as usize) else { return Ok(()) };
        let Some(last) = recent.last() else { return Ok(()) };
        let doubling = u32::try_from(past_free).unwrap_or(u32::MAX).min(31);
        let delay = Duration::seconds(1_i64 << doubling).min(self.window);
        let wait = **last + delay - now;
        if wait <= Duration::zero() {
            return Ok(());
        }
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
        let throttle = LoginThrottle { limit: 3, window: Duration::seconds(100), free: 3 };
        let failures = [at(0), at(10), at(20), at(30)];
        // 4 in window, limit 3: attempts resume when at(10) leaves, at t=110.
        assert_eq!(throttle.check(&failures, at(50)), Err(Duration::seconds(60)));
    }

    #[test]
    fn a_pair_s_delay_doubles_after_the_free_failures() {
        let throttle = LoginThrottle::default();
        let two: Vec<_> = (0..3).map(at).collect();
        assert_eq!(throttle.check_pair(&two[..2], at(2)), Ok(()));
        // The third failure is the last free one: the next attempt waits 1 s after it.
        assert_eq!(throttle.check_pair(&two, at(2)), Err(Duration::seconds(1)));
        assert_eq!(throttle.check_pair(&two, at(3)), Ok(()));
        let five = [at(0), at(1), at(2), at(3), at(10)];
        // Two failures past the free ones: 4 s after the last.
        assert_eq!(throttle.check_pair(&five, at(11)), Err(Duration::seconds(3)));
        assert_eq!(throttle.check_pair(&five, at(14)), Ok(()));
    }

    #[test]
    fn a_pair_s_delay_never_exceeds_the_window_and_ages_out_with_it() {
        let throttle = LoginThrottle { window: Duration::seconds(100), ..LoginThrottle::default() };
        let many: Vec<_> = (0..40).map(at).collect();
        assert_eq!(throttle.check_pair(&many, at(40)), Err(Duration::seconds(99)));
        assert_eq!(throttle.check_pair(&many, at(139)), Ok(()), "old failures leave the window");
    }

    #[test]
    fn the_wait_is_never_under_a_second() {
        let throttle = LoginThrottle { limit: 1, window: Duration::seconds(10), free: 3 };
        let failures = [DateTime::from_timestamp_millis(1_800_000_000_000).unwrap()];
        let now = DateTime::from_timestamp_millis(1_800_000_009_900).unwrap();
        assert_eq!(throttle.check(&failures, now), Err(Duration::seconds(1)));
    }
}
