//! The marketplace: browsing and searching it ([`browse`], public), a listing's page with its
//! plans and Subscribe forms ([`listing`], public), the consumer's subscriptions
//! ([`subscriptions`]) and the provider's listings ([`provider`], with its forms in
//! [`provider_forms`]).
//!
//! As everywhere in the portal, every form that changes something is an `ActionForm` and
//! works as a plain form post before hydration; the search is a plain GET form, so the
//! marketplace can be searched with JavaScript off. What more than one page shows (prices,
//! quotas, status badges) is here.
mod browse;
mod listing;
mod provider;
mod provider_forms;
mod reviews;
mod subscriptions;

pub use browse::MarketplacePage;
pub use listing::ListingPage;
pub use provider::MyListingsPage;
pub use subscriptions::SubscriptionsPage;

pub(crate) use crate::chart::thousands;
use crate::types::{
    billing::Currency,
    marketplace::{ListingStatus, PlanView, SubscriptionStatus},
};

/// The currency the platform bills in (as on the services and billing pages).
fn currency() -> Currency {
    Currency::usd()
}

/// A plan's price for a person: "Free", "$0.002 per call", "100 free calls a month, then …".
fn plan_price(plan: &PlanView) -> String {
    if plan.is_free() {
        return "Free".to_owned();
    }
    plan.pricing.describe(&currency())
}

/// A plan's quota: "No monthly quota" or "10,000 calls a month · Hard (calls refused)".
fn quota_text(plan: &PlanView) -> String {
    match plan.quota_per_month {
        None => "No monthly quota".to_owned(),
        Some(quota) => format!("{} calls a month · {}", thousands(quota), plan.quota_kind.label()),
    }
}

/// A plan's rate limit: "Up to 60 calls a minute" or "No rate limit".
fn rate_text(plan: &PlanView) -> String {
    match plan.rate_per_minute {
        None => "No rate limit".to_owned(),
        Some(rate) => format!("Up to {} calls a minute", thousands(i64::from(rate))),
    }
}

/// A latency in microseconds as milliseconds ("12.3 ms"); "—" before any call.
fn latency_ms(us: Option<i64>) -> String {
    match us {
        None => "—".to_owned(),
        Some(us) => format!("{}.{} ms", us / 1000, (us % 1000) / 100),
    }
}

/// An uptime in thousandths as a percentage ("99.9 %"); "Not checked yet" before any check.
fn uptime_text(permille: Option<i64>) -> String {
    match permille {
        None => "Not checked yet".to_owned(),
        Some(p) => format!("{}.{} %", p / 10, p % 10),
    }
}

/// The badge class of a listing's status.
fn listing_badge(status: ListingStatus) -> String {
    format!("badge listing-{}", status.as_str())
}

/// The badge class of a subscription's status.
fn subscription_badge(status: SubscriptionStatus) -> String {
    format!("badge subscription-{}", status.as_str())
}

/// The date part of a time, as the pages show a sunset.
fn day(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_read_in_milliseconds() {
        assert_eq!(latency_ms(None), "—");
        assert_eq!(latency_ms(Some(12_345)), "12.3 ms");
        assert_eq!(latency_ms(Some(800)), "0.8 ms");
    }

    #[test]
    #[cfg(feature = "ssr")]
    fn rate_limits_read_per_minute() {
        let mut plan = fixtures::plan("pln_x", "Basic", 0, None);
        assert_eq!(rate_text(&plan), "No rate limit");
        plan.rate_per_minute = Some(1200);
        assert_eq!(rate_text(&plan), "Up to 1,200 calls a minute");
    }

    #[test]
    fn uptime_reads_as_a_percentage() {
        assert_eq!(uptime_text(None), "Not checked yet");
        assert_eq!(uptime_text(Some(1000)), "100.0 %");
        assert_eq!(uptime_text(Some(987)), "98.7 %");
    }
}

/// Test fixtures and the renderer the pages' tests share.
#[cfg(all(test, feature = "ssr"))]
mod fixtures {
    use crate::types::{
        billing::{PriceTier, Pricing},
        marketplace::{
            Approval, Category, ListingStats, ListingStatus, ListingView, PlanView, QuotaKind,
            SubscriptionStatus, SubscriptionUsage, SubscriptionView, Visibility,
        },
    };
    use chrono::{DateTime, Utc};
    use leptos::prelude::*;

    pub fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
    }

    pub fn plan(id: &str, name: &str, price_micros: i64, quota: Option<i64>) -> PlanView {
        PlanView {
            id: id.into(),
            listing_id: "lst_1".into(),
            name: name.into(),
            pricing: Pricing {
                free_calls_per_month: if price_micros == 0 { 0 } else { 100 },
                tiers: vec![PriceTier { up_to: None, price_per_call_micros: price_micros }],
            },
            quota_per_month: quota,
            quota_kind: QuotaKind::Hard,
            visibility: Visibility::Public,
            rate_per_minute: None,
        }
    }

    pub fn listing(status: ListingStatus) -> ListingView {
        ListingView {
            id: "lst_1".into(),
            service_id: "svc_1".into(),
            provider_id: "acc_provider".into(),
            publisher: "acme".into(),
            title: "Rain radar".into(),
            summary: "Where it rains, now.".into(),
            description: "# Radar".into(),
            description_html: "<h1>Radar</h1><p>Precipitation <em>nowcasts</em>.</p>".into(),
            category: Category::Weather,
            tags: vec!["rain".into(), "forecast".into()],
            status,
            approval: Approval::Automatic,
            sunset_at: (status == ListingStatus::Deprecated).then(at),
            plans: vec![plan("pln_free", "Hobby", 0, Some(1_000)), plan("pln_pro", "Pro", 2_000, None)],
            endpoints: vec![crate::types::marketplace::Endpoint {
                method: "GET".into(),
                path: "/radar/{city}".into(),
                summary: "The radar of a city".into(),
            }],
            stats: ListingStats {
                available: true,
                uptime_permille: Some(999),
                subscribers: 7,
                calls_30d: 12_345,
                p50_us: Some(12_300),
                p95_us: Some(48_000),
                reviews: 2,
                rating_tenths: Some(45),
            },
            invoke_path: "acme-radar".into(),
            published_at: Some(at()),
            created_at: at(),
            updated_at: at(),
        }
    }

    pub fn subscription(status: SubscriptionStatus) -> SubscriptionView {
        SubscriptionView {
            id: "sub_1".into(),
            listing_id: "lst_1".into(),
            listing_title: "Rain radar".into(),
            listing_status: ListingStatus::Published,
            sunset_at: None,
            service_id: "svc_1".into(),
            consumer_id: "acc_consumer".into(),
            consumer_email: "bea@example.com".into(),
            plan: plan("pln_free", "Hobby", 0, Some(1_000)),
            status,
            spending_cap_minor: Some(2_500),
            usage: SubscriptionUsage {
                calls: 250,
                spent_minor: 130,
                resets_at: Some(at()),
                alert_percent: None,
                last_called_at: None,
            },
            invoke_path: "acme-radar".into(),
            created_at: at(),
            updated_at: at(),
        }
    }

    /// Renders `view` as the server would inside the app (router, session and request).
    pub fn render<V: IntoView + 'static>(
        path: &'static str,
        account: Option<crate::types::AccountView>,
        view: impl FnOnce() -> V + Send + 'static,
    ) -> String {
        Owner::new().with(|| {
            provide_context(leptos_router::location::RequestUrl::new(path));
            provide_context(crate::AuthContext {
                sign_up: ServerAction::new(),
                log_in: ServerAction::new(),
                log_out: ServerAction::new(),
                account: RwSignal::new(account),
            });
            view! { <leptos_router::components::Router>{view()}</leptos_router::components::Router> }
                .to_html()
        })
    }

    pub fn account(id: &str) -> crate::types::AccountView {
        crate::types::AccountView {
            id: id.into(),
            email: "dev@example.com".into(),
            role: crate::types::Role::Developer,
            created_at: at(),
        }
    }
}
