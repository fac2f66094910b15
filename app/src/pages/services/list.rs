//! `/services`: the account's services, a page at a time.
use super::{HealthBadge, StatusBadges, common, failure, placements_summary};
use crate::{
    api::list_services,
    types::services::{Page, ServiceView},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

/// `/services`: the account's services, newest first, a page at a time.
#[component]
pub fn ServicesPage() -> impl IntoView {
    let query = use_query_map();
    let cursor = move || query.read().get("cursor").filter(|c| !c.is_empty());
    let services = Resource::new(cursor, list_services);
    view! {
        <Title text="Services" />
        <header class="page-header split">
            <div>
                <h1>"Services"</h1>
                <p class="muted">"Your APIs on the mesh: where they run, whether they are healthy, and how to call them."</p>
            </div>
            <div class="actions">
                <A href="/services/new" attr:class="button primary">"New service"</A>
            </div>
        </header>
        <Suspense fallback=|| view! { <p class="muted">"Loading your services…"</p> }>
            {move || {
                let paged = cursor().is_some();
                Suspend::new(async move {
                    match services.await {
                        Ok(page) => view! { <ServiceList page paged /> }.into_any(),
                        Err(error) => failure(error),
                    }
                })
            }}
        </Suspense>
    }
}

/// One page of services as a table; an invitation to register one when there are none.
#[component]
fn ServiceList(page: Page<ServiceView>, paged: bool) -> impl IntoView {
    if page.items.is_empty() && !paged {
        return view! {
            <article class="card">
                <p class="empty-state">"You have no services yet."</p>
                <p class="muted">
                    "A service is an HTTP API you own (or a key-value bucket) that the platform places on "
                    "mesh nodes, health-checks, and gives one address to call. Calls travel through the "
                    "mesh to a healthy placement, with retries and a circuit breaker in the way of failures."
                </p>
                <A href="/services/new" attr:class="button primary">"Register a service"</A>
            </article>
        }
        .into_any();
    }
    // A page past the last one (a stale cursor) says so instead of showing an empty table.
    let none_left = page.items.is_empty();
    view! {
        <article class="card">
            <div class="table-scroll">
            <table class="table" data-testid="services-table">
                <thead>
                    <tr>
                        <th>"Name"</th><th>"Slug"</th><th>"Kind"</th><th>"Version"</th><th>"Health"</th>
                        <th>"Placements"</th><th>"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.items.into_iter().map(|s| view! { <ServiceRow service=s /> }).collect_view()}
                </tbody>
            </table>
            </div>
            <common::Pager base="/services" what="services" paged none_left next_cursor=page.next_cursor />
        </article>
    }
    .into_any()
}

/// One service in the list: a link to its page, its health and how many placements are healthy.
#[component]
fn ServiceRow(service: ServiceView) -> impl IntoView {
    let summary = placements_summary(&service.placements);
    view! {
        <tr>
            <td><A href=format!("/services/{}", service.id)>{service.name.clone()}</A></td>
            <td><code>{service.slug.clone()}</code></td>
            <td>{service.kind.as_str()}</td>
            <td>{service.version.clone()}</td>
            <td><HealthBadge health=service.health /></td>
            <td>{summary}</td>
            <td class="badges"><StatusBadges status=service.status available=service.available /></td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cursors_are_percent_encoded() {
        assert_eq!(crate::pages::common::encode_query("abc-_.~09"), "abc-_.~09");
        assert_eq!(crate::pages::common::encode_query("a+b/c=&"), "a%2Bb%2Fc%3D%26");
    }

    #[cfg(feature = "ssr")]
    mod rendered {
        use super::super::*;
        use crate::pages::services::fixtures::{render_page, sample_service};

        #[test]
        fn service_list_counts_healthy_placements() {
            let html = render_page(|| {
                let page = Page { items: vec![sample_service()], next_cursor: Some("c/2".into()) };
                view! { <ServiceList page paged=false /> }
            });
            assert!(html.contains("data-testid=\"services-table\""));
            assert!(html.contains("1/2 healthy"));
            assert!(html.contains("href=\"/services/svc_1\""));
            assert!(html.contains("href=\"/services?cursor=c%2F2\""), "{html}");
        }
    }
}
