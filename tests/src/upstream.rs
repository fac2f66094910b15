//! A real upstream HTTP service on port 0 for the services tests: it echoes what it received,
//! answers with fixed odd statuses and headers, can hang, and can be switched unhealthy.
use axum::{
    Router,
    body::Bytes,
    extract::{Request, State},
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::{any, get},
};
use serde_json::json;
use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

/// Switches and counters shared with the running upstream.
#[derive(Default)]
pub struct Controls {
    /// `/health` answers 503 while set.
    pub unhealthy: AtomicBool,
    /// Every request except `/health` waits 30 s while set.
    pub hang: AtomicBool,
    /// Requests received, `/health` excluded.
    pub calls: AtomicU64,
    /// Health checks received.
    pub checks: AtomicU64,
}

/// A running upstream.
pub struct Upstream {
    pub address: SocketAddr,
    pub controls: Arc<Controls>,
    task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    /// Starts one on 127.0.0.1, port 0.
    pub async fn start() -> Upstream {
        let controls = Arc::new(Controls::default());
        let router = Router::new()
            .route("/health", get(health))
            .route("/teapot", any(teapot))
            .route("/hang", any(hang))
            .route("/big", get(big))
            .fallback(echo)
            .with_state(controls.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind upstream");
        let address = listener.local_addr().expect("upstream address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Upstream { address, controls, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn health(State(c): State<Arc<Controls>>) -> StatusCode {
    c.checks.fetch_add(1, Ordering::Relaxed);
    if c.unhealthy.load(Ordering::Relaxed) { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK }
}

async fn maybe_hang(c: &Controls) {
    c.calls.fetch_add(1, Ordering::Relaxed);
    if c.hang.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
}

async fn teapot(State(c): State<Arc<Controls>>) -> impl IntoResponse {
    maybe_hang(&c).await;
    (
        StatusCode::IM_A_TEAPOT,
        [("x-custom", "42"), ("content-type", "text/plain; charset=utf-8")],
        "short and stout",
    )
}

async fn hang(State(c): State<Arc<Controls>>) -> &'static str {
    c.calls.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(30)).await;
    "too late"
}

async fn big(State(c): State<Arc<Controls>>) -> Vec<u8> {
    maybe_hang(&c).await;
    vec![b'x'; 5 << 20]
}

async fn echo(State(c): State<Arc<Controls>>, request: Request) -> impl IntoResponse {
    maybe_hang(&c).await;
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let headers: serde_json::Map<String, serde_json::Value> = parts
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), json!(v.to_str().unwrap_or("?"))))
        .collect();
    let mut out = HeaderMap::new();
    out.insert("x-upstream", "echo".parse().expect("header"));
    (
        StatusCode::OK,
        out,
        axum::Json(json!({
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "query": parts.uri.query(),
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
        })),
    )
}
