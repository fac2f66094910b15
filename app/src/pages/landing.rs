//! The landing page: what the platform is and where to start.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/`
#[component]
pub fn LandingPage() -> impl IntoView {
    view! {
        <Title text="" />
        <section class="hero">
            <h1>"Your own developer platform, on your own machines."</h1>
            <p class="lede">
                "Web4 Platform lets developers register services, call them through one Cloud API, "
                "and publish them to a marketplace. Every call is routed over a mesh of verified "
                "nodes, metered and billed."
            </p>
            <div class="actions">
                <A href="/signup" attr:class="button primary">"Create an account"</A>
                <A href="/login" attr:class="button">"Log in"</A>
            </div>
        </section>
        <section class="features">
            <article>
                <h2>"Services over a mesh"</h2>
                <p>"Register an HTTP API or a key-value bucket; calls enter any node and are routed to a healthy one that hosts it."</p>
            </article>
            <article>
                <h2>"Metered and billed"</h2>
                <p>"Each successful call is recorded exactly once and priced in whole minor units, with monthly invoices."</p>
            </article>
            <article>
                <h2>"A marketplace"</h2>
                <p>"Publish a service with pricing plans; other developers subscribe and pay per use."</p>
            </article>
            <article>
                <h2>"Nodes you can trust"</h2>
                <p>"Operators add nodes with join tokens; every node proves its key and earns its trust level."</p>
            </article>
        </section>
    }
}
