//! Crash safety of metering: the server runs as a separate process, clients drive invokes,
//! the process is killed with SIGKILL mid-load and restarted on the same data directory, and
//! the usage events on disk are exactly the calls the clients saw acknowledged with a 2xx.
use reqwest::{Client, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::{
    collections::BTreeSet,
    path::Path,
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};
use tokio::process::{Child, Command};
use web4_tests::{eventually, upstream::Upstream};

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn start(dir: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_web4-server-under-test"))
        .args([
            "serve",
            "--nodes",
            "2",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--egress-allow",
            "127.0.0.0/8",
        ])
        .arg("--data-dir")
        .arg(dir)
        .arg("--config")
        .arg(dir.join("web4.toml"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server process starts")
}

pub(crate) async fn ready(base: &str) {
    let client = Client::new();
    eventually("the server process to be ready", || async {
        client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success())
    })
    .await;
}

/// A server process on a fresh data directory, and a client signed up to it as its first
/// account (the session survives restarts: sessions are in the database).
pub(crate) struct Process {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub base: String,
    pub client: Client,
    pub server: Child,
}

impl Process {
    pub(crate) async fn signed_up() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("web4.toml"), "").unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let server = start(dir.path(), port);
        ready(&base).await;
        let client = web4_tests::client_with(Default::default());
        let signed_up = client
            .post(format!("{base}/api/v1/auth/signup"))
            .json(&json!({ "email": "ada@example.com", "password": web4_tests::PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(signed_up.status(), StatusCode::CREATED);
        Self { dir, port, base, client, server }
    }

    /// Kills the process with SIGKILL and starts it again on the same data directory.
    pub(crate) async fn kill_and_restart(&mut self) {
        self.server.kill().await.unwrap();
        self.server = start(self.dir.path(), self.port);
        ready(&self.base).await;
    }
}

#[tokio::test]
async fn usage_survives_sigkill_exactly_as_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("web4.toml"),
        "rate_limit_key_per_second = 100000\nrate_limit_key_burst = 100000\n\
         rate_limit_account_per_second = 100000\nrate_limit_account_burst = 100000\n",
    )
    .unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(dir.path(), port);
    ready(&base).await;

    let upstream = Upstream::start().await;
    let portal = web4_tests::client_with(Default::default());
    let signed_up = portal
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({ "email": "payer@example.com", "password": web4_tests::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), StatusCode::CREATED);
    let service: Value = portal
        .post(format!("{base}/api/v1/services"))
        .json(&json!({
            "slug": "echo", "replicas": 2,
            "http": { "upstream_url": upstream.url(), "timeout_ms": 2000 },
            "health_check": { "path": "/health", "interval_ms": 500, "timeout_ms": 400 },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let service = service["id"].as_str().unwrap_or_else(|| panic!("{service}")).to_owned();
    eventually("two healthy instances", || async {
        let found: Value = portal
            .get(format!("{base}/api/v1/services/{service}/discovery"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        found["instances"].as_array().map_or(0, Vec::len) == 2
    })
    .await;
    let created: Value = portal
        .post(format!("{base}/api/v1/keys"))
        .json(&json!({ "name": "load", "scopes": ["invoke"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();

    // Clients: each logical call has its own Idempotency-Key and is retried until it is
    // acknowledged, through the crash and the restart.
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let failures = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let client = Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (client, secret, base, service) =
                (client.clone(), secret.clone(), base.clone(), service.clone());
            let (acknowledged, failures, stop) = (acknowledged.clone(), failures.clone(), stop.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let key = format!("worker-{w}-call-{i}");
                    loop {
                        let sent = client
                            .post(format!("{base}/api/v1/invoke/{service}/echo"))
                            .bearer_auth(&secret)
                            .header("idempotency-key", &key)
                            .body(key.clone())
                            .send()
                            .await;
                        match sent {
                            Ok(r) if r.status() == StatusCode::OK => {
                                let id = r.headers()["x-web4-invoke-id"].to_str().unwrap().to_owned();
                                acknowledged.lock().unwrap().insert(id);
                                break;
                            }
                            _ => {
                                failures.fetch_add(1, Ordering::SeqCst);
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                    i += 1;
                }
            })
        })
        .collect();

    // Kill it in the middle of the load: once a good number of calls are acknowledged.
    web4_tests::eventually("calls to be acknowledged under load", || async {
        acknowledged.lock().unwrap().len() >= 50
    })
    .await;
    let before_kill = acknowledged.lock().unwrap().len();
    server.start_kill().expect("SIGKILL");
    server.wait().await.unwrap();
    assert!(before_kill > 20, "load was running: {before_kill} calls acknowledged before the kill");

    let mut server = start(dir.path(), port);
    ready(&base).await;
    let resumed = acknowledged.lock().unwrap().len();
    eventually("calls acknowledged after the restart", || async {
        acknowledged.lock().unwrap().len() > resumed + 50
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.unwrap();
    }
    assert!(failures.load(Ordering::SeqCst) > 0, "the kill interrupted calls in flight");

    let db =
        server::db::connect(&format!("sqlite://{}", dir.path().join("web4.db").display())).await.unwrap();
    let rows = sea_orm::ConnectionTrait::query_all(
        &db,
        sea_orm::Statement::from_string(db.get_database_backend(), "SELECT invoke_id FROM usage_events"),
    )
    .await
    .unwrap();
    let recorded: BTreeSet<String> = rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect();
    let acknowledged = acknowledged.lock().unwrap().clone();
    eprintln!(
        "crash test: {before_kill} acknowledged before SIGKILL, {} in all, {} failed attempts retried",
        acknowledged.len(),
        failures.load(Ordering::SeqCst)
    );
    assert_eq!(recorded.len(), rows.len());
    assert_eq!(
        recorded.len(),
        acknowledged.len(),
        "usage events on disk must equal the 2xx answers received ({} before the kill)",
        before_kill
    );
    assert_eq!(recorded, acknowledged);
    db.close().await.unwrap();
    server.start_kill().unwrap();
}
