//! Web4 portal: the Leptos application (rendered on the server, hydrated in the browser) and the
//! wire types it shares with the backend.
#![forbid(unsafe_code)]
// Leptos views are deeply nested generic types; the operator pages exceed the default 128.
#![recursion_limit = "256"]

pub mod api;
mod chart;
mod components;
pub mod error;
mod pages;
#[cfg(feature = "ssr")]
pub mod port;
mod routes;
mod series_chart;
pub mod types;

use crate::{
    api::{LogIn, LogOut, SignUp},
    types::AccountView,
};
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, SsrMode,
    components::{A, Route, Router, Routes},
    path,
};

/// The HTML document around the application (server side only renders it).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                // In the shell, where the options name the (possibly hashed) file: see HashedStylesheet.
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                {use_context::<types::InvokeOrigin>().map(|origin| view! {
                    <meta name=pages::common::INVOKE_ORIGIN_META content=origin.0 />
                })}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The session as every page sees it: the logged-in account (known before rendering, then
/// updated by the auth actions) and the actions that change it. Deliberately not a resource
/// under a Suspense boundary: with the navigation and a page each waiting on one, a fraction
/// of SSR responses stalled forever (leptos-rs/leptos#4851).
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub sign_up: ServerAction<SignUp>,
    pub log_in: ServerAction<LogIn>,
    pub log_out: ServerAction<LogOut>,
    pub account: RwSignal<Option<AccountView>>,
}

/// The portal application.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Web4 Platform".to_string() } else { format!("{page} · Web4 Platform") }
        } />
        <Router>
            <Layout />
        </Router>
    }
}

#[component]
fn Layout() -> impl IntoView {
    // A form posted before hydration comes back with its error in the URL
    // (`?__path=…&__err=…`). The router offers it only to actions created inside <Routes>;
    // ours live above, next to the navigation, so offer it to them first.
    leptos_router::hooks::use_url().read_untracked().provide_server_action_error();
    let sign_up = ServerAction::<SignUp>::new();
    let log_in = ServerAction::<LogIn>::new();
    let log_out = ServerAction::<LogOut>::new();
    // Rendered on the server from the request (see `server::http::attach_session_account`)
    // and carried to the browser in the page, so both render the same navigation.
    let initial = SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            use_context::<http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<types::SessionAccount>().cloned())
                .and_then(|session| session.0)
        }
        #[cfg(not(feature = "ssr"))]
        {
            None
        }
    })
    .into_inner();
    let account = RwSignal::new(initial);
    provide_context(AuthContext { sign_up, log_in, log_out, account });

    // After hydration, a successful auth action updates the account and navigates on the
    // client (a plain form post gets a 302 from the server instead). Log-out goes to /login:
    // a protected page redirects there too, and two different targets would race.
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new({
        let navigate = navigate.clone();
        move || {
            if let Some(Ok(signed_up)) = sign_up.value().get() {
                account.set(Some(signed_up));
                navigate("/dashboard", Default::default());
            }
        }
    });
    Effect::new({
        let navigate = navigate.clone();
        move || {
            if let Some(Ok(logged_in)) = log_in.value().get() {
                account.set(Some(logged_in));
                navigate("/dashboard", Default::default());
            }
        }
    });
    Effect::new(move || {
        if let Some(Ok(())) = log_out.value().get() {
            account.set(None);
            navigate("/login", Default::default());
        }
    });
    // Marks the document once the wasm bundle has taken over (end-to-end tests wait for it).
    Effect::new(|| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <header class="topbar" class:signed-in=move || account.with(Option::is_some)>
            <A href="/" attr:class="brand" attr:aria-label="Web4 Platform, home">
                <span class="brand-mark" aria-hidden="true">"W4"</span>
                <span class="brand-text">"Web4 Platform"</span>
            </A>
            <nav aria-label="Main" class="nav">
                {move || match account.get() {
                    Some(account) => components::SignedInNav(account).into_any(),
                    None => components::SignedOutNav().into_any(),
                }}
            </nav>
        </header>
        <main class="page">
            <Routes fallback=|| view! { <pages::NotFound /> }>
                <Route path=path!("") view=pages::LandingPage />
                <Route path=path!("/signup") view=pages::SignUpPage />
                <Route path=path!("/login") view=pages::LogInPage />
                // Async: the account must be known before the first byte, so that a visitor
                // who is not logged in gets a real 302 to /login.
                <Route path=path!("/dashboard") view={Lazy::<routes::Dashboard>::new()} ssr=SsrMode::Async />
                <Route path=path!("/nodes") view={Lazy::<routes::Nodes>::new()} ssr=SsrMode::Async />
                <Route path=path!("/nodes/:id") view={Lazy::<routes::NodeDetail>::new()} ssr=SsrMode::Async />
                <Route path=path!("/nodes/:id/metrics") view={Lazy::<routes::NodeMetrics>::new()} ssr=SsrMode::Async />
                <Route path=path!("/join-tokens") view={Lazy::<routes::JoinTokens>::new()} ssr=SsrMode::Async />
                <Route path=path!("/services") view={Lazy::<routes::Services>::new()} ssr=SsrMode::Async />
                // Before `/services/:id`: the first route that matches wins.
                <Route path=path!("/services/new") view={Lazy::<routes::NewService>::new()} ssr=SsrMode::Async />
                <Route path=path!("/services/:id") view={Lazy::<routes::ServiceDetail>::new()} ssr=SsrMode::Async />
                <Route path=path!("/services/:id/metrics") view={Lazy::<routes::ServiceMetrics>::new()} ssr=SsrMode::Async />
                <Route path=path!("/traces") view={Lazy::<routes::Traces>::new()} ssr=SsrMode::Async />
                <Route path=path!("/traces/:trace_id") view={Lazy::<routes::Trace>::new()} ssr=SsrMode::Async />
                <Route path=path!("/observability/drops") view={Lazy::<routes::MeshDrops>::new()} ssr=SsrMode::Async />
                <Route path=path!("/keys") view={Lazy::<routes::Keys>::new()} ssr=SsrMode::Async />
                <Route path=path!("/kv") view={Lazy::<routes::Kv>::new()} ssr=SsrMode::Async />
                <Route path=path!("/kv/:bucket") view={Lazy::<routes::KvBucket>::new()} ssr=SsrMode::Async />
                <Route path=path!("/events") view={Lazy::<routes::Events>::new()} ssr=SsrMode::Async />
                <Route path=path!("/webhooks") view={Lazy::<routes::Webhooks>::new()} ssr=SsrMode::Async />
                <Route path=path!("/webhooks/:id") view={Lazy::<routes::Webhook>::new()} ssr=SsrMode::Async />
                <Route path=path!("/usage") view={Lazy::<routes::Usage>::new()} ssr=SsrMode::Async />
                <Route path=path!("/billing") view={Lazy::<routes::Billing>::new()} ssr=SsrMode::Async />
                <Route path=path!("/billing/invoices/:id") view={Lazy::<routes::Invoice>::new()} ssr=SsrMode::Async />
                <Route path=path!("/earnings") view={Lazy::<routes::Earnings>::new()} ssr=SsrMode::Async />
                <Route path=path!("/docs") view={Lazy::<routes::Docs>::new()} ssr=SsrMode::Async />
                // Async: public and searchable with JavaScript off, so the results must be in
                // the first response (streamed chunks need the app to be swapped in).
                <Route path=path!("/marketplace") view={Lazy::<routes::Marketplace>::new()} ssr=SsrMode::Async />
                <Route path=path!("/marketplace/:id") view={Lazy::<routes::Listing>::new()} ssr=SsrMode::Async />
                <Route path=path!("/subscriptions") view={Lazy::<routes::Subscriptions>::new()} ssr=SsrMode::Async />
                <Route path=path!("/listings") view={Lazy::<routes::MyListings>::new()} ssr=SsrMode::Async />
            </Routes>
        </main>
        <footer class="footer">
            "Web4 Platform · self-hosted · "
            <a href="/healthz">"health"</a>
        </footer>
    }
}
