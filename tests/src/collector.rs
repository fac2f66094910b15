//! An OpenTelemetry collector's OTLP/HTTP traces receiver, on a socket of its own: it keeps
//! each request's content type and body.
use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use std::sync::{Arc, Mutex};

/// What the collector received: each request's content type and body.
pub type Received = Arc<Mutex<Vec<(String, Bytes)>>>;

/// Starts a receiver; its traces URL (`http://127.0.0.1:port/v1/traces`) and what it gets.
/// `keep: false` counts nothing and keeps nothing (for benchmarks).
pub async fn start(keep: bool) -> (String, Received) {
    let received = Received::default();
    let app = Router::new()
        .route(
            "/v1/traces",
            post(move |State(got): State<Received>, headers: HeaderMap, body: Bytes| async move {
                if keep {
                    let kind = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
                    got.lock().unwrap_or_else(|e| e.into_inner()).push((kind.to_owned(), body));
                }
                ""
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port for the collector");
    let url = format!("http://{}/v1/traces", listener.local_addr().expect("its address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}
