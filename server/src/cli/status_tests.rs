//! Unit tests of `status`: verdicts, the summary, the exit code and the human output, on
//! views built as the Cloud API sends them.
use super::*;
use serde_json::{Value, json};

fn node(id: &str, state: &str, secs_ago: Option<u64>) -> NodeView {
    serde_json::from_value(json!({
        "id": id, "name": format!("node-{id}"), "kind": "embedded", "address": "/ip4/127.0.0.1/tcp/1",
        "labels": {}, "version": "0.1.0", "status": "active", "state": state, "trust": "trusted",
        "last_heartbeat_at": null, "last_heartbeat_secs_ago": secs_ago,
        "registered_at": "2026-11-27T10:00:00Z",
        "stats": { "originated": 0, "delivered": 0, "forwarded": 0, "received": 0, "drops": {}, "peers": [], "routes": [] },
    }))
    .expect("a node view")
}

fn placement(node: &str, node_state: &str, health: &str) -> Value {
    json!({
        "node_id": node, "node_name": format!("node-{node}"), "node_state": node_state, "health": health,
        "output": "HTTP 200 in 3 ms", "checked_at": null, "placed_at": "2026-11-27T10:00:00Z",
    })
}

fn service(slug: &str, status: &str, health: &str, placements: Vec<Value>) -> ServiceView {
    serde_json::from_value(json!({
        "id": format!("svc-{slug}"), "owner_id": "acc-1", "slug": slug, "name": slug, "description": "",
        "version": "1.0.0", "tags": [], "kind": "http",
        "pricing": { "free_calls_per_month": 0, "tiers": [{ "up_to": null, "price_per_call_micros": 0 }] },
        "replicas": 2, "status": status, "available": true, "health": health, "http": null, "health_check": null,
        "policy": { "retries": 1, "breaker_failures": 5, "breaker_cooldown_ms": 10000 },
        "placements": placements, "invoke_path": format!("/api/v1/invoke/svc-{slug}/"),
        "created_at": "2026-11-27T10:00:00Z", "updated_at": "2026-11-27T10:00:00Z",
    }))
    .expect("a service view")
}

#[test]
fn a_service_passes_with_one_healthy_placement_on_an_online_node() {
    let s = service(
        "a",
        "active",
        "passing",
        vec![placement("n1", "online", "critical"), placement("n2", "online", "warning")],
    );
    assert_eq!(verdict(&s), Verdict::Passing);
}

#[test]
fn a_healthy_placement_on_an_offline_node_does_not_count() {
    let s = service("a", "active", "passing", vec![placement("n1", "offline", "passing")]);
    assert_eq!(verdict(&s), Verdict::Failing);
}

#[test]
fn unchecked_or_unplaced_services_are_unknown_and_inactive_ones_are_not_faults() {
    assert_eq!(
        verdict(&service("a", "active", "unknown", vec![placement("n1", "online", "unknown")])),
        Verdict::Unknown
    );
    assert_eq!(verdict(&service("b", "active", "unknown", vec![])), Verdict::Unknown);
    let inactive = service("c", "inactive", "unknown", vec![]);
    assert_eq!(verdict(&inactive), Verdict::Inactive);
    let report = Report::new("http://x".into(), Some(vec![]), None, vec![inactive]);
    assert_eq!(report.exit_code, EXIT_HEALTHY);
}

#[test]
fn all_online_and_passing_exits_zero_with_a_healthy_summary() {
    let nodes = vec![node("n1", "online", Some(1)), node("n2", "online", Some(0))];
    let services = vec![service("weather", "active", "passing", vec![placement("n1", "online", "passing")])];
    let report = Report::new("http://x".into(), Some(nodes), None, services);
    assert_eq!(report.exit_code, EXIT_HEALTHY);
    assert!(report.problems.is_empty());
    assert_eq!(
        report.summary_line(),
        "healthy: 2 nodes: 2 online, 0 degraded, 0 offline; 1 services: 1 passing, 0 failing, 0 unknown"
    );
}

#[test]
fn an_offline_or_degraded_node_or_a_failing_service_exits_one_naming_each() {
    let nodes =
        vec![node("n1", "online", Some(1)), node("n2", "degraded", Some(5)), node("n3", "offline", None)];
    let services = vec![
        service("up", "active", "passing", vec![placement("n1", "online", "passing")]),
        service("down", "active", "critical", vec![placement("n1", "online", "critical")]),
    ];
    let report = Report::new("http://x".into(), Some(nodes), None, services);
    assert_eq!(report.exit_code, EXIT_UNHEALTHY);
    assert_eq!(report.summary.nodes, Some(NodeCounts { online: 1, degraded: 1, offline: 1 }));
    assert_eq!(report.summary.services, ServiceCounts { passing: 1, failing: 1, unknown: 0, inactive: 0 });
    assert_eq!(report.problems.len(), 3, "{:?}", report.problems);
    assert!(report.problems.iter().any(|p| p.contains("n3") && p.ends_with("is offline")));
    assert!(report.problems.iter().any(|p| p.contains("down") && p.contains("critical")));
}

#[test]
fn the_human_output_is_aligned_tables_and_the_summary() {
    let nodes = vec![
        node("12D3KooWAAAAAAAAAAAAAAAAAAAAAAnode01", "online", Some(2)),
        node("n3", "offline", Some(125)),
    ];
    let services = vec![service("weather", "active", "passing", vec![placement("n3", "online", "passing")])];
    let text = Report::new("http://x".into(), Some(nodes), None, services).render();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Nodes (2)");
    assert!(lines[1].starts_with("ID           NAME"), "{text}");
    assert!(lines[2].starts_with("12D3…node01  node-12D3"), "{text}");
    assert!(lines[2].ends_with("2s ago"), "{text}");
    assert!(lines[3].contains("offline") && lines[3].ends_with("2m5s ago"), "{text}");
    // Every column starts at the same offset on every row of a table.
    let state_at = lines[1].find("STATE").unwrap();
    assert_eq!(&lines[2][lines[2].char_indices().nth(state_at).unwrap().0..][..6], "online");
    assert!(text.contains("weather  weather  passing  passing  1/1 healthy  n3:passing"), "{text}");
    assert!(text.contains("UNHEALTHY: 2 nodes: 1 online, 0 degraded, 1 offline"), "{text}");
}

#[test]
fn without_the_operators_key_nodes_are_not_shown_and_the_output_says_why() {
    let report = Report::new(
        "http://x".into(),
        None,
        Some("listing nodes needs the operator's API key".into()),
        vec![],
    );
    assert_eq!(report.exit_code, EXIT_HEALTHY);
    let text = report.render();
    assert!(text.contains("Nodes: not shown (listing nodes needs the operator's API key)"), "{text}");
    assert!(text.contains("nodes: not shown; 0 services"), "{text}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["nodes"], Value::Null);
    assert_eq!(json["healthy"], true);
}

#[test]
fn ages_read_like_uptime() {
    assert_eq!(age(42), "42s");
    assert_eq!(age(125), "2m5s");
    assert_eq!(age(7300), "2h1m");
    assert_eq!(age(90_000), "1d1h");
}

#[tokio::test]
async fn a_platform_that_is_not_there_is_unavailable_and_a_missing_key_is_said() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let args = StatusArgs { url: url.clone(), api_key: Some("w4k_x".into()), json: false };
    let err = fetch(&args).await.unwrap_err();
    assert!(matches!(err, StatusError::Unreachable { .. }), "{err}");
    assert!(err.to_string().starts_with(&format!("cannot reach the platform at {url}")), "{err}");
    assert_eq!(run(args).await, EXIT_UNAVAILABLE);
    let no_key = StatusArgs { url, api_key: None, json: true };
    assert!(matches!(fetch(&no_key).await, Err(StatusError::NoKey)));
    let bad = StatusArgs { url: "ftp://x".into(), api_key: Some("k".into()), json: false };
    assert!(matches!(fetch(&bad).await, Err(StatusError::BadUrl(_))));
}
