//! Observability over HTTP: `/metrics` for the operator's key (and on the local listener),
//! counts per service that are exactly the calls made, bounded series, the per-minute history
//! across a restart, and nobody else's metrics.
//!
//! Every server of this test binary shares the process-wide recorder: assertions look only at
//! the series of the test's own service.
use reqwest::StatusCode;
use serde_json::Value;
use web4_tests::{
    TestApp, error_of, eventually,
    fixtures::{api_key, bearer, healthy, http_service, register, routable, second_account},
    spawn_app, spawn_app_with,
    upstream::Upstream,
};

/// The operator (the app's client) with a routable service; returns the operator's read key
/// and the service id.
async fn operator_with_service(app: &TestApp, upstream: &Upstream, slug: &str) -> (String, String) {
    app.sign_up_operator().await;
    let (_, key) = api_key(app, &app.client, &["read"]).await;
    let id = routable(app, slug, upstream).await;
    (key, id)
}

/// Calls the service `ok` times on `/echo` (200) and `failed` times on `/fail` (500).
async fn call(app: &TestApp, id: &str, ok: usize, failed: usize) {
    let invoker = app.invoker().await;
    for (path, times, status) in
        [("echo", ok, StatusCode::OK), ("fail", failed, StatusCode::INTERNAL_SERVER_ERROR)]
    {
        for _ in 0..times {
            let response = invoker.get(app.url(&format!("/api/v1/invoke/{id}/{path}"))).send().await.unwrap();
            assert_eq!(response.status(), status, "{path}");
        }
    }
}

async fn scrape(app: &TestApp, key: &str) -> String {
    let response = bearer(key).get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// The value of the series `name` whose labels include every `labels` pair.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_count_exactly_the_calls_of_a_service_by_status_class() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (key, id) = operator_with_service(&app, &upstream, "counted").await;

    call(&app, &id, 5, 3).await;
    let text = scrape(&app, &key).await;

    let requests =
        |class| value(&text, "web4_invoke_requests_total", &[("service", &id), ("code_class", class)]);
    assert_eq!(requests("2xx"), Some(5.0), "{text}");
    assert_eq!(requests("5xx"), Some(3.0));
    assert_eq!(requests("4xx"), None);
    assert_eq!(value(&text, "web4_invoke_duration_seconds_count", &[("service", &id)]), Some(8.0));
    // The mesh's counters are read at scrape time, one series per embedded node.
    for node in web4_tests::fixtures::node_ids(&app) {
        assert!(value(&text, "web4_mesh_envelopes_forwarded_total", &[("node", &node)]).is_some(), "{node}");
    }
    assert!(text.contains("web4_nodes{state=\"online\"}"));
}

#[tokio::test]
async fn each_link_a_call_crossed_is_timed_under_the_node_it_reached() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    app.sign_up_operator().await;
    let (_, key) = api_key(&app, &app.client, &["read"]).await;
    // On every node, so that round robin sends some calls across the mesh.
    let service =
        register(&app, &app.client, http_service("hops", &upstream, serde_json::json!({ "replicas": 3 })))
            .await;
    let id = service["id"].as_str().unwrap().to_owned();
    healthy(&app, &id, 3).await;
    let nodes = web4_tests::fixtures::node_ids(&app);
    let hops_timed = |text: &str| -> f64 {
        nodes.iter().filter_map(|n| value(text, "web4_mesh_hop_duration_seconds_count", &[("node", n)])).sum()
    };
    let before = hops_timed(&scrape(&app, &key).await);

    let invoker = app.invoker().await;
    let mut links = 0;
    for _ in 0..6 {
        let response = invoker.get(app.url(&format!("/api/v1/invoke/{id}/echo"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let route = response.headers()["x-web4-route"].to_str().unwrap().to_owned();
        links += route.split(',').count() - 1;
    }

    assert!(links > 0, "some calls crossed the mesh");
    assert_eq!(hops_timed(&scrape(&app, &key).await) - before, links as f64, "one sample per link crossed");
}

#[tokio::test]
async fn metrics_answer_only_the_operators_key() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let (_, operator_key) = api_key(&app, &app.client, &["read"]).await;
    let developer = second_account(&app, "dev@example.com").await;
    let (_, developer_key) = api_key(&app, &developer, &["read"]).await;

    let anonymous = reqwest::get(app.url("/metrics")).await.unwrap();
    let unknown = bearer("w4k_not_a_key").get(app.url("/metrics")).send().await.unwrap();
    let developers = bearer(&developer_key).get(app.url("/metrics")).send().await.unwrap();
    let operators = bearer(&operator_key).get(app.url("/metrics")).send().await.unwrap();

    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(developers.status(), StatusCode::NOT_FOUND);
    assert_eq!(operators.status(), StatusCode::OK);
    assert_eq!(operators.headers()["content-type"], "text/plain; version=0.0.4");
    assert!(operators.text().await.unwrap().contains("# TYPE"));
}

#[tokio::test]
async fn the_local_metrics_listener_serves_without_a_key() {
    let app = spawn_app_with(|c| c.observability.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await;
    let upstream = Upstream::start().await;
    let (_, id) = operator_with_service(&app, &upstream, "local").await;
    call(&app, &id, 2, 0).await;

    let address = app.metrics_address.expect("the local listener is up");
    let response = reqwest::get(format!("http://{address}/metrics")).await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert_eq!(
        value(&text, "web4_invoke_requests_total", &[("service", &id), ("code_class", "2xx")]),
        Some(2.0)
    );
    let elsewhere = reqwest::get(format!("http://{address}/api/v1/services")).await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND, "the local listener serves /metrics alone");
}

#[tokio::test]
async fn with_metrics_off_nothing_is_served() {
    let app = spawn_app_with(|c| c.observability.metrics = false).await;
    app.sign_up_operator().await;
    let (_, key) = api_key(&app, &app.client, &["read"]).await;

    let response = bearer(&key).get(app.url("/metrics")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_flood_of_unique_paths_adds_no_series() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (key, id) = operator_with_service(&app, &upstream, "flooded").await;
    call(&app, &id, 1, 1).await;
    let series = |text: &str| text.lines().filter(|l| l.contains(id.as_str())).count();
    let before = series(&scrape(&app, &key).await);

    let invoker = app.invoker().await;
    for i in 0..200 {
        let response = invoker.get(app.url(&format!("/api/v1/invoke/{id}/page/{i}"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let text = scrape(&app, &key).await;

    assert_eq!(series(&text), before, "{text}");
    assert_eq!(
        value(&text, "web4_invoke_requests_total", &[("service", &id), ("code_class", "2xx")]),
        Some(201.0)
    );
}

#[tokio::test]
async fn the_history_of_a_service_survives_a_restart() {
    let app =
        spawn_app_with(|c| c.observability.rollup_flush_every = std::time::Duration::from_secs(1)).await;
    let upstream = Upstream::start().await;
    let (_, id) = operator_with_service(&app, &upstream, "remembered").await;
    call(&app, &id, 4, 2).await;
    let sql = format!("SELECT COUNT(*) FROM service_rollups WHERE service_id = '{id}'");
    eventually("the rollups to be flushed", || async { app.count(&sql).await > 0 }).await;

    let app = app.restart().await;
    let response = app.get(&format!("/api/v1/services/{id}/metrics?window=hour")).await;

    assert_eq!(response.status(), StatusCode::OK);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["service_id"], id.as_str());
    assert_eq!(view["window"], "hour");
    assert_eq!(view["points"].as_array().unwrap().len(), 60, "a point per minute, empty ones too");
    let totals = &view["totals"];
    assert_eq!((totals["requests"].as_u64(), totals["errors"].as_u64()), (Some(6), Some(2)), "{view}");
    assert!((totals["error_rate"].as_f64().unwrap() - 2.0 / 6.0).abs() < 1e-9);
    assert!(totals["p50_ms"].as_f64().is_some_and(|p| p > 0.0));
    let requests: u64 =
        view["points"].as_array().unwrap().iter().map(|p| p["requests"].as_u64().unwrap()).sum();
    assert_eq!(requests, 6);
    assert_eq!(view["top_consumers"], serde_json::json!([{ "consumer": "you", "calls": 4 }]));

    let day: Value =
        app.get(&format!("/api/v1/services/{id}/metrics?window=day")).await.json().await.unwrap();
    assert_eq!(day["points"].as_array().unwrap().len(), 288);
    assert_eq!(day["totals"]["requests"], 6);
}

#[tokio::test]
async fn calls_show_in_the_history_at_once_and_are_counted_once_after_a_flush() {
    let flush = std::time::Duration::from_secs(3);
    let app = spawn_app_with(|c| c.observability.rollup_flush_every = flush).await;
    let upstream = Upstream::start().await;
    let (_, id) = operator_with_service(&app, &upstream, "live").await;
    let entry = web4_tests::fixtures::node_ids(&app).remove(0);
    let totals = |view: Value| (view["totals"]["requests"].as_u64(), view["totals"]["errors"].as_u64());
    let node_requests = |view: Value| -> u64 {
        view["points"].as_array().unwrap().iter().map(|p| p["requests"].as_u64().unwrap()).sum()
    };

    call(&app, &id, 3, 1).await;
    let before_flush: Value = app.get(&format!("/api/v1/services/{id}/metrics")).await.json().await.unwrap();
    let node_before: Value = app.get(&format!("/api/v1/nodes/{entry}/metrics")).await.json().await.unwrap();
    let sql = format!("SELECT COUNT(*) FROM service_rollups WHERE service_id = '{id}'");
    eventually("the rollups to be flushed", || async { app.count(&sql).await > 0 }).await;
    let after_flush: Value = app.get(&format!("/api/v1/services/{id}/metrics")).await.json().await.unwrap();
    let node_after: Value = app.get(&format!("/api/v1/nodes/{entry}/metrics")).await.json().await.unwrap();

    assert_eq!(totals(before_flush), (Some(4), Some(1)), "the minute not yet written is shown");
    assert_eq!(totals(after_flush), (Some(4), Some(1)), "and counted once when it is");
    assert_eq!(node_requests(node_before), 4, "the entry node's calls too");
    assert_eq!(node_requests(node_after), 4);
}

#[tokio::test]
async fn nobody_else_sees_a_services_metrics_nor_a_developer_the_meshs() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (_, id) = operator_with_service(&app, &upstream, "private").await;
    let stranger = second_account(&app, "stranger@example.com").await;
    let node = web4_tests::fixtures::node_ids(&app).remove(0);

    let theirs = stranger.get(app.url(&format!("/api/v1/services/{id}/metrics"))).send().await.unwrap();
    let drops = stranger.get(app.url("/api/v1/mesh/drops")).send().await.unwrap();
    let node_metrics = stranger.get(app.url(&format!("/api/v1/nodes/{node}/metrics"))).send().await.unwrap();

    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    assert_eq!(drops.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_of(drops).await.0, "operator_only");
    assert_eq!(node_metrics.status(), StatusCode::FORBIDDEN);
    // The operator sees them.
    let drops = app.get("/api/v1/mesh/drops?window=week").await;
    assert_eq!(drops.status(), StatusCode::OK);
    let drops: Value = drops.json().await.unwrap();
    assert_eq!(drops["steps"].as_array().unwrap().len(), 168);
    let node_view: Value = app.get(&format!("/api/v1/nodes/{node}/metrics")).await.json().await.unwrap();
    assert_eq!(node_view["node_id"], node.as_str());
    assert_eq!(node_view["points"].as_array().unwrap().len(), 60);
}

#[tokio::test]
async fn a_window_that_is_not_one_is_refused() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let (_, id) = operator_with_service(&app, &upstream, "windowed").await;

    let response = app.get(&format!("/api/v1/services/{id}/metrics?window=fortnight")).await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_of(response).await.0, "bad_query");
}
