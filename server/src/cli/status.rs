//! `server status`: asks a running platform through the Cloud API how its nodes and services
//! are, prints them as aligned tables (or one JSON document with `--json`), and answers with
//! an exit code scripts can act on: 0 all healthy, 1 something unhealthy, 2 the platform cannot
//! be asked (unreachable, or the key refused).
use super::table::{render, short_id};
use app::types::{
    Page,
    nodes::{NodeState, NodeView},
    services::{HealthStatus, PlacementView, ServiceStatus, ServiceView},
};
use serde::{Serialize, de::DeserializeOwned};
use std::time::Duration;

/// Everything is healthy.
pub const EXIT_HEALTHY: u8 = 0;
/// A node is degraded or offline, or a service has no healthy placement.
pub const EXIT_UNHEALTHY: u8 = 1;
/// The platform could not be asked: unreachable, the key refused, or a bad argument.
pub const EXIT_UNAVAILABLE: u8 = 2;

/// How long one request to the platform may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Options of `server status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Base URL of the running platform
    #[arg(long, env = "WEB4_URL", default_value = "http://127.0.0.1:3000", value_name = "URL")]
    pub url: String,
    /// An API key with the `read` scope; the operator's key also shows the nodes
    #[arg(long, env = "WEB4_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Print one JSON document instead of tables
    #[arg(long)]
    pub json: bool,
}

/// Why the platform could not be asked (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("no API key: pass --api-key or set WEB4_API_KEY (create one in the portal under API keys)")]
    NoKey,
    #[error("{0:?} is not an http(s) URL")]
    BadUrl(String),
    #[error("cannot reach the platform at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the platform refused the API key ({status} {code}): {message}")]
    KeyRefused { status: u16, code: String, message: String },
    #[error("{path} answered {status} {code}: {message}")]
    Failed { path: String, status: u16, code: String, message: String },
    #[error("{path} answered something that is not the platform's JSON: {reason}")]
    NotPlatform { path: String, reason: String },
}

/// What a service's placements say about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// At least one placement is healthy (passing or warning) on an online node.
    Passing,
    /// Checked, and no placement is healthy on an online node.
    Failing,
    /// Not checked yet anywhere (or not placed yet): nothing healthy to call either.
    Unknown,
    /// Deactivated by its owner: no placements on purpose, not a fault.
    Inactive,
}

/// Whether a placement can take calls: healthy, on a node that is online.
fn takes_calls(placement: &PlacementView) -> bool {
    placement.health.is_healthy() && placement.node_state == NodeState::Online.as_str()
}

/// The verdict on one service.
pub fn verdict(service: &ServiceView) -> Verdict {
    if service.status == ServiceStatus::Inactive {
        Verdict::Inactive
    } else if service.placements.iter().any(takes_calls) {
        Verdict::Passing
    } else if service.placements.iter().all(|p| p.health == HealthStatus::Unknown) {
        Verdict::Unknown
    } else {
        Verdict::Failing
    }
}

/// Counts for the summary line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// `None` when the key may not list nodes.
    pub nodes: Option<NodeCounts>,
    pub services: ServiceCounts,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeCounts {
    pub online: usize,
    pub degraded: usize,
    pub offline: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServiceCounts {
    pub passing: usize,
    pub failing: usize,
    pub unknown: usize,
    pub inactive: usize,
}

/// The platform as `status` saw it: the shared wire views, their summary, and what is wrong.
#[derive(Debug, Serialize)]
pub struct Report {
    pub url: String,
    /// `None` when the key is not the operator's.
    pub nodes: Option<Vec<NodeView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes_hidden: Option<String>,
    pub services: Vec<ServiceView>,
    /// Each service's verdict, by service id.
    pub verdicts: std::collections::BTreeMap<String, Verdict>,
    pub summary: Summary,
    /// One sentence per unhealthy node or service; empty when all is well.
    pub problems: Vec<String>,
    pub healthy: bool,
    pub exit_code: u8,
}

impl Report {
    /// Judges what was fetched.
    pub fn new(
        url: String,
        nodes: Option<Vec<NodeView>>,
        nodes_hidden: Option<String>,
        services: Vec<ServiceView>,
    ) -> Self {
        let mut problems = Vec::new();
        let node_counts = nodes.as_ref().map(|nodes| {
            let mut counts = NodeCounts::default();
            for node in nodes {
                match node.state {
                    NodeState::Online => counts.online += 1,
                    NodeState::Degraded => counts.degraded += 1,
                    NodeState::Offline => counts.offline += 1,
                }
                if node.state != NodeState::Online {
                    problems.push(format!("node {} ({}) is {}", node.id, node.name, node.state.as_str()));
                }
            }
            counts
        });
        let mut counts = ServiceCounts::default();
        let mut verdicts = std::collections::BTreeMap::new();
        for service in &services {
            let verdict = verdict(service);
            match verdict {
                Verdict::Passing => counts.passing += 1,
                Verdict::Failing => counts.failing += 1,
                Verdict::Unknown => counts.unknown += 1,
                Verdict::Inactive => counts.inactive += 1,
            }
            if matches!(verdict, Verdict::Failing | Verdict::Unknown) {
                problems.push(format!(
                    "service {} has no healthy placement (health {})",
                    service.slug,
                    service.health.as_str()
                ));
            }
            verdicts.insert(service.id.to_string(), verdict);
        }
        let healthy = problems.is_empty();
        Self {
            url,
            nodes,
            nodes_hidden,
            services,
            verdicts,
            summary: Summary { nodes: node_counts, services: counts },
            problems,
            healthy,
            exit_code: if healthy { EXIT_HEALTHY } else { EXIT_UNHEALTHY },
        }
    }

    /// The human output: the nodes' table, the services' table, the summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        match &self.nodes {
            Some(nodes) => {
                out.push_str(&format!("Nodes ({})\n", nodes.len()));
                let rows: Vec<Vec<String>> = nodes.iter().map(node_row).collect();
                out.push_str(&render(
                    &["ID", "NAME", "KIND", "STATE", "TRUST", "STATUS", "LAST HEARTBEAT"],
                    &rows,
                ));
            }
            None => {
                let why = self.nodes_hidden.as_deref().unwrap_or("the key may not list nodes");
                out.push_str(&format!("Nodes: not shown ({why})\n"));
            }
        }
        out.push('\n');
        out.push_str(&format!("Services ({})\n", self.services.len()));
        if self.services.is_empty() {
            out.push_str("(none registered by this account)\n");
        } else {
            let rows: Vec<Vec<String>> =
                self.services.iter().map(|s| service_row(s, self.verdicts[&s.id.to_string()])).collect();
            out.push_str(&render(&["SLUG", "NAME", "VERDICT", "HEALTH", "PLACED", "PLACEMENTS"], &rows));
        }
        out.push('\n');
        out.push_str(&self.summary_line());
        out.push('\n');
        for problem in &self.problems {
            out.push_str(&format!("  ! {problem}\n"));
        }
        out
    }

    /// `3 nodes: 3 online, 0 degraded, 0 offline; 2 services: 2 passing, 0 failing, 0 unknown`.
    pub fn summary_line(&self) -> String {
        let nodes = match &self.summary.nodes {
            Some(n) => format!(
                "{} nodes: {} online, {} degraded, {} offline",
                n.online + n.degraded + n.offline,
                n.online,
                n.degraded,
                n.offline
            ),
            None => "nodes: not shown".to_owned(),
        };
        let s = &self.summary.services;
        let inactive = if s.inactive > 0 { format!(", {} inactive", s.inactive) } else { String::new() };
        let verdict = if self.healthy { "healthy" } else { "UNHEALTHY" };
        format!(
            "{verdict}: {nodes}; {} services: {} passing, {} failing, {} unknown{inactive}",
            self.services.len(),
            s.passing,
            s.failing,
            s.unknown
        )
    }
}

fn node_row(node: &NodeView) -> Vec<String> {
    let heartbeat = match node.last_heartbeat_secs_ago {
        Some(secs) => format!("{} ago", age(secs)),
        None => "never".to_owned(),
    };
    vec![
        short_id(node.id.as_str()),
        node.name.clone(),
        node.kind.as_str().to_owned(),
        node.state.as_str().to_owned(),
        node.trust.clone(),
        node.status.as_str().to_owned(),
        heartbeat,
    ]
}

fn service_row(service: &ServiceView, verdict: Verdict) -> Vec<String> {
    let healthy = service.placements.iter().filter(|p| takes_calls(p)).count();
    let placements = service
        .placements
        .iter()
        .map(|p| format!("{}:{}", short_id(p.node_id.as_str()), p.health.as_str()))
        .collect::<Vec<_>>()
        .join(" ");
    let verdict = serde_json::to_value(verdict).ok().and_then(|v| v.as_str().map(str::to_owned));
    vec![
        service.slug.clone(),
        service.name.clone(),
        verdict.unwrap_or_default(),
        service.health.as_str().to_owned(),
        format!("{healthy}/{} healthy", service.placements.len()),
        if placements.is_empty() { "-".to_owned() } else { placements },
    ]
}

/// `42` → `42s`, `125` → `2m5s`, `7300` → `2h1m`.
pub fn age(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{}s", secs / 60, secs % 60),
        3600..86400 => format!("{}h{}m", secs / 3600, (secs % 3600) / 60),
        _ => format!("{}d{}h", secs / 86400, (secs % 86400) / 3600),
    }
}

/// Runs `server status`; returns the exit code (messages on stderr when the platform cannot
/// be asked).
pub async fn run(args: StatusArgs) -> u8 {
    match fetch(&args).await {
        Ok(report) if args.json => match serde_json::to_string_pretty(&report) {
            Ok(text) => {
                super::print_out(&format!("{text}\n"));
                report.exit_code
            }
            Err(err) => {
                eprintln!("server status: cannot write the report as JSON: {err}");
                EXIT_UNAVAILABLE
            }
        },
        Ok(report) => {
            super::print_out(&report.render());
            report.exit_code
        }
        Err(err) => {
            eprintln!("server status: {err}");
            EXIT_UNAVAILABLE
        }
    }
}

/// Asks the platform for its services and, when the key is the operator's, its nodes.
pub async fn fetch(args: &StatusArgs) -> Result<Report, StatusError> {
    let key = args.api_key.as_deref().map(str::trim).filter(|k| !k.is_empty()).ok_or(StatusError::NoKey)?;
    let base = args.url.trim_end_matches('/').to_owned();
    match url::Url::parse(&base) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => {}
        _ => return Err(StatusError::BadUrl(args.url.clone())),
    }
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|err| StatusError::Unreachable { url: base.clone(), reason: err.to_string() })?;
    let api = Api { client, base, key: key.to_owned() };
    // Services first: any valid key may list them, so a refused key is told apart from a
    // key that is merely not the operator's.
    let services = api.services().await?;
    let (nodes, hidden) = match api.get::<Vec<NodeView>>("/api/v1/nodes", &[]).await {
        Ok(nodes) => (Some(nodes), None),
        Err(StatusError::Failed { status: 403, .. }) => {
            (None, Some("listing nodes needs the operator's API key".to_owned()))
        }
        Err(err) => return Err(err),
    };
    Ok(Report::new(api.base.clone(), nodes, hidden, services))
}

/// The Cloud API as this command uses it: bearer key, JSON answers, the one error shape.
struct Api {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn services(&self) -> Result<Vec<ServiceView>, StatusError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", "100".to_owned())];
            if let Some(cursor) = cursor.take() {
                query.push(("cursor", cursor));
            }
            let page: Page<ServiceView> = self.get("/api/v1/services", &query).await?;
            all.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T, StatusError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .client
            .get(&url)
            .query(query)
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(|err| StatusError::Unreachable { url: self.base.clone(), reason: cause(&err) })?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|err| StatusError::Unreachable { url: self.base.clone(), reason: cause(&err) })?;
        if status.is_success() {
            return serde_json::from_str(&body)
                .map_err(|err| StatusError::NotPlatform { path: path.to_owned(), reason: err.to_string() });
        }
        let (code, message) = error_of(&body);
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(StatusError::KeyRefused { status: status.as_u16(), code, message });
        }
        Err(StatusError::Failed { path: path.to_owned(), status: status.as_u16(), code, message })
    }
}

/// The innermost cause of a transport error (`connection refused`, not reqwest's wrapper).
fn cause(err: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = err;
    while let Some(next) = source.source() {
        source = next;
    }
    if err.is_timeout() {
        format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())
    } else {
        source.to_string()
    }
}

/// `(code, message)` of the platform's error shape, or the raw body when it is not that.
fn error_of(body: &str) -> (String, String) {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let error = &value["error"];
    match (error["code"].as_str(), error["message"].as_str()) {
        (Some(code), Some(message)) => (code.to_owned(), message.to_owned()),
        _ => ("-".to_owned(), body.chars().take(200).collect()),
    }
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
