//! Smaller defects a stranger could reach: each answered with a clear 4xx, never a panic or a
//! silent loss.
use reqwest::StatusCode;
use web4_tests::{error_of, spawn_app};

#[tokio::test]
async fn usage_at_the_ends_of_the_calendar_is_a_clear_400() {
    let app = spawn_app().await;
    app.sign_up("dev@example.com", web4_tests::PASSWORD).await;
    // The last day chrono knows (no day after it) and the first (no 29 days before it): both
    // panicked the handler.
    for query in ["to=%2B262142-12-31", "to=-262143-01-01"] {
        let response = app.client.get(app.url(&format!("/api/v1/usage?{query}"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(error_of(response).await.0, "bad_range");
    }
    let fine = app.client.get(app.url("/api/v1/usage?from=2026-01-01&to=2026-01-31")).send().await.unwrap();
    assert_eq!(fine.status(), StatusCode::OK);
}

#[tokio::test]
async fn bodies_must_be_json_objects_and_bad_paths_answer_in_the_one_error_shape() {
    use serde_json::json;
    let app = spawn_app().await;
    app.sign_up_operator().await;
    // serde takes an array for a struct (fields by position): the document says object.
    for (path, body) in [
        ("/api/v1/join-tokens", json!([])),
        ("/api/v1/keys", json!(["arr", ["read"]])),
        ("/api/v1/billing/finalize", json!([])),
        ("/api/v1/auth/login", json!(["operator@example.com", web4_tests::PASSWORD])),
    ] {
        let response = app.post_json(path, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(error_of(response).await.0, "malformed_json", "{path}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM join_tokens").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, 0);
    let (id, _) = app.mint_token(false).await;
    let revoke = app.post_json(&format!("/api/v1/join-tokens/{id}/revoke"), &json!([])).await;
    assert_eq!(revoke.status(), StatusCode::BAD_REQUEST);
    let revoke = app.post_json(&format!("/api/v1/join-tokens/{id}/revoke"), &json!(null)).await;
    assert_eq!(revoke.status(), StatusCode::OK, "the document allows null: no options");

    // A path number past i32, or a path that is not UTF-8: 400 in JSON, not text/plain.
    for path in [
        "/api/v1/invoices/0/lines/2147483648/events",
        "/api/v1/invoices/0/lines/abc/events",
        "/api/v1/services/%FF",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            response.headers()["content-type"].to_str().unwrap().starts_with("application/json"),
            "{path}"
        );
        assert_eq!(error_of(response).await.0, "bad_path", "{path}");
    }
}
