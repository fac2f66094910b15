//! The one error shape: malformed bodies, wrong content types, oversized bodies, unknown
//! routes, wrong methods and cross-origin writes all answer `{"error": {code, message}}`.
use reqwest::StatusCode;
use serde_json::Value;
use web4_tests::{PASSWORD, error_of, spawn_app};

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;

    let response =
        app.post_body("/api/v1/auth/signup", "application/json", "{\"email\": \"a@example.com\", ").await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_of(response).await.0, "malformed_json");
}

#[tokio::test]
async fn json_with_missing_fields_is_422() {
    let app = spawn_app().await;

    let response =
        app.post_json("/api/v1/auth/signup", &serde_json::json!({ "email": "a@example.com" })).await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (code, message) = error_of(response).await;
    assert_eq!(code, "validation_failed");
    assert!(message.contains("password"), "{message}");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;

    let response = app.post_body("/api/v1/auth/login", "text/plain", "email=a@example.com").await;

    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_of(response).await.0, "unsupported_media_type");
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let app = spawn_app().await;
    let huge = format!("{{\"email\": \"a@example.com\", \"password\": \"{}\"}}", "x".repeat(100 * 1024));

    let response = app.post_body("/api/v1/auth/signup", "application/json", huge).await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_of(response).await.0, "payload_too_large");
}

#[tokio::test]
async fn an_unknown_api_route_is_404_in_the_error_shape() {
    let app = spawn_app().await;

    let response = app.get("/api/v1/no-such-thing").await;

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_of(response).await.0, "not_found");
}

#[tokio::test]
async fn a_wrong_method_is_405_in_the_error_shape() {
    let app = spawn_app().await;

    let response = app.get("/api/v1/auth/login").await;

    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_of(response).await.0, "method_not_allowed");
}

#[tokio::test]
async fn a_cross_origin_write_is_refused_with_403() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/v1/auth/signup"))
        .header("origin", "https://evil.example")
        .json(&serde_json::json!({ "email": "a@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_of(response).await.0, "cross_origin_request");
    assert!(app.query_strings("SELECT email FROM accounts").await.is_empty());
}

#[tokio::test]
async fn a_same_origin_write_passes_the_origin_check() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/v1/auth/signup"))
        .header("origin", format!("http://{}", app.address))
        .json(&serde_json::json!({ "email": "a@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn health_and_readiness_answer_json() {
    let app = spawn_app().await;

    let health: Value = app.get("/healthz").await.json().await.unwrap();
    let ready = app.get("/readyz").await;

    assert_eq!(health["status"], "ok");
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["database"], "ok");
}

#[tokio::test]
async fn readiness_is_503_in_the_error_shape_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.db.clone().close().await.unwrap();

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_of(response).await.0, "not_ready");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;

    let response = app.get("/healthz").await;

    let id = response.headers().get("x-request-id").expect("x-request-id").to_str().unwrap();
    assert_eq!(id.len(), 36, "{id}");
}

/// A stored value the code cannot read is a fault (500, logged), never a silent default: an
/// unknown status, a settings document of the wrong shape and an unknown role each fail the
/// read instead of being shown as something they are not.
#[tokio::test]
async fn an_unreadable_stored_value_is_an_internal_error_not_a_default() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let upstream = web4_tests::upstream::Upstream::start().await;
    app.sign_up("ada@example.com", PASSWORD).await;
    let service = web4_tests::fixtures::register(
        &app,
        &app.client,
        web4_tests::fixtures::http_service("echo", &upstream, serde_json::json!({})),
    )
    .await;
    let path = format!("/api/v1/services/{}", service["id"].as_str().unwrap());
    assert_eq!(app.get(&path).await.status(), StatusCode::OK);

    for (corrupt, restore) in [
        ("UPDATE services SET status = 'paused'", "UPDATE services SET status = 'active'"),
        ("UPDATE services SET settings = '[1, 2]'", ""),
    ] {
        let before = app.query_strings("SELECT settings FROM services").await.remove(0);
        app.db.execute_unprepared(corrupt).await.unwrap();
        let response = app.get(&path).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "{corrupt}");
        assert_eq!(error_of(response).await.0, "internal");
        let restore = if restore.is_empty() {
            format!("UPDATE services SET settings = '{}'", before.replace('\'', "''"))
        } else {
            restore.to_owned()
        };
        app.db.execute_unprepared(&restore).await.unwrap();
        assert_eq!(app.get(&path).await.status(), StatusCode::OK, "restored after {corrupt}");
    }

    // A node's kind and trust level are typed columns too (the first account is the operator).
    assert_eq!(app.get("/api/v1/nodes").await.status(), StatusCode::OK);
    for column in ["kind", "trust_level"] {
        let one = "WHERE id = (SELECT MIN(id) FROM nodes)";
        let before = app.query_strings(&format!("SELECT {column} FROM nodes {one}")).await.remove(0);
        app.db.execute_unprepared(&format!("UPDATE nodes SET {column} = 'sort_of' {one}")).await.unwrap();
        let response = app.get("/api/v1/nodes").await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "{column}");
        assert_eq!(error_of(response).await.0, "internal");
        app.db.execute_unprepared(&format!("UPDATE nodes SET {column} = '{before}' {one}")).await.unwrap();
        assert_eq!(app.get("/api/v1/nodes").await.status(), StatusCode::OK, "restored {column}");
    }

    app.db.execute_unprepared("UPDATE accounts SET role = 'root'").await.unwrap();
    assert_eq!(app.me().await.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
