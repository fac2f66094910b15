//! `/marketplace`: the public search of the marketplace. The search is a plain GET form whose
//! values live in the URL, so a search is a link, works with JavaScript off, and the page is
//! rendered on the server with its results.
use super::{currency, thousands};
use crate::{
    api::browse_listings,
    pages::common::{encode_query, failure},
    types::{
        Page,
        marketplace::{BrowseQuery, Category, ListingSummary, Sort},
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map, params::ParamsMap};

/// The search as the URL says it; unknown values are dropped.
fn browse_query(params: &ParamsMap) -> BrowseQuery {
    let text = |name: &str| params.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    BrowseQuery {
        q: text("q"),
        category: text("category").and_then(|c| Category::parse(&c)),
        tag: text("tag"),
        free: text("free").map(|_| true),
        max_price_micros: None,
        sort: text("sort").and_then(|s| Sort::ALL.into_iter().find(|o| o.as_str() == s)),
        cursor: text("cursor"),
        limit: None,
    }
}

/// The URL of `query` (without its cursor unless `cursor` is given).
fn browse_href(query: &BrowseQuery, cursor: Option<&str>) -> String {
    let mut pairs = Vec::new();
    if let Some(q) = &query.q {
        pairs.push(format!("q={}", encode_query(q)));
    }
    if let Some(category) = query.category {
        pairs.push(format!("category={}", category.as_str()));
    }
    if let Some(tag) = &query.tag {
        pairs.push(format!("tag={}", encode_query(tag)));
    }
    if query.free == Some(true) {
        pairs.push("free=on".to_owned());
    }
    if let Some(sort) = query.sort {
        pairs.push(format!("sort={}", sort.as_str()));
    }
    if let Some(cursor) = cursor {
        pairs.push(format!("cursor={}", encode_query(cursor)));
    }
    if pairs.is_empty() { "/marketplace".to_owned() } else { format!("/marketplace?{}", pairs.join("&")) }
}

/// `/marketplace?q=…&category=…&free=on&sort=…&cursor=…`
#[component]
pub fn MarketplacePage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(browse_query));
    let results = Resource::new(move || query.get(), browse_listings);
    view! {
        <Title text="Marketplace" />
        <header class="page-header">
            <h1>"Marketplace"</h1>
            <p class="muted">"APIs other developers run on the mesh. Subscribe to a plan and call them with your key."</p>
        </header>
        // Re-rendered when the URL changes (a link followed in the hydrated app).
        {move || view! { <SearchForm query=query.get() /> }}
        <Suspense fallback=|| view! { <p class="muted">"Searching…"</p> }>
            {move || Suspend::new(async move {
                let query = query.get();
                match results.await {
                    Ok(page) => view! { <Results page query /> }.into_any(),
                    Err(error) => failure(error, || ().into_any()),
                }
            })}
        </Suspense>
    }
}

/// The search form: a plain GET to this page, filled from the URL.
#[component]
fn SearchForm(query: BrowseQuery) -> impl IntoView {
    let q = query.q.clone().unwrap_or_default();
    let free = query.free == Some(true);
    view! {
        <form method="get" action="/marketplace" role="search" class="card search-form" data-testid="search-form">
            <div class="search-line">
                <div class="field grow">
                    <label for="q">"Search"</label>
                    <input id="q" name="q" type="search" value=q placeholder="e.g. weather, translate, pdf" />
                </div>
                <div class="field">
                    <label for="category">"Category"</label>
                    <select id="category" name="category">
                        <option value="" selected=query.category.is_none()>"All categories"</option>
                        {Category::all()
                            .iter()
                            .map(|c| view! {
                                <option value=c.as_str() selected=query.category == Some(*c)>{c.label()}</option>
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="sort">"Sort by"</label>
                    <select id="sort" name="sort">
                        {Sort::ALL
                            .into_iter()
                            .map(|s| view! {
                                <option value=s.as_str() selected=query.sort.unwrap_or_default() == s>{s.label()}</option>
                            })
                            .collect_view()}
                    </select>
                </div>
            </div>
            <div class="search-line">
                <label class="check">
                    <input type="checkbox" name="free" value="on" checked=free />
                    " Only listings with a free plan"
                </label>
                <button type="submit" class="button primary">"Search"</button>
            </div>
        </form>
    }
}

#[component]
fn Results(page: Page<ListingSummary>, query: BrowseQuery) -> impl IntoView {
    let searched =
        query.q.is_some() || query.category.is_some() || query.tag.is_some() || query.free.is_some();
    if page.items.is_empty() {
        return view! { <EmptyResults query searched /> }.into_any();
    }
    let first_page = (query.cursor.is_some()).then(|| browse_href(&query, None));
    let next = page.next_cursor.as_deref().map(|c| browse_href(&query, Some(c)));
    view! {
        <section class="listing-grid" data-testid="results">
            {page.items.into_iter().map(|listing| view! { <ListingCard listing /> }).collect_view()}
        </section>
        <div class="pager">
            {first_page.map(|href| view! { <A href=href>"First page"</A> })}
            {next.map(|href| view! { <A href=href attr:rel="next">"Next page"</A> })}
        </div>
    }
    .into_any()
}

/// What an empty result says, and what to try instead.
#[component]
fn EmptyResults(query: BrowseQuery, searched: bool) -> impl IntoView {
    let paged = query.cursor.is_some();
    view! {
        <article class="card" data-testid="results-empty">
            {if paged {
                view! {
                    <p class="empty-state">"No more listings."</p>
                    <p class="muted"><A href=browse_href(&query, None)>"Back to the first page"</A></p>
                }
                .into_any()
            } else if searched {
                let what = query.q.clone().map(|q| format!(" for “{q}”")).unwrap_or_default();
                view! {
                    <p class="empty-state">{format!("No listings match your search{what}.")}</p>
                    <p class="muted">
                        "Try fewer or more general words, another category, or without “free plan only”. "
                        <A href="/marketplace">"Clear the search"</A> " to see everything listed."
                    </p>
                }
                .into_any()
            } else {
                view! {
                    <p class="empty-state">"Nothing is listed yet."</p>
                    <p class="muted">
                        "Providers list their http services from " <A href="/listings">"My listings"</A>
                        ". Check back soon."
                    </p>
                }
                .into_any()
            }}
        </article>
    }
}

/// One result: what it is, who provides it, and what it costs.
#[component]
fn ListingCard(listing: ListingSummary) -> impl IntoView {
    let price = if listing.has_free_plan {
        view! { <span class="badge free">"Free plan"</span> }.into_any()
    } else {
        let from =
            listing.lowest_price_micros.map(|p| format!("From {} per call", currency().format_micros(p)));
        view! { <span class="price">{from}</span> }.into_any()
    };
    let subscribers = match listing.subscribers {
        1 => "1 subscriber".to_owned(),
        n => format!("{} subscribers", thousands(n)),
    };
    view! {
        <article class="card listing-card" data-testid="listing-card">
            <h2><A href=format!("/marketplace/{}", listing.id)>{listing.title.clone()}</A></h2>
            <p class="muted small">{format!("by {} · {}", listing.publisher, listing.category.label())}</p>
            <p>{listing.summary.clone()}</p>
            <p class="badges">
                {listing.tags.iter().map(|t| view! { <span class="tag">{t.clone()}</span> }).collect_view()}
            </p>
            <p class="listing-foot">{price}<span class="muted small">{subscribers}</span></p>
        </article>
    }
}

// Server build only: `ParamsMap` decodes with the browser's `decodeURIComponent` elsewhere.
#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> ParamsMap {
        let mut map = ParamsMap::new();
        for (k, v) in pairs {
            map.insert((*k).to_owned(), (*v).to_owned());
        }
        map
    }

    #[test]
    fn the_search_round_trips_through_the_url() {
        let query = browse_query(&params(&[
            ("q", "rain radar"),
            ("category", "weather"),
            ("free", "on"),
            ("sort", "most_subscribed"),
            ("cursor", "20"),
        ]));
        assert_eq!(query.q.as_deref(), Some("rain radar"));
        assert_eq!(query.category, Some(Category::Weather));
        assert_eq!(query.free, Some(true));
        assert_eq!(query.sort, Some(Sort::MostSubscribed));
        assert_eq!(
            browse_href(&query, Some("40")),
            "/marketplace?q=rain%20radar&category=weather&free=on&sort=most_subscribed&cursor=40"
        );
        assert_eq!(
            browse_href(&query, None),
            "/marketplace?q=rain%20radar&category=weather&free=on&sort=most_subscribed"
        );
        // Unknown or empty values are dropped rather than failing the page.
        let odd = browse_query(&params(&[("q", "  "), ("category", "nope"), ("sort", "random")]));
        assert_eq!(odd, BrowseQuery::default());
        assert_eq!(browse_href(&odd, None), "/marketplace");
    }

    #[cfg(feature = "ssr")]
    mod rendered {
        use super::*;
        use crate::pages::marketplace::fixtures::render;
        use crate::types::marketplace::ListingStatus;

        fn summary(free: bool) -> ListingSummary {
            ListingSummary {
                id: "lst_1".into(),
                title: "Rain radar".into(),
                summary: "Where it rains, now.".into(),
                publisher: "acme".into(),
                category: Category::Weather,
                tags: vec!["rain".into()],
                status: ListingStatus::Published,
                has_free_plan: free,
                lowest_price_micros: Some(2_000),
                subscribers: 1_234,
                reviews: 3,
                rating_tenths: Some(43),
                published_at: None,
            }
        }

        #[test]
        fn the_form_is_filled_from_the_url() {
            let query = browse_query(&params(&[
                ("q", "rain"),
                ("category", "weather"),
                ("free", "on"),
                ("sort", "newest"),
            ]));
            let html = render("/marketplace", None, move || view! { <SearchForm query /> });
            assert!(html.contains("method=\"get\"") && html.contains("action=\"/marketplace\""), "{html}");
            assert!(html.contains("name=\"q\"") && html.contains("value=\"rain\""), "{html}");
            assert!(html.contains("<option value=\"weather\" selected"), "{html}");
            assert!(html.contains("<option value=\"newest\" selected"), "{html}");
            assert!(html.contains("name=\"free\" value=\"on\" checked"), "{html}");
            for c in Category::all() {
                assert!(html.contains(c.label()), "no option for {c:?}");
            }
        }

        #[test]
        fn results_link_to_listings_show_prices_and_page_on() {
            let query = browse_query(&params(&[("q", "rain")]));
            let html = render("/marketplace", None, move || {
                let page =
                    Page { items: vec![summary(true), summary(false)], next_cursor: Some("20".into()) };
                view! { <Results page query /> }
            });
            assert!(html.contains("href=\"/marketplace/lst_1\""), "{html}");
            assert!(html.contains("Free plan"), "{html}");
            assert!(html.contains("From $0.002 per call"), "{html}");
            assert!(html.contains("1,234 subscribers"), "{html}");
            assert!(html.contains("by acme · Weather"), "{html}");
            assert!(
                html.contains("href=\"/marketplace?q=rain&amp;cursor=20\"")
                    || html.contains("href=\"/marketplace?q=rain&cursor=20\""),
                "{html}"
            );
        }

        #[test]
        fn an_empty_search_says_what_to_try() {
            let query = browse_query(&params(&[("q", "zebra")]));
            let html = render("/marketplace", None, move || {
                view! { <Results page=Page { items: vec![], next_cursor: None } query /> }
            });
            assert!(html.contains("No listings match your search for “zebra”."), "{html}");
            assert!(html.contains("Clear the search"), "{html}");
            let html = render("/marketplace", None, || {
                view! { <Results page=Page { items: vec![], next_cursor: None } query=BrowseQuery::default() /> }
            });
            assert!(html.contains("Nothing is listed yet."), "{html}");
        }
    }
}
