//! The marketplace end to end: a provider lists a service with plans and publishes it; a
//! consumer finds it, subscribes and calls it with their own key, billed at the plan's price;
//! quotas and spending caps hold under concurrent calls; cancelling or suspending refuses the
//! next call; nothing of one account is visible to another.
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use web4_tests::{
    TestApp, error_of,
    fixtures::{api_key, bearer, routable, second_account},
    spawn_app, spawn_app_with, unlimited,
    upstream::Upstream,
};

async fn send(request: reqwest::RequestBuilder, expected: StatusCode) -> Value {
    let response = request.send().await.unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, expected, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// A published listing of a routable service of the app's (first) account, with `plans`.
pub(crate) async fn published(app: &TestApp, upstream: &Upstream, plans: &[Value]) -> (Value, Vec<Value>) {
    app.sign_up_operator().await;
    let service = routable(app, "weather", upstream).await;
    let listing = send(
        app.client.post(app.url("/api/v1/listings")).json(&json!({
            "service_id": service,
            "title": "Weather Oracle",
            "summary": "Hourly forecasts for any city",
            "description": "Forecasts computed from **barometric** readings.\n\n<script>alert(1)</script>",
            "category": "weather",
            "tags": ["forecast", "climate"],
        })),
        StatusCode::CREATED,
    )
    .await;
    let id = listing["id"].as_str().unwrap();
    let mut created = Vec::new();
    for plan in plans {
        let made = send(
            app.client.post(app.url(&format!("/api/v1/listings/{id}/plans"))).json(plan),
            StatusCode::CREATED,
        )
        .await;
        created.push(made);
    }
    let listing =
        send(app.client.post(app.url(&format!("/api/v1/listings/{id}/publish"))), StatusCode::OK).await;
    assert_eq!(listing["status"], "published");
    (listing, created)
}

/// A second account with a key (every scope); returns its session client and bearer client.
async fn consumer(app: &TestApp, email: &str) -> (Client, Client) {
    let session = second_account(app, email).await;
    let (_, secret) = api_key(app, &session, &["read", "write", "invoke"]).await;
    (session, bearer(&secret))
}

#[tokio::test]
async fn a_consumer_finds_subscribes_calls_at_the_plans_price_and_cancelling_refuses_the_next_call() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (listing, plans) = published(
        &app,
        &upstream,
        &[
            json!({ "name": "Free", "free_calls_per_month": 100 }),
            json!({ "name": "Pro", "price_per_call_micros": 10_000, "quota_per_month": 1000 }),
        ],
    )
    .await;
    assert!(!listing["description_html"].as_str().unwrap().contains("<script"), "{listing}");
    assert!(listing["description_html"].as_str().unwrap().contains("<strong>barometric</strong>"));
    // Publishing needed a passing health check: the mesh has measured the service up ever since.
    assert_eq!(listing["stats"]["uptime_permille"], 1000, "{listing}");
    let (session, key) = consumer(&app, "bo@example.com").await;

    // Public search, no account: a word from the description finds it.
    let found = send(Client::new().get(app.url("/api/v1/listings?q=barometric")), StatusCode::OK).await;
    assert_eq!(found["items"][0]["id"], listing["id"], "{found}");
    assert_eq!(found["items"][0]["has_free_plan"], true);

    // Before subscribing: 403 naming the listing.
    let path = format!("/api/v1/invoke/{}/forecast", listing["invoke_path"].as_str().unwrap());
    let refused = key.get(app.url(&path)).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let (code, message) = error_of(refused).await;
    assert_eq!(code, "not_subscribed");
    assert!(message.contains("Weather Oracle"), "{message}");

    let pro = plans[1]["plan"]["id"].as_str().unwrap();
    let subscription = send(
        key.post(app.url("/api/v1/subscriptions")).json(&json!({ "plan_id": pro })),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(subscription["status"], "active");
    for _ in 0..3 {
        let ok = key.get(app.url(&path)).send().await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.headers()["x-web4-quota-limit"], "1000");
    }
    let last = key.get(app.url(&path)).send().await.unwrap();
    assert_eq!(last.headers()["x-web4-quota-remaining"], "996");

    // The consumer's bill: 4 calls at 1 cent on the Pro plan; the provider earns them less the fee.
    let preview = send(session.get(app.url("/api/v1/billing/preview")), StatusCode::OK).await;
    assert_eq!(preview["total_minor"], 4, "{preview}");
    assert_eq!(preview["lines"][0]["plan_id"], pro);
    assert!(preview["lines"][0]["description"].as_str().unwrap().starts_with("Pro plan"));
    let earnings = send(app.client.get(app.url("/api/v1/earnings")), StatusCode::OK).await;
    let line = &earnings["lines"][0];
    assert_eq!(line["billed_minor"], 4, "{earnings}");
    assert_eq!(line["fee_minor"].as_i64().unwrap() + line["net_minor"].as_i64().unwrap(), 4);

    // Usage against the quota, for the consumer; the subscriber list, for the provider.
    let mine = send(key.get(app.url("/api/v1/subscriptions")), StatusCode::OK).await;
    assert_eq!(mine[0]["usage"]["calls"], 4, "{mine}");
    assert_eq!(mine[0]["usage"]["spent_minor"], 4);
    assert_eq!(mine[0]["usage"]["alert_percent"], Value::Null, "4 of 1000 calls: no alert");
    let subscribers = send(
        app.client.get(app.url(&format!("/api/v1/listings/{}/subscribers", listing["id"].as_str().unwrap()))),
        StatusCode::OK,
    )
    .await;
    assert_eq!(subscribers.as_array().unwrap().len(), 1);
    // Who calls: the provider sees the subscriber's email and when they last called.
    assert_eq!(subscribers[0]["consumer_email"], "bo@example.com", "{subscribers}");
    assert!(subscribers[0]["usage"]["last_called_at"].is_string(), "{subscribers}");

    // Calls per day, for both parties of the subscription and nobody else.
    let id = subscription["id"].as_str().unwrap();
    let activity_url = app.url(&format!("/api/v1/subscriptions/{id}/usage"));
    for client in [&key, &app.client] {
        let activity = send(client.get(&activity_url), StatusCode::OK).await;
        assert_eq!(activity["total_calls"], 4, "{activity}");
        assert_eq!(activity["days"][0]["calls"], 4, "{activity}");
        assert_eq!(activity["days"][0]["errors"], 0, "{activity}");
        assert_eq!(activity["to"].as_str(), Some(chrono::Utc::now().date_naive().to_string().as_str()));
    }
    let (_, stranger) = consumer(&app, "eve@example.com").await;
    let hidden = stranger.get(&activity_url).send().await.unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);

    // Cancel: the very next call is refused.
    let cancelled = send(key.delete(app.url(&format!("/api/v1/subscriptions/{id}"))), StatusCode::OK).await;
    assert_eq!(cancelled["status"], "cancelled");
    let after = key.get(app.url(&path)).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn sixty_four_concurrent_calls_never_pass_a_hard_quota_or_a_spending_cap() {
    let app = spawn_app_with(unlimited).await;
    let upstream = Upstream::start().await;
    let (listing, plans) = published(
        &app,
        &upstream,
        &[
            json!({ "name": "Capped", "quota_per_month": 10 }),
            json!({ "name": "Paid", "price_per_call_micros": 10_000 }),
        ],
    )
    .await;
    let path = format!("/api/v1/invoke/{}/forecast", listing["invoke_path"].as_str().unwrap());
    let burst = |client: Arc<Client>| {
        let url = app.url(&path);
        async move {
            let calls = (0..64).map(|_| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
            });
            futures::future::join_all(calls).await.into_iter().map(|s| s.unwrap()).collect::<Vec<_>>()
        }
    };
    let ok = |statuses: &[StatusCode]| statuses.iter().filter(|s| **s == StatusCode::OK).count();

    // Hard quota of 10.
    let (_, quota_key) = consumer(&app, "quota@example.com").await;
    let quota_key = Arc::new(quota_key);
    let capped = plans[0]["plan"]["id"].as_str().unwrap();
    send(
        quota_key.post(app.url("/api/v1/subscriptions")).json(&json!({ "plan_id": capped })),
        StatusCode::CREATED,
    )
    .await;
    let statuses = burst(quota_key.clone()).await;
    assert!(ok(&statuses) <= 10, "{statuses:?}");
    let mut served = ok(&statuses);
    loop {
        let response = quota_key.get(app.url(&path)).send().await.unwrap();
        if response.status() == StatusCode::OK {
            served += 1;
            continue;
        }
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(response.headers().contains_key("retry-after"));
        assert_eq!(error_of(response).await.0, "quota_exhausted");
        break;
    }
    assert_eq!(served, 10, "exactly the quota is served");

    // A spending cap of 5 cents at 1 cent a call.
    let (session, cap_key) = consumer(&app, "cap@example.com").await;
    let cap_key = Arc::new(cap_key);
    let paid = plans[1]["plan"]["id"].as_str().unwrap();
    send(
        cap_key
            .post(app.url("/api/v1/subscriptions"))
            .json(&json!({ "plan_id": paid, "spending_cap_minor": 5 })),
        StatusCode::CREATED,
    )
    .await;
    let statuses = burst(cap_key.clone()).await;
    assert!(ok(&statuses) <= 5, "{statuses:?}");
    let mut served = ok(&statuses);
    loop {
        let response = cap_key.get(app.url(&path)).send().await.unwrap();
        if response.status() == StatusCode::OK {
            served += 1;
            continue;
        }
        assert_eq!(response.status(), StatusCode::PAYMENT_REQUIRED);
        assert_eq!(error_of(response).await.0, "spending_cap_reached");
        break;
    }
    assert_eq!(served, 5);
    let preview = send(session.get(app.url("/api/v1/billing/preview")), StatusCode::OK).await;
    assert_eq!(preview["total_minor"], 5, "never a cent over: {preview}");
}

#[tokio::test]
async fn private_plans_suspension_deprecation_and_strangers() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (listing, plans) = published(
        &app,
        &upstream,
        &[json!({ "name": "Open" }), json!({ "name": "Partners", "visibility": "private" })],
    )
    .await;
    let listing_id = listing["id"].as_str().unwrap();
    let invitation = plans[1]["invitation"].as_str().unwrap();
    assert!(invitation.starts_with("w4i_"));
    let private = plans[1]["plan"]["id"].as_str().unwrap();
    let public_view =
        send(Client::new().get(app.url(&format!("/api/v1/listings/{listing_id}"))), StatusCode::OK).await;
    assert_eq!(public_view["plans"].as_array().unwrap().len(), 1, "a private plan is not shown");

    // Whoever holds the invitation link may read the plan's terms, with no account; a wrong or
    // missing invitation, or the plan asked for under another listing, is told exactly like a
    // plan that does not exist.
    let terms_of = |listing: &str, query: &str| {
        Client::new().get(app.url(&format!("/api/v1/listings/{listing}/plans/{query}")))
    };
    let terms =
        send(terms_of(listing_id, &format!("{private}?invitation={invitation}")), StatusCode::OK).await;
    assert_eq!((terms["name"].as_str(), terms["visibility"].as_str()), (Some("Partners"), Some("private")));
    let elsewhere = "0192aaaa-0000-7000-8000-000000000000";
    for (listing, query) in [
        (listing_id, format!("{private}?invitation=w4i_guess")),
        (listing_id, private.to_owned()),
        (listing_id, format!("{elsewhere}?invitation={invitation}")),
        (elsewhere, format!("{private}?invitation={invitation}")),
    ] {
        let response = terms_of(listing, &query).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{listing} {query}");
        assert_eq!(error_of(response).await.1, "No such plan.");
    }

    // A wrong or missing invitation is told exactly like a plan that does not exist.
    let (_, key) = consumer(&app, "partner@example.com").await;
    for body in [
        json!({ "plan_id": private }),
        json!({ "plan_id": private, "invitation": "w4i_guess" }),
        json!({ "plan_id": "0192aaaa-0000-7000-8000-000000000000" }),
    ] {
        let response = key.post(app.url("/api/v1/subscriptions")).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{body}");
        assert_eq!(error_of(response).await.1, "No such plan.");
    }
    let subscription = send(
        key.post(app.url("/api/v1/subscriptions"))
            .json(&json!({ "plan_id": private, "invitation": invitation })),
        StatusCode::CREATED,
    )
    .await;
    let again =
        key.post(app.url("/api/v1/subscriptions")).json(&json!({ "plan_id": plans[0]["plan"]["id"] }));
    assert_eq!(error_of(again.send().await.unwrap()).await.0, "already_subscribed");

    // The provider suspends: the next call is refused; resumed, it is served again.
    let path = format!("/api/v1/invoke/{}/forecast", listing["invoke_path"].as_str().unwrap());
    assert_eq!(key.get(app.url(&path)).send().await.unwrap().status(), StatusCode::OK);
    let id = subscription["id"].as_str().unwrap();
    send(app.client.post(app.url(&format!("/api/v1/subscriptions/{id}/suspend"))), StatusCode::OK).await;
    let refused = key.get(app.url(&path)).send().await.unwrap();
    assert_eq!(error_of(refused).await.0, "subscription_suspended");
    send(app.client.post(app.url(&format!("/api/v1/subscriptions/{id}/resume"))), StatusCode::OK).await;
    assert_eq!(key.get(app.url(&path)).send().await.unwrap().status(), StatusCode::OK);

    // Another account sees none of it: not the subscription, not the subscribers, not the
    // provider's listing to change, and cannot act on the subscription.
    let (stranger_session, stranger) = consumer(&app, "eve@example.com").await;
    for path in [format!("/api/v1/subscriptions/{id}"), format!("/api/v1/listings/{listing_id}/subscribers")]
    {
        assert_eq!(
            stranger.get(app.url(&path)).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let patch =
        stranger.patch(app.url(&format!("/api/v1/listings/{listing_id}"))).json(&json!({ "title": "Mine" }));
    assert_eq!(patch.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let act = stranger.post(app.url(&format!("/api/v1/subscriptions/{id}/suspend")));
    assert_eq!(act.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let cancel = stranger.delete(app.url(&format!("/api/v1/subscriptions/{id}")));
    assert_eq!(cancel.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let mine = send(stranger_session.get(app.url("/api/v1/subscriptions")), StatusCode::OK).await;
    assert_eq!(mine, json!([]));
    let theirs = send(stranger.get(app.url("/api/v1/listings/mine")), StatusCode::OK).await;
    assert_eq!(theirs, json!([]));
    // Nor list someone else's service as their own.
    let steal = stranger.post(app.url("/api/v1/listings")).json(&json!({
        "service_id": listing["service_id"], "title": "Stolen", "summary": "Mine now", "category": "other",
    }));
    assert_eq!(steal.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let plan_on_theirs = stranger
        .post(app.url(&format!("/api/v1/listings/{listing_id}/plans")))
        .json(&json!({ "name": "Evil" }));
    assert_eq!(plan_on_theirs.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let publish = stranger.post(app.url(&format!("/api/v1/listings/{listing_id}/unpublish")));
    assert_eq!(publish.send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // Deprecated: no new subscriptions, the existing one keeps working.
    let sunset = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    send(
        app.client
            .post(app.url(&format!("/api/v1/listings/{listing_id}/deprecate")))
            .json(&json!({ "sunset_at": sunset })),
        StatusCode::OK,
    )
    .await;
    let late =
        stranger.post(app.url("/api/v1/subscriptions")).json(&json!({ "plan_id": plans[0]["plan"]["id"] }));
    assert_eq!(error_of(late.send().await.unwrap()).await.0, "listing_not_open");
    let still = key.get(app.url(&path)).send().await.unwrap();
    assert_eq!(still.status(), StatusCode::OK);
    assert!(still.headers()["sunset"].to_str().unwrap().ends_with("GMT"), "callers are told the sunset");
    // And their subscription says so, for the portal to show.
    let mine = send(key.get(app.url("/api/v1/subscriptions")), StatusCode::OK).await;
    let live = mine.as_array().unwrap().iter().find(|s| s["status"] == "active").unwrap();
    assert_eq!(live["listing_status"], "deprecated", "{mine}");
    assert!(live["sunset_at"].is_string(), "{mine}");
}

#[tokio::test]
async fn drafts_are_private_publishing_needs_a_plan_and_search_text_is_never_syntax() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    app.sign_up_operator().await;
    let service = routable(&app, "geo", &upstream).await;
    let draft = send(
        app.client.post(app.url("/api/v1/listings")).json(&json!({
            "service_id": service, "title": "Geocoder", "summary": "Addresses to coordinates",
            "category": "location", "tags": ["maps"],
        })),
        StatusCode::CREATED,
    )
    .await;
    let id = draft["id"].as_str().unwrap();
    assert_eq!(
        Client::new().get(app.url(&format!("/api/v1/listings/{id}"))).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let early = app.client.post(app.url(&format!("/api/v1/listings/{id}/publish"))).send().await.unwrap();
    assert_eq!(error_of(early).await.0, "listing_not_ready");
    let again = app.client.post(app.url("/api/v1/listings")).json(&json!({
        "service_id": service, "title": "Geocoder 2", "summary": "Again", "category": "location",
    }));
    assert_eq!(error_of(again.send().await.unwrap()).await.0, "listing_exists");
    let invalid = app.client.post(app.url("/api/v1/listings")).json(&json!({
        "service_id": service, "title": "x", "summary": "", "category": "location", "openapi": "nope",
    }));
    let invalid = invalid.send().await.unwrap();
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let details: Value = invalid.json().await.unwrap();
    for field in ["title", "summary", "openapi"] {
        assert!(details["error"]["details"][field].is_string(), "{field}: {details}");
    }

    send(
        app.client.post(app.url(&format!("/api/v1/listings/{id}/plans"))).json(&json!({ "name": "Free" })),
        StatusCode::CREATED,
    )
    .await;
    send(app.client.post(app.url(&format!("/api/v1/listings/{id}/publish"))), StatusCode::OK).await;
    for q in ["\"", "NEAR(a b)", "*", "-geo", "geo*", "a OR b", "\"unbalanced", "col:geo", "(", "🙂", "^"] {
        let url = app.url("/api/v1/listings");
        let response = Client::new().get(url).query(&[("q", q)]).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{q}");
    }
    let by_tag =
        send(Client::new().get(app.url("/api/v1/listings?tag=maps&category=location")), StatusCode::OK).await;
    assert_eq!(by_tag["items"].as_array().unwrap().len(), 1);
    let prefix = send(Client::new().get(app.url("/api/v1/listings?q=geoc")), StatusCode::OK).await;
    assert_eq!(prefix["items"][0]["id"], draft["id"], "the last word matches as a prefix");
    let none = send(Client::new().get(app.url("/api/v1/listings?category=weather")), StatusCode::OK).await;
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn a_plan_change_keeps_the_key_continues_the_month_and_the_cap_follows_the_bill() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (listing, plans) = published(
        &app,
        &upstream,
        &[
            json!({ "name": "Starter", "free_calls_per_month": 3, "price_per_call_micros": 10_000 }),
            json!({ "name": "Scale", "price_per_call_micros": 5_000 }),
        ],
    )
    .await;
    let (session, key) = consumer(&app, "grow@example.com").await;
    let path = format!("/api/v1/invoke/{}/forecast", listing["invoke_path"].as_str().unwrap());
    let starter = plans[0]["plan"]["id"].as_str().unwrap();
    let scale = plans[1]["plan"]["id"].as_str().unwrap();
    let subscription = send(
        key.post(app.url("/api/v1/subscriptions")).json(&json!({ "plan_id": starter })),
        StatusCode::CREATED,
    )
    .await;
    let id = subscription["id"].as_str().unwrap();
    for _ in 0..5 {
        assert_eq!(key.get(app.url(&path)).send().await.unwrap().status(), StatusCode::OK);
    }
    // Starter: 3 free + 2 × 1 ¢. Change plan; the same key keeps working.
    let changed = send(
        key.patch(app.url(&format!("/api/v1/subscriptions/{id}"))).json(&json!({ "plan_id": scale })),
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["plan"]["name"], "Scale");
    for _ in 0..4 {
        assert_eq!(key.get(app.url(&path)).send().await.unwrap().status(), StatusCode::OK);
    }
    // Scale: 4 × 0.5 ¢ = 2 ¢. A cap of 4 ¢: a 5th Scale call bills 2.5 ¢ → 2 ¢ (half to even),
    // so it fits; a 6th (3 ¢) would pass the cap.
    let capped = send(
        key.patch(app.url(&format!("/api/v1/subscriptions/{id}"))).json(&json!({ "spending_cap_minor": 4 })),
        StatusCode::OK,
    )
    .await;
    assert_eq!(capped["usage"]["spent_minor"], 4, "{capped}");
    assert_eq!(capped["usage"]["alert_percent"], 100, "the whole cap is used");
    assert_eq!(key.get(app.url(&path)).send().await.unwrap().status(), StatusCode::OK);
    let refused = key.get(app.url(&path)).send().await.unwrap();
    assert_eq!(error_of(refused).await.0, "spending_cap_reached");
    let preview = send(session.get(app.url("/api/v1/billing/preview")), StatusCode::OK).await;
    assert_eq!(preview["total_minor"], 4, "the cap and the bill agree: {preview}");
    let lines: Vec<&str> =
        preview["lines"].as_array().unwrap().iter().map(|l| l["description"].as_str().unwrap()).collect();
    assert!(
        lines[0].starts_with("Starter plan") && lines.last().unwrap().starts_with("Scale plan"),
        "{lines:?}"
    );
    // A private plan or another listing's plan cannot be switched to.
    let other = key
        .patch(app.url(&format!("/api/v1/subscriptions/{id}")))
        .json(&json!({ "plan_id": "0192aaaa-0000-7000-8000-000000000000" }));
    assert_eq!(other.send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_callers_review_averages_are_exact_and_the_provider_replies_once() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (listing, plans) = published(&app, &upstream, &[json!({ "name": "Free" })]).await;
    let id = listing["id"].as_str().unwrap();
    let plan = plans[0]["plan"]["id"].as_str().unwrap();
    let path = format!("/api/v1/invoke/{}/forecast", listing["invoke_path"].as_str().unwrap());
    let reviews = app.url(&format!("/api/v1/listings/{id}/reviews"));

    // Subscribed but never called, or never subscribed: refused.
    let (_, idle) = consumer(&app, "idle@example.com").await;
    send(idle.post(app.url("/api/v1/subscriptions")).json(&json!({ "plan_id": plan })), StatusCode::CREATED)
        .await;
    let refused = idle.post(&reviews).json(&json!({ "rating": 5, "body": "great" })).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_of(refused).await.0, "review_not_verified");
    let own = app.client.post(&reviews).json(&json!({ "rating": 5 })).send().await.unwrap();
    assert_eq!(error_of(own).await.0, "own_listing");

    // Three callers rate 5, 4 and 4: 4.33… shows as 4.3; one changes theirs to 5: 4.67… → 4.7.
    let mut keys = Vec::new();
    for (email, rating) in [("a@example.com", 5), ("b@example.com", 4), ("c@example.com", 4)] {
        let (_, key) = consumer(&app, email).await;
        send(
            key.post(app.url("/api/v1/subscriptions")).json(&json!({ "plan_id": plan })),
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(key.get(app.url(&path)).send().await.unwrap().status(), StatusCode::OK);
        send(key.post(&reviews).json(&json!({ "rating": rating, "body": "works" })), StatusCode::OK).await;
        keys.push(key);
    }
    let page = send(Client::new().get(app.url(&format!("/api/v1/listings/{id}"))), StatusCode::OK).await;
    assert_eq!(
        (page["stats"]["reviews"].clone(), page["stats"]["rating_tenths"].clone()),
        (json!(3), json!(43))
    );
    let changed =
        send(keys[1].post(&reviews).json(&json!({ "rating": 5, "body": "better now" })), StatusCode::OK)
            .await;
    let page = send(Client::new().get(app.url(&format!("/api/v1/listings/{id}"))), StatusCode::OK).await;
    assert_eq!(page["stats"]["rating_tenths"], 47, "one review per subscriber, editable");
    let bad = keys[0].post(&reviews).json(&json!({ "rating": 6 })).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The provider replies once; nobody else may.
    let review = changed["id"].as_str().unwrap();
    let reply = app.url(&format!("/api/v1/reviews/{review}/reply"));
    let stranger = keys[2].post(&reply).json(&json!({ "body": "hijack" })).send().await.unwrap();
    assert_eq!(stranger.status(), StatusCode::NOT_FOUND);
    let replied = send(app.client.post(&reply).json(&json!({ "body": "Thank you!" })), StatusCode::OK).await;
    assert_eq!(replied["reply"], "Thank you!");
    let twice = app.client.post(&reply).json(&json!({ "body": "again" })).send().await.unwrap();
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    let listed = send(Client::new().get(&reviews), StatusCode::OK).await;
    assert_eq!(listed.as_array().unwrap().len(), 3);
    let best = send(Client::new().get(app.url("/api/v1/listings?sort=best_rated")), StatusCode::OK).await;
    assert_eq!(best["items"][0]["rating_tenths"], 47);
}

#[tokio::test]
async fn a_plans_rate_limit_holds_per_subscription() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (listing, plans) =
        published(&app, &upstream, &[json!({ "name": "Slow", "rate_per_minute": 3 })]).await;
    assert_eq!(plans[0]["plan"]["rate_per_minute"], 3);
    let path = format!("/api/v1/invoke/{}/forecast", listing["invoke_path"].as_str().unwrap());
    let plan = plans[0]["plan"]["id"].as_str().unwrap();
    let (_, key) = consumer(&app, "slow@example.com").await;
    send(key.post(app.url("/api/v1/subscriptions")).json(&json!({ "plan_id": plan })), StatusCode::CREATED)
        .await;
    for _ in 0..3 {
        assert_eq!(key.get(app.url(&path)).send().await.unwrap().status(), StatusCode::OK);
    }
    let limited = key.get(app.url(&path)).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(error_of(limited).await.0, "rate_limited");
    // Another subscriber has their own budget.
    let (_, other) = consumer(&app, "other@example.com").await;
    send(other.post(app.url("/api/v1/subscriptions")).json(&json!({ "plan_id": plan })), StatusCode::CREATED)
        .await;
    assert_eq!(other.get(app.url(&path)).send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn browse_filters_by_free_plan_and_price_and_sorts_by_price_and_subscribers() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    app.sign_up_operator().await;
    let mut ids = Vec::new();
    for (slug, micros) in [("cheap", 1_000), ("dear", 50_000), ("gratis", 0)] {
        let service = routable(&app, slug, &upstream).await;
        let listing = send(
            app.client.post(app.url("/api/v1/listings")).json(&json!({
                "service_id": service, "title": format!("{slug} data"), "summary": "Data", "category": "data",
            })),
            StatusCode::CREATED,
        )
        .await;
        let id = listing["id"].as_str().unwrap().to_owned();
        let plan = json!({ "name": "Only", "price_per_call_micros": micros });
        let plan = send(
            app.client.post(app.url(&format!("/api/v1/listings/{id}/plans"))).json(&plan),
            StatusCode::CREATED,
        )
        .await;
        send(app.client.post(app.url(&format!("/api/v1/listings/{id}/publish"))), StatusCode::OK).await;
        ids.push((id, plan["plan"]["id"].as_str().unwrap().to_owned()));
    }
    let titles = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_owned()).collect()
    };
    let get = |query: &'static str| {
        let url = app.url(&format!("/api/v1/listings?{query}"));
        async move { send(Client::new().get(url), StatusCode::OK).await }
    };
    assert_eq!(titles(&get("free=true").await), ["gratis data"]);
    let mut affordable = titles(&get("max_price_micros=1000").await);
    affordable.sort();
    assert_eq!(affordable, ["cheap data", "gratis data"]);
    assert_eq!(titles(&get("sort=cheapest").await), ["gratis data", "cheap data", "dear data"]);
    // Two subscribers for "dear", one for "cheap": most subscribed first.
    for (email, which) in [("s1@example.com", 1), ("s2@example.com", 1), ("s3@example.com", 0)] {
        let (_, key) = consumer(&app, email).await;
        let plan = &ids[which].1;
        send(
            key.post(app.url("/api/v1/subscriptions")).json(&json!({ "plan_id": plan })),
            StatusCode::CREATED,
        )
        .await;
    }
    let most = get("sort=most_subscribed").await;
    assert_eq!(titles(&most), ["dear data", "cheap data", "gratis data"]);
    assert_eq!(most["items"][0]["subscribers"], 2);
    // Pages of one: three pages, then none.
    let first = get("limit=1&sort=cheapest").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = send(
        Client::new().get(app.url(&format!("/api/v1/listings?limit=1&sort=cheapest&cursor={cursor}"))),
        StatusCode::OK,
    )
    .await;
    assert_eq!(titles(&second), ["cheap data"]);
    let bad = Client::new().get(app.url("/api/v1/listings?cursor=x")).send().await.unwrap();
    assert_eq!(error_of(bad).await.0, "bad_cursor");
}

#[tokio::test]
async fn a_stranger_searching_too_fast_is_told_when_to_come_back() {
    let app = spawn_app_with(|config| {
        config.rate_limits.search = server::ratelimit::Limit { per_second: 1, burst: 3 };
    })
    .await;
    let stranger = Client::new();
    for _ in 0..3 {
        send(stranger.get(app.url("/api/v1/listings?q=weather")), StatusCode::OK).await;
    }
    let refused = stranger.get(app.url("/api/v1/listings?q=weather")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"), "{:?}", refused.headers());
    let (code, message) = error_of(refused).await;
    assert_eq!(code, "rate_limited");
    assert!(message.contains("Try again in"), "{message}");
    // The portal's browse page draws from the same budget and says so instead of failing.
    let page = stranger.get(app.url("/marketplace?q=weather")).send().await.unwrap();
    let status = page.status();
    let html = page.text().await.unwrap();
    assert!(status.is_success() || status == StatusCode::TOO_MANY_REQUESTS, "{status}");
    assert!(html.contains("Too many searches from this address"), "{html}");
}

#[tokio::test]
async fn a_listing_shows_the_uptime_the_mesh_measured() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (listing, _) = published(&app, &upstream, &[json!({ "name": "Free" })]).await;
    // Publishing needed a passing check; on a loaded machine an earlier one may have timed out.
    let before = listing["stats"]["uptime_permille"].as_i64().expect("an uptime once checked");
    assert!((1..=1000).contains(&before), "{listing}");
    let url = app.url(&format!("/api/v1/listings/{}", listing["id"].as_str().unwrap()));
    upstream.controls.unhealthy.store(true, std::sync::atomic::Ordering::SeqCst);
    web4_tests::eventually("failed checks lower the uptime", || async {
        let now = send(Client::new().get(&url), StatusCode::OK).await;
        now["stats"]["uptime_permille"].as_i64().is_some_and(|uptime| uptime < before)
    })
    .await;
}
