//! A circuit breaker per placement: closed (calls flow; consecutive failures counted) → open
//! after `failures` in a row (calls refused until the cooldown ends) → half-open (one probe
//! call allowed; its success closes the breaker, its failure opens it again for another
//! cooldown). A probe that never reports back (its caller went away and the call was
//! dropped) is taken as lost after the longest a call can last, and the next call probes:
//! otherwise the breaker would stay half-open, refusing everyone, forever. Time is passed in,
//! so the state machine is tested without sleeping.
use std::time::{Duration, Instant};

/// The breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// The probe went out at `since`; everyone else is refused until it returns.
    HalfOpen {
        since: Instant,
    },
}

/// One placement's breaker.
#[derive(Clone, Debug)]
pub struct Breaker {
    state: State,
    threshold: u32,
    cooldown: Duration,
    /// How long a probe may be out before it is taken as lost.
    probe_limit: Duration,
}

/// Why a call was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// How long until a probe will be allowed (zero while a probe is out).
    pub retry_in: Duration,
}

impl Breaker {
    /// A closed breaker that opens after `threshold` consecutive failures for `cooldown`;
    /// a probe out longer than `probe_limit` is lost.
    pub fn new(threshold: u32, cooldown: Duration, probe_limit: Duration) -> Self {
        Self { state: State::Closed { failures: 0 }, threshold: threshold.max(1), cooldown, probe_limit }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Applies a changed policy, keeping the state.
    pub fn configure(&mut self, threshold: u32, cooldown: Duration, probe_limit: Duration) {
        self.threshold = threshold.max(1);
        self.cooldown = cooldown;
        self.probe_limit = probe_limit;
    }

    /// Asks to make a call now. An open breaker whose cooldown has passed lets this one call
    /// through as the probe.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Refused> {
        match self.state {
            State::Closed { .. } => Ok(()),
            State::Open { until } if now >= until => {
                self.state = State::HalfOpen { since: now };
                Ok(())
            }
            State::Open { until } => Err(Refused { retry_in: until - now }),
            State::HalfOpen { since } if now >= since + self.probe_limit => {
                tracing::debug!("a circuit breaker's probe never came back; sending another");
                self.state = State::HalfOpen { since: now };
                Ok(())
            }
            State::HalfOpen { since } => Err(Refused { retry_in: since + self.probe_limit - now }),
        }
    }

    /// Whether a call would be allowed now (without taking the probe).
    pub fn would_allow(&self, now: Instant) -> bool {
        match self.state {
            State::Closed { .. } => true,
            State::Open { until } => now >= until,
            State::HalfOpen { since } => now >= since + self.probe_limit,
        }
    }

    /// The call succeeded.
    pub fn success(&mut self) {
        self.state = State::Closed { failures: 0 };
    }

    /// The call failed.
    pub fn failure(&mut self, now: Instant) {
        self.state = match self.state {
            State::Closed { failures } if failures + 1 < self.threshold => {
                State::Closed { failures: failures + 1 }
            }
            _ => State::Open { until: now + self.cooldown },
        };
    }

    /// Name for views and logs.
    pub fn name(&self) -> &'static str {
        match self.state {
            State::Closed { .. } => "closed",
            State::Open { .. } => "open",
            State::HalfOpen { .. } => "half_open",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOL: Duration = Duration::from_secs(10);
    const PROBE: Duration = Duration::from_secs(30);

    #[test]
    fn opens_after_the_threshold_of_consecutive_failures() {
        let t0 = Instant::now();
        let mut b = Breaker::new(3, COOL, PROBE);
        b.failure(t0);
        b.failure(t0);
        assert_eq!(b.state(), State::Closed { failures: 2 });
        assert!(b.try_acquire(t0).is_ok());
        b.failure(t0);
        assert_eq!(b.state(), State::Open { until: t0 + COOL });
        assert_eq!(
            b.try_acquire(t0 + Duration::from_secs(4)),
            Err(Refused { retry_in: Duration::from_secs(6) })
        );
    }

    #[test]
    fn a_success_resets_the_count() {
        let t0 = Instant::now();
        let mut b = Breaker::new(2, COOL, PROBE);
        b.failure(t0);
        b.success();
        b.failure(t0);
        assert_eq!(b.state(), State::Closed { failures: 1 });
    }

    #[test]
    fn half_open_lets_exactly_one_probe_through() {
        let t0 = Instant::now();
        let mut b = Breaker::new(1, COOL, PROBE);
        b.failure(t0);
        let later = t0 + COOL;
        assert!(b.would_allow(later));
        assert!(b.try_acquire(later).is_ok());
        assert_eq!(b.state(), State::HalfOpen { since: later });
        assert_eq!(b.try_acquire(later), Err(Refused { retry_in: PROBE }));
        assert!(!b.would_allow(later));
    }

    #[test]
    fn a_probe_that_never_returns_is_replaced_after_the_probe_limit() {
        let t0 = Instant::now();
        let mut b = Breaker::new(1, COOL, PROBE);
        b.failure(t0);
        let probe_at = t0 + COOL;
        b.try_acquire(probe_at).unwrap();
        // The probe's caller went away: neither success nor failure is ever reported.
        assert!(b.try_acquire(probe_at + PROBE - Duration::from_millis(1)).is_err());
        assert!(b.try_acquire(probe_at + PROBE).is_ok(), "a new probe goes out");
        assert_eq!(b.state(), State::HalfOpen { since: probe_at + PROBE });
        b.success();
        assert_eq!(b.state(), State::Closed { failures: 0 });
    }

    #[test]
    fn the_probe_closes_or_reopens() {
        let t0 = Instant::now();
        let mut b = Breaker::new(1, COOL, PROBE);
        b.failure(t0);
        b.try_acquire(t0 + COOL).unwrap();
        b.success();
        assert_eq!(b.state(), State::Closed { failures: 0 });

        b.failure(t0);
        let probe_at = t0 + COOL;
        b.try_acquire(probe_at).unwrap();
        b.failure(probe_at);
        assert_eq!(b.state(), State::Open { until: probe_at + COOL });
    }
}
