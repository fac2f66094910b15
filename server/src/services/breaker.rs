//! A circuit breaker per placement: closed (calls flow; consecutive failures counted) → open
//! after `failures` in a row (calls refused until the cooldown ends) → half-open (one probe
//! call allowed; its success closes the breaker, its failure opens it again for another
//! cooldown). Time is passed in, so the state machine is tested without sleeping.
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
    /// The probe is out; everyone else is refused until it returns.
    HalfOpen,
}

/// One placement's breaker.
#[derive(Clone, Debug)]
pub struct Breaker {
    state: State,
    threshold: u32,
    cooldown: Duration,
}

/// Why a call was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// How long until a probe will be allowed (zero while a probe is out).
    pub retry_in: Duration,
}

impl Breaker {
    /// A closed breaker that opens after `threshold` consecutive failures for `cooldown`.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self { state: State::Closed { failures: 0 }, threshold: threshold.max(1), cooldown }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Applies a changed policy, keeping the state.
    pub fn configure(&mut self, threshold: u32, cooldown: Duration) {
        self.threshold = threshold.max(1);
        self.cooldown = cooldown;
    }

    /// Asks to make a call now. An open breaker whose cooldown has passed lets this one call
    /// through as the probe.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Refused> {
        match self.state {
            State::Closed { .. } => Ok(()),
            State::Open { until } if now >= until => {
                self.state = State::HalfOpen;
                Ok(())
            }
            State::Open { until } => Err(Refused { retry_in: until - now }),
            State::HalfOpen => Err(Refused { retry_in: Duration::ZERO }),
        }
    }

    /// Whether a call would be allowed now (without taking the probe).
    pub fn would_allow(&self, now: Instant) -> bool {
        match self.state {
            State::Closed { .. } => true,
            State::Open { until } => now >= until,
            State::HalfOpen => false,
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
            State::HalfOpen => "half_open",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOL: Duration = Duration::from_secs(10);

    #[test]
    fn opens_after_the_threshold_of_consecutive_failures() {
        let t0 = Instant::now();
        let mut b = Breaker::new(3, COOL);
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
        let mut b = Breaker::new(2, COOL);
        b.failure(t0);
        b.success();
        b.failure(t0);
        assert_eq!(b.state(), State::Closed { failures: 1 });
    }

    #[test]
    fn half_open_lets_exactly_one_probe_through() {
        let t0 = Instant::now();
        let mut b = Breaker::new(1, COOL);
        b.failure(t0);
        let later = t0 + COOL;
        assert!(b.would_allow(later));
        assert!(b.try_acquire(later).is_ok());
        assert_eq!(b.state(), State::HalfOpen);
        assert_eq!(b.try_acquire(later), Err(Refused { retry_in: Duration::ZERO }));
        assert!(!b.would_allow(later));
    }

    #[test]
    fn the_probe_closes_or_reopens() {
        let t0 = Instant::now();
        let mut b = Breaker::new(1, COOL);
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
