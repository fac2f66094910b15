//! The marketplace's portal pages as a browser without JavaScript sees them: the public search
//! and listing pages rendered on the server, and Subscribe as a plain form post.
use reqwest::{Client, StatusCode};
use serde_json::json;
use web4_tests::{fixtures::second_account, spawn_app, upstream::Upstream};

/// GETs `url` as a browser navigation; answers the status and the HTML. As in `portal.rs`, a
/// render that stalled (503) is tried once more.
async fn html(client: &Client, url: String) -> (StatusCode, String) {
    for _ in 0..2 {
        let response = client.get(&url).header("accept", "text/html").send().await.unwrap();
        if response.status() != StatusCode::SERVICE_UNAVAILABLE {
            return (response.status(), response.text().await.unwrap());
        }
    }
    panic!("{url} stalled twice");
}

#[tokio::test]
async fn portal_marketplace_is_searchable_by_visitors_and_subscribe_posts_as_a_plain_form() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (listing, plans) =
        super::marketplace::published(&app, &upstream, &[json!({ "name": "Hobby", "quota_per_month": 500 })])
            .await;
    let id = listing["id"].as_str().unwrap();
    let visitor = Client::new();

    // A visitor searches by a word of the description: the results are in the first response.
    let (status, page) = html(&visitor, app.url("/marketplace?q=barometric&free=on&sort=newest")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("href=\"/marketplace/{id}\"")), "{page}");
    assert!(page.contains("Weather Oracle") && page.contains("Free plan"), "{page}");
    assert!(page.contains("value=\"barometric\""), "the search stays in its box: {page}");
    assert!(page.contains(">Marketplace</a>"), "the navigation links to it for visitors: {page}");
    let (_, none) = html(&visitor, app.url("/marketplace?q=zebraquagga")).await;
    assert!(none.contains("No listings match your search"), "{none}");

    // The listing's page: the sanitised description, the plan, and a way to log in.
    let (status, page) = html(&visitor, app.url(&format!("/marketplace/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<strong>barometric</strong>") && !page.contains("<script>alert"), "{page}");
    assert!(page.contains("Hobby") && page.contains("500 calls a month"), "{page}");
    assert!(page.contains("Log in to subscribe"), "{page}");
    let (status, _) = html(&visitor, app.url("/marketplace/no-such-listing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A consumer subscribes with a plain form post and lands on their subscriptions.
    let consumer = second_account(&app, "cy@example.com").await;
    let plan = plans[0]["plan"]["id"].as_str().unwrap();
    let response = consumer
        .post(app.url("/_fn/subscribe"))
        .header("accept", "text/html")
        .header("referer", app.url(&format!("/marketplace/{id}")))
        .form(&[("plan_id", plan), ("spending_cap", "12.50")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "/subscriptions");
    let (status, page) = html(&consumer, app.url("/subscriptions")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Weather Oracle") && page.contains("0 of 500"), "{page}");
    assert!(page.contains("$0.00 of $12.50"), "the cap was read in currency units: {page}");

    // The provider sees the subscriber on their listings page.
    let (status, page) = html(&app.client, app.url("/listings")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Weather Oracle") && page.contains("data-testid=\"subscribers-table\""), "{page}");
}
