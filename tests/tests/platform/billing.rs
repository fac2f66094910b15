//! Pricing, invoices, exports, tracing and earnings through the real server.
use reqwest::{Client, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use web4_tests::{
    TestApp, error_of,
    fixtures::{api_key, healthy, http_service, register, second_account},
    spawn_app,
    upstream::Upstream,
};

async fn get_json(client: &Client, url: String) -> Value {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Calls the service `n` times with the key; returns the invoke ids in order.
async fn call(app: &TestApp, service: &str, secret: &str, n: usize) -> Vec<String> {
    let client = Client::new();
    let mut ids = Vec::new();
    for i in 0..n {
        let response = client
            .post(app.url(&format!("/api/v1/invoke/{service}/echo")))
            .bearer_auth(secret)
            .body(format!("call {i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        ids.push(response.headers()["x-web4-invoke-id"].to_str().unwrap().to_owned());
    }
    ids
}

fn summary(invoice: &Value) -> Vec<(String, i64, i64, i64)> {
    invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["description"].as_str().unwrap().to_owned(),
                l["quantity"].as_i64().unwrap(),
                l["unit_price_micros"].as_i64().unwrap(),
                l["amount_minor"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn free_calls_and_tiers_become_a_numbered_immutable_invoice_traceable_to_its_calls() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let pricing = json!({
        "free_calls_per_month": 3,
        "tiers": [
            { "up_to": 5, "price_per_call_micros": 10_000 },
            { "up_to": null, "price_per_call_micros": 5_000 },
        ],
    });
    let service = register(&app, &app.client, http_service("echo", &upstream, pricing)).await;
    assert_eq!(service["pricing"]["tiers"][1]["price_per_call_micros"], 5_000);
    let id = service["id"].as_str().unwrap().to_owned();
    healthy(&app, &id, 2).await;
    let (_, secret) = api_key(&app, &app.client, &["invoke"]).await;
    let ids = call(&app, &id, &secret, 12).await;

    // The draft: 3 free, 5 at $0.01, 4 at $0.005 = 7 cents.
    let preview = get_json(&app.client, app.url("/api/v1/billing/preview")).await;
    assert_eq!(preview["status"], "draft");
    assert_eq!(
        summary(&preview),
        [
            ("Free calls".into(), 3, 0, 0),
            ("Calls 1–5".into(), 5, 10_000, 5),
            ("Calls above 5".into(), 4, 5_000, 2),
        ]
    );
    assert_eq!((preview["total_calls"].as_i64(), preview["total_minor"].as_i64()), (Some(12), Some(7)));

    // A service with calls not yet invoiced cannot be deleted.
    let patch =
        app.client.patch(app.url(&format!("/api/v1/services/{id}"))).json(&json!({ "status": "inactive" }));
    assert_eq!(patch.send().await.unwrap().status(), StatusCode::OK);
    let delete = app.client.delete(app.url(&format!("/api/v1/services/{id}"))).send().await.unwrap();
    assert_eq!(delete.status(), StatusCode::CONFLICT);
    assert_eq!(error_of(delete).await.0, "unbilled_usage");
    let patch =
        app.client.patch(app.url(&format!("/api/v1/services/{id}"))).json(&json!({ "status": "active" }));
    assert_eq!(patch.send().await.unwrap().status(), StatusCode::OK);
    healthy(&app, &id, 2).await;

    // The operator closes the period: one numbered invoice, the draft is empty again.
    let made: Value = app
        .client
        .post(app.url("/api/v1/billing/finalize"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(made.as_array().unwrap().len(), 1);
    let invoice_id = made[0]["id"].as_str().unwrap().to_owned();
    let number = made[0]["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("W4-") && number.ends_with("-000001"), "{number}");
    let empty = get_json(&app.client, app.url("/api/v1/billing/preview")).await;
    assert_eq!(empty["lines"], json!([]));
    let listed = get_json(&app.client, app.url("/api/v1/invoices")).await;
    assert_eq!(listed["items"][0]["number"], number.as_str());
    let invoice = get_json(&app.client, app.url(&format!("/api/v1/invoices/{invoice_id}"))).await;
    assert_eq!(invoice["status"], "finalized");
    assert_eq!(summary(&invoice), summary(&preview));

    // Every line leads back to its calls, in the order they were priced.
    let events =
        get_json(&app.client, app.url(&format!("/api/v1/invoices/{invoice_id}/lines/2/events"))).await;
    let traced: Vec<&str> =
        events["items"].as_array().unwrap().iter().map(|e| e["invoke_id"].as_str().unwrap()).collect();
    assert_eq!(traced, ids[3..8].iter().map(String::as_str).collect::<Vec<_>>());
    let page =
        get_json(&app.client, app.url(&format!("/api/v1/invoices/{invoice_id}/lines/3/events?limit=3")))
            .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = get_json(
        &app.client,
        app.url(&format!("/api/v1/invoices/{invoice_id}/lines/3/events?cursor={cursor}")),
    )
    .await;
    assert_eq!(rest["items"][0]["invoke_id"], ids[11].as_str());
    assert_eq!(rest["next_cursor"], Value::Null);

    // Exports.
    let csv =
        app.client.get(app.url(&format!("/api/v1/invoices/{invoice_id}/export.csv"))).send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains(&format!("{number}.csv")));
    let csv = csv.text().await.unwrap();
    assert!(csv.contains(&format!("{number},")) && csv.contains(",Total,12,,0.07,USD"), "{csv}");
    let json_export =
        app.client.get(app.url(&format!("/api/v1/invoices/{invoice_id}/export.json"))).send().await.unwrap();
    assert!(json_export.headers()["content-disposition"].to_str().unwrap().contains(".json"));
    assert_eq!(json_export.json::<Value>().await.unwrap(), invoice);

    // Finalized means final, down to the database.
    for sql in [
        "UPDATE invoices SET total_minor = 0",
        "DELETE FROM invoice_lines",
        "UPDATE usage_events SET invoice_id = NULL",
    ] {
        let refused = app.db.execute_unprepared(sql).await;
        assert!(refused.is_err(), "{sql} was allowed");
    }

    // The provider's earnings: 7 cents billed, 20% fee rounded half to even (1.4 → 1).
    let earnings = get_json(&app.client, app.url("/api/v1/earnings")).await;
    assert_eq!(earnings["fee_bps"], 2_000);
    assert_eq!((earnings["billed_minor"].as_i64(), earnings["fee_minor"].as_i64()), (Some(7), Some(1)));
    assert_eq!(earnings["net_minor"], 6);

    // Later calls in the same month continue in the last tier; the month-end scheduler then
    // closes the month with a second invoice.
    call(&app, &id, &secret, 3).await;
    let preview = get_json(&app.client, app.url("/api/v1/billing/preview")).await;
    assert_eq!(summary(&preview), [("Calls above 5".into(), 3, 5_000, 2)], "1.5 cents rounds half to even");
    let next_month =
        server::billing::midnight(server::billing::next_month(server::billing::month_of(chrono::Utc::now())));
    let settings = server::billing::BillingSettings::default();
    let early = server::billing::finalize_due(&app.db, next_month, &settings).await.unwrap();
    assert!(early.is_empty(), "the grace period lets the month's last usage land");
    let due = server::billing::finalize_due(&app.db, next_month + chrono::Duration::minutes(2), &settings)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].total_calls, 3);
    assert_eq!(due[0].period_start, server::billing::month_of(chrono::Utc::now()));
    let listed = get_json(&app.client, app.url("/api/v1/invoices")).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);

    // Usage per day.
    let usage = get_json(&app.client, app.url("/api/v1/usage")).await;
    assert_eq!(usage["total_calls"], 15);
    assert_eq!(usage["days"][0]["service_slug"], "echo");
    let bad = app.client.get(app.url("/api/v1/usage?from=2026-02-01&to=2026-01-01")).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn another_account_gets_404_for_invoices_and_sees_none_of_the_usage() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let service = register(
        &app,
        &app.client,
        http_service("echo", &upstream, json!({ "price_per_call_micros": 1_000_000 })),
    )
    .await;
    let id = service["id"].as_str().unwrap().to_owned();
    healthy(&app, &id, 2).await;
    let (_, secret) = api_key(&app, &app.client, &["invoke"]).await;
    call(&app, &id, &secret, 2).await;
    let made: Value = app
        .client
        .post(app.url("/api/v1/billing/finalize"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let invoice = made[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(made[0]["total_minor"], 200);

    let b = second_account(&app, "b@example.com").await;
    for path in [
        format!("/api/v1/invoices/{invoice}"),
        format!("/api/v1/invoices/{invoice}/export.csv"),
        format!("/api/v1/invoices/{invoice}/export.json"),
        format!("/api/v1/invoices/{invoice}/lines/1/events"),
    ] {
        let response = b.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(get_json(&b, app.url("/api/v1/invoices")).await["items"], json!([]));
    assert_eq!(get_json(&b, app.url("/api/v1/usage")).await["total_calls"], 0);
    assert_eq!(get_json(&b, app.url("/api/v1/billing/preview")).await["lines"], json!([]));
    assert_eq!(get_json(&b, app.url("/api/v1/earnings")).await["billed_minor"], 0);
    // Only the operator may finalize.
    let response = b.post(app.url("/api/v1/billing/finalize")).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
