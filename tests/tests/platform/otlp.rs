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

/// A server exporting to a fresh collector, a service echoing its requests, and the first call.
struct Exported {
    app: TestApp,
    received: Received,
    response: reqwest::Response,
    /// The service's id.
    id: String,
    /// Kept up while the test runs (bind it: `..` would drop it at once).
    _upstream: Upstream,
}

/// A server exporting in `protocol` (`sample_percent` of the traces that start at the
/// platform) and a call to `path` of its service, made within the caller's trace.
async fn exported_call(protocol: OtlpProtocol, path: &str, sample_percent: u32) -> Exported {
    let (endpoint, received) = collector::start(true).await;
    let mut settings = OtlpSettings::new(&endpoint, protocol).unwrap();
    settings.batch_delay = Duration::from_millis(100);
    settings.sample_percent = sample_percent;
    let app = spawn_app_with(|config| config.observability.otlp = Some(settings)).await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    let id = routable(&app, "echo", &upstream).await;
    let url = app.url(&format!("/api/v1/invoke/{id}{path}"));
    let response = app.invoker().await.get(url).header("traceparent", CALLER).send().await.unwrap();
    assert_eq!(response.status(), 200);
    Exported { app, received, response, id, _upstream: upstream }
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
    let Exported { received, response, _upstream, .. } =
        exported_call(OtlpProtocol::Json, "/echo?token=hush", 100).await;
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
    let Exported { received, _upstream, .. } = exported_call(OtlpProtocol::Protobuf, "/echo", 100).await;
    let trace_id: Vec<u8> =
        (0..16).map(|i| u8::from_str_radix(&CALLER_TRACE[2 * i..2 * i + 2], 16).unwrap()).collect();
    eventually("a protobuf export carrying the trace id", || async {
        received.lock().unwrap().iter().any(|(kind, body)| {
            kind == "application/x-protobuf" && body.windows(16).any(|w| w == trace_id.as_slice())
        })
    })
    .await;
}

#[tokio::test]
async fn with_sampling_off_only_calls_in_a_callers_sampled_trace_are_exported() {
    let Exported { app, received, id, _upstream, .. } = exported_call(OtlpProtocol::Json, "/echo", 0).await;
    // A call in a trace the platform starts: not exported at 0 %.
    let own = app.invoker().await.get(app.url(&format!("/api/v1/invoke/{id}/echo"))).send().await.unwrap();
    assert_eq!(own.status(), 200);
    let own_trace = own.headers()["traceparent"].to_str().unwrap().split('-').nth(1).unwrap().to_owned();
    // One more call in the caller's sampled trace (the first one was too).
    let again = app.invoker().await.get(app.url(&format!("/api/v1/invoke/{id}/again")));
    assert_eq!(again.header("traceparent", CALLER).send().await.unwrap().status(), 200);
    eventually("the caller's second call to be exported", || async {
        json_spans(&received).iter().any(|s| s["name"].as_str() == Some("GET /again"))
    })
    .await;
    let traces: std::collections::BTreeSet<String> =
        json_spans(&received).iter().filter_map(|s| s["traceId"].as_str().map(str::to_owned)).collect();
    assert_eq!(traces.into_iter().collect::<Vec<_>>(), vec![CALLER_TRACE.to_owned()], "not {own_trace}");
}
