//! The services layer end to end: a real upstream on port 0, real mesh nodes, the registry,
//! placement, health checks and the invoke path.
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::{
    sync::atomic::Ordering,
    time::{Duration, Instant},
};
use web4_tests::{
    TestApp, error_of, eventually,
    fixtures::{
        api_key, discovery, healthy, http_service, json_of, node_action, node_ids, register, second_account,
    },
    spawn_app, spawn_app_with,
    upstream::Upstream,
};

#[tokio::test]
async fn an_invoke_two_hops_away_returns_exactly_the_upstreams_answer() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let ids = node_ids(&app);
    // Only the far end of the line (embedded-1 — embedded-2 — embedded-3) may host it.
    node_action(&app, &ids[0], "drain").await;
    node_action(&app, &ids[1], "drain").await;
    let service =
        register(&app, &app.client, http_service("teapot", &upstream, json!({ "replicas": 1 }))).await;
    let id = service["id"].as_str().unwrap();
    assert_eq!(service["placements"][0]["node_id"], ids[2]);
    healthy(&app, id, 1).await;

    let response =
        app.invoker().await.get(app.url(&format!("/api/v1/invoke/{id}/teapot?x=1"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(response.headers()["x-custom"], "42");
    assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(response.headers().contains_key("x-web4-invoke-id"));
    let route: Vec<String> =
        response.headers()["x-web4-route"].to_str().unwrap().split(',').map(str::to_owned).collect();
    assert_eq!(route, ids, "entry node, the middle node, the hosting node");
    assert_eq!(response.text().await.unwrap(), "short and stout");

    // Method, path, query, headers and body reach the upstream; hop-by-hop headers and the
    // platform's session cookie do not.
    let response = app
        .invoker()
        .await
        .post(app.url(&format!("/api/v1/invoke/{id}/echo/a%20b?q=1&r=two")))
        .header("x-trace", "abc")
        .header("content-type", "application/json")
        .header("te", "trailers")
        .body(r#"{"hello":"mesh"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-upstream"], "echo");
    let echo: Value = response.json().await.unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/echo/a%20b");
    assert_eq!(echo["query"], "q=1&r=two");
    assert_eq!(echo["body"], r#"{"hello":"mesh"}"#);
    assert_eq!(echo["headers"]["x-trace"], "abc");
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert!(echo["headers"]["x-web4-invoke-id"].is_string());
    for hidden in ["cookie", "te"] {
        assert!(echo["headers"].get(hidden).is_none(), "{hidden} was forwarded: {echo}");
    }

    // Addressed by slug (the caller's own) and by owner/slug, too.
    let me: Value = app.me().await.json().await.unwrap();
    let owner = me["id"].as_str().unwrap();
    for path in ["/api/v1/invoke/teapot/teapot".to_owned(), format!("/api/v1/invoke/{owner}/teapot/teapot")] {
        let response = app.invoker().await.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::IM_A_TEAPOT, "{path}");
    }
}

#[tokio::test]
async fn stopping_the_hosting_node_moves_the_placement_and_invokes_keep_working() {
    let app = spawn_app_with(|c| {
        c.mesh.degraded_after = Duration::from_millis(1500);
        c.mesh.offline_after = Duration::from_secs(3);
    })
    .await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    // Close the line into a triangle, so any one node can stop without cutting the others off.
    let nodes = app.mesh.nodes();
    nodes[0].handle.link(nodes[2].handle.id(), nodes[2].handle.listen_addr().clone()).unwrap();
    let service =
        register(&app, &app.client, http_service("mover", &upstream, json!({ "replicas": 1 }))).await;
    let id = service["id"].as_str().unwrap().to_owned();
    let first = service["placements"][0]["node_id"].as_str().unwrap().to_owned();
    healthy(&app, &id, 1).await;
    let invoker = app.invoker().await.clone();
    let invoke = |app: &TestApp| invoker.get(app.url(&format!("/api/v1/invoke/{id}/hello"))).send();
    assert_eq!(invoke(&app).await.unwrap().status(), StatusCode::OK);

    let host = nodes.iter().find(|n| n.handle.id().to_string() == first).unwrap();
    host.handle.shutdown();
    eventually("the placement to move off the stopped node", || async {
        let view: Value = json_of(app.client.get(app.url(&format!("/api/v1/services/{id}")))).await;
        let placed = &view["placements"][0];
        let routed =
            app.services.catalog().get(&id).map(|e| e.healthy.iter().map(ToString::to_string).collect());
        placed["node_id"] != first.as_str()
            && placed["health"] == "passing"
            && routed.is_some_and(|r: Vec<String>| r.len() == 1 && r[0] != first)
    })
    .await;
    let response = invoke(&app).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let route = response.headers()["x-web4-route"].to_str().unwrap().to_owned();
    assert!(!route.contains(&first), "{route} still crosses the stopped node");
}

#[tokio::test]
async fn a_hanging_upstream_gives_504_within_the_timeout() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let body = json!({ "slug": "slow", "http": { "upstream_url": upstream.url(), "timeout_ms": 500 },
        "health_check": { "path": "/health", "interval_ms": 500, "timeout_ms": 400 } });
    let service = register(&app, &app.client, body).await;
    let id = service["id"].as_str().unwrap();
    healthy(&app, id, 2).await;
    let started = Instant::now();
    let response =
        app.invoker().await.get(app.url(&format!("/api/v1/invoke/{id}/hang"))).send().await.unwrap();
    let took = started.elapsed();
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(error_of(response).await.0, "upstream_timeout");
    // The upstream would hang for 30 s; the caller hears back after the 500 ms timeout (plus
    // scheduling on a loaded test machine).
    assert!(took >= Duration::from_millis(500) && took < Duration::from_secs(5), "took {took:?}");
    // Not retried: a GET that may have reached the upstream is retried only on failures that
    // cannot have (the mesh's); a timeout could have.
    assert_eq!(upstream.controls.calls.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn the_circuit_breaker_opens_after_consecutive_failures_and_recovers() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let body = json!({
        "slug": "flaky", "replicas": 1,
        "http": { "upstream_url": upstream.url(), "timeout_ms": 300 },
        "health_check": { "path": "/health", "interval_ms": 500, "timeout_ms": 400 },
        "policy": { "retries": 0, "breaker_failures": 2, "breaker_cooldown_ms": 1000 },
    });
    let service = register(&app, &app.client, body).await;
    let id = service["id"].as_str().unwrap();
    healthy(&app, id, 1).await;
    let invoker = app.invoker().await;
    let call = || invoker.get(app.url(&format!("/api/v1/invoke/{id}/x"))).send();
    assert_eq!(call().await.unwrap().status(), StatusCode::OK);

    upstream.controls.hang.store(true, Ordering::Relaxed);
    for _ in 0..2 {
        assert_eq!(call().await.unwrap().status(), StatusCode::GATEWAY_TIMEOUT);
    }
    let calls_before = upstream.controls.calls.load(Ordering::Relaxed);
    let open = call().await.unwrap();
    assert_eq!(open.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(open.headers()["retry-after"], "1");
    assert_eq!(error_of(open).await.0, "circuit_open");
    assert_eq!(upstream.controls.calls.load(Ordering::Relaxed), calls_before, "an open breaker calls nobody");

    upstream.controls.hang.store(false, Ordering::Relaxed);
    // Calls are refused until the cooldown ends; then the half-open probe reaches the
    // upstream, succeeds and closes the breaker.
    eventually("the breaker to let a probe through", || async {
        let response = call().await.unwrap();
        match response.status() {
            StatusCode::OK => true,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(error_of(response).await.0, "circuit_open");
                false
            }
            other => panic!("{other} while the breaker cools down"),
        }
    })
    .await;
    assert_eq!(call().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn oversized_bodies_and_disallowed_methods_are_refused_before_the_mesh() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let body = json!({ "slug": "small", "http": { "upstream_url": upstream.url(), "max_body_bytes": 1000,
        "allowed_methods": ["GET", "POST"] }, "health_check": { "path": "/health", "interval_ms": 500, "timeout_ms": 400 } });
    let service = register(&app, &app.client, body).await;
    let id = service["id"].as_str().unwrap();
    let url = app.url(&format!("/api/v1/invoke/{id}/echo"));
    let response = app.invoker().await.post(&url).body(vec![b'a'; 2000]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_of(response).await.0, "body_too_large");
    // Without a Content-Length (chunked), the limit holds while reading.
    let status =
        chunked_post(&app, &format!("/api/v1/invoke/{id}/echo"), &[&[b'a'; 800], &[b'b'; 800]]).await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    let response = app.invoker().await.delete(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET, POST");
    assert_eq!(upstream.controls.calls.load(Ordering::Relaxed), 0);
}

/// Posts a chunked body over a raw connection (no Content-Length); returns the status line.
async fn chunked_post(app: &TestApp, path: &str, chunks: &[&[u8]]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let (_, key) = api_key(app, &app.client, &["invoke"]).await;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {key}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.address
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in chunks {
        let _ = stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await;
        let _ = stream.write_all(chunk).await;
        let _ = stream.write_all(b"\r\n").await;
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn another_account_cannot_read_change_invoke_or_delete_a_private_service() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let service = register(&app, &app.client, http_service("private", &upstream, json!({}))).await;
    let id = service["id"].as_str().unwrap();
    let owner = service["owner_id"].as_str().unwrap();
    healthy(&app, id, 2).await;
    let b = second_account(&app, "b@example.com").await;
    let (_, b_key) = api_key(&app, &b, &["invoke"]).await;

    let list: Value = json_of(b.get(app.url("/api/v1/services"))).await;
    assert_eq!(list["items"], json!([]));
    let attempts = [
        b.get(app.url(&format!("/api/v1/services/{id}"))),
        b.get(app.url(&format!("/api/v1/services/{id}/discovery"))),
        b.patch(app.url(&format!("/api/v1/services/{id}"))).json(&json!({ "name": "mine now" })),
        b.delete(app.url(&format!("/api/v1/services/{id}"))),
        b.get(app.url(&format!("/api/v1/invoke/{id}/teapot"))).bearer_auth(&b_key),
        b.get(app.url(&format!("/api/v1/invoke/{owner}/private/teapot"))).bearer_auth(&b_key),
        b.get(app.url("/api/v1/invoke/private/teapot")).bearer_auth(&b_key),
    ];
    for attempt in attempts {
        let response = attempt.send().await.unwrap();
        let what = response.url().to_string();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{what}");
        assert_eq!(error_of(response).await.0, "not_found");
    }
    assert_eq!(upstream.controls.calls.load(Ordering::Relaxed), 0);
    // Nothing changed for the owner.
    let view: Value = json_of(app.client.get(app.url(&format!("/api/v1/services/{id}")))).await;
    assert_eq!(view["name"], "private");
    // B may use the same slug for its own service.
    register(&app, &b, http_service("private", &upstream, json!({}))).await;
    let anonymous = reqwest::Client::new().get(app.url("/api/v1/services")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_registry_validates_paginates_and_deletes_only_deactivated_services() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;

    let bad = json!({ "slug": "Not A Slug", "replicas": 9, "http": { "upstream_url": "ftp://x" },
        "health_check": { "path": "nope", "interval_ms": 100, "timeout_ms": 50 } });
    let response = app.client.post(app.url("/api/v1/services")).json(&bad).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    for field in ["slug", "replicas", "http.upstream_url", "health_check.path", "health_check.interval_ms"] {
        assert!(body["error"]["details"][field].is_string(), "{field}: {body}");
    }
    let unknown = app.client.post(app.url("/api/v1/services")).json(&json!({ "slug": "a", "colour": 1 }));
    assert_eq!(unknown.send().await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);

    for slug in ["one", "two", "three"] {
        register(&app, &app.client, http_service(slug, &upstream, json!({}))).await;
    }
    let taken = app.client.post(app.url("/api/v1/services")).json(&http_service("two", &upstream, json!({})));
    let response = taken.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_of(response).await.0, "slug_taken");

    let page: Value = json_of(app.client.get(app.url("/api/v1/services?limit=2"))).await;
    let slugs: Vec<&str> =
        page["items"].as_array().unwrap().iter().map(|s| s["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["three", "two"], "newest first");
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value =
        json_of(app.client.get(app.url(&format!("/api/v1/services?limit=2&cursor={cursor}")))).await;
    assert_eq!(rest["items"][0]["slug"], "one");
    assert!(rest["next_cursor"].is_null());
    for query in ["limit=0", "limit=101", "cursor=garbage", "limit=ten"] {
        let response = app.client.get(app.url(&format!("/api/v1/services?{query}"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    }

    let one = page["items"][0]["id"].as_str().unwrap().to_owned();
    let patched: Value = json_of(
        app.client
            .patch(app.url(&format!("/api/v1/services/{one}")))
            .json(&json!({ "version": "2.0.0", "tags": ["Weather", "geo"], "replicas": 1 })),
    )
    .await;
    assert_eq!(patched["version"], "2.0.0");
    assert_eq!(patched["tags"], json!(["weather", "geo"]));
    assert_eq!(patched["placements"].as_array().unwrap().len(), 1);

    let response = app.client.delete(app.url(&format!("/api/v1/services/{one}"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_of(response).await.0, "service_active");
    let inactive: Value = json_of(
        app.client.patch(app.url(&format!("/api/v1/services/{one}"))).json(&json!({ "status": "inactive" })),
    )
    .await;
    assert_eq!(inactive["placements"], json!([]), "deactivating releases the placements");
    let response = app.invoker().await.get(app.url(&format!("/api/v1/invoke/{one}/"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_of(response).await.0, "service_inactive");
    let response = app.client.delete(app.url(&format!("/api/v1/services/{one}"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app.client.get(app.url(&format!("/api/v1/services/{one}"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn health_checks_drive_discovery_and_availability() {
    let app = spawn_app_with(|c| c.services.unavailable_after = Duration::from_secs(1)).await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let service = register(&app, &app.client, http_service("checked", &upstream, json!({}))).await;
    let id = service["id"].as_str().unwrap();
    healthy(&app, id, 2).await;
    assert!(upstream.controls.checks.load(Ordering::Relaxed) >= 2, "each hosting node checks");

    upstream.controls.unhealthy.store(true, Ordering::Relaxed);
    healthy(&app, id, 0).await;
    let view: Value = json_of(app.client.get(app.url(&format!("/api/v1/services/{id}")))).await;
    assert!(view["placements"].as_array().unwrap().iter().all(|p| p["health"] == "critical"), "{view}");
    assert!(view["placements"][0]["output"].as_str().unwrap().contains("HTTP 503"), "{view}");
    eventually("the service to be marked unavailable", || async {
        discovery(&app, &app.client, id).await["available"] == false
    })
    .await;
    let response = app.invoker().await.get(app.url(&format!("/api/v1/invoke/{id}/x"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_of(response).await.0, "service_unavailable");

    upstream.controls.unhealthy.store(false, Ordering::Relaxed);
    healthy(&app, id, 2).await;
    assert_eq!(discovery(&app, &app.client, id).await["available"], true);
    let response = app.invoker().await.get(app.url(&format!("/api/v1/invoke/{id}/x"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // The owner's event log was told each time the service went up or down.
    let told = |events: &Value| -> Vec<bool> {
        let events = events.as_array().unwrap();
        events
            .iter()
            .map(|e| serde_json::from_str::<Value>(e["data"].as_str().unwrap()).unwrap()["available"] == true)
            .collect()
    };
    let url = app.url("/api/v1/events/messages?filter=platform.service.health_changed");
    eventually("the return to be told", || async { told(&json_of(app.client.get(&url)).await).len() == 3 })
        .await;
    assert_eq!(told(&json_of(app.client.get(&url)).await), [true, false, true]);
}
