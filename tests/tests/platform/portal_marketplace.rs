//! The marketplace's portal pages as a browser without JavaScript sees them: the public search
//! and listing pages rendered on the server, and Subscribe as a plain form post.
use reqwest::{Client, StatusCode};
use serde_json::json;
use web4_tests::{
    fixtures::{bearer, second_account},
    spawn_app,
    upstream::Upstream,
};

use crate::portal::page as html;

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

/// Posts `form` to the server function `name` as a browser without JavaScript does (from
/// `referer`); answers the status and where it redirects.
async fn plain_post(
    app: &web4_tests::TestApp,
    client: &Client,
    name: &str,
    referer: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let response = client
        .post(app.url(&format!("/_fn/{name}")))
        .header("accept", "text/html")
        .header("referer", app.url(referer))
        .form(form)
        .send()
        .await
        .unwrap();
    let location =
        response.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    (response.status(), location)
}

/// Posts `form` to the server function `name` as the hydrated app does; answers the status
/// and the body.
async fn hydrated_post(
    app: &web4_tests::TestApp,
    client: &Client,
    name: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let response = client.post(app.url(&format!("/_fn/{name}"))).form(form).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn portal_plan_change_keeps_the_key_the_cap_is_set_and_cleared_and_strangers_get_404() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (listing, plans) = super::marketplace::published(
        &app,
        &upstream,
        &[
            json!({ "name": "Hobby", "quota_per_month": 500 }),
            json!({ "name": "Pro", "price_per_call_micros": 10_000 }),
        ],
    )
    .await;
    let path = format!("/api/v1/invoke/{}/forecast", listing["invoke_path"].as_str().unwrap());
    let (hobby, pro) = (plans[0]["plan"]["id"].as_str().unwrap(), plans[1]["plan"]["id"].as_str().unwrap());
    let consumer = second_account(&app, "pat@example.com").await;
    let (_, secret) = web4_tests::fixtures::api_key(&app, &consumer, &["invoke"]).await;
    let key = bearer(&secret);
    let (status, _) =
        plain_post(&app, &consumer, "subscribe", "/marketplace", &[("plan_id", hobby), ("spending_cap", "")])
            .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(key.get(app.url(&path)).send().await.unwrap().status(), StatusCode::OK);

    // The page offers the listing's other public plan.
    let (status, body) = hydrated_post(&app, &consumer, "list_my_subscriptions", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mine: serde_json::Value = serde_json::from_str(&body).unwrap();
    let subscription = mine[0]["subscription"]["id"].as_str().unwrap().to_owned();
    assert_eq!(mine[0]["plans"].as_array().map(Vec::len), Some(2), "{mine}");

    // Change plan with a plain form: at once, and the same key keeps working at the new plan.
    let (status, location) = plain_post(
        &app,
        &consumer,
        "change_plan",
        "/subscriptions",
        &[("id", &subscription), ("plan_id", pro)],
    )
    .await;
    assert_eq!((status, location.as_str()), (StatusCode::FOUND, "/subscriptions"));
    let (_, page) = html(&consumer, app.url("/subscriptions")).await;
    assert!(page.contains("Plan Pro"), "{page}");
    assert!(page.contains("<option value=\"") && page.contains(">Hobby — Free</option>"), "{page}");
    assert_eq!(key.get(app.url(&path)).send().await.unwrap().status(), StatusCode::OK);
    let (_, page) = html(&consumer, app.url("/subscriptions")).await;
    assert!(page.contains("$0.01 (no cap)"), "the call after the change is billed at Pro: {page}");

    // The cap: set in currency units, refused inline when it does not parse, then removed.
    let (status, _) = plain_post(
        &app,
        &consumer,
        "set_spending_cap",
        "/subscriptions",
        &[("id", &subscription), ("spending_cap", "12.50")],
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let (_, page) = html(&consumer, app.url("/subscriptions")).await;
    assert!(page.contains("$0.01 of $12.50") && page.contains("value=\"12.50\""), "{page}");
    let (status, body) =
        hydrated_post(&app, &consumer, "set_spending_cap", &[("id", &subscription), ("spending_cap", "ten")])
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("spending_cap"), "{body}");
    let (status, _) = plain_post(
        &app,
        &consumer,
        "set_spending_cap",
        "/subscriptions",
        &[("id", &subscription), ("spending_cap", "")],
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let (_, page) = html(&consumer, app.url("/subscriptions")).await;
    assert!(page.contains("(no cap)") && !page.contains("Remove cap"), "{page}");

    // Another account can change nothing of it: told as a subscription that does not exist.
    let stranger = second_account(&app, "eve@example.com").await;
    let (status, body) =
        hydrated_post(&app, &stranger, "change_plan", &[("id", &subscription), ("plan_id", hobby)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) =
        hydrated_post(&app, &stranger, "set_spending_cap", &[("id", &subscription), ("spending_cap", "1")])
            .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, page) = html(&consumer, app.url("/subscriptions")).await;
    assert!(page.contains("Plan Pro"), "unchanged: {page}");
}

#[tokio::test]
async fn portal_invitation_link_is_shown_once_shows_the_terms_and_subscribes_and_a_wrong_one_reveals_nothing()
{
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (listing, _) = super::marketplace::published(&app, &upstream, &[json!({ "name": "Hobby" })]).await;
    let id = listing["id"].as_str().unwrap();

    // The provider adds a private plan with a plain form: the next /listings shows its link once.
    let (status, _) = plain_post(
        &app,
        &app.client,
        "create_plan",
        "/listings",
        &[
            ("listing_id", id),
            ("form[name]", "Partners"),
            ("form[free_calls_per_month]", ""),
            ("form[price_per_call]", "0"),
            ("form[quota_per_month]", ""),
            ("form[rate_per_minute]", ""),
            ("form[quota_kind]", "hard"),
            ("form[visibility]", "private"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let (_, page) = html(&app.client, app.url("/listings")).await;
    let start = page.find(&format!("/marketplace/{id}?plan=")).expect("the invitation link is shown");
    let link = page[start..page[start..].find('"').map(|e| start + e).unwrap()].replace("&amp;", "&");
    let (_, again) = html(&app.client, app.url("/listings")).await;
    assert!(!again.contains("?plan="), "shown once only: {again}");
    // Plan ids and invitations are URL-safe: the query needs no decoding.
    let query: std::collections::HashMap<&str, &str> =
        link.split_once('?').unwrap().1.split('&').filter_map(|pair| pair.split_once('=')).collect();
    let (plan, invitation) = (query["plan"].to_owned(), query["invitation"].to_owned());

    // The public page never shows the private plan (its provider's page does).
    let (_, public) = html(&reqwest::Client::new(), app.url(&format!("/marketplace/{id}"))).await;
    assert!(!public.contains("Partners"), "the private plan is not on the public page: {public}");
    // The consumer opens the link: the plan's terms and a Subscribe form for it. A wrong
    // invitation gets neither, told like a plan that does not exist; only the right one
    // subscribes.
    let consumer = second_account(&app, "vip@example.com").await;
    let (status, page) = html(&consumer, app.url(&link)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Your invitation to a private plan") && page.contains("Partners"), "{page}");
    assert!(page.contains("accept-invitation") && page.contains("No rate limit"), "{page}");
    for wrong in [
        format!("/marketplace/{id}?plan={plan}&invitation=w4i_wrong"),
        format!("/marketplace/{id}?plan=pln_nosuchplan&invitation={invitation}"),
    ] {
        let (_, wrong_page) = html(&consumer, app.url(&wrong)).await;
        assert!(wrong_page.contains("This invitation link is not valid"), "{wrong_page}");
        assert!(
            !wrong_page.contains("Partners") && !wrong_page.contains("accept-invitation"),
            "{wrong_page}"
        );
    }
    let (status, body) = hydrated_post(
        &app,
        &consumer,
        "subscribe",
        &[("plan_id", &plan), ("spending_cap", ""), ("invitation", "w4i_wrong")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("No such plan"), "{body}");
    let (status, location) = plain_post(
        &app,
        &consumer,
        "subscribe",
        &link,
        &[("plan_id", &plan), ("spending_cap", ""), ("invitation", &invitation)],
    )
    .await;
    assert_eq!((status, location.as_str()), (StatusCode::FOUND, "/subscriptions"));
    let (_, page) = html(&consumer, app.url("/subscriptions")).await;
    assert!(page.contains("Plan Partners"), "{page}");
}

#[tokio::test]
async fn portal_reviews_need_a_call_show_the_average_and_the_provider_replies_once() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (listing, plans) =
        super::marketplace::published(&app, &upstream, &[json!({ "name": "Hobby" })]).await;
    let id = listing["id"].as_str().unwrap();
    let plan = plans[0]["plan"]["id"].as_str().unwrap();
    let path = format!("/api/v1/invoke/{}/forecast", listing["invoke_path"].as_str().unwrap());
    let page_path = format!("/marketplace/{id}");

    // Subscribed but no call yet: refused with the API's message, shown inline.
    let consumer = second_account(&app, "rev@example.com").await;
    let (_, secret) = web4_tests::fixtures::api_key(&app, &consumer, &["invoke"]).await;
    let (status, _) =
        plain_post(&app, &consumer, "subscribe", &page_path, &[("plan_id", plan), ("spending_cap", "")])
            .await;
    assert_eq!(status, StatusCode::FOUND);
    let review = [("listing_id", id), ("form[rating]", "4"), ("form[body]", "Accurate forecasts.")];
    let (status, body) = hydrated_post(&app, &consumer, "review_listing", &review).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("Only subscribers who have called the service may review it"), "{body}");

    // After a call: the review posts as a plain form and the page shows it with the average.
    assert_eq!(bearer(&secret).get(app.url(&path)).send().await.unwrap().status(), StatusCode::OK);
    let (status, location) = plain_post(&app, &consumer, "review_listing", &page_path, &review).await;
    assert_eq!((status, location.as_str()), (StatusCode::FOUND, page_path.as_str()));
    let (_, page) = html(&consumer, app.url(&page_path)).await;
    assert!(page.contains("Accurate forecasts.") && page.contains("4.0 out of 5 · 1 review"), "{page}");
    assert!(page.contains("Edit your review"), "{page}");

    // Edited: still one review.
    let edit = [("listing_id", id), ("form[rating]", "5"), ("form[body]", "Even better now.")];
    let (status, _) = plain_post(&app, &consumer, "review_listing", &page_path, &edit).await;
    assert_eq!(status, StatusCode::FOUND);
    let (_, page) = html(&Client::new(), app.url(&page_path)).await;
    assert!(page.contains("Even better now.") && page.contains("5.0 out of 5 · 1 review"), "{page}");
    assert!(!page.contains("Accurate forecasts."), "{page}");

    // The provider replies once; everyone sees it; a second reply is refused.
    let (status, body) = hydrated_post(&app, &app.client, "list_reviews", &[("listing_id", id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reviews: serde_json::Value = serde_json::from_str(&body).unwrap();
    let review_id = reviews[0]["id"].as_str().unwrap();
    let (_, provider_page) = html(&app.client, app.url(&page_path)).await;
    assert!(provider_page.contains("data-testid=\"post-reply\""), "{provider_page}");
    let reply = [("listing_id", id), ("review_id", review_id), ("body", "Thank you!")];
    let (status, location) = plain_post(&app, &app.client, "reply_to_review", &page_path, &reply).await;
    assert_eq!((status, location.as_str()), (StatusCode::FOUND, page_path.as_str()));
    let (_, page) = html(&consumer, app.url(&page_path)).await;
    assert!(page.contains("Reply from the provider: ") && page.contains("Thank you!"), "{page}");
    let (status, body) = hydrated_post(&app, &app.client, "reply_to_review", &reply).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Someone else than the provider cannot reply.
    let (status, _) = hydrated_post(&app, &consumer, "reply_to_review", &reply).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
