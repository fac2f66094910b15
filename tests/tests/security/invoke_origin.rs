//! `invoke_origin`: with invokes on a host of their own, an upstream's answer is never served
//! on the portal's origin, and that host serves nothing of the portal's.
use reqwest::{StatusCode, header::HOST};
use serde_json::Value;
use std::sync::atomic::Ordering::Relaxed;
use web4_tests::{TestApp, error_of, fixtures::routable, spawn_app_with, upstream::Upstream};

const INVOKE_HOST: &str = "invoke.web4.test";

async fn app_with_an_invoke_origin() -> TestApp {
    spawn_app_with(|config| {
        config.invoke_origin =
            Some(server::config::InvokeOrigin::parse(&format!("http://{INVOKE_HOST}")).unwrap());
    })
    .await
}

#[tokio::test]
async fn calls_are_served_on_the_invoke_origin_and_refused_on_the_portals() {
    let app = app_with_an_invoke_origin().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = &routable(&app, "evil", &upstream).await;
    let path = format!("/api/v1/invoke/{id}/evil?x=1");
    let before = upstream.controls.calls.load(Relaxed);

    let on_portal = app.invoker().await.get(app.url(&path)).send().await.unwrap();
    assert_eq!(on_portal.status(), StatusCode::MISDIRECTED_REQUEST);
    let (code, message) = error_of(on_portal).await;
    assert_eq!(code, "misdirected_request");
    assert!(message.contains(&format!("http://{INVOKE_HOST}{path}")), "{message}");
    assert_eq!(upstream.controls.calls.load(Relaxed), before, "nothing reached the upstream");

    let on_invoke_host =
        app.invoker().await.get(app.url(&path)).header(HOST, INVOKE_HOST).send().await.unwrap();
    let headers = on_invoke_host.headers().clone();
    let status = on_invoke_host.status();
    let body = on_invoke_host.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-security-policy"], "sandbox; default-src 'none'");
    assert!(headers.contains_key("x-web4-invoke-id") && headers.contains_key("x-request-id"));
    assert!(body.contains("<script>"));
    // The port may be spelled out when it is the scheme's default; the host's case does not matter.
    let spelled =
        app.invoker().await.get(app.url(&path)).header(HOST, "INVOKE.web4.test:80").send().await.unwrap();
    assert_eq!(spelled.status(), StatusCode::OK);
    // The portal's session still does not invoke, on either host.
    let with_session = app.client.get(app.url(&path)).header(HOST, INVOKE_HOST).send().await.unwrap();
    assert_eq!(with_session.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(with_session).await.0, "api_key_required");
}

#[tokio::test]
async fn the_invoke_origin_serves_no_page_api_or_server_function_of_the_portal() {
    let app = app_with_an_invoke_origin().await;
    app.sign_up_operator().await;
    // What a script an upstream got to run on the invoke origin would try: the logged-in
    // person's data, a new key, the portal's pages and server functions, the document.
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/keys"),
        ("GET", "/api/v1/auth/me"),
        ("GET", "/api/v1/keys"),
        ("POST", "/api/v1/keys"),
        ("GET", "/api/v1/openapi.json"),
        ("POST", "/_fn/log_in"),
        ("GET", "/metrics"),
        ("GET", "/pkg/web4.js"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .header(HOST, INVOKE_HOST)
            .header("content-type", "application/json")
            .body("{\"name\":\"stolen\",\"scopes\":[\"write\"]}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
        assert!(response.headers().get("set-cookie").is_none(), "{method} {path} set a cookie");
        assert_eq!(error_of(response).await.0, "not_found", "{method} {path}");
    }
    let keys: Value = app.client.get(app.url("/api/v1/keys")).send().await.unwrap().json().await.unwrap();
    assert_eq!(keys["items"].as_array().map(Vec::len), Some(0), "no key was made: {keys}");
    let probe = app.client.get(app.url("/healthz")).header(HOST, INVOKE_HOST).send().await.unwrap();
    assert_eq!(probe.status(), StatusCode::OK, "the probes answer on every host");
}

#[tokio::test]
async fn the_portal_and_the_document_send_callers_to_the_invoke_origin() {
    let app = app_with_an_invoke_origin().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = &routable(&app, "echo", &upstream).await;

    let page =
        app.client.get(app.url(&format!("/services/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains(&format!("http://{INVOKE_HOST}/api/v1/invoke/{id}/")),
        "the page shows the invoke URL"
    );
    assert!(page.contains(&format!("<meta name=\"web4-invoke-origin\" content=\"http://{INVOKE_HOST}\"")));
    let doc: Value =
        app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        doc["paths"]["/api/v1/invoke/{service}/{path}"]["servers"][0]["url"],
        format!("http://{INVOKE_HOST}")
    );
    assert!(doc["paths"]["/api/v1/keys"].get("servers").is_none());
}
