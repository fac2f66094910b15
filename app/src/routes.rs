//! The pages loaded on demand. Each is a `LazyRoute` whose view lives in its section's wasm
//! chunk when the bundle is built with `cargo leptos build --split`
//! (`scripts/build-release.sh`): the browser downloads a section's code when it first shows one
//! of its pages — the server names that page's chunks in `<link rel="preload">`, and hydration
//! waits for them — not every page's code with the first page. The landing, sign-up, log-in and
//! not-found pages stay in the main bundle: they are what a first visit shows.
//!
//! One chunk per section of the navigation, not one per page: `wasm-split` puts the code that
//! several chunks share into chunks of its own, one per set of sharers, and with a chunk per
//! page a page needed up to 223 small files (223 requests); with a few sections it needs a few.
//!
//! The pages fetch their own data (server functions in resources), so `data` is empty.
use crate::pages;
use leptos::prelude::*;
use leptos_router::LazyRoute;

/// Declares the lazily loaded pages of one section (`$chunk`, the name of its wasm chunk).
macro_rules! section {
    ($chunk:ident: $($route:ident => $page:ident),+ $(,)?) => {
        $(
            #[doc = concat!("`", stringify!($page), "`, from the `", stringify!($chunk), "` chunk.")]
            pub struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    Self
                }

                async fn view(_this: Self) -> AnyView {
                    views::$route().await
                }

                // The router awaits this before it hydrates or renders the page: hydrating a
                // view whose code is still loading would not match the server's HTML.
                async fn preload() {
                    #[cfg(feature = "hydrate")]
                    views::$page().await;
                }
            }
        )+

        mod views {
            use super::*;
            $(
                // In the browser: moved into the chunk, loaded on first use.
                #[cfg(feature = "hydrate")]
                #[allow(non_snake_case)]
                // `preload` names the function that only loads the chunk (`$page` here: a
                // name of its own that `macro_rules!` can pass on).
                #[leptos::wasm_split::wasm_split(
                    $chunk,
                    wasm_split_path = ::leptos::wasm_split,
                    preload(#[allow(non_snake_case)] $page)
                )]
                pub fn $route() -> AnyView {
                    view! { <pages::$page /> }.into_any()
                }

                // On the server: rendered at once, and the chunk named for preloading.
                #[cfg(not(feature = "hydrate"))]
                #[allow(non_snake_case)]
                pub async fn $route() -> AnyView {
                    leptos::prefetch_lazy_fn_on_server(stringify!($chunk));
                    view! { <pages::$page /> }.into_any()
                }
            )+
        }
    };
}

mod build {
    use super::*;
    section!(portal_build:
        Dashboard => DashboardPage,
        Services => ServicesPage,
        NewService => NewServicePage,
        ServiceDetail => ServiceDetailPage,
        Keys => KeysPage,
        Docs => DocsPage,
    );
}

mod money {
    use super::*;
    section!(portal_money:
        Usage => UsagePage,
        Billing => BillingPage,
        Invoice => InvoicePage,
        Earnings => EarningsPage,
    );
}

mod marketplace {
    use super::*;
    section!(portal_marketplace:
        Marketplace => MarketplacePage,
        Listing => ListingPage,
        Subscriptions => SubscriptionsPage,
        MyListings => MyListingsPage,
    );
}

mod data {
    use super::*;
    section!(portal_data:
        Kv => KvPage,
        KvBucket => KvBucketPage,
        Events => EventsPage,
        Webhooks => WebhooksPage,
        Webhook => WebhookPage,
    );
}

mod operator {
    use super::*;
    section!(portal_operator:
        Nodes => NodesPage,
        NodeDetail => NodeDetailPage,
        JoinTokens => JoinTokensPage,
        NodeMetrics => NodeMetricsPage,
    );
}

mod observe {
    use super::*;
    section!(portal_observe:
        ServiceMetrics => ServiceMetricsPage,
        Traces => TracesPage,
        Trace => TracePage,
        MeshDrops => MeshDropsPage,
    );
}

pub use build::*;
pub use data::*;
pub use marketplace::*;
pub use money::*;
pub use observe::*;
pub use operator::*;
