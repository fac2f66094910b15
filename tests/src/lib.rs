//! The whole-system test harness: [`spawn_app`] starts the real platform server in-process on
//! a random port with a fresh SQLite database in a temporary directory, and returns a
//! [`TestApp`] with one helper per endpoint.
#![forbid(unsafe_code)]

pub mod collector;
pub mod fixtures;
pub mod load;
pub mod upstream;

use reqwest::{Client, Response, cookie::Jar, redirect::Policy};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use server::{Application, Config};
use std::{net::SocketAddr, sync::Arc};
use tempfile::TempDir;
use tokio::{sync::oneshot, task::JoinHandle};

/// A strong password that passes the platform's rules.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running platform server and a cookie-keeping client pointed at it.
pub struct TestApp {
    pub address: SocketAddr,
    pub client: Client,
    pub cookies: Arc<Jar>,
    pub db: DatabaseConnection,
    /// The embedded mesh nodes of the server.
    pub mesh: Arc<server::nodes::embedded::EmbeddedNodes>,
    /// The services layer (placements, catalog, gateway).
    pub services: Arc<server::services::runtime::ServiceRuntime>,
    /// The unauthenticated `/metrics` listener, when `metrics_bind` was set.
    pub metrics_address: Option<SocketAddr>,
    data_dir: TempDir,
    /// A client calling with an `invoke` API key of the logged-in account (see [`TestApp::invoker`]).
    invoker: tokio::sync::OnceCell<Client>,
    shutdown: oneshot::Sender<()>,
    handle: JoinHandle<anyhow::Result<()>>,
}

/// Starts a server on a fresh data directory.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server on a fresh data directory, after `adjust` has changed its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temporary directory");
    let mut config = test_config(&data_dir);
    adjust(&mut config);
    start(config, data_dir, Arc::new(Jar::default())).await
}

fn test_config(data_dir: &TempDir) -> Config {
    let mut config = Config::for_data_dir(data_dir.path());
    config.bind = SocketAddr::from(([127, 0, 0, 1], 0));
    // The tests' upstreams run on this machine: loopback is allowed explicitly (the default
    // egress policy refuses it), everything else keeps the default.
    config.egress_allow = vec!["127.0.0.0/8".parse().expect("a CIDR")];
    config
}

async fn start(config: Config, data_dir: TempDir, cookies: Arc<Jar>) -> TestApp {
    let app = Application::build(config).await.expect("the server builds");
    let address = app.local_addr();
    let metrics_address = app.metrics_addr();
    let db = app.state().db.clone();
    let mesh = app.state().nodes.embedded().clone();
    let services = app.state().services.runtime().clone();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        client: client_with(cookies.clone()),
        cookies,
        db,
        mesh,
        services,
        metrics_address,
        data_dir,
        invoker: tokio::sync::OnceCell::new(),
        shutdown,
        handle,
    }
}

/// A client that keeps cookies in `jar` and does not follow redirects (tests look at them).
pub fn client_with(jar: Arc<Jar>) -> Client {
    Client::builder().cookie_provider(jar).redirect(Policy::none()).build().expect("http client")
}

impl TestApp {
    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// Stops the server gracefully and starts a new one on the same data directory; the
    /// client keeps its cookies (cookies are not scoped by port).
    pub async fn restart(self) -> TestApp {
        let TestApp { data_dir, cookies, shutdown, handle, mesh, services, .. } = self;
        drop((mesh, services));
        let _ = shutdown.send(());
        handle.await.expect("server task").expect("server stopped cleanly");
        let config = test_config(&data_dir);
        start(config, data_dir, cookies).await
    }

    /// A client that invokes services with an API key (scope `invoke`) of the account the
    /// app's client is logged in as — the invoke path takes no session cookie. The key is
    /// created on first use.
    pub async fn invoker(&self) -> &Client {
        self.invoker
            .get_or_init(|| async {
                let (_, secret) = fixtures::api_key(self, &self.client, &["invoke"]).await;
                let mut headers = reqwest::header::HeaderMap::new();
                let value = format!("Bearer {secret}").parse().expect("a header value");
                headers.insert(reqwest::header::AUTHORIZATION, value);
                Client::builder()
                    .default_headers(headers)
                    .redirect(Policy::none())
                    .build()
                    .expect("http client")
            })
            .await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request sent")
    }

    /// `POST path` with a raw body of the given content type.
    pub async fn post_body(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    /// `GET /api/v1/me` from a fresh client presenting `session_id` as its session cookie.
    pub async fn me_with_session_id(&self, session_id: &str) -> Response {
        Client::new()
            .get(self.url("/api/v1/me"))
            .header("cookie", format!("{}={session_id}", server::http::SESSION_COOKIE))
            .send()
            .await
            .expect("request sent")
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }

    /// `POST /api/v1/auth/signup`.
    pub async fn sign_up(&self, email: &str, password: &str) -> Response {
        self.post_json("/api/v1/auth/signup", &json!({ "email": email, "password": password })).await
    }

    /// `POST /api/v1/auth/login`.
    pub async fn log_in(&self, email: &str, password: &str) -> Response {
        self.post_json("/api/v1/auth/login", &json!({ "email": email, "password": password })).await
    }

    /// `POST /api/v1/auth/logout`.
    pub async fn log_out(&self) -> Response {
        self.client.post(self.url("/api/v1/auth/logout")).send().await.expect("request sent")
    }

    /// `GET /api/v1/me`.
    pub async fn me(&self) -> Response {
        self.get("/api/v1/me").await
    }

    /// The value of the session cookie the client holds, if any.
    pub fn session_cookie(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = self.url("/").parse().expect("url");
        let header = self.cookies.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|c| c.strip_prefix(&format!("{}=", server::http::SESSION_COOKIE)).map(str::to_owned))
    }

    /// Runs `sql` (a single-number query such as `SELECT COUNT(*) …`) and returns the number.
    pub async fn count(&self, sql: &str) -> i64 {
        let backend = self.db.get_database_backend();
        let row = self.db.query_one(Statement::from_string(backend, sql)).await.expect("query runs");
        row.expect("a row").try_get_by_index::<i64>(0).expect("a number")
    }

    /// The data directory of this server (its SQLite file lives there).
    pub fn data_dir(&self) -> &std::path::Path {
        self.data_dir.path()
    }

    /// Runs `sql` and returns the first column of every row as strings.
    pub async fn query_strings(&self, sql: &str) -> Vec<String> {
        let backend = self.db.get_database_backend();
        let rows = self.db.query_all(Statement::from_string(backend, sql)).await.expect("query runs");
        rows.iter().map(|row| row.try_get_by_index::<String>(0).expect("a text column")).collect()
    }
}

impl TestApp {
    /// Signs up the first account of the platform (the operator) on this app's client.
    pub async fn sign_up_operator(&self) {
        let response = self.sign_up("operator@example.com", PASSWORD).await;
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    }

    /// Mints a join token as the logged-in operator; returns `(id, secret)`.
    pub async fn mint_token(&self, reusable: bool) -> (String, String) {
        let response =
            self.post_json("/api/v1/join-tokens", &json!({ "note": "test", "reusable": reusable })).await;
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
        let body: Value = response.json().await.expect("json");
        (body["token"]["id"].as_str().unwrap().to_owned(), body["secret"].as_str().unwrap().to_owned())
    }

    /// Asks for a join challenge and signs it with `key`, claiming to be `claimed`.
    pub async fn signed_join(
        &self,
        key: &server::mesh::Keypair,
        claimed: &server::mesh::NodeId,
        token: &str,
    ) -> Value {
        let response = self.client.post(self.url("/api/v1/mesh/challenges")).send().await.expect("sent");
        let challenge: Value = response.json().await.expect("json");
        let challenge = challenge["challenge"].as_str().unwrap().to_owned();
        let mut message = server::nodes::JOIN_SIGNING_TAG.to_vec();
        message.extend_from_slice(&server::secrets::unb64(&challenge).unwrap());
        message.extend_from_slice(&claimed.to_bytes());
        json!({
            "token": token,
            "node_id": claimed.to_string(),
            "challenge": challenge,
            "signature": server::secrets::b64(&key.sign(&message).unwrap()),
            "address": "/ip4/127.0.0.1/tcp/1",
            "name": "test-node",
            "labels": { "zone": "test" },
        })
    }

    /// The nodes the API lists.
    pub async fn nodes(&self) -> Vec<Value> {
        let response = self.get("/api/v1/nodes").await;
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        response.json().await.expect("json")
    }
}

/// Lifts the rate limits (for benchmarks and load tests).
pub fn unlimited(config: &mut Config) {
    let unlimited = server::ratelimit::Limit { per_second: 1_000_000, burst: 1_000_000 };
    let plenty = server::ratelimit::Budget { burst: 1_000_000, refill: std::time::Duration::from_micros(1) };
    config.rate_limits = server::ratelimit::RateLimitSettings {
        key: unlimited,
        account: unlimited,
        failed_auth: unlimited,
        sign_up: plenty,
        challenge: plenty,
        search: unlimited,
    };
}

/// Polls `condition` every 20 ms for up to 15 s; returns how long it took.
pub async fn eventually<F, Fut>(what: &str, mut condition: F) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(15) {
        if condition().await {
            return start.elapsed();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Reads a response's body as the platform's error shape and returns `(code, message)`,
/// failing the test if the body is not in that shape.
pub async fn error_of(response: Response) -> (String, String) {
    let body: Value = response.json().await.expect("error body is JSON");
    let code = body["error"]["code"].as_str().unwrap_or_else(|| panic!("no error.code in {body}"));
    let message = body["error"]["message"].as_str().unwrap_or_else(|| panic!("no error.message in {body}"));
    (code.to_owned(), message.to_owned())
}
