//! Sign-up, log-in, throttling, sessions and log-out through the Cloud API.
use reqwest::StatusCode;
use serde_json::Value;
use web4_tests::{PASSWORD, client_with, error_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn sign_up_creates_an_account_and_logs_it_in() {
    let app = spawn_app().await;

    let response = app.sign_up("  Ada@Example.com ", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let set_cookie =
        response.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("web4_session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "plain-HTTP default must not set Secure: {set_cookie}");
    let account: Value = response.json().await.unwrap();
    assert_eq!(account["email"], "ada@example.com");
    assert!(account.get("password_hash").is_none());

    let me: Value = app.me().await.json().await.unwrap();
    assert_eq!(me["email"], "ada@example.com");

    let hashes =
        app.query_strings("SELECT password_hash FROM accounts WHERE email = 'ada@example.com'").await;
    assert_eq!(hashes.len(), 1);
    assert!(hashes[0].starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", hashes[0]);
    assert!(!hashes[0].contains(PASSWORD));
    let sessions = app.query_strings("SELECT id FROM tower_sessions").await;
    assert_eq!(sessions, vec![app.session_cookie().expect("cookie in jar")]);
}

#[tokio::test]
async fn secure_cookies_are_marked_secure_when_configured() {
    let app = spawn_app_with(|c| c.secure_cookies = true).await;

    let response = app.sign_up("ada@example.com", PASSWORD).await;

    let set_cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(set_cookie.contains("Secure"), "{set_cookie}");
}

#[tokio::test]
async fn the_first_account_is_the_operator_and_later_ones_are_developers() {
    let app = spawn_app().await;

    let first: Value = app.sign_up("op@example.com", PASSWORD).await.json().await.unwrap();
    let second: Value = app.sign_up("dev@example.com", PASSWORD).await.json().await.unwrap();

    assert_eq!(first["role"], "operator");
    assert_eq!(second["role"], "developer");
}

#[tokio::test]
async fn concurrent_first_sign_ups_make_exactly_one_operator() {
    let app = spawn_app().await;

    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..6 {
        let client = client_with(Default::default());
        let url = app.url("/api/v1/auth/signup");
        let body = serde_json::json!({ "email": format!("racer{i}@example.com"), "password": PASSWORD });
        attempts.spawn(async move { client.post(url).json(&body).send().await.unwrap().status() });
    }
    let statuses = attempts.join_all().await;

    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
    let admins = app.query_strings("SELECT email FROM accounts WHERE role = 'operator'").await;
    assert_eq!(admins.len(), 1, "{admins:?}");
}

#[tokio::test]
async fn sign_up_rejects_a_taken_email_with_409_whatever_its_case() {
    let app = spawn_app().await;
    app.sign_up("ada@example.com", PASSWORD).await;

    let response = app.sign_up("ADA@example.com", "another password 123").await;

    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_of(response).await.0, "email_taken");
    assert_eq!(app.query_strings("SELECT email FROM accounts").await.len(), 1);
}

#[tokio::test]
async fn sign_up_reports_every_invalid_field() {
    let app = spawn_app().await;

    let response = app.sign_up("not-an-email", "short").await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed");
    assert!(body["error"]["details"]["email"].as_str().unwrap().contains("valid email"));
    assert!(body["error"]["details"]["password"].as_str().unwrap().contains("10"));
    assert!(app.query_strings("SELECT email FROM accounts").await.is_empty());
}

#[tokio::test]
async fn sign_up_refuses_passwords_over_1024_characters() {
    let app = spawn_app().await;

    let response = app.sign_up("ada@example.com", &"p".repeat(1025)).await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["details"]["password"].as_str().unwrap().contains("1024"));
}

#[tokio::test]
async fn log_in_with_the_right_password_rotates_the_session_id() {
    let app = spawn_app().await;
    app.sign_up("ada@example.com", PASSWORD).await;
    let before = app.session_cookie().expect("signed-up session");

    let response = app.log_in("Ada@Example.com", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::OK);
    let after = app.session_cookie().expect("logged-in session");
    assert_ne!(before, after, "the session id must change at log-in");
    assert_eq!(app.me().await.status(), StatusCode::OK);
    // The id from before log-in no longer authenticates anyone.
    let stale = app.me_with_session_id(&before).await;
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.sign_up("ada@example.com", PASSWORD).await;
    app.log_out().await;

    let wrong_password = app.log_in("ada@example.com", "wrong password 123").await;
    let unknown_email = app.log_in("bob@example.com", PASSWORD).await;

    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_email.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(wrong_password).await, error_of(unknown_email).await);
    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failed_log_ins_to_one_account_from_one_address_slow_down_progressively() {
    let app = spawn_app().await;
    app.sign_up("ada@example.com", PASSWORD).await;
    app.log_out().await;

    for attempt in 1..=3 {
        let response = app.log_in("ada@example.com", "wrong password 123").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let delayed = app.log_in("ada@example.com", "wrong password 123").await;
    let even_right = app.log_in("ada@example.com", PASSWORD).await;

    assert_eq!(delayed.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(delayed.headers()["retry-after"], "1");
    assert_eq!(error_of(delayed).await.0, "too_many_login_attempts");
    assert_eq!(even_right.status(), StatusCode::TOO_MANY_REQUESTS, "the right password waits too");
    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);

    // After the wait one more guess is allowed, and the next wait is twice as long.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(app.log_in("ada@example.com", "wrong password 123").await.status(), StatusCode::UNAUTHORIZED);
    let delayed = app.log_in("ada@example.com", "wrong password 123").await;
    assert_eq!(delayed.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(delayed.headers()["retry-after"], "2");
}

#[tokio::test]
async fn failed_log_ins_are_throttled_per_client_address_across_accounts() {
    let app = spawn_app().await;
    app.sign_up("ada@example.com", PASSWORD).await;
    app.log_out().await;

    for i in 0..10 {
        let response = app.log_in(&format!("guess{i}@example.com"), "wrong password 123").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = app.log_in("ada@example.com", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn a_successful_log_in_clears_the_account_s_failures() {
    let app = spawn_app_with(|c| c.login_throttle.limit = 3).await;
    app.sign_up("ada@example.com", PASSWORD).await;
    app.log_out().await;

    for _ in 0..2 {
        app.log_in("ada@example.com", "wrong password 123").await;
    }
    assert_eq!(app.log_in("ada@example.com", PASSWORD).await.status(), StatusCode::OK);
    app.log_out().await;
    let after_reset = app.log_in("ada@example.com", "wrong password 123").await;

    // Without the reset this would be the pair's 3rd failure; the address budget (3) still
    // counts all of them, so check the pair's failures only.
    assert_eq!(after_reset.status(), StatusCode::UNAUTHORIZED);
    let pair_failures = app.query_strings("SELECT key FROM login_failures WHERE scope = 'pair'").await;
    assert_eq!(pair_failures, vec!["ada@example.com 127.0.0.1".to_string()]);
}

#[tokio::test]
async fn a_session_survives_a_server_restart_on_the_same_data_directory() {
    let app = spawn_app().await;
    app.sign_up("ada@example.com", PASSWORD).await;

    let app = app.restart().await;

    let response = app.me().await;
    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["email"], "ada@example.com");
}

#[tokio::test]
async fn log_out_ends_the_session_for_good() {
    let app = spawn_app().await;
    app.sign_up("ada@example.com", PASSWORD).await;
    let cookie = app.session_cookie().unwrap();

    let response = app.log_out().await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);
    let replayed = app.me_with_session_id(&cookie).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    assert!(app.query_strings("SELECT id FROM tower_sessions").await.is_empty());
}

#[tokio::test]
async fn me_without_a_session_is_401_in_the_error_shape() {
    let app = spawn_app().await;

    let response = app.me().await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(response).await.0, "unauthenticated");
}
