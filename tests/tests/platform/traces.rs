//! Traces end to end: W3C `traceparent` from the caller through the mesh to the upstream and
//! back, the timeline `GET /api/v1/traces/{id}` shows, hostile headers, secrets kept out, who
//! sees what, and the store's bound.
use reqwest::StatusCode;
use serde_json::{Value, json};
use web4_tests::{
    TestApp, eventually,
    fixtures::{
        api_key, bearer, discovery, http_service, node_action, node_ids, register, routable, second_account,
    },
    spawn_app, spawn_app_with,
    upstream::Upstream,
};

const CALLER: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// `(trace id, parent id)` of a `traceparent`.
fn ids_of(traceparent: &str) -> (String, String) {
    let fields: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(fields.len(), 4, "{traceparent}");
    assert_eq!((fields[0], fields[3].len()), ("00", 2), "{traceparent}");
    (fields[1].to_owned(), fields[2].to_owned())
}

async fn get_json(client: &reqwest::Client, url: String) -> (StatusCode, Value) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_callers_trace_is_continued_to_the_upstream_and_shown_hop_by_hop() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let ids = node_ids(&app);
    // Only the far end of the line may host it: the call crosses two links.
    node_action(&app, &ids[0], "drain").await;
    node_action(&app, &ids[1], "drain").await;
    let id = routable(&app, "traced", &upstream).await;

    let response = app
        .invoker()
        .await
        .get(app.url(&format!("/api/v1/invoke/{id}/echo")))
        .header("traceparent", CALLER)
        .header("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let (answered_trace, answered_span) = ids_of(response.headers()["traceparent"].to_str().unwrap());
    assert_eq!(answered_trace, CALLER_TRACE, "the caller learns its own trace");
    assert_ne!(answered_span, "00f067aa0ba902b7");
    let route: Vec<String> =
        response.headers()["x-web4-route"].to_str().unwrap().split(',').map(str::to_owned).collect();
    assert_eq!(route, ids);
    let echo: Value = response.json().await.unwrap();
    let (upstream_trace, upstream_parent) = ids_of(echo["headers"]["traceparent"].as_str().unwrap());
    assert_eq!(upstream_trace, CALLER_TRACE, "the upstream continues the caller's trace");
    assert_ne!(upstream_parent, "00f067aa0ba902b7", "as a child of the platform's spans");
    assert_ne!(upstream_parent, answered_span);
    assert_eq!(echo["headers"]["tracestate"], "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");

    let (status, trace) = get_json(&app.client, app.url(&format!("/api/v1/traces/{CALLER_TRACE}"))).await;
    assert_eq!(status, StatusCode::OK, "{trace}");
    assert_eq!(trace["summary"]["route"], json!(route));
    assert_eq!(trace["summary"]["status"], 200);
    assert_eq!(trace["summary"]["path"], "/echo");
    let spans = trace["spans"].as_array().unwrap();
    let of = |kind: &str| spans.iter().filter(|s| s["kind"] == kind).collect::<Vec<_>>();
    for kind in ["gateway", "attempt", "host", "upstream", "reply"] {
        assert_eq!(of(kind).len(), 1, "one {kind} span: {trace}");
    }
    let hops: Vec<&Value> = of("hop").iter().map(|s| &s["node"]).collect();
    assert_eq!(hops, route[1..].iter().collect::<Vec<_>>(), "the hops follow the route");
    assert_eq!(of("host")[0]["node"], route[2]);
    assert_eq!(of("upstream")[0]["name"], "upstream 200");
    let total = trace["summary"]["duration_ms"].as_f64().unwrap();
    let starts: Vec<f64> = spans.iter().map(|s| s["start_ms"].as_f64().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
    for span in spans {
        let end = span["start_ms"].as_f64().unwrap() + span["duration_ms"].as_f64().unwrap();
        assert!(end <= total + 1e-6, "{span} ends after the call ({total} ms)");
    }
}

#[tokio::test]
async fn a_hostile_traceparent_starts_a_new_trace_and_the_call_goes_through() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "hostile", &upstream).await;
    let long = format!("{CALLER}{}", "-0".repeat(5_000));
    let hostile: [&[u8]; 8] = [
        b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        b"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        long.as_bytes(),
        "00-4bf92f3577b34da6a3ce929d0e0e47é6-00f067aa0ba902b7-01".as_bytes(),
        b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
        b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-00",
    ];
    for value in hostile {
        let header = reqwest::header::HeaderValue::from_bytes(value).unwrap();
        let response = app
            .invoker()
            .await
            .get(app.url(&format!("/api/v1/invoke/{id}/echo")))
            .header("traceparent", header)
            .header("tracestate", "Not Valid")
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), StatusCode::OK, "{}", String::from_utf8_lossy(value));
        let (trace, _) = ids_of(response.headers()["traceparent"].to_str().unwrap());
        assert_ne!(trace, CALLER_TRACE);
        assert_ne!(trace, "0".repeat(32));
        let echo: Value = response.json().await.unwrap();
        assert_eq!(
            ids_of(echo["headers"]["traceparent"].as_str().unwrap()).0,
            trace,
            "a new trace, carried on"
        );
        assert!(echo["headers"].get("tracestate").is_none(), "a malformed tracestate is dropped");
    }
}

#[tokio::test]
async fn traces_hold_no_body_header_value_query_or_key() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "secretive", &upstream).await;
    let (_, key) = api_key(&app, &app.client, &["invoke"]).await;

    let response = bearer(&key)
        .post(app.url(&format!("/api/v1/invoke/{id}/echo/path?token=query-secret-31337")))
        .header("cookie", "session=cookie-secret-4242")
        .header("x-api-secret", "header-secret-8080")
        .body("body-secret-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (trace_id, _) = ids_of(response.headers()["traceparent"].to_str().unwrap());

    let list = app.client.get(app.url("/api/v1/traces")).send().await.unwrap().text().await.unwrap();
    let detail = app
        .client
        .get(app.url(&format!("/api/v1/traces/{trace_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains(&trace_id) && detail.contains("/echo/path"), "{list}\n{detail}");
    for secret in ["query-secret-31337", "cookie-secret-4242", "header-secret-8080", "body-secret-1234", &key]
    {
        assert!(!list.contains(secret), "{secret} in the list");
        assert!(!detail.contains(secret), "{secret} in the trace");
    }
}

#[tokio::test]
async fn another_account_neither_finds_nor_lists_a_trace_and_the_operator_sees_it() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let owner = second_account(&app, "owner@example.com").await;
    let service = register(&app, &owner, http_service("mine", &upstream, json!({ "replicas": 1 }))).await;
    let id = service["id"].as_str().unwrap().to_owned();
    eventually("the service to be routable", || async {
        discovery(&app, &owner, &id).await["instances"].as_array().is_some_and(|i| i.len() == 1)
    })
    .await;
    let (_, key) = api_key(&app, &owner, &["invoke"]).await;
    let response = bearer(&key).get(app.url(&format!("/api/v1/invoke/{id}/echo"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (trace_id, _) = ids_of(response.headers()["traceparent"].to_str().unwrap());
    let stranger = second_account(&app, "stranger@example.com").await;

    let (own, _) = get_json(&owner, app.url(&format!("/api/v1/traces/{trace_id}"))).await;
    let (theirs, body) = get_json(&stranger, app.url(&format!("/api/v1/traces/{trace_id}"))).await;
    let (_, their_list) = get_json(&stranger, app.url("/api/v1/traces")).await;
    let (operator, _) = get_json(&app.client, app.url(&format!("/api/v1/traces/{trace_id}"))).await;
    let (_, operator_list) = get_json(&app.client, app.url(&format!("/api/v1/traces?service={id}"))).await;

    assert_eq!(own, StatusCode::OK);
    assert_eq!(theirs, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    assert_eq!(their_list, json!([]));
    assert_eq!(operator, StatusCode::OK);
    assert_eq!(operator_list[0]["trace_id"], trace_id.as_str());
    let (bad, _) = get_json(&app.client, app.url("/api/v1/traces?limit=101")).await;
    assert_eq!(bad, StatusCode::BAD_REQUEST, "limit beyond 100 is refused like every list's");
    for min_ms in ["3600001", "2147483648", "-1"] {
        let (bad, body) = get_json(&app.client, app.url(&format!("/api/v1/traces?min_ms={min_ms}"))).await;
        assert_eq!(bad, StatusCode::BAD_REQUEST, "min_ms={min_ms}: {body}");
    }
    let (unknown, _) = get_json(&app.client, app.url("/api/v1/traces/not-a-trace-id")).await;
    assert_eq!(unknown, StatusCode::NOT_FOUND);
}

async fn call(app: &TestApp, id: &str) -> String {
    let response =
        app.invoker().await.get(app.url(&format!("/api/v1/invoke/{id}/echo"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    ids_of(response.headers()["traceparent"].to_str().unwrap()).0
}

#[tokio::test]
async fn the_store_keeps_only_the_newest_traces_up_to_its_capacity() {
    let app = spawn_app_with(|config| config.traces.capacity = 5).await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "bounded", &upstream).await;
    let mut made = Vec::new();
    for _ in 0..8 {
        made.push(call(&app, &id).await);
    }

    let (status, list) = get_json(&app.client, app.url("/api/v1/traces")).await;

    assert_eq!(status, StatusCode::OK);
    let listed: Vec<&str> =
        list.as_array().unwrap().iter().map(|t| t["trace_id"].as_str().unwrap()).collect();
    let newest: Vec<&str> = made[3..].iter().rev().map(String::as_str).collect();
    assert_eq!(listed, newest);
}

#[tokio::test]
async fn with_traces_off_calls_still_carry_a_traceparent_and_nothing_is_kept() {
    let app = spawn_app_with(|config| config.traces.enabled = false).await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "untraced", &upstream).await;

    let trace_id = call(&app, &id).await;

    let (status, _) = get_json(&app.client, app.url(&format!("/api/v1/traces/{trace_id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_consumer_and_the_provider_both_see_a_call_on_a_subscription_and_a_stranger_does_not() {
    let app = spawn_app().await;
    let upstream = Upstream::start().await;
    let free = json!({ "name": "Free", "free_calls_per_month": 100 });
    let (listing, plans) = crate::marketplace::published(&app, &upstream, &[free]).await;
    let consumer = second_account(&app, "consumer@example.com").await;
    let (_, secret) = api_key(&app, &consumer, &["read", "write", "invoke"]).await;
    let key = bearer(&secret);
    let plan = plans[0]["plan"]["id"].as_str().unwrap();
    let subscribed =
        key.post(app.url("/api/v1/subscriptions")).json(&json!({ "plan_id": plan })).send().await;
    assert_eq!(subscribed.unwrap().status(), StatusCode::CREATED);
    let path = format!("/api/v1/invoke/{}/forecast", listing["invoke_path"].as_str().unwrap());
    let response = key.get(app.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (trace_id, _) = ids_of(response.headers()["traceparent"].to_str().unwrap());
    let stranger = second_account(&app, "stranger@example.com").await;

    let url = app.url(&format!("/api/v1/traces/{trace_id}"));
    let (as_consumer, _) = get_json(&key, url.clone()).await;
    let (_, consumer_list) = get_json(&key, app.url("/api/v1/traces")).await;
    let (as_provider, _) = get_json(&app.client, url.clone()).await;
    let (as_stranger, _) = get_json(&stranger, url).await;

    assert_eq!(as_consumer, StatusCode::OK);
    assert_eq!(consumer_list[0]["trace_id"], trace_id.as_str());
    assert_eq!(as_provider, StatusCode::OK);
    assert_eq!(as_stranger, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_call_that_timed_out_is_kept_with_where_it_failed() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "slow", &upstream).await;

    let response = app
        .invoker()
        .await
        .get(app.url(&format!("/api/v1/invoke/{id}/hang")))
        .header("traceparent", CALLER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);

    let (status, list) = get_json(&app.client, app.url("/api/v1/traces?status=error")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["trace_id"], CALLER_TRACE);
    assert_eq!(list[0]["error_code"], "upstream_timeout");
    let (_, ok_list) = get_json(&app.client, app.url("/api/v1/traces?status=ok")).await;
    assert_eq!(ok_list, json!([]));
    let (_, trace) = get_json(&app.client, app.url(&format!("/api/v1/traces/{CALLER_TRACE}"))).await;
    let spans = trace["spans"].as_array().unwrap();
    let host = spans.iter().find(|s| s["kind"] == "host").expect("a host span");
    assert_eq!(host["error"], "upstream_timeout", "{trace}");
    assert!(host["duration_ms"].as_f64().unwrap() >= 1900.0, "the host waited out the timeout: {host}");
    assert!(spans.iter().all(|s| s["kind"] != "upstream"), "{trace}");
}
