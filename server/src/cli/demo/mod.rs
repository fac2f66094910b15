//! `server demo`: the whole Cloud API flow on a throwaway platform. It starts the platform
//! in-process on a temporary data directory with a small mesh, a quotes API as the upstream,
//! signs up a provider (the first account: the operator) and a consumer, has the provider
//! register, list and publish the service with a per-call price, has the consumer subscribe
//! and call it across the mesh, then prints a call's route, the latencies, the consumer's bill
//! and the provider's earnings — and fails (exit 1) unless the bill counts exactly the calls
//! that succeeded. `--keep` leaves it all running for the portal.
mod api;
mod calls;
mod report;
mod upstream;

use crate::{config::Config, startup::Application};
use anyhow::{Context, bail};
use api::Api;
use app::types::{
    keys::Scope,
    marketplace::{Category, NewListing, NewPlan, NewSubscription},
    nodes::NodeView,
    services::{HealthCheckSettings, HttpSettingsInput, NewService, ServiceView},
};
use report::Report;
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

/// The demo plan's price: $0.002 a call (prices are in micros, millionths of a dollar).
const PRICE_PER_CALL_MICROS: i64 = 2_000;
/// Longest wait for the service to be placed and healthy, and for the meter to bill the calls.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);
const PROVIDER_EMAIL: &str = "provider@demo.web4";
const CONSUMER_EMAIL: &str = "consumer@demo.web4";

/// Options of `server demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Keep the platform running afterwards (until Ctrl-C) and print the portal URL and logins
    #[arg(long)]
    pub keep: bool,
    /// Embedded mesh nodes, 3 to 16
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(3..=16), value_name = "N")]
    pub nodes: u16,
    /// Calls the consumer makes
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=100_000), value_name = "N")]
    pub calls: u64,
    /// Print one JSON document with the results instead of the report
    #[arg(long)]
    pub json: bool,
    /// Address the platform listens on (port 0: any free port)
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub bind: SocketAddr,
    /// Built portal assets, served with --keep
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site", value_name = "DIR")]
    pub site_root: PathBuf,
}

/// Runs the demo; the exit code is 0 when the bill matches the calls, 1 otherwise. Setup
/// failures are errors (exit 1 with the message).
pub async fn run(args: DemoArgs) -> anyhow::Result<u8> {
    let data_dir = DataDir::create(args.keep)?;
    let mut config = Config::for_data_dir(data_dir.path());
    config.bind = args.bind;
    config.nodes = args.nodes.into();
    config.site_root = args.site_root.clone();
    // The demo's upstream runs on this machine; the default egress policy refuses loopback.
    config.egress_allow = vec!["127.0.0.0/8".parse().context("the loopback range")?];
    step(&format!(
        "starting the platform: {} nodes, data in {}, egress allowed to 127.0.0.0/8 (the demo's upstream is on loopback)",
        args.nodes,
        data_dir.path().display()
    ));
    let app = Application::build(config).await?;
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));

    let outcome = scenario(&args, &base).await;
    if let Ok(Finished { report, logins, upstream: _running }) = &outcome {
        if args.json {
            crate::cli::print_out(&format!("{}\n", serde_json::to_string_pretty(report)?));
        } else {
            crate::cli::print_out(&report.render());
        }
        if args.keep {
            print_kept(&args, &base, &data_dir, logins);
            crate::startup::shutdown_signal().await;
        }
    }
    let _ = stop.send(());
    let stopped = server.await.context("the platform's task");
    let Finished { report, .. } = outcome?;
    stopped??;
    Ok(if report.billed_calls_match { 0 } else { 1 })
}

/// An account the demo made: its login and its API key.
struct Login {
    email: &'static str,
    password: String,
    key: String,
}

/// What the flow leaves: the report, the logins, and the upstream (kept running with `--keep`,
/// so the service stays healthy).
struct Finished {
    report: Report,
    logins: [Login; 2],
    upstream: upstream::Upstream,
}

/// The flow itself, against the running platform at `base`.
async fn scenario(args: &DemoArgs, base: &str) -> anyhow::Result<Finished> {
    let upstream = upstream::Upstream::start().await?;
    step(&format!("demo upstream (a quotes API) on {}", upstream.url()));

    // 1. Two accounts, each with an API key. The first account of a platform is its operator.
    let (provider, provider_login) = account(base, PROVIDER_EMAIL, &[Scope::Read, Scope::Write]).await?;
    let (consumer, consumer_login) =
        account(base, CONSUMER_EMAIL, &[Scope::Read, Scope::Write, Scope::Invoke]).await?;

    // 2. The provider registers the upstream; the platform places it and health-checks it.
    let service = provider
        .register(&NewService {
            slug: "quotes".into(),
            name: "Quotes".into(),
            description: "Famous quotes about software, one per call.".into(),
            replicas: Some(2),
            http: Some(HttpSettingsInput {
                upstream_url: upstream.url(),
                timeout_ms: Some(2_000),
                ..HttpSettingsInput::default()
            }),
            health_check: Some(HealthCheckSettings {
                path: "/health".into(),
                interval_ms: 1_000,
                timeout_ms: 500,
            }),
            ..NewService::default()
        })
        .await?;
    step(&format!(
        "registered service {} ({}); waiting until it is healthy and placed",
        service.slug, service.id
    ));
    let placed_on = healthy(&provider, &service).await?;

    // 3. A listing with a per-call plan, published to the marketplace.
    let listing = provider
        .create_listing(&NewListing {
            service_id: service.id.clone(),
            title: "Quotes".into(),
            summary: "A quote about software for every call".into(),
            description: "Served by `server demo`.".into(),
            category: Category::Text,
            tags: vec!["quotes".into(), "demo".into()],
            publisher: None,
            openapi: None,
            approval: None,
        })
        .await?;
    let plan = provider
        .create_plan(
            &listing,
            &NewPlan {
                name: "Pay per call".into(),
                price_per_call_micros: Some(PRICE_PER_CALL_MICROS),
                ..NewPlan::default()
            },
        )
        .await?
        .plan;
    let listing = provider.publish(&listing).await?;
    step(&format!("published listing {:?} with plan {:?}", listing.title, plan.name));

    // 4. The consumer subscribes and calls it with their own key, through any node.
    let subscription = consumer
        .subscribe(&NewSubscription { plan_id: plan.id.clone(), spending_cap_minor: None, invitation: None })
        .await?;
    let url = consumer.url(&format!("/api/v1/invoke/{}", subscription.invoke_path));
    step(&format!("subscribed; calling {url}/quote {} times", args.calls));
    let stats = calls::make_calls(consumer.client(), &url, args.calls).await;

    // 5. The bill: usage is metered in batches, so wait until it shows every call.
    step("waiting for the meter to bill the calls");
    let bill = billed(&consumer, stats.succeeded).await?;
    let earnings = provider.earnings().await?;
    let nodes: Vec<NodeView> = provider.nodes().await?;
    let (route, routes) =
        (stats.usual_route().map(|(r, _)| r.to_owned()).unwrap_or_default(), stats.routes.clone());
    let currency = &bill.currency;
    let report = Report {
        platform_url: base.to_owned(),
        upstream_url: upstream.url(),
        nodes: nodes.len(),
        service: report::ServiceSummary {
            id: service.id.to_string(),
            slug: service.slug.clone(),
            listing_id: listing.id.to_string(),
            listing_title: listing.title.clone(),
            plan: plan.name.clone(),
            price: format!("{} per call", currency.format_micros(PRICE_PER_CALL_MICROS)),
            placed_on,
        },
        calls: (&stats).into(),
        latency_ms: stats.percentiles(),
        route: report::hops(&route, &nodes),
        routes,
        billed_calls_match: bill.total_calls == i64::try_from(stats.succeeded).unwrap_or(i64::MAX),
        bill: (&bill).into(),
        earnings: (&earnings).into(),
    };
    Ok(Finished { report, logins: [provider_login, consumer_login], upstream })
}

/// Signs `email` up with a fresh password, mints an API key with `scopes` and returns a
/// client using that key.
async fn account(base: &str, email: &'static str, scopes: &[Scope]) -> anyhow::Result<(Api, Login)> {
    let password = crate::secrets::b64(&rand::random::<[u8; 18]>());
    let session = Api::session(base)?;
    let account = session.sign_up(email, &password).await?;
    let key = session.create_key("demo", scopes).await?;
    step(&format!("signed up {email} ({}), API key {}", account.role.as_str(), key.key.prefix));
    let api = Api::with_key(base, &key.secret)?;
    Ok((api, Login { email, password, key: key.secret }))
}

/// Waits until discovery offers the service on every replica (at least one within the
/// timeout); returns the names of the nodes it is healthy on.
async fn healthy(provider: &Api, service: &ServiceView) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    loop {
        let found = provider.discovery(service).await?;
        let all = found.instances.len() >= usize::from(service.replicas);
        let waited = started.elapsed() > SETTLE_TIMEOUT;
        if all || (waited && !found.instances.is_empty()) {
            return Ok(found.instances.iter().map(|p| p.node_name.clone()).collect());
        }
        if waited {
            bail!("the service was not healthy on any node within {} s", SETTLE_TIMEOUT.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls the consumer's bill until it counts `calls` calls (or more, or the timeout passes);
/// returns the last bill seen, which the report compares with the calls made.
async fn billed(consumer: &Api, calls: u64) -> anyhow::Result<app::types::billing::InvoiceView> {
    let started = Instant::now();
    let calls = i64::try_from(calls).unwrap_or(i64::MAX);
    loop {
        let bill = consumer.billing_preview().await?;
        if bill.total_calls >= calls || started.elapsed() > SETTLE_TIMEOUT {
            return Ok(bill);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A progress line on stderr (stdout carries the report).
fn step(what: &str) {
    eprintln!("==> {what}");
}

/// With `--keep`: the report, then where to look and how to log in.
fn print_kept(args: &DemoArgs, base: &str, data_dir: &DataDir, logins: &[Login; 2]) {
    let mut text = format!("\nPortal     {base}/\n");
    let portal = args.site_root.join("pkg");
    if !portal.is_dir() {
        text.push_str(&format!(
            "           (portal assets not found in {}: build them with `cargo leptos build` or pass\n            --site-root; the pages render unstyled, the Cloud API works regardless)\n",
            portal.display()
        ));
    }
    text.push_str(&format!("Data       {}\n", data_dir.path().display()));
    for login in logins {
        text.push_str(&format!(
            "Login      {}  password {}  API key {}\n",
            login.email, login.password, login.key
        ));
    }
    text.push_str(&format!("Status     server status --url {base} --api-key {}\n", logins[0].key));
    text.push_str("Running until Ctrl-C.\n");
    // With --json, stdout holds the one JSON document.
    if args.json {
        eprint!("{text}");
    } else {
        crate::cli::print_out(&text);
    }
}

/// The demo's data directory: a fresh one under the system's temporary directory, removed
/// on drop unless kept. (`tempfile` is only a dev-dependency of the server.)
struct DataDir {
    path: PathBuf,
    keep: bool,
}

impl DataDir {
    fn create(keep: bool) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("web4-demo-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Self { path, keep })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if !self.keep
            && let Err(err) = std::fs::remove_dir_all(&self.path)
        {
            eprintln!("cannot remove the demo's data directory {}: {err}", self.path.display());
        }
    }
}
