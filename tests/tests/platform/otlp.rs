//! Traces exported to an OpenTelemetry collector (`otlp_endpoint`): a real OTLP/HTTP receiver
//! on a socket gets the call's spans, in the caller's trace, with the host span the upstream's
//! `traceparent` names as its parent.
use serde_json::Value;
use server::observability::otlp::{OtlpProtocol, OtlpSettings};
use std::time::Duration;
use web4_tests::{
    TestApp,
    collector::{self, Received},
    eventually,
    fixtures::routable,
    spawn_app_with,
    upstream::Upstream,
};

const CALLER: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// A server exporting to a fresh collector in `protocol`, and a call to `path` of a service
/// echoing its request, made within the caller's trace; the server is kept up with its answer.
async fn exported_call(protocol: OtlpProtocol, path: &str) -> (TestApp, Received, reqwest::Response) {
    let (endpoint, received) = collector::start(true).await;
    let mut settings = OtlpSettings::new(&endpoint, protocol).unwrap();
    settings.batch_delay = Duration::from_millis(100);
    let app = spawn_app_with(|config| config.observability.otlp = Some(settings)).await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "echo", &upstream).await;
    let url = app.url(&format!("/api/v1/invoke/{id}{path}"));
    let response = app.invoker().await.get(url).header("traceparent", CALLER).send().await.unwrap();
    assert_eq!(response.status(), 200);
    (app, received, response)
}

/// The spans of every JSON export received.
fn json_spans(received: &Received) -> Vec<Value> {
    let got = received.lock().unwrap();
    got.iter()
        .filter_map(|(_, body)| serde_json::from_slice::<Value>(body).ok())
        .flat_map(|export| {
            let spans = export["resourceSpans"].as_array().cloned().unwrap_or_default();
            spans
                .into_iter()
                .flat_map(|r| r["scopeSpans"].as_array().cloned().unwrap_or_default())
                .flat_map(|s| s["spans"].as_array().cloned().unwrap_or_default())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn a_calls_spans_reach_the_collector_in_the_callers_trace_and_the_upstream_joins_them() {
    let (_app, received, response) = exported_call(OtlpProtocol::Json, "/echo?token=hush").await;
    let echo: Value = response.json().await.unwrap();
    let upstream_parent =
        echo["headers"]["traceparent"].as_str().unwrap().split('-').nth(2).unwrap().to_owned();

    eventually("the collector to receive the call's spans", || async {
        json_spans(&received).iter().any(|s| s["name"].as_str().is_some_and(|n| n.starts_with("upstream")))
    })
    .await;
    let spans: Vec<Value> =
        json_spans(&received).into_iter().filter(|s| s["traceId"].as_str() == Some(CALLER_TRACE)).collect();
    let named = |prefix: &str| {
        spans
            .iter()
            .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
            .unwrap_or_else(|| panic!("no {prefix} span in {spans:?}"))
    };
    let gateway = named("GET /echo");
    assert_eq!(gateway["parentSpanId"], "00f067aa0ba902b7", "the gateway continues the caller's span");
    let attempt = named("attempt 1");
    assert_eq!(attempt["parentSpanId"], gateway["spanId"]);
    let host = named("host");
    assert_eq!(host["parentSpanId"], attempt["spanId"]);
    assert_eq!(host["spanId"], upstream_parent.as_str(), "the upstream's parent is the exported host span");
    assert_eq!(named("upstream")["parentSpanId"], host["spanId"]);
    let text = serde_json::to_string(&spans).unwrap();
    assert!(text.contains("web4.invoke_id") && text.contains("http.response.status_code"), "{text}");
    assert!(!text.contains("hush"), "the query string was exported");
    assert!(!text.contains("w4k_"), "a key was exported");
}

#[tokio::test]
async fn the_default_encoding_is_protobuf() {
    let (_app, received, _) = exported_call(OtlpProtocol::Protobuf, "/echo").await;
    let trace_id: Vec<u8> =
        (0..16).map(|i| u8::from_str_radix(&CALLER_TRACE[2 * i..2 * i + 2], 16).unwrap()).collect();
    eventually("a protobuf export carrying the trace id", || async {
        received.lock().unwrap().iter().any(|(kind, body)| {
            kind == "application/x-protobuf" && body.windows(16).any(|w| w == trace_id.as_slice())
        })
    })
    .await;
}
