//! The operator's command-line tools as separate processes: `server status` against a live
//! platform (healthy, a node gone offline, `--json`, keys that may not see nodes or are
//! refused) and `server demo` run to completion, its bill matching its calls.
use serde_json::Value;
use std::{process::Output, time::Duration};
use web4_tests::{
    TestApp, eventually,
    fixtures::{api_key, routable, second_account},
    spawn_app, spawn_app_with,
    upstream::Upstream,
};

/// Runs the platform's binary with `args` to completion (at most `limit`).
async fn server_command(args: &[&str], limit: Duration) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_web4-server-under-test"));
    command
        .args(args)
        .env_remove("WEB4_API_KEY")
        .env_remove("WEB4_URL")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    tokio::time::timeout(limit, command.output())
        .await
        .unwrap_or_else(|_| panic!("`server {}` did not finish within {limit:?}", args.join(" ")))
        .expect("the server binary runs")
}

async fn status(app: &TestApp, key: &str, extra: &[&str]) -> (i32, String, String) {
    let url = app.url("");
    let mut args = vec!["status", "--url", url.as_str(), "--api-key", key];
    args.extend_from_slice(extra);
    let output = server_command(&args, Duration::from_secs(30)).await;
    let code = output.status.code().expect("an exit code, not a signal");
    (
        code,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn all_nodes_online(app: &TestApp) {
    eventually("every node to be online", || async {
        app.nodes().await.iter().all(|n| n["state"] == "online")
    })
    .await;
}

#[tokio::test]
async fn status_shows_a_healthy_platform_with_exit_zero_in_tables_and_in_json() {
    let app = spawn_app().await;
    app.sign_up_operator().await;
    let upstream = Upstream::start().await;
    routable(&app, "weather", &upstream).await;
    all_nodes_online(&app).await;
    let (_, key) = api_key(&app, &app.client, &["read"]).await;

    let (code, stdout, stderr) = status(&app, &key, &[]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("healthy: 3 nodes: 3 online, 0 degraded, 0 offline"), "{stdout}");
    assert!(stdout.contains("1 services: 1 passing, 0 failing, 0 unknown"), "{stdout}");
    let header = stdout.lines().find(|l| l.starts_with("ID")).expect("the nodes' table");
    assert!(header.contains("KIND") && header.contains("LAST HEARTBEAT"), "{stdout}");
    let weather = stdout.lines().find(|l| l.starts_with("weather ")).expect("the service's row");
    assert!(weather.contains("passing") && weather.contains("1/1 healthy"), "{stdout}");

    let (code, stdout, _) = status(&app, &key, &["--json"]).await;
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(report["healthy"], true, "{report}");
    assert_eq!(report["nodes"].as_array().map(Vec::len), Some(3));
    assert_eq!(report["services"][0]["slug"], "weather");
    assert_eq!(report["summary"]["services"]["passing"], 1);

    // A developer's key: their services only, and why the nodes are missing.
    let developer = second_account(&app, "dev@example.com").await;
    let (_, developer_key) = api_key(&app, &developer, &["read"]).await;
    let (code, stdout, _) = status(&app, &developer_key, &[]).await;
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("Nodes: not shown (listing nodes needs the operator's API key)"), "{stdout}");
    assert!(stdout.contains("0 services"), "{stdout}");
}

#[tokio::test]
async fn status_exits_one_and_shows_the_node_offline_once_a_node_stops_heartbeating() {
    let app = spawn_app_with(|c| {
        c.mesh.degraded_after = Duration::from_millis(1500);
        c.mesh.offline_after = Duration::from_millis(3000);
    })
    .await;
    app.sign_up_operator().await;
    all_nodes_online(&app).await;
    let (_, key) = api_key(&app, &app.client, &["read"]).await;
    assert_eq!(status(&app, &key, &[]).await.0, 0);

    let stopped = app.mesh.nodes()[2].handle.id().to_string();
    app.mesh.nodes()[2].handle.shutdown();
    eventually("the node to be offline", || async {
        app.nodes().await.iter().any(|n| n["id"] == stopped.as_str() && n["state"] == "offline")
    })
    .await;

    let (code, stdout, stderr) = status(&app, &key, &[]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    let short = server::cli::table::short_id(&stopped);
    let row = stdout.lines().find(|l| l.starts_with(&short)).unwrap_or_else(|| panic!("{short} in {stdout}"));
    assert!(row.contains(" offline "), "{row}");
    assert!(stdout.contains("UNHEALTHY: 3 nodes: 2 online, 0 degraded, 1 offline"), "{stdout}");
    assert!(stdout.contains(&format!("node {stopped}")) && stdout.contains("is offline"), "{stdout}");
    let (code, stdout, _) = status(&app, &key, &["--json"]).await;
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(report["healthy"], false);
    assert_eq!(report["summary"]["nodes"]["offline"], 1, "{report}");
}

#[tokio::test]
async fn status_exits_two_with_a_clear_message_when_the_key_is_refused_or_the_platform_is_gone() {
    let app = spawn_app().await;
    app.sign_up_operator().await;

    let (code, stdout, stderr) = status(&app, "w4k_not-a-key", &[]).await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("refused the API key") && stderr.contains("invalid_api_key"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");

    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", gone.local_addr().unwrap());
    drop(gone);
    let output =
        server_command(&["status", "--url", &url, "--api-key", "w4k_x"], Duration::from_secs(30)).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("cannot reach the platform at {url}")), "{stderr}");

    let output = server_command(&["status", "--url", &url], Duration::from_secs(30)).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no API key"));
}

#[tokio::test]
async fn the_demo_runs_to_completion_and_bills_exactly_the_calls_that_succeeded() {
    let output = server_command(&["demo", "--calls", "120", "--json"], Duration::from_secs(240)).await;
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));

    let succeeded = report["calls"]["succeeded"].as_i64().expect("calls.succeeded");
    assert_eq!(report["calls"]["requested"], 120);
    assert!(succeeded > 0, "{report}");
    assert_eq!(report["bill"]["total_calls"].as_i64(), Some(succeeded), "{report}");
    assert_eq!(report["billed_calls_match"], true);
    assert_eq!(report["earnings"]["calls"].as_i64(), Some(succeeded), "{report}");
    // $0.002 a call, in cents (exact when the calls make whole cents).
    if succeeded % 5 == 0 {
        assert_eq!(report["bill"]["total_minor"].as_i64(), Some(succeeded * 2_000 / 10_000), "{report}");
    }
    assert_eq!(report["nodes"], 3);
    let route = report["route"].as_array().expect("a route");
    assert_eq!(
        route.first().map(|h| h["role"].as_str()),
        Some(Some(if route.len() == 1 { "entry+host" } else { "entry" }))
    );
    let p50 = report["latency_ms"]["p50_ms"].as_f64().expect("p50");
    let p99 = report["latency_ms"]["p99_ms"].as_f64().expect("p99");
    assert!(p50 > 0.0 && p50 <= p99, "{report}");
    assert!(stderr.contains("egress allowed to 127.0.0.0/8"), "{stderr}");
}
