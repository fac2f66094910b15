//! The page for an address that matches no route (answered with HTTP 404).
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Any unknown path.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <section class="empty">
            <p class="code">"404"</p>
            <h1>"Page not found"</h1>
            <p>"Nothing lives at this address. It may have moved, or the link may be mistyped."</p>
            <A href="/" attr:class="button">"Back to the start"</A>
        </section>
    }
}
