//! The whole-system test harness: [`spawn_app`] starts the real platform server in-process on
//! a random port with a fresh SQLite database in a temporary directory, and returns a
//! [`TestApp`] with one helper per endpoint.
#![forbid(unsafe_code)]

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
    data_dir: TempDir,
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
    config
}

async fn start(config: Config, data_dir: TempDir, cookies: Arc<Jar>) -> TestApp {
    let app = Application::build(config).await.expect("the server builds");
    let address = app.local_addr();
    let db = app.state().db.clone();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp { address, client: client_with(cookies.clone()), cookies, db, data_dir, shutdown, handle }
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
        let TestApp { data_dir, cookies, shutdown, handle, .. } = self;
        let _ = shutdown.send(());
        handle.await.expect("server task").expect("server stopped cleanly");
        let config = test_config(&data_dir);
        start(config, data_dir, cookies).await
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

    /// Runs `sql` and returns the first column of every row as strings.
    pub async fn query_strings(&self, sql: &str) -> Vec<String> {
        let backend = self.db.get_database_backend();
        let rows = self.db.query_all(Statement::from_string(backend, sql)).await.expect("query runs");
        rows.iter().map(|row| row.try_get_by_index::<String>(0).expect("a text column")).collect()
    }
}

/// Reads a response's body as the platform's error shape and returns `(code, message)`,
/// failing the test if the body is not in that shape.
pub async fn error_of(response: Response) -> (String, String) {
    let body: Value = response.json().await.expect("error body is JSON");
    let code = body["error"]["code"].as_str().unwrap_or_else(|| panic!("no error.code in {body}"));
    let message = body["error"]["message"].as_str().unwrap_or_else(|| panic!("no error.message in {body}"));
    (code.to_owned(), message.to_owned())
}
