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
