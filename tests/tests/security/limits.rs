//! Limits a stranger can reach without an account.
use reqwest::StatusCode;
use web4_tests::spawn_app;

#[tokio::test]
async fn an_oversized_form_post_to_a_server_function_is_refused_with_413() {
    let app = spawn_app().await;
    for size in [1 << 20, 3 << 20] {
        let body = format!("email=a%40example.com&password={}", "x".repeat(size));
        let response = app.post_body("/_fn/log_in", "application/x-www-form-urlencoded", body).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{size} bytes");
    }
}
