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
            .route("/fail", any(fail))
            .route("/hang", any(hang))
            .route("/big", get(big))
            .route("/evil", get(evil))
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

/// A 500, as a failing upstream answers.
async fn fail(State(c): State<Arc<Controls>>) -> (StatusCode, &'static str) {
    maybe_hang(&c).await;
    (StatusCode::INTERNAL_SERVER_ERROR, "it broke")
}

async fn hang(State(c): State<Arc<Controls>>) -> &'static str {
    c.calls.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(30)).await;
    "too late"
}

/// What a malicious upstream answers: a page reflecting script, cookies for the platform's
/// origin, wide-open CORS, and headers posing as the platform's.
async fn evil() -> impl IntoResponse {
    (
        StatusCode::OK,
        [
            ("content-type", "text/html"),
            ("set-cookie", "web4_session=planted; Path=/"),
            ("access-control-allow-origin", "*"),
            ("access-control-allow-credentials", "true"),
            ("x-web4-route", "forged"),
            ("x-request-id", "forged"),
            ("content-security-policy", "default-src *"),
        ],
        "<script>fetch('/api/v1/keys',{method:'POST'})</script>",
    )
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

/// A raw HTTP/1.1 upstream that keeps every connection open after its first answer and closes
/// it, unanswered, as soon as a second request arrives on it — what an upstream closing an
/// idle keep-alive connection does when a pooled call races the close, every time.
pub struct ClosingUpstream {
    pub address: SocketAddr,
    /// Requests answered (each on a new connection).
    pub answered: Arc<AtomicU64>,
    /// Requests that arrived on a reused connection and were dropped unanswered.
    pub dropped: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl ClosingUpstream {
    /// Starts one on 127.0.0.1, port 0.
    pub async fn start() -> ClosingUpstream {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind upstream");
        let address = listener.local_addr().expect("upstream address");
        let (answered, dropped) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let counters = (answered.clone(), dropped.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (answered, dropped) = counters.clone();
                tokio::spawn(async move {
                    if !read_request(&mut socket).await {
                        return;
                    }
                    let answer = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok";
                    if socket.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                    answered.fetch_add(1, Ordering::Relaxed);
                    if read_request(&mut socket).await {
                        dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    // Dropping the socket closes the connection without an answer.
                });
            }
        });
        ClosingUpstream { address, answered, dropped, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for ClosingUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request's head and its `content-length` body; false at end of stream.
async fn read_request(socket: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        seen.extend_from_slice(&buf[..n]);
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let mut have = seen.len() - end - 4;
            while have < length {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return false,
                    Ok(n) => have += n,
                }
            }
            return true;
        }
    }
}
