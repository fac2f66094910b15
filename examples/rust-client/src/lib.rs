//! A Cloud API client in one file: find or register a service, wait until the mesh can route
//! to it, invoke it with an `Idempotency-Key` (and retry with the same key to see the stored
//! answer replayed), then read the account's usage. `main.rs` runs it from environment
//! variables; the platform's integration tests run [`run`] against a live server.
#![forbid(unsafe_code)]

use anyhow::{Context, bail};
use reqwest::{Client, RequestBuilder, Response, StatusCode, header};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The slug used when none is given.
pub const DEFAULT_SLUG: &str = "example-echo";
/// How long to wait for a healthy instance before giving up.
const HEALTHY_WITHIN: Duration = Duration::from_secs(60);
/// Tries of one request that is answered 429 or 503 with `Retry-After`.
const TRIES: u32 = 4;

/// What to call and with what.
#[derive(Clone, Debug)]
pub struct Options {
    /// The platform's origin, e.g. `http://127.0.0.1:3000`.
    pub base_url: String,
    /// An API key (`w4k_…`) with the `read`, `write` and `invoke` scopes.
    pub api_key: String,
    /// Where the platform forwards calls, e.g. `http://127.0.0.1:9000`.
    pub upstream: String,
    /// The service's slug: used if the account has it, registered otherwise.
    pub slug: String,
    /// The upstream path the platform's health checks call.
    pub health_path: String,
}

impl Options {
    /// Options with the default slug and health path (`/`).
    pub fn new(base_url: &str, api_key: &str, upstream: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
            upstream: upstream.to_owned(),
            slug: DEFAULT_SLUG.to_owned(),
            health_path: "/".to_owned(),
        }
    }
}

/// What one run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub service_id: String,
    pub slug: String,
    /// Whether this run registered the service (`false`: the account had it already).
    pub registered: bool,
    /// Healthy instances discovery offered when the wait ended.
    pub instances: usize,
    /// The upstream's status, as the invoke answered it.
    pub status: u16,
    /// `x-web4-invoke-id`: the id the usage event (and later the invoice line) names.
    pub invoke_id: String,
    /// `x-web4-route`: the mesh nodes the call crossed, entry node first.
    pub route: Vec<String>,
    /// Whether the retry with the same `Idempotency-Key` got the stored answer
    /// (`Idempotent-Replayed: true`) instead of calling the service again.
    pub replayed: bool,
    /// The retry's `x-web4-invoke-id` (the first call's, when replayed).
    pub replay_invoke_id: String,
    /// Calls of this service in the account's usage over the last 30 days.
    pub usage_calls: i64,
}

/// Runs the whole walk-through with the default slug and health path.
pub async fn run(base_url: &str, api_key: &str, upstream: &str) -> anyhow::Result<Summary> {
    run_with(&Options::new(base_url, api_key, upstream)).await
}

/// Runs the whole walk-through.
pub async fn run_with(options: &Options) -> anyhow::Result<Summary> {
    let api = Api::new(options)?;
    let (service, registered) = match api.find_service(&options.slug).await? {
        Some(service) => (service, false),
        None => (api.register(options).await?, true),
    };
    let service_id = text(&service["id"], "service id")?;
    let instances = api.wait_until_healthy(&service_id).await?;

    // One key per logical call: a retry after a timeout or a dropped connection sends the same
    // key, so the call runs (and is billed) once.
    let key = uuid::Uuid::now_v7().to_string();
    let path = format!("/api/v1/invoke/{service_id}/hello?from=rust-example");
    let body = json!({ "hello": "web4" });
    let first = api.send(api.post(&path).header("Idempotency-Key", &key).json(&body)).await?;
    let first = Invoked::read(first).await?;
    let retry = api.send(api.post(&path).header("Idempotency-Key", &key).json(&body)).await?;
    let retry = Invoked::read(retry).await?;

    let usage_calls = api.usage_calls(&service_id).await?;
    Ok(Summary {
        service_id,
        slug: options.slug.clone(),
        registered,
        instances,
        status: first.status,
        invoke_id: first.invoke_id,
        route: first.route,
        replayed: retry.replayed,
        replay_invoke_id: retry.invoke_id,
        usage_calls,
    })
}

/// A client holding the key and the base URL.
struct Api {
    client: Client,
    base_url: String,
}

impl Api {
    fn new(options: &Options) -> anyhow::Result<Self> {
        let mut headers = header::HeaderMap::new();
        let bearer = format!("Bearer {}", options.api_key);
        headers.insert(header::AUTHORIZATION, bearer.parse().context("the API key is not a header value")?);
        let client = Client::builder().default_headers(headers).timeout(Duration::from_secs(70)).build()?;
        Ok(Self { client, base_url: options.base_url.clone() })
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(format!("{}{path}", self.base_url))
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(format!("{}{path}", self.base_url))
    }

    /// Sends `request`, waiting out `Retry-After` on a 429 or 503 that carries it (rate limits,
    /// `idempotency_in_progress`, mesh backpressure); any other answer is returned as it is.
    async fn send(&self, request: RequestBuilder) -> anyhow::Result<Response> {
        for _ in 1..TRIES {
            let again = request.try_clone().context("a request with a streamed body cannot be retried")?;
            let response = again.send().await?;
            let wait = retry_after(&response);
            match (response.status(), wait) {
                (StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE, Some(wait)) => {
                    tokio::time::sleep(wait).await;
                }
                _ => return Ok(response),
            }
        }
        Ok(request.send().await?)
    }

    /// The account's service with `slug`, walking every page of `GET /api/v1/services`.
    async fn find_service(&self, slug: &str) -> anyhow::Result<Option<Value>> {
        let mut cursor: Option<String> = None;
        loop {
            let mut request = self.get("/api/v1/services").query(&[("limit", "100")]);
            if let Some(cursor) = &cursor {
                request = request.query(&[("cursor", cursor)]);
            }
            let page = json_of(self.send(request).await?).await?;
            let items = page["items"].as_array().context("a page has items")?;
            if let Some(found) = items.iter().find(|s| s["slug"] == slug) {
                return Ok(Some(found.clone()));
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(None),
            }
        }
    }

    /// `POST /api/v1/services`: an `http` service on one node, checked at `health_path`.
    async fn register(&self, options: &Options) -> anyhow::Result<Value> {
        let body = json!({
            "slug": options.slug,
            "name": "Example echo",
            "replicas": 1,
            "http": { "upstream_url": options.upstream, "timeout_ms": 5000 },
            "health_check": { "path": options.health_path, "interval_ms": 5000, "timeout_ms": 2000 },
        });
        json_of(self.send(self.post("/api/v1/services").json(&body)).await?).await
    }

    /// Polls discovery until it offers a healthy instance; returns how many it offers.
    async fn wait_until_healthy(&self, service_id: &str) -> anyhow::Result<usize> {
        let start = Instant::now();
        loop {
            let discovery = self.get(&format!("/api/v1/services/{service_id}/discovery"));
            let discovery = json_of(self.send(discovery).await?).await?;
            let instances = discovery["instances"].as_array().map_or(0, Vec::len);
            if instances > 0 {
                return Ok(instances);
            }
            if start.elapsed() > HEALTHY_WITHIN {
                bail!(
                    "no healthy instance of {service_id} after {} s: is the upstream up?",
                    HEALTHY_WITHIN.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Calls of `service_id` in `GET /api/v1/usage` (the last 30 days, today included).
    async fn usage_calls(&self, service_id: &str) -> anyhow::Result<i64> {
        let usage = json_of(self.send(self.get("/api/v1/usage")).await?).await?;
        let days = usage["days"].as_array().context("usage has days")?;
        Ok(days.iter().filter(|d| d["service_id"] == service_id).filter_map(|d| d["calls"].as_i64()).sum())
    }
}

/// The platform's headers on an invoke answer.
struct Invoked {
    status: u16,
    invoke_id: String,
    route: Vec<String>,
    replayed: bool,
}

impl Invoked {
    /// Reads an invoke answer; a failure of the platform's (`{"error": …}`) is an error.
    async fn read(response: Response) -> anyhow::Result<Self> {
        let header =
            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let Some(invoke_id) = header("x-web4-invoke-id") else {
            return Err(error_of(response).await);
        };
        let route = header("x-web4-route").unwrap_or_default();
        let replayed = header("idempotent-replayed").as_deref() == Some("true");
        Ok(Self {
            status: response.status().as_u16(),
            invoke_id,
            route: route.split(',').filter(|n| !n.is_empty()).map(str::to_owned).collect(),
            replayed,
        })
    }
}

/// The body of a 2xx as JSON, or the platform's error as an error.
async fn json_of(response: Response) -> anyhow::Result<Value> {
    if !response.status().is_success() {
        return Err(error_of(response).await);
    }
    Ok(response.json().await?)
}

/// `{"error": {"code", "message", "details"?}}` as one line: `HTTP 409 slug_taken: …`.
async fn error_of(response: Response) -> anyhow::Error {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or_default();
    let error = &body["error"];
    let details = error.get("details").map(|d| format!(" {d}")).unwrap_or_default();
    anyhow::anyhow!(
        "HTTP {} {}: {}{details}",
        status.as_u16(),
        error["code"].as_str().unwrap_or("?"),
        error["message"].as_str().unwrap_or("(no error body)")
    )
}

/// `Retry-After` in seconds, if the answer has one.
fn retry_after(response: &Response) -> Option<Duration> {
    let secs = response.headers().get(header::RETRY_AFTER)?.to_str().ok()?.parse().ok()?;
    Some(Duration::from_secs(secs))
}

fn text(value: &Value, what: &str) -> anyhow::Result<String> {
    value.as_str().map(str::to_owned).with_context(|| format!("no {what} in the answer"))
}
