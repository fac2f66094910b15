//! Who may call another account's service, and how much: the marketplace's subscriptions as
//! the invoke path reads them on every call, without touching the database. The marketplace
//! replaces the picture after every change (subscribe, cancel, suspend, a listing's state);
//! the invoke path counts each subscription's calls this month in memory, reserving a call
//! before it is sent so that concurrent calls never pass a hard quota or a spending cap, and
//! settling the reservation once the call is metered (or failed).
use crate::billing::pricing;
use app::types::{
    billing::Pricing,
    ids::{AccountId, ListingId, PlanId, ServiceId, SubscriptionId},
    marketplace::{QuotaKind, SubscriptionStatus},
};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
};

/// A consumer's subscription to a service, as the invoke path needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub subscription: SubscriptionId,
    pub listing: ListingId,
    pub listing_title: String,
    pub plan: PlanId,
    pub status: SubscriptionStatus,
    pub quota: Option<(i64, QuotaKind)>,
    pub cap_minor: Option<i64>,
    /// When a deprecated listing stops serving (callers are told with every answer until then).
    pub sunset_at: Option<DateTime<Utc>>,
    /// The plan's rate limit: calls per minute per subscription.
    pub rate_per_minute: Option<u32>,
}

/// A listing in the marketplace (published or deprecated), named to callers who are not
/// subscribed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub listing: ListingId,
    pub title: String,
}

/// Everything the marketplace grants now.
#[derive(Clone, Debug, Default)]
pub struct Picture {
    /// By (consumer, service).
    pub grants: HashMap<ServiceId, HashMap<AccountId, Arc<Grant>>>,
    /// By service.
    pub listed: HashMap<ServiceId, Listed>,
    /// Digits of the billing currency's minor unit (spending caps are in minor units).
    pub exponent: u32,
    /// The pricing of every plan a live subscription is on or was on this month (a mid-month
    /// plan change bills the earlier calls at the earlier plan).
    pub prices: HashMap<PlanId, Pricing>,
}

/// Why a call is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The service is listed, and the caller has no subscription.
    NotSubscribed(Listed),
    /// Not the caller's, not listed, not subscribed to: it does not exist for them.
    NotFound,
    Pending {
        listing: ListingId,
    },
    Suspended {
        listing: ListingId,
    },
    QuotaExhausted {
        limit: i64,
        resets_at: DateTime<Utc>,
    },
    SpendingCapReached {
        cap_minor: i64,
    },
    /// The plan's rate limit: retry after this many seconds.
    RateLimited {
        per_minute: u32,
        retry_after_secs: u64,
    },
    /// The listing was deprecated and its sunset date has passed.
    Sunset {
        listing: ListingId,
        at: DateTime<Utc>,
    },
}

/// A subscription's calls this month.
#[derive(Clone, Debug)]
struct Count {
    month: NaiveDate,
    /// Calls metered, per plan, in the order the plans were first used this month.
    groups: Vec<(PlanId, i64)>,
    /// Calls sent on the current plan and not yet metered or failed.
    reserved: i64,
}

impl Count {
    fn new(month: NaiveDate, groups: Vec<(PlanId, i64)>) -> Self {
        Self { month, groups, reserved: 0 }
    }

    fn committed(&self) -> i64 {
        self.groups.iter().map(|(_, n)| n).sum()
    }

    /// The month's groups with `extra` more calls on `plan` (appended when not used yet).
    fn with(&self, plan: &PlanId, extra: i64) -> Vec<(PlanId, i64)> {
        let mut groups = self.groups.clone();
        match groups.iter_mut().find(|(p, _)| p == plan) {
            Some((_, n)) => *n += extra,
            None if extra > 0 => groups.push((plan.clone(), extra)),
            None => {}
        }
        groups
    }
}

/// What the month's `groups` cost, exactly as the invoice prices them: each plan's calls in
/// the order the plans were first used, each continuing the month's count.
pub fn spent_minor(groups: &[(PlanId, i64)], prices: &HashMap<PlanId, Pricing>, exponent: u32) -> i64 {
    let mut already = 0;
    let mut total = 0;
    for (plan, calls) in groups {
        if let Some(pricing) = prices.get(plan) {
            total += pricing::total_minor(pricing, already, *calls, exponent);
        }
        already += calls;
    }
    total
}

/// The marketplace's grants and each subscription's count this month.
#[derive(Default)]
pub struct Entitlements {
    picture: RwLock<Arc<Picture>>,
    counts: Mutex<HashMap<SubscriptionId, Count>>,
    /// One GCRA limiter per plan rate, keyed by subscription.
    limiters: Mutex<HashMap<u32, Arc<PlanLimiter>>>,
    /// Usage alerts not yet told (see [`Entitlements::take_alerts`]).
    alerts: Mutex<Vec<UsageAlert>>,
}

/// The most usage alerts kept before they are told; past it an alert is dropped and logged.
const MAX_PENDING_ALERTS: usize = 10_000;

/// What a usage alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    Quota,
    SpendingCap,
}

/// A subscription's calls this month passed 75, 90 or 100 % of its quota or spending cap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageAlert {
    pub consumer: AccountId,
    pub grant: Arc<Grant>,
    pub kind: AlertKind,
    pub percent: u8,
    /// Calls, or minor units spent.
    pub used: i64,
    /// The quota, or the cap in minor units.
    pub limit: i64,
}

type PlanLimiter = governor::RateLimiter<
    SubscriptionId,
    governor::state::keyed::DefaultKeyedStateStore<SubscriptionId>,
    governor::clock::DefaultClock,
>;

/// A quota's state after a call is admitted (for the response's quota headers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaState {
    pub limit: i64,
    /// Calls left this month once this one is counted (0 past a soft quota).
    pub remaining: i64,
    pub resets_at: DateTime<Utc>,
}

/// A call admitted on a subscription: its reservation, settled when this is dropped (as not
/// billed, unless [`Ticket::billed`] said otherwise).
pub struct Ticket<'a> {
    entitlements: &'a Entitlements,
    consumer: AccountId,
    pub grant: Arc<Grant>,
    pub quota: Option<QuotaState>,
    month: NaiveDate,
    billed: bool,
}

/// The first day of `at`'s month (UTC).
pub fn month_of(at: DateTime<Utc>) -> NaiveDate {
    NaiveDate::from_ymd_opt(at.year(), at.month(), 1).unwrap_or_default()
}

/// When the month after `month` starts.
pub fn next_month_start(month: NaiveDate) -> DateTime<Utc> {
    let next = month.checked_add_months(chrono::Months::new(1)).unwrap_or(month);
    Utc.from_utc_datetime(&next.and_hms_opt(0, 0, 0).unwrap_or_default())
}

impl Entitlements {
    /// Replaces the picture. `calls` are the month's metered calls per (consumer, service) and
    /// plan, read from the database when the picture was built: a subscription this process
    /// has not counted yet this month starts from them.
    pub fn replace(
        &self,
        picture: Picture,
        calls: &HashMap<(AccountId, ServiceId), Vec<(PlanId, i64)>>,
        now: DateTime<Utc>,
    ) {
        let month = month_of(now);
        {
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            let mut live = std::collections::HashSet::new();
            for (service, by_consumer) in &picture.grants {
                for (consumer, grant) in by_consumer {
                    live.insert(grant.subscription.clone());
                    let known = counts.get(&grant.subscription).is_some_and(|c| c.month == month);
                    if !known {
                        let groups =
                            calls.get(&(consumer.clone(), service.clone())).cloned().unwrap_or_default();
                        counts.insert(grant.subscription.clone(), Count::new(month, groups));
                    }
                }
            }
            counts.retain(|id, _| live.contains(id));
        }
        *self.picture.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(picture);
    }

    /// The subscription's metered calls this month and what they cost (minor units), as
    /// counted here.
    pub fn usage(&self, subscription: &SubscriptionId, now: DateTime<Utc>) -> Option<(i64, i64)> {
        let picture = self.picture.read().unwrap_or_else(|e| e.into_inner()).clone();
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.get(subscription).filter(|c| c.month == month_of(now))?;
        Some((count.committed(), spent_minor(&count.groups, &picture.prices, picture.exponent)))
    }

    /// Admits `consumer`'s call to `service` (owned by someone else) on its subscription,
    /// reserving it against the quota and the spending cap.
    pub fn admit(
        &self,
        consumer: &AccountId,
        service: &ServiceId,
        now: DateTime<Utc>,
    ) -> Result<Ticket<'_>, Refusal> {
        let picture = self.picture.read().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(grant) = picture.grants.get(service).and_then(|g| g.get(consumer)).cloned() else {
            return Err(match picture.listed.get(service) {
                Some(listed) => Refusal::NotSubscribed(listed.clone()),
                None => Refusal::NotFound,
            });
        };
        match grant.status {
            SubscriptionStatus::Active => {}
            SubscriptionStatus::Pending => return Err(Refusal::Pending { listing: grant.listing.clone() }),
            SubscriptionStatus::Suspended | SubscriptionStatus::Cancelled => {
                return Err(Refusal::Suspended { listing: grant.listing.clone() });
            }
        }
        if let Some(at) = grant.sunset_at.filter(|at| *at <= now) {
            return Err(Refusal::Sunset { listing: grant.listing.clone(), at });
        }
        if let Some(per_minute) = grant.rate_per_minute {
            self.limit(&grant.subscription, per_minute)?;
        }
        let month = month_of(now);
        let resets_at = next_month_start(month);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(grant.subscription.clone()).or_insert_with(|| Count::new(month, Vec::new()));
        if count.month != month {
            // A new month: every call of it went through this process (the picture was built
            // before it began), so the count starts from zero.
            *count = Count::new(month, Vec::new());
        }
        let after = count.committed() + count.reserved + 1;
        if let Some((limit, QuotaKind::Hard)) = grant.quota
            && after > limit
        {
            return Err(Refusal::QuotaExhausted { limit, resets_at });
        }
        if let Some(cap_minor) = grant.cap_minor
            && spent_minor(&count.with(&grant.plan, count.reserved + 1), &picture.prices, picture.exponent)
                > cap_minor
        {
            return Err(Refusal::SpendingCapReached { cap_minor });
        }
        count.reserved += 1;
        let quota =
            grant.quota.map(|(limit, _)| QuotaState { limit, remaining: (limit - after).max(0), resets_at });
        Ok(Ticket { entitlements: self, consumer: consumer.clone(), grant, quota, month, billed: false })
    }

    /// Counts a call against the plan's rate (refused calls never reach the quota or the cap).
    fn limit(&self, subscription: &SubscriptionId, per_minute: u32) -> Result<(), Refusal> {
        let limiter = {
            let mut limiters = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
            limiters
                .entry(per_minute)
                .or_insert_with(|| {
                    let rate =
                        std::num::NonZeroU32::new(per_minute.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
                    Arc::new(governor::RateLimiter::keyed(governor::Quota::per_minute(rate)))
                })
                .clone()
        };
        limiter.check_key(subscription).map_err(|not_until| {
            use governor::clock::Clock;
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            Refusal::RateLimited { per_minute, retry_after_secs: (wait.as_secs() + 1).max(1) }
        })
    }

    fn settle(&self, ticket: &Ticket<'_>) {
        let grant = &ticket.grant;
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let Some(count) = counts.get_mut(&grant.subscription) else { return };
        if count.month == ticket.month {
            count.reserved = (count.reserved - 1).max(0);
        }
        // A call sent last month and metered this one counts in this one (the event's time is
        // when it was metered).
        if !ticket.billed {
            return;
        }
        let calls_before = count.committed();
        let spent = |groups: &[(PlanId, i64)]| {
            let picture = self.picture.read().unwrap_or_else(|e| e.into_inner()).clone();
            spent_minor(groups, &picture.prices, picture.exponent)
        };
        let spent_before = grant.cap_minor.map(|_| spent(&count.groups));
        count.groups = count.with(&grant.plan, 1);
        let mut alerts = Vec::new();
        if let Some((limit, _)) = grant.quota {
            alerts.extend(crossed(AlertKind::Quota, calls_before, count.committed(), limit));
        }
        if let (Some(cap), Some(before)) = (grant.cap_minor, spent_before) {
            alerts.extend(crossed(AlertKind::SpendingCap, before, spent(&count.groups), cap));
        }
        drop(counts);
        if alerts.is_empty() {
            return;
        }
        let mut pending = self.alerts.lock().unwrap_or_else(|e| e.into_inner());
        for (kind, percent, used, limit) in alerts {
            if pending.len() >= MAX_PENDING_ALERTS {
                tracing::warn!(subscription_id = %grant.subscription, percent, "a usage alert was dropped: too many are waiting to be told");
                continue;
            }
            let (consumer, grant) = (ticket.consumer.clone(), grant.clone());
            pending.push(UsageAlert { consumer, grant, kind, percent, used, limit });
        }
    }

    /// The usage alerts passed since the last call, oldest first.
    pub fn take_alerts(&self) -> Vec<UsageAlert> {
        std::mem::take(&mut *self.alerts.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The alert threshold (75, 90 or 100 %) `after` reached that `before` had not, if any.
fn crossed(kind: AlertKind, before: i64, after: i64, limit: i64) -> Option<(AlertKind, u8, i64, i64)> {
    let now = app::types::marketplace::alert_percent(after, limit)?;
    (app::types::marketplace::alert_percent(before, limit) != Some(now)).then_some((kind, now, after, limit))
}

impl Ticket<'_> {
    /// The call was metered: it counts against the quota and the cap.
    pub fn billed(mut self) {
        self.billed = true;
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.entitlements.settle(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::types::billing::PriceTier;

    fn grant(quota: Option<(i64, QuotaKind)>, cap_minor: Option<i64>, micros: i64) -> Picture {
        let pricing = Pricing {
            free_calls_per_month: 0,
            tiers: vec![PriceTier { up_to: None, price_per_call_micros: micros }],
        };
        let grant = Grant {
            subscription: "sub".into(),
            listing: "lst".into(),
            listing_title: "Weather".into(),
            plan: "plan".into(),
            status: SubscriptionStatus::Active,
            quota,
            cap_minor,
            sunset_at: None,
            rate_per_minute: None,
        };
        Picture {
            grants: [("svc".into(), [("c".into(), Arc::new(grant))].into())].into(),
            listed: [("svc".into(), Listed { listing: "lst".into(), title: "Weather".into() })].into(),
            exponent: 2,
            prices: [("plan".into(), pricing)].into(),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
    }

    #[test]
    fn a_hard_quota_counts_reservations_and_failed_calls_give_theirs_back() {
        let e = Entitlements::default();
        e.replace(grant(Some((3, QuotaKind::Hard)), None, 0), &HashMap::new(), now());
        let (c, s) = (AccountId::from("c"), ServiceId::from("svc"));
        let a = e.admit(&c, &s, now()).unwrap();
        let b = e.admit(&c, &s, now()).unwrap();
        assert_eq!(b.quota.unwrap().remaining, 1);
        let third = e.admit(&c, &s, now()).unwrap();
        assert!(matches!(e.admit(&c, &s, now()), Err(Refusal::QuotaExhausted { limit: 3, .. })));
        drop(third); // failed: its reservation is released
        a.billed();
        b.billed();
        let last = e.admit(&c, &s, now()).unwrap();
        assert_eq!(last.quota.unwrap().remaining, 0);
        last.billed();
        assert!(e.admit(&c, &s, now()).is_err());
        assert_eq!(e.usage(&"sub".into(), now()), Some((3, 0)));
        let next_month = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 1).unwrap();
        assert!(e.admit(&c, &s, next_month).is_ok(), "the quota resets with the month");
    }

    #[test]
    fn a_spending_cap_is_never_passed_by_a_cent() {
        // 0.4 cent a call, cap 1 cent: the third call would make the bill 1.2 → 1 cent... the
        // invoice rounds the line (3 × 0.4 = 1.2 → 1), so a third call fits; a fourth (1.6 → 2)
        // does not.
        let e = Entitlements::default();
        e.replace(grant(None, Some(1), 4_000), &HashMap::new(), now());
        let (c, s) = (AccountId::from("c"), ServiceId::from("svc"));
        for _ in 0..3 {
            e.admit(&c, &s, now()).unwrap().billed();
        }
        assert_eq!(e.admit(&c, &s, now()).err(), Some(Refusal::SpendingCapReached { cap_minor: 1 }));
    }

    #[test]
    fn past_the_sunset_a_deprecated_listing_refuses_its_subscribers() {
        let e = Entitlements::default();
        let mut picture = grant(None, None, 0);
        for grant in picture.grants.values_mut().flat_map(|g| g.values_mut()) {
            Arc::make_mut(grant).sunset_at = Some(now() + chrono::Duration::hours(1));
        }
        e.replace(picture, &HashMap::new(), now());
        let (c, s) = (AccountId::from("c"), ServiceId::from("svc"));
        assert!(e.admit(&c, &s, now()).is_ok(), "until the sunset it serves");
        let later = now() + chrono::Duration::hours(2);
        assert!(matches!(e.admit(&c, &s, later), Err(Refusal::Sunset { .. })));
    }

    #[test]
    fn counts_start_from_the_database_and_strangers_are_told_the_listing() {
        let e = Entitlements::default();
        let calls = [(("c".into(), "svc".into()), vec![("plan".into(), 5)])].into();
        e.replace(grant(Some((5, QuotaKind::Hard)), None, 0), &calls, now());
        let s = ServiceId::from("svc");
        assert!(matches!(e.admit(&"c".into(), &s, now()), Err(Refusal::QuotaExhausted { .. })));
        assert!(matches!(e.admit(&"stranger".into(), &s, now()), Err(Refusal::NotSubscribed(_))));
        assert_eq!(e.admit(&"stranger".into(), &"other".into(), now()).err(), Some(Refusal::NotFound));
        // A soft quota serves past it.
        e.replace(grant(Some((5, QuotaKind::Soft)), None, 0), &calls, now());
        assert_eq!(e.admit(&"c".into(), &s, now()).unwrap().quota.unwrap().remaining, 0);
    }

    #[test]
    fn usage_alerts_are_told_once_per_threshold_and_only_for_billed_calls() {
        let e = Entitlements::default();
        // A soft quota of 12 calls; a cap of 20 cents at 1 cent a call.
        e.replace(grant(Some((12, QuotaKind::Soft)), Some(20), 10_000), &HashMap::new(), now());
        let (c, s) = (AccountId::from("c"), ServiceId::from("svc"));
        drop(e.admit(&c, &s, now()).unwrap()); // failed: not counted
        assert!(e.take_alerts().is_empty());
        let mut told = Vec::new();
        for _ in 0..20 {
            e.admit(&c, &s, now()).unwrap().billed();
            told.extend(e.take_alerts().into_iter().map(|a| (a.kind, a.percent, a.used, a.limit)));
        }
        assert_eq!(
            told,
            [
                (AlertKind::Quota, 75, 9, 12),
                (AlertKind::Quota, 90, 11, 12),
                (AlertKind::Quota, 100, 12, 12),
                (AlertKind::SpendingCap, 75, 15, 20),
                (AlertKind::SpendingCap, 90, 18, 20),
                (AlertKind::SpendingCap, 100, 20, 20),
            ]
        );
    }
}
