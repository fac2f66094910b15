//! No dead links in the portal: starting from the landing page, follow every same-origin link
//! of every server-rendered page (breadth first), logged out and logged in, and require each
//! to answer 200, or a redirect to a page that does. Also: the dashboard's cards.
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::collections::{BTreeSet, VecDeque};
use web4_tests::{
    PASSWORD, TestApp, client_with,
    fixtures::{api_key, http_service, register},
    spawn_app,
    upstream::Upstream,
};

/// A bound on the crawl, so a link generator gone wrong (a pager without end) fails the test
/// instead of running forever.
const MAX_PAGES: usize = 200;

/// The `href`s of the page's `<a>` elements that stay on this origin: paths with their query,
/// without the fragment. `&amp;` is the only entity a path of ours carries.
fn same_origin_links(html: &str, origin: &str) -> Vec<String> {
    html.split("<a ")
        .skip(1)
        .filter_map(|tag| {
            let tag = &tag[..tag.find('>')?];
            let start = tag.find("href=\"")? + "href=\"".len();
            let href = &tag[start..start + tag[start..].find('"')?];
            let href = href.replace("&amp;", "&");
            let path = match href.strip_prefix(origin) {
                Some(rest) => rest.to_owned(),
                None if href.starts_with('/') && !href.starts_with("//") => href,
                None => return None,
            };
            let path = path.split('#').next().unwrap_or_default().to_owned();
            (!path.is_empty()).then_some(path)
        })
        .collect()
}

/// Loads a page; Leptos now and then stalls one SSR response (leptos-rs/leptos#4851), which
/// the server answers 503 after its timeout: such a page is loaded once more.
async fn load(client: &Client, url: &str) -> (StatusCode, Option<String>, String) {
    for _ in 0..2 {
        let response = client.get(url).header("accept", "text/html").send().await.unwrap();
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            continue;
        }
        let status = response.status();
        let location = response.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_owned);
        return (status, location, response.text().await.unwrap_or_default());
    }
    panic!("{url} stalled twice");
}

/// Crawls breadth first from `starts` as `client`; answers every path visited. Fails on the
/// first link that does not lead to a 200.
async fn crawl(app: &TestApp, client: &Client, starts: &[&str]) -> BTreeSet<String> {
    let origin = app.url("");
    let mut seen: BTreeSet<String> = starts.iter().map(|s| s.to_string()).collect();
    let mut queue: VecDeque<(String, String)> =
        starts.iter().map(|s| (s.to_string(), "start".into())).collect();
    while let Some((path, from)) = queue.pop_front() {
        assert!(seen.len() <= MAX_PAGES, "more than {MAX_PAGES} pages: {seen:?}");
        let (status, location, body) = load(client, &app.url(&path)).await;
        let body = if status.is_redirection() {
            let to = location.unwrap_or_else(|| panic!("{path} (linked from {from}) redirects nowhere"));
            let to = to.strip_prefix(&origin).unwrap_or(&to).to_owned();
            let (status, _, body) = load(client, &app.url(&to)).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{path} (linked from {from}) redirects to {to}, which answers {status}"
            );
            body
        } else {
            assert_eq!(status, StatusCode::OK, "{path} (linked from {from}) answers {status}");
            body
        };
        // Only portal pages are read for more links (the Cloud API's JSON has none).
        let is_page = !path.starts_with("/api/") && !path.starts_with("/healthz");
        if is_page {
            for link in same_origin_links(&body, &origin) {
                if seen.insert(link.clone()) {
                    queue.push_back((link, path.clone()));
                }
            }
        }
    }
    seen
}

/// An operator (the first account) with a service and an API key, and a developer.
async fn populated_app() -> (TestApp, Upstream, String) {
    let app = spawn_app().await;
    app.sign_up("operator@example.com", PASSWORD).await;
    let upstream = Upstream::start().await;
    let service =
        register(&app, &app.client, http_service("crawled", &upstream, json!({ "replicas": 1 }))).await;
    api_key(&app, &app.client, &["read", "invoke"]).await;
    let id = service["id"].as_str().unwrap().to_owned();
    (app, upstream, id)
}

#[tokio::test]
async fn every_link_a_visitor_can_follow_leads_to_a_page() {
    let app = spawn_app().await;
    let visitor = client_with(Default::default());

    let visited = crawl(&app, &visitor, &["/"]).await;

    for expected in ["/", "/signup", "/login", "/marketplace", "/docs", "/healthz"] {
        assert!(visited.contains(expected), "{expected} not reached: {visited:?}");
    }
}

#[tokio::test]
async fn every_link_a_logged_in_account_can_follow_leads_to_a_page() {
    let (app, _upstream, service) = populated_app().await;

    let visited = crawl(&app, &app.client, &["/", "/dashboard"]).await;

    let service_page = format!("/services/{service}");
    for expected in [
        "/dashboard",
        "/services",
        "/services/new",
        service_page.as_str(),
        "/keys",
        "/docs",
        "/marketplace",
        "/subscriptions",
        "/listings",
        "/usage",
        "/billing",
        "/earnings",
        "/nodes",
        "/join-tokens",
    ] {
        assert!(visited.contains(expected), "{expected} not reached: {visited:?}");
    }
    // The operator's node pages are linked from the nodes page.
    assert!(visited.iter().any(|p| p.starts_with("/nodes/")), "no node page reached: {visited:?}");
}

#[tokio::test]
async fn a_developer_is_not_shown_the_operators_pages() {
    let (app, _upstream, _) = populated_app().await;
    let developer = web4_tests::fixtures::second_account(&app, "dev@example.com").await;

    let visited = crawl(&app, &developer, &["/dashboard"]).await;

    assert!(visited.contains("/billing"), "{visited:?}");
    assert!(!visited.iter().any(|p| p.starts_with("/nodes") || p == "/join-tokens"), "{visited:?}");
}

#[tokio::test]
async fn the_dashboard_cards_show_the_accounts_figures_and_link_to_their_pages() {
    let (app, _upstream, _) = populated_app().await;

    let (status, _, html) = load(&app.client, &app.url("/dashboard")).await;

    assert_eq!(status, StatusCode::OK);
    for (card, href) in [
        ("card-services", "/services"),
        ("card-calls", "/usage"),
        ("card-bill", "/billing"),
        // No subscriptions yet: the card leads to the marketplace.
        ("card-subscriptions", "/marketplace"),
        ("card-earnings", "/earnings"),
    ] {
        let at = html.find(&format!("data-testid=\"{card}\"")).unwrap_or_else(|| panic!("no {card}: {html}"));
        let tag = &html[html[..at].rfind("<a ").unwrap()..at];
        assert!(tag.contains(&format!("href=\"{href}\"")), "{card} links elsewhere: {tag}");
    }
    let services = &html[html.find("data-testid=\"card-services\"").unwrap()..];
    assert!(services.contains("<span class=\"stat-figure\">1</span>"), "{services}");
    assert!(html.contains("$0.00"), "{html}");
    assert!(html.contains("Browse the marketplace"), "{html}");
}

#[test]
fn links_are_read_from_anchors_on_this_origin_only() {
    let html = concat!(
        r#"<a href="/services">x</a><a class="b" href="http://127.0.0.1:9/keys?x=1&amp;y=2#top">k</a>"#,
        r##"<link href="/pkg/web4.css"><a href="https://example.com/">e</a><a href="#top">t</a>"##,
        r#"<a href="//evil.example/">e</a>"#
    );

    let links = same_origin_links(html, "http://127.0.0.1:9");

    assert_eq!(links, ["/services", "/keys?x=1&y=2"]);
}
