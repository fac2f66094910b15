//! The developer documentation against the code: the client examples in `examples/` run
//! against a live server (the Rust one as a library; the Python and JavaScript ones as child
//! processes when `python3` / `node` are installed), and `docs/api-guide.md` names only paths,
//! methods and error codes the platform has.
use serde_json::Value;
use std::{path::PathBuf, sync::atomic::Ordering, time::Duration};
use strum::IntoEnumIterator;
use web4_example_client::Options;
use web4_tests::{PASSWORD, fixtures, spawn_app, upstream::Upstream};

/// The repository's root (the tests run in `tests/`).
fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::test]
async fn the_client_examples_register_invoke_once_and_read_their_usage() {
    let app = spawn_app().await;
    assert!(app.sign_up("developer@example.com", PASSWORD).await.status().is_success());
    let upstream = Upstream::start().await;
    let (_, key) = fixtures::api_key(&app, &app.client, &["read", "write", "invoke"]).await;
    let nodes = fixtures::node_ids(&app);

    // Health checks on the upstream's own path, so its call counter counts invokes alone.
    let options =
        Options { health_path: "/health".into(), ..Options::new(&app.url(""), &key, &upstream.url()) };
    let first = web4_example_client::run_with(&options).await.expect("the Rust example runs");

    assert!(first.registered, "{first:?}");
    assert_eq!(first.status, 200);
    assert!(!first.route.is_empty() && first.route.iter().all(|n| nodes.contains(n)), "{first:?} {nodes:?}");
    assert!(first.replayed && first.replay_invoke_id == first.invoke_id, "{first:?}");
    assert_eq!(first.usage_calls, 1, "the retry with the same key is not metered again");
    assert_eq!(upstream.controls.calls.load(Ordering::Relaxed), 1, "the retry does not call the upstream");
    let recorded = app.query_strings("SELECT invoke_id FROM usage_events").await;
    assert_eq!(recorded, std::slice::from_ref(&first.invoke_id));

    // The other languages' examples find the service the Rust one registered and add a call.
    let mut calls = 1;
    for (program, script) in
        [("python3", "examples/python/client.py"), ("node", "examples/javascript/client.mjs")]
    {
        if !on_path(program) {
            eprintln!("skipped {script}: {program} is not on PATH");
            continue;
        }
        let summary = run_script(program, script, &app.url(""), &key, &upstream.url()).await;
        calls += 1;

        assert_eq!(summary["service_id"], first.service_id.as_str(), "{script}: {summary}");
        assert_eq!(summary["registered"], false, "{script}: {summary}");
        assert_eq!(summary["status"], 200, "{script}: {summary}");
        let route = summary["route"].as_array().expect("a route");
        assert!(
            !route.is_empty() && route.iter().all(|n| nodes.iter().any(|id| n == id)),
            "{script}: {summary}"
        );
        assert_eq!(summary["replayed"], true, "{script}: {summary}");
        assert_eq!(summary["replay_invoke_id"], summary["invoke_id"], "{script}: {summary}");
        assert_eq!(summary["usage_calls"], calls, "{script}: {summary}");
        let invoke_id = summary["invoke_id"].as_str().expect("an invoke id");
        let recorded = app.query_strings("SELECT invoke_id FROM usage_events").await;
        assert!(recorded.iter().any(|id| id == invoke_id), "{script}: {invoke_id} not in {recorded:?}");
        assert_eq!(recorded.len(), calls as usize, "{script}: one usage event per logical call");
    }
    assert_eq!(upstream.controls.calls.load(Ordering::Relaxed), calls);
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Runs an example as a child process (the server answers it from this test's runtime, so
/// the wait is asynchronous) and returns its `summary {json}` line.
async fn run_script(program: &str, script: &str, base_url: &str, key: &str, upstream: &str) -> Value {
    let run = tokio::process::Command::new(program)
        .arg(repo_root().join(script))
        .env("WEB4_URL", base_url)
        .env("WEB4_API_KEY", key)
        .env("WEB4_UPSTREAM", upstream)
        .env("WEB4_HEALTH_PATH", "/health")
        .env_remove("WEB4_SERVICE")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .unwrap_or_else(|_| panic!("{script} did not finish within 90 s"))
        .unwrap_or_else(|err| panic!("cannot run {program}: {err}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed ({}):\n{stdout}\n{stderr}", output.status);
    println!("{script}:\n{stdout}");
    for expected in ["invoke: HTTP 200, invoke id ", "route: ", "replayed true", "usage: "] {
        assert!(stdout.contains(expected), "{script} printed no {expected:?}:\n{stdout}");
    }
    let line = stdout.lines().find_map(|l| l.strip_prefix("summary ")).expect("a summary line");
    serde_json::from_str(line).unwrap_or_else(|err| panic!("{script}'s summary is not JSON ({err}): {line}"))
}

/// The guide's text.
fn api_guide() -> String {
    let path = repo_root().join("docs/api-guide.md");
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

/// Whether `path` (as the guide writes it: concrete values, `$VARIABLES` or `{names}` in the
/// variable segments, no query) fits the OpenAPI template `template`. The invoke path's last
/// parameter takes the rest of the path.
fn fits(template: &str, path: &str) -> bool {
    let template: Vec<&str> = template.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    let rest = template.last().is_some_and(|s| *s == "{path}");
    if path.len() < template.len() || (path.len() > template.len() && !rest) {
        return false;
    }
    template.iter().zip(&path).all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
}

#[test]
fn the_api_guide_names_only_operations_the_openapi_document_has() {
    let guide = api_guide();
    let doc = serde_json::to_value(server::http::openapi::document()).expect("the document is JSON");
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (at, _) in guide.match_indices("/api/v1/") {
        let path: String =
            guide[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || "/_-.{}$".contains(*c)).collect();
        let path = path.trim_end_matches('.');
        // The document does not list itself.
        if path == "/api/v1/openapi.json" {
            continue;
        }
        // A prefix ("anything under `/api/v1/invoke/`") names the operations below it.
        if path.ends_with('/') {
            assert!(
                paths.keys().any(|t| t.starts_with(path)),
                "docs/api-guide.md names {path}…, under which the OpenAPI document has nothing"
            );
            checked += 1;
            continue;
        }
        let method = guide[..at]
            .rsplit(|c: char| c.is_whitespace() || c == '`')
            .find(|w| !w.is_empty())
            .filter(|w| ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(w))
            .map(str::to_lowercase);
        // The most literal template that fits: `/listings/mine` before `/listings/{id}`.
        let fitting = paths.iter().filter(|(template, _)| fits(template, path));
        let best =
            fitting.max_by_key(|(template, _)| template.split('/').filter(|s| !s.starts_with('{')).count());
        let Some((template, item)) = best else {
            panic!("docs/api-guide.md names {path}, which the OpenAPI document does not have");
        };
        if let Some(method) = method {
            assert!(item.get(&method).is_some(), "docs/api-guide.md: {template} has no {method} operation");
        }
        checked += 1;
    }
    assert!(checked >= 30, "the guide names only {checked} API paths");
}

#[test]
fn the_api_guide_names_only_error_codes_the_platform_answers() {
    let guide = api_guide();
    let codes: Vec<&str> = server::error::ErrorCode::iter().map(|c| c.as_str()).collect();
    // The errors section's table: `| code | status | … |`.
    let section = guide.split("\n## ").find(|s| s.starts_with("Errors")).expect("an Errors section");
    let mut checked = 0;
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        for code in row.split('|').nth(1).unwrap_or_default().split('`').skip(1).step_by(2) {
            assert!(codes.contains(&code), "docs/api-guide.md lists `{code}`, which is not an ErrorCode");
            let status = server::error::ErrorCode::iter().find(|c| c.as_str() == code).map(|c| c.status());
            let status = status.map(|s| s.as_u16().to_string()).unwrap_or_default();
            assert!(row.contains(&status), "docs/api-guide.md: `{code}` is answered {status}: {row}");
            checked += 1;
        }
    }
    assert!(checked >= 20, "the errors table lists only {checked} codes");
}
