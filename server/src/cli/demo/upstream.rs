//! The demo's upstream: a tiny quotes API on 127.0.0.1, port 0 — what a provider would run
//! somewhere and register with the platform. `GET /health` for the platform's health checks,
//! `GET /quote` for a quote (`?n=` picks one), anything else echoed back as JSON.
use axum::{
    Json, Router,
    extract::{Query, Request},
    http::StatusCode,
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;

const QUOTES: [(&str, &str); 5] = [
    ("Simplicity is prerequisite for reliability.", "Edsger W. Dijkstra"),
    ("Make it work, make it right, make it fast.", "Kent Beck"),
    ("The network is reliable.", "the first fallacy of distributed computing"),
    ("Premature optimization is the root of all evil.", "Donald Knuth"),
    ("Data dominates.", "Rob Pike"),
];

/// A running upstream; stops when dropped.
pub struct Upstream {
    pub address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    /// Starts it on 127.0.0.1, port 0.
    pub async fn start() -> anyhow::Result<Self> {
        let router = Router::new()
            .route("/health", get(|| async { StatusCode::OK }))
            .route("/quote", get(quote))
            .fallback(echo);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::warn!(error = %err, "the demo upstream stopped");
            }
        });
        Ok(Self { address, task })
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

#[derive(Deserialize)]
struct Pick {
    n: Option<usize>,
}

async fn quote(Query(pick): Query<Pick>) -> Json<Value> {
    let n = pick.n.unwrap_or(0);
    let (text, author) = QUOTES[n % QUOTES.len()];
    Json(json!({ "n": n, "quote": text, "author": author }))
}

async fn echo(request: Request) -> Json<Value> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    Json(json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "body": String::from_utf8_lossy(&body),
    }))
}
