//! Request rate limits per API key and per account (GCRA, from `governor`): a steady rate
//! per second and a burst. Limits come from configuration; a marketplace plan's own rate is
//! enforced on the invoke path (`services::entitlements`). The answer carries what the
//! `RateLimit-*` headers report.
use app::types::ids::{AccountId, KeyId};
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};
use std::{num::NonZeroU32, time::Duration};

/// One limit: a steady rate and the burst allowed on top of an idle period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub per_second: u32,
    pub burst: u32,
}

impl Limit {
    /// `per_second`, after a burst of ten seconds' worth.
    pub fn with_burst_of_ten_seconds(per_second: u32) -> Self {
        Self { per_second, burst: per_second.saturating_mul(10) }
    }
}

/// The configured limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Per API key.
    pub key: Limit,
    /// Per account, over all its keys and its portal session's API calls.
    pub account: Limit,
    /// Per client address: bearer keys that fail to authenticate (unknown, expired, revoked).
    /// Past it, the address gets 429 before any key lookup until the wait is over.
    pub failed_auth: Limit,
    /// Per client address: accounts created (each costs an argon2 hash and holds resources).
    pub sign_up: Budget,
    /// Per client address: join challenges issued (the pool of open ones is shared by all).
    pub challenge: Budget,
    /// Per client address: marketplace searches (public, no account needed).
    pub search: Limit,
}

/// A budget per client address for an act a stranger may repeat without an account: a burst,
/// then one more every `refill`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub burst: u32,
    pub refill: Duration,
}

impl Budget {
    /// `count` per hour, all of them available at once.
    pub fn per_hour(count: u32) -> Self {
        let count = count.max(1);
        Self { burst: count, refill: Duration::from_secs(3600) / count }
    }
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            key: Limit { per_second: 100, burst: 200 },
            account: Limit { per_second: 200, burst: 400 },
            failed_auth: Limit { per_second: 5, burst: 50 },
            sign_up: Budget::per_hour(10),
            challenge: Budget { burst: 30, refill: Duration::from_secs(2) },
            search: Limit::with_burst_of_ten_seconds(20),
        }
    }
}

/// Which limit answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Key,
    Account,
}

impl Scope {
    /// The policy name in `RateLimit-Policy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Key => "key",
            Scope::Account => "account",
        }
    }
}

/// What the headers report: the limit that is closest to running out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    pub scope: Scope,
    pub limit: Limit,
    /// Requests that may still be made right now.
    pub remaining: u32,
    /// Seconds until the full burst is available again.
    pub reset_secs: u64,
}

/// A refusal: which limit, and when to try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limited {
    pub quotas: Quotas,
    pub retry_after_secs: u64,
}

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The platform's limiters.
pub struct RateLimits {
    settings: RateLimitSettings,
    keys: Keyed,
    accounts: Keyed,
    failures: Keyed,
    sign_ups: Keyed,
    challenges: Keyed,
    searches: Keyed,
    heartbeats: Keyed,
    /// Addresses refused for failed authentications, and until when.
    blocked: moka::sync::Cache<String, std::time::Instant>,
    clock: DefaultClock,
}

fn keyed(limit: Limit) -> Keyed {
    let rate = NonZeroU32::new(limit.per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(limit.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        .with_middleware::<StateInformationMiddleware>()
}

fn budgeted(budget: Budget) -> Keyed {
    let burst = NonZeroU32::new(budget.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    let quota = Quota::with_period(budget.refill.max(Duration::from_millis(1)))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN));
    RateLimiter::keyed(quota.allow_burst(burst)).with_middleware::<StateInformationMiddleware>()
}

fn reset_secs(limit: Limit, remaining: u32) -> u64 {
    let missing = u64::from(limit.burst.saturating_sub(remaining));
    missing.div_ceil(u64::from(limit.per_second.max(1)))
}

impl RateLimits {
    /// Limiters with these settings, for nodes told to heartbeat every second.
    pub fn new(settings: RateLimitSettings) -> Self {
        Self::with_heartbeats(settings, Duration::from_secs(1))
    }

    /// Limiters with these settings; a node may send heartbeats four times as often as
    /// `heartbeat_interval`, after a burst of 10 (each is a database write).
    pub fn with_heartbeats(settings: RateLimitSettings, heartbeat_interval: Duration) -> Self {
        Self {
            settings,
            keys: keyed(settings.key),
            accounts: keyed(settings.account),
            failures: keyed(settings.failed_auth),
            sign_ups: budgeted(settings.sign_up),
            challenges: budgeted(settings.challenge),
            searches: keyed(settings.search),
            heartbeats: budgeted(Budget { burst: 10, refill: heartbeat_interval / 4 }),
            blocked: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            clock: DefaultClock::default(),
        }
    }

    fn check(&self, limiter: &Keyed, scope: Scope, limit: Limit, id: &str) -> Result<Quotas, Limited> {
        match limiter.check_key(&id.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Ok(Quotas { scope, limit, remaining, reset_secs: reset_secs(limit, remaining) })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(Limited {
                    quotas: Quotas { scope, limit, remaining: 0, reset_secs: reset_secs(limit, 0) },
                    retry_after_secs: retry_after_secs.max(1),
                })
            }
        }
    }

    /// Counts one request of `account` (through `key`, when it came with one).
    pub fn admit(&self, account: &AccountId, key: Option<&KeyId>) -> Result<Quotas, Limited> {
        let by_key =
            key.map(|k| self.check(&self.keys, Scope::Key, self.settings.key, k.as_str())).transpose()?;
        let by_account =
            self.check(&self.accounts, Scope::Account, self.settings.account, account.as_str())?;
        Ok(match by_key {
            Some(k) if k.remaining <= by_account.remaining => k,
            _ => by_account,
        })
    }

    fn spend(&self, limiter: &Keyed, address: &str) -> Result<(), u64> {
        limiter.check_key(&address.to_owned()).map(drop).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    /// Counts one sign-up from `address`; `Err(seconds)` when its budget is spent.
    pub fn sign_up(&self, address: &str) -> Result<(), u64> {
        self.spend(&self.sign_ups, address)
    }

    /// Counts one join challenge asked by `address`; `Err(seconds)` when its budget is spent.
    pub fn challenge(&self, address: &str) -> Result<(), u64> {
        self.spend(&self.challenges, address)
    }

    /// Counts one marketplace search from `address`; `Err(seconds)` when it searches faster
    /// than its limit.
    pub fn search(&self, address: &str) -> Result<(), u64> {
        self.spend(&self.searches, address)
    }

    /// Counts one heartbeat of `node`; `Err(seconds)` when it sends faster than it was told.
    pub fn heartbeat(&self, node: &str) -> Result<(), u64> {
        self.spend(&self.heartbeats, node)
    }

    /// Seconds `address` must still wait after too many failed authentications, if any.
    pub fn blocked(&self, address: &str) -> Option<u64> {
        let until = self.blocked.get(address)?;
        let left = until.saturating_duration_since(std::time::Instant::now());
        (!left.is_zero()).then(|| left.as_secs() + u64::from(left.subsec_nanos() > 0))
    }

    /// Counts a failed authentication from `address`; past the limit the address is blocked
    /// and the wait is returned.
    pub fn failed_auth(&self, address: &str) -> Option<u64> {
        match self.check(&self.failures, Scope::Account, self.settings.failed_auth, address) {
            Ok(_) => None,
            Err(Limited { retry_after_secs, .. }) => {
                let until = std::time::Instant::now() + Duration::from_secs(retry_after_secs);
                self.blocked.insert(address.to_owned(), until);
                Some(retry_after_secs)
            }
        }
    }

    /// Forgets limiter state that has fully refilled (bounded memory).
    pub fn prune(&self) {
        self.keys.retain_recent();
        self.accounts.retain_recent();
        self.failures.retain_recent();
        self.sign_ups.retain_recent();
        self.challenges.retain_recent();
        self.searches.retain_recent();
        self.heartbeats.retain_recent();
    }

    /// Prunes every minute until the task is aborted.
    pub fn start(self: &std::sync::Arc<Self>) -> tokio::task::JoinHandle<()> {
        let limits = std::sync::Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(limits) = limits.upgrade() else { return };
                limits.prune();
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_with_a_retry_time() {
        let limits = RateLimits::new(RateLimitSettings {
            key: Limit { per_second: 1, burst: 3 },
            account: Limit { per_second: 100, burst: 100 },
            ..RateLimitSettings::default()
        });
        let remaining: Vec<u32> =
            (0..3).map(|_| limits.admit(&"a".into(), Some(&"k".into())).unwrap().remaining).collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limits.admit(&"a".into(), Some(&"k".into())).unwrap_err();
        assert_eq!(refused.quotas.scope, Scope::Key);
        assert_eq!(refused.retry_after_secs, 1);
        // Another key of the same account has its own budget; the account's is shared.
        let other = limits.admit(&"a".into(), Some(&"k2".into())).unwrap();
        assert_eq!(other.scope, Scope::Key);
        assert_eq!(limits.admit(&"a".into(), None).unwrap().scope, Scope::Account);
    }

    #[test]
    fn the_account_limit_spans_its_keys() {
        let limits = RateLimits::new(RateLimitSettings {
            key: Limit { per_second: 100, burst: 100 },
            account: Limit { per_second: 1, burst: 2 },
            ..RateLimitSettings::default()
        });
        limits.admit(&"a".into(), Some(&"k1".into())).unwrap();
        limits.admit(&"a".into(), Some(&"k2".into())).unwrap();
        let refused = limits.admit(&"a".into(), Some(&"k3".into())).unwrap_err();
        assert_eq!(refused.quotas.scope, Scope::Account);
        assert!(limits.admit(&"b".into(), Some(&"k4".into())).is_ok(), "accounts are limited separately");
    }

    #[test]
    fn too_many_failed_authentications_block_the_address() {
        let limits = RateLimits::new(RateLimitSettings {
            failed_auth: Limit { per_second: 1, burst: 2 },
            ..RateLimitSettings::default()
        });
        assert_eq!(limits.blocked("10.0.0.1"), None);
        assert_eq!(limits.failed_auth("10.0.0.1"), None);
        assert_eq!(limits.failed_auth("10.0.0.1"), None);
        assert_eq!(limits.failed_auth("10.0.0.1"), Some(1));
        assert_eq!(limits.blocked("10.0.0.1"), Some(1));
        assert_eq!(limits.blocked("10.0.0.2"), None, "per address");
    }

    #[test]
    fn sign_ups_and_challenges_have_a_budget_per_address() {
        let limits = RateLimits::new(RateLimitSettings {
            sign_up: Budget::per_hour(2),
            challenge: Budget { burst: 1, refill: Duration::from_secs(2) },
            ..RateLimitSettings::default()
        });
        assert_eq!(limits.sign_up("10.0.0.1"), Ok(()));
        assert_eq!(limits.sign_up("10.0.0.1"), Ok(()));
        let wait = limits.sign_up("10.0.0.1").unwrap_err();
        assert!((1_700..=1_800).contains(&wait), "one sign-up every 30 minutes: {wait}");
        assert_eq!(limits.sign_up("10.0.0.2"), Ok(()), "per address");
        assert_eq!(limits.challenge("10.0.0.1"), Ok(()), "a separate budget");
        assert_eq!(limits.challenge("10.0.0.1"), Err(2));
    }

    #[test]
    fn reset_is_the_time_to_refill_the_burst() {
        let limit = Limit { per_second: 10, burst: 100 };
        assert_eq!(reset_secs(limit, 100), 0);
        assert_eq!(reset_secs(limit, 95), 1);
        assert_eq!(reset_secs(limit, 0), 10);
    }
}
