//! The developer's services: the list, the registration form, and one service's page (how to
//! call it, its placements and their health, "try it", edit, activate/deactivate, delete).
//!
//! Every form that changes something is an `ActionForm`, so it works as a plain form post
//! before hydration too: the server answers with a redirect and a failure comes back in the
//! URL, where the page's `ServerAction` picks it up. "Try it" is the exception: its answer is
//! the whole point and a redirect would lose it, so it only runs in the hydrated app.
//!
//! The pages live in [`list`], [`new`] and [`detail`]; the service form's fields in
//! [`fields`], the edit and delete cards in [`edit`], and "try it" in [`try_it`]. What more
//! than one of them shows (badges, short ids, the failed-load state) is here.
mod detail;
mod edit;
mod fields;
mod list;
mod new;
mod try_it;

pub use detail::ServiceDetailPage;
pub use list::ServicesPage;
pub use new::NewServicePage;

use super::common;
use crate::{
    error::PortalError,
    types::services::{HealthStatus, PlacementView, ServiceStatus},
};
use leptos::prelude::*;

/// What a failed page load shows: visitors go to log in, a missing service gets a real 404.
fn failure(error: PortalError) -> AnyView {
    common::failure(error, || {
        common::not_found(
            "No such service",
            "It may have been deleted, or it belongs to another account.",
            "/services",
            "Back to your services",
        )
    })
}

/// `…` and the last 8 characters of a long id.
fn short(id: &str) -> String {
    match id.char_indices().rev().nth(7) {
        Some((at, _)) if id.len() > 14 => format!("…{}", &id[at..]),
        _ => id.to_owned(),
    }
}

/// "1 MiB", "64 KiB", or plain bytes.
fn human_bytes(bytes: u32) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// "2/2 healthy"; "none" for a service not placed anywhere.
fn placements_summary(placements: &[PlacementView]) -> String {
    if placements.is_empty() {
        return "none".into();
    }
    let healthy = placements.iter().filter(|p| p.health.is_healthy()).count();
    format!("{healthy}/{} healthy", placements.len())
}

/// A service's or a placement's health, as a coloured badge.
#[component]
fn HealthBadge(health: HealthStatus) -> impl IntoView {
    view! { <span class=format!("badge health-{}", health.as_str())>{health.as_str()}</span> }
}

/// A service's status badge, and an "unavailable" one while no placement is healthy.
#[component]
fn StatusBadges(status: ServiceStatus, available: bool) -> impl IntoView {
    view! {
        <span class=format!("badge status-{}", status.as_str()) data-testid="service-status">
            {status.as_str()}
        </span>
        {(!available).then(|| view! {
            <span
                class="badge unavailable"
                title="No placement has been healthy for a while: calls fail until one recovers."
            >
                "unavailable"
            </span>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_summaries_read_well() {
        assert_eq!(human_bytes(1_048_576), "1 MiB");
        assert_eq!(human_bytes(65_536), "64 KiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
        assert_eq!(placements_summary(&[]), "none");
        assert_eq!(short("short-id"), "short-id");
    }
}

/// What the pages' rendering tests share: a sample service, and rendering inside the app.
#[cfg(all(test, feature = "ssr"))]
mod fixtures {
    use crate::{
        AuthContext,
        types::services::{HealthStatus, PlacementView, ServiceStatus, ServiceView},
    };
    use leptos::prelude::*;

    /// An active http service placed on two nodes, one of them failing its health check.
    pub(super) fn sample_service() -> ServiceView {
        use crate::types::services::{HealthCheckSettings, HttpSettings, PolicySettings, ServiceKind};
        let at = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
        let placement = |name: &str, health| PlacementView {
            node_id: format!("12D3KooW{name}xxxxxxxxxxxx").into(),
            node_name: name.into(),
            node_state: "online".into(),
            health,
            output: "HTTP 200 in 3 ms".into(),
            checked_at: Some(at),
            placed_at: at,
        };
        ServiceView {
            id: "svc_1".into(),
            owner_id: "acc_1".into(),
            slug: "weather".into(),
            name: "Weather".into(),
            description: "Forecasts.".into(),
            version: "1.2.0".into(),
            tags: vec!["europe".into()],
            kind: ServiceKind::Http,
            pricing: crate::types::billing::Pricing {
                free_calls_per_month: 0,
                tiers: vec![crate::types::billing::PriceTier { up_to: None, price_per_call_micros: 2500 }],
            },
            replicas: 2,
            status: ServiceStatus::Active,
            available: true,
            health: HealthStatus::Passing,
            http: Some(HttpSettings {
                upstream_url: "http://127.0.0.1:9000".into(),
                allowed_methods: vec!["GET".into(), "POST".into()],
                timeout_ms: 10_000,
                max_body_bytes: 1 << 20,
            }),
            health_check: Some(HealthCheckSettings {
                path: "/health".into(),
                interval_ms: 1000,
                timeout_ms: 500,
            }),
            policy: PolicySettings::default(),
            placements: vec![
                placement("embedded-1", HealthStatus::Passing),
                placement("embedded-2", HealthStatus::Critical),
            ],
            invoke_path: "/api/v1/invoke/svc_1/".into(),
            proxy_secret: None,
            created_at: at,
            updated_at: at,
        }
    }

    /// Renders `view` as the server would inside the app (router and session context).
    pub(super) fn render_page<V: IntoView + 'static>(view: impl FnOnce() -> V + Send + 'static) -> String {
        let owner = Owner::new();
        owner.with(|| {
            provide_context(leptos_router::location::RequestUrl::new("/services/svc_1"));
            provide_context(AuthContext {
                sign_up: ServerAction::new(),
                log_in: ServerAction::new(),
                log_out: ServerAction::new(),
                account: RwSignal::new(None),
            });
            view! { <leptos_router::components::Router>{view()}</leptos_router::components::Router> }
                .to_html()
        })
    }
}
