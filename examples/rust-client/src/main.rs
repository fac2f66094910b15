//! `cargo run -p web4-example-client` with `WEB4_URL`, `WEB4_API_KEY` and `WEB4_UPSTREAM` set
//! (`WEB4_SERVICE` and `WEB4_HEALTH_PATH` optional): the walk-through of `lib.rs`, printed.
#![forbid(unsafe_code)]

use web4_example_client::{DEFAULT_SLUG, Options, run_with};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let required = |name: &str| env(name).ok_or_else(|| anyhow::anyhow!("set {name}"));
    let options = Options {
        base_url: env("WEB4_URL")
            .unwrap_or_else(|| "http://127.0.0.1:3000".into())
            .trim_end_matches('/')
            .into(),
        api_key: required("WEB4_API_KEY")?,
        upstream: required("WEB4_UPSTREAM")?,
        slug: env("WEB4_SERVICE").unwrap_or_else(|| DEFAULT_SLUG.into()),
        health_path: env("WEB4_HEALTH_PATH").unwrap_or_else(|| "/".into()),
    };
    let s = run_with(&options).await?;
    let verb = if s.registered { "registered" } else { "found" };
    println!("service {} ({}) {verb}; {} healthy instance(s)", s.slug, s.service_id, s.instances);
    println!("invoke: HTTP {}, invoke id {}", s.status, s.invoke_id);
    println!("route: {}", s.route.join(" -> "));
    println!(
        "retry with the same Idempotency-Key: replayed {}, invoke id {}",
        s.replayed, s.replay_invoke_id
    );
    println!("usage: {} call(s) of {} in the last 30 days", s.usage_calls, s.slug);
    // One line for programs (the platform's tests read it from every example).
    let summary = serde_json::json!({
        "service_id": s.service_id, "registered": s.registered, "status": s.status,
        "invoke_id": s.invoke_id, "route": s.route, "replayed": s.replayed,
        "replay_invoke_id": s.replay_invoke_id, "usage_calls": s.usage_calls,
    });
    println!("summary {summary}");
    Ok(())
}
