//! A key that leaks must not be able to make itself permanent.
use chrono::{Duration, Utc};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use web4_tests::{error_of, spawn_app};

async fn mint(app: &web4_tests::TestApp, with: &str, body: Value) -> reqwest::Response {
    Client::new().post(app.url("/api/v1/keys")).bearer_auth(with).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn a_minted_key_cannot_outlive_the_key_that_minted_it_and_is_revoked_with_it() {
    let app = spawn_app().await;
    app.sign_up("ada@example.com", web4_tests::PASSWORD).await;
    let hour = Utc::now() + Duration::hours(1);
    let parent = app
        .post_json("/api/v1/keys", &json!({ "name": "ci", "scopes": ["read", "write"], "expires_at": hour }))
        .await;
    assert_eq!(parent.status(), StatusCode::CREATED);
    let parent: Value = parent.json().await.unwrap();
    let (parent_id, parent_secret) =
        (parent["key"]["id"].as_str().unwrap().to_owned(), parent["secret"].as_str().unwrap().to_owned());

    // Never expiring, or expiring after the parent: refused, naming the field.
    for expires_at in [Value::Null, json!(Utc::now() + Duration::days(365))] {
        let body = json!({ "name": "forever", "scopes": ["read"], "expires_at": expires_at });
        let response = mint(&app, &parent_secret, body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = response.json().await.unwrap();
        assert!(body["error"]["details"]["expires_at"].is_string(), "{body}");
    }

    // A child and a grandchild within the parent's life…
    let half = Utc::now() + Duration::minutes(30);
    let child: Value = mint(
        &app,
        &parent_secret,
        json!({ "name": "child", "scopes": ["read", "write"], "expires_at": half }),
    )
    .await
    .json()
    .await
    .unwrap();
    let child_secret = child["secret"].as_str().unwrap().to_owned();
    let grandchild: Value =
        mint(&app, &child_secret, json!({ "name": "grandchild", "scopes": ["read"], "expires_at": half }))
            .await
            .json()
            .await
            .unwrap();
    let grandchild_secret = grandchild["secret"].as_str().unwrap().to_owned();
    let me = |secret: &str| Client::new().get(app.url("/api/v1/me")).bearer_auth(secret.to_owned()).send();
    assert_eq!(me(&grandchild_secret).await.unwrap().status(), StatusCode::OK);

    // …die with it, at once.
    let revoked = app.client.delete(app.url(&format!("/api/v1/keys/{parent_id}"))).send().await.unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    for secret in [&parent_secret, &child_secret, &grandchild_secret] {
        let response = me(secret).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_of(response).await.0, "api_key_revoked");
    }
}

#[tokio::test]
async fn a_secret_shown_after_a_plain_form_post_is_never_in_the_session_store() {
    let app = web4_tests::spawn_app().await;
    app.sign_up("dev@example.com", web4_tests::PASSWORD).await;
    let response = app
        .client
        .post(app.url("/_fn/create_api_key"))
        .header("accept", "text/html")
        .header("referer", app.url("/keys"))
        .form(&[("form[name]", "deploys"), ("form[read]", "on"), ("form[expires_in_days]", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::FOUND);
    let set_cookies: Vec<_> =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert!(
        set_cookies.iter().any(|c| c.starts_with("web4_flash_") && c.contains("HttpOnly")),
        "{set_cookies:?}"
    );

    // A copy of the database holds no secret: only sealed bytes.
    assert_eq!(app.count("SELECT COUNT(*) FROM tower_sessions").await, 1);
    let holding = "SELECT COUNT(*) FROM tower_sessions WHERE instr(data, CAST('w4k_' AS BLOB)) > 0";
    assert_eq!(app.count(holding).await, 0);

    // The browser that posted (it has the cookie) sees the key once.
    let page = app.client.get(app.url("/keys")).send().await.unwrap().text().await.unwrap();
    let start = page.find("value=\"w4k_").expect("the key is shown") + "value=\"".len();
    let secret: String =
        page[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    let stored = app.count(&format!("SELECT COUNT(*) FROM api_keys WHERE key_hash LIKE '%{secret}%'")).await;
    assert_eq!(stored, 0, "the key itself is stored only as a hash");
}
