//! Billing cannot be bypassed by replaying ids.
use reqwest::StatusCode;
use web4_tests::{fixtures::routable, spawn_app, upstream::Upstream};

#[tokio::test]
async fn the_same_idempotency_key_on_calls_the_platform_does_not_replay_meters_each_call() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "paid", &upstream).await;
    let url = app.url(&format!("/api/v1/invoke/{id}/x"));

    // GET, PUT and DELETE are not replayed by the idempotency layer: each runs, each is billed.
    for method in [reqwest::Method::GET, reqwest::Method::GET, reqwest::Method::PUT, reqwest::Method::DELETE]
    {
        let response = app
            .invoker()
            .await
            .request(method, &url)
            .header("idempotency-key", "free-ride")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM usage_events").await, 4);
    assert_eq!(upstream.controls.calls.load(std::sync::atomic::Ordering::Relaxed), 4);

    // A POST is replayed (not run again) and billed once.
    for _ in 0..2 {
        let response =
            app.invoker().await.post(&url).header("idempotency-key", "once").body("x").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM usage_events").await, 5);
    assert_eq!(upstream.controls.calls.load(std::sync::atomic::Ordering::Relaxed), 5);
}

#[tokio::test]
async fn reusing_an_idempotency_key_after_its_record_expired_is_a_new_billed_call() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use server::db::entities::idempotency_records::{Column, Entity as Records};
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "paid", &upstream).await;
    let url = app.url(&format!("/api/v1/invoke/{id}/x"));
    let call = || async {
        let response =
            app.invoker().await.post(&url).header("idempotency-key", "daily").body("x").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.headers()["x-web4-invoke-id"].to_str().unwrap().to_owned()
    };
    let first = call().await;
    // A day later the record has expired (as the hourly purge would find it).
    Records::update_many()
        .col_expr(Column::CreatedAt, Expr::value(chrono::Utc::now() - chrono::Duration::hours(25)))
        .filter(Column::Key.eq("daily"))
        .exec(&app.db)
        .await
        .unwrap();
    let second = call().await;

    assert_ne!(first, second, "a new call gets a new invoke id");
    assert_eq!(upstream.controls.calls.load(std::sync::atomic::Ordering::Relaxed), 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM usage_events").await, 2, "and is billed");
}

#[tokio::test]
async fn the_meter_refuses_an_invoke_id_already_recorded_for_another_payer() {
    let app = spawn_app().await;
    let meter = server::metering::Meter::start(app.db.clone(), None);
    let event = |payer: &str| server::metering::UsageEvent {
        invoke_id: uuid::Uuid::from_u128(42),
        payer_account_id: payer.into(),
        service_id: "svc".into(),
        provider_account_id: "provider".into(),
        api_key_id: None,
        plan_id: None,
        calls: 1,
        bytes_in: 0,
        bytes_out: 0,
        duration_us: 1,
        status: 200,
        occurred_at: chrono::Utc::now(),
    };
    meter.record(event("victim")).await.unwrap();
    meter.record(event("victim")).await.expect("the same call again is a duplicate, not an error");
    let refused = meter.record(event("mallory")).await;

    assert!(matches!(refused, Err(server::metering::MeterError::Conflict(_))), "{refused:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM usage_events").await, 1);
}
