//! What crosses between a caller and an upstream: the caller's platform credentials never
//! reach the upstream, and nothing an upstream answers can act on the platform's origin.
use reqwest::StatusCode;
use serde_json::{Value, json};
use web4_tests::{
    fixtures::{api_key, healthy, register, routable},
    spawn_app,
    upstream::Upstream,
};

#[tokio::test]
async fn the_callers_api_key_and_cookies_never_reach_the_upstream_and_the_consumer_is_named() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = &routable(&app, "echo", &upstream).await;
    let (_, secret) = api_key(&app, &app.client, &["invoke"]).await;
    let me: Value = app.me().await.json().await.unwrap();

    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/invoke/{id}/echo")))
        .bearer_auth(&secret)
        .header("cookie", "web4_session=stolen")
        .header("proxy-authorization", "Basic c2VjcmV0")
        .header("x-web4-consumer", "someone-else")
        .header("x-trace", "kept")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let echo: Value = response.json().await.unwrap();
    let seen = echo["headers"].as_object().unwrap();
    for hidden in ["authorization", "cookie", "proxy-authorization"] {
        assert!(!seen.contains_key(hidden), "{hidden} reached the upstream: {echo}");
    }
    assert!(!echo.to_string().contains(&secret), "the key reached the upstream");
    assert_eq!(
        echo["headers"]["x-web4-consumer"], me["id"],
        "the platform names the consumer, not the caller"
    );
    assert_eq!(echo["headers"]["x-trace"], "kept");
}

#[tokio::test]
async fn an_upstream_answer_cannot_script_the_portal_plant_cookies_or_widen_cors() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = &routable(&app, "evil", &upstream).await;

    let response =
        app.invoker().await.get(app.url(&format!("/api/v1/invoke/{id}/evil"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-security-policy"], "sandbox; default-src 'none'");
    for dropped in ["set-cookie", "access-control-allow-origin", "access-control-allow-credentials"] {
        assert!(!headers.contains_key(dropped), "{dropped} passed through");
    }
    assert_ne!(headers["x-web4-route"], "forged");
    assert_ne!(headers["x-request-id"], "forged");
    assert!(response.text().await.unwrap().contains("<script>"), "the body itself is the upstream's");
    // The planted cookie did not replace the session.
    assert_eq!(app.me().await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_session_cookie_does_not_invoke_so_a_cross_site_link_runs_nothing_as_the_person() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = &routable(&app, "evil", &upstream).await;

    // What a browser sends following a link from another site: the session cookie, a GET.
    let response = app
        .client
        .get(app.url(&format!("/api/v1/invoke/{id}/evil")))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(web4_tests::error_of(response).await.0, "api_key_required");
    assert_eq!(upstream.controls.calls.load(std::sync::atomic::Ordering::Relaxed), 0);
}

#[tokio::test]
async fn an_invoke_path_cannot_climb_out_of_the_upstreams_base_path() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let body = json!({ "slug": "based", "replicas": 1, "http": { "upstream_url": format!("{}/v1", upstream.url()) },
        "health_check": { "path": "/health", "interval_ms": 3_600_000, "timeout_ms": 400 } });
    let service = register(&app, &app.client, body).await;
    let id = service["id"].as_str().unwrap();
    healthy(&app, id, 1).await;
    let (_, key) = api_key(&app, &app.client, &["invoke"]).await;
    // The one health check (`/v1/health`) has run; nothing else may reach the upstream.
    let calls = upstream.controls.calls.load(std::sync::atomic::Ordering::Relaxed);

    // Raw requests: an HTTP client would normalise these paths itself before sending.
    for path in ["%2e%2e/admin", "%2E%2e/%2e%2e/etc", "x/.%2e/admin", "..%5cadmin/../x"] {
        let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
        let request = format!(
            "GET /api/v1/invoke/{id}/{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n",
            app.address
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(answer.contains("bad_invoke_request"), "{path}: {answer}");
    }
    assert_eq!(upstream.controls.calls.load(std::sync::atomic::Ordering::Relaxed), calls);
}

#[tokio::test]
async fn the_portal_and_the_api_cannot_be_framed_sniffed_or_cached() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let page = app.get("/dashboard").await;
    let created = app.post_json("/api/v1/keys", &json!({ "name": "ci", "scopes": ["read"] })).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    for response in [&page, &created] {
        let h = response.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{}", response.url());
        let policy = h["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["cache-control"], "no-store", "a secret shown once must not be kept by a cache");
        assert!(!h.contains_key("strict-transport-security"), "plain http: no HSTS");
    }

    // A page runs only the scripts Leptos wrote with this answer's nonce: an injected
    // `<script>` or event attribute would not.
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {policy}"))
        .to_owned();
    assert!(
        !policy.contains("'unsafe-inline' 'strict-dynamic'") && policy.contains("script-src 'nonce-"),
        "{policy}"
    );
    assert!(!policy.split(';').any(|d| d.trim().starts_with("script-src") && d.contains("unsafe-inline")));
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the nonce");
    let again = app.get("/dashboard").await;
    let other = again.headers()["content-security-policy"].to_str().unwrap();
    assert!(!other.contains(&nonce), "a fresh nonce per answer");

    let https =
        web4_tests::spawn_app_with(|c| c.trusted_origins.push("https://web4.example.com".into())).await;
    let response = https.get("/").await;
    assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000");
}

#[tokio::test]
async fn the_upstream_gets_the_service_s_proxy_secret_and_a_caller_cannot_forge_it() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let body = web4_tests::fixtures::http_service("guarded", &upstream, json!({ "replicas": 1 }));
    let created = register(&app, &app.client, body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["proxy_secret"].as_str().expect("shown when registered").to_owned();
    assert!(secret.starts_with("w4ps_"), "{secret}");
    healthy(&app, &id, 1).await;
    let read =
        web4_tests::fixtures::json_of(app.client.get(app.url(&format!("/api/v1/services/{id}")))).await;
    assert!(read.get("proxy_secret").is_none(), "shown once: {read}");
    let stored = app.count("SELECT COUNT(*) FROM services WHERE CAST(settings AS TEXT) LIKE '%w4ps_%'").await;
    assert_eq!(stored, 0, "never stored");

    let url = app.url(&format!("/api/v1/invoke/{id}/echo"));
    let invoker = app.invoker().await.clone();
    let call = |forged: &'static str| {
        let (url, invoker) = (url.clone(), invoker.clone());
        async move {
            let response = invoker.get(url).header("x-web4-proxy-secret", forged).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let echo: Value = response.json().await.unwrap();
            echo["headers"]["x-web4-proxy-secret"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(call("w4ps_forged").await, secret, "the platform's, not the caller's");

    // Rotating shows a new secret once, and calls carry it from then on.
    let rotated = app.post_json(&format!("/api/v1/services/{id}/proxy-secret"), &json!({})).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();
    let new_secret = rotated["proxy_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert_eq!(rotated["generation"], 2);
    assert_eq!(call("x").await, new_secret);

    // Nobody else can rotate (or learn) it.
    let other = web4_tests::fixtures::second_account(&app, "mallory@example.com").await;
    let theirs = other
        .post(app.url(&format!("/api/v1/services/{id}/proxy-secret")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
}
