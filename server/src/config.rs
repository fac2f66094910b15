//! Configuration: command-line flags, then environment variables, then an optional TOML file,
//! then defaults (first one set wins).
use crate::auth::throttle::LoginThrottle;
use anyhow::Context;
use serde::Deserialize;
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

/// Settings a `serve` (or `migrate`) run can be given on the command line or in the environment.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file; its keys are these options' long names with `_`
    #[arg(long, env = "WEB4_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on (LEPTOS_SITE_ADDR is honoured too) [default: 127.0.0.1:3000]
    #[arg(long, env = "WEB4_BIND", value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
    /// Directory for the SQLite database and node keys [default: ./data]
    #[arg(long, env = "WEB4_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL [default: sqlite://<data-dir>/web4.db]
    #[arg(long, env = "WEB4_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Directory holding the built portal assets (pkg/web4.js, .wasm, .css) [default: target/site]
    #[arg(long, env = "LEPTOS_SITE_ROOT", value_name = "DIR")]
    pub site_root: Option<PathBuf>,
    /// The portal's public origin (e.g. https://web4.example.com), accepted by the CSRF check
    /// in addition to the request's own Host
    #[arg(long, env = "WEB4_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Serve invokes on their own origin (e.g. https://invoke.example.com, a DNS name for this
    /// same server): that host answers only /api/v1/invoke/… and the probes, and the portal's
    /// host answers invokes 421 [default: invokes on the portal's origin]
    #[arg(long, env = "WEB4_INVOKE_ORIGIN", value_name = "URL")]
    pub invoke_origin: Option<String>,
    /// Mark session cookies `Secure` (set this whenever the portal is served over HTTPS)
    #[arg(long, env = "WEB4_SECURE_COOKIES", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub secure_cookies: Option<bool>,
    /// Mesh nodes this process runs itself, linked in a line [default: 3]
    #[arg(long, env = "WEB4_NODES", value_name = "N")]
    pub nodes: Option<usize>,
    /// Address the embedded mesh nodes listen on [default: 127.0.0.1]
    #[arg(long, env = "WEB4_MESH_HOST", value_name = "IP")]
    pub mesh_host: Option<std::net::IpAddr>,
    /// Address ranges upstreams may be on beyond public addresses, comma-separated CIDRs
    /// (e.g. 127.0.0.0/8 for upstreams on this machine); metadata and link-local never
    #[arg(long, env = "WEB4_EGRESS_ALLOW", value_name = "CIDRS")]
    pub egress_allow: Option<String>,
    /// Accounts one client address may create per hour [default: 10]
    #[arg(long, env = "WEB4_SIGN_UPS_PER_HOUR", value_name = "N")]
    pub sign_ups_per_hour: Option<u32>,
    /// Marketplace searches one client address may make per second, after a burst of ten
    /// times as many [default: 20]
    #[arg(long, env = "WEB4_SEARCHES_PER_SECOND", value_name = "N")]
    pub searches_per_second: Option<u32>,
    /// Take the client address from the last X-Forwarded-For entry (only behind a trusted proxy)
    #[arg(long, env = "WEB4_TRUST_FORWARDED_FOR", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub trust_forwarded_for: Option<bool>,
    /// Waits before each webhook retry, comma-separated (`500ms`, `5s`, `2m`, `1h`)
    /// [default: 5s,30s,2m,10m,30m,1h,3h,6h]
    #[arg(long, env = "WEB4_WEBHOOK_RETRY_SCHEDULE", value_name = "WAITS")]
    pub webhook_retry_schedule: Option<String>,
    /// Seconds a webhook endpoint may fail continuously before it is disabled [default: 432000]
    #[arg(long, env = "WEB4_WEBHOOK_DISABLE_AFTER_SECS", value_name = "SECS")]
    pub webhook_disable_after_secs: Option<u64>,
    /// Webhook endpoints one account may have [default: 20]
    #[arg(long, env = "WEB4_MAX_WEBHOOKS_PER_ACCOUNT", value_name = "N")]
    pub max_webhooks_per_account: Option<u64>,
    /// Keep traces of recent invokes (`false` records none: for measuring their cost) [default: true]
    #[arg(long, env = "WEB4_TRACES", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub traces: Option<bool>,
    /// Record metrics and per-minute rollups, served at /metrics [default: true]
    #[arg(long, env = "WEB4_METRICS", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub metrics: Option<bool>,
    /// A second listener serving only /metrics, WITHOUT authentication (for a local
    /// Prometheus: bind it to loopback, e.g. 127.0.0.1:9464)
    #[arg(long, env = "WEB4_METRICS_BIND", value_name = "ADDR")]
    pub metrics_bind: Option<SocketAddr>,
    /// Export every invoke's trace to an OpenTelemetry collector at this OTLP/HTTP traces URL
    /// (e.g. http://127.0.0.1:4318/v1/traces) [default: no export]
    #[arg(long, env = "WEB4_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// The OTLP encoding: http/protobuf or http/json [default: http/protobuf]
    #[arg(long, env = "WEB4_OTLP_PROTOCOL", value_name = "PROTOCOL")]
    pub otlp_protocol: Option<String>,
    /// Percent of the calls whose trace starts here that are exported (calls within a caller's
    /// trace follow its sampled flag) [default: 100]
    #[arg(long, env = "WEB4_OTLP_SAMPLE_PERCENT", value_name = "PERCENT")]
    pub otlp_sample_percent: Option<u32>,
}

/// The optional configuration file. Unknown keys are an error, so a typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    site_root: Option<PathBuf>,
    public_url: Option<String>,
    invoke_origin: Option<String>,
    secure_cookies: Option<bool>,
    trust_forwarded_for: Option<bool>,
    session_days: Option<i64>,
    login_max_failures: Option<u32>,
    login_window_minutes: Option<i64>,
    login_free_failures: Option<u32>,
    sign_ups_per_hour: Option<u32>,
    searches_per_second: Option<u32>,
    nodes: Option<usize>,
    mesh_host: Option<std::net::IpAddr>,
    egress_allow: Option<Vec<String>>,
    heartbeat_interval_ms: Option<u64>,
    node_degraded_after_secs: Option<u64>,
    node_offline_after_secs: Option<u64>,
    service_unavailable_after_secs: Option<u64>,
    rate_limit_key_per_second: Option<u32>,
    rate_limit_key_burst: Option<u32>,
    rate_limit_account_per_second: Option<u32>,
    rate_limit_account_burst: Option<u32>,
    platform_fee_percent: Option<u32>,
    max_services_per_account: Option<u64>,
    max_concurrent_invokes: Option<u32>,
    max_concurrent_invokes_per_account: Option<u32>,
    max_concurrent_health_checks: Option<usize>,
    invoke_body_timeout_secs: Option<u64>,
    max_keys_per_account: Option<u64>,
    max_kv_buckets_per_account: Option<u64>,
    max_kv_keys_per_account: Option<u64>,
    usage_events_every_secs: Option<u64>,
    webhook_retry_schedule: Option<String>,
    webhook_disable_after_secs: Option<u64>,
    max_webhooks_per_account: Option<u64>,
    webhook_timeout_secs: Option<u64>,
    webhook_max_concurrent: Option<usize>,
    webhook_retention_days: Option<u64>,
    max_kv_watchers_per_account: Option<u32>,
    kv_watch_buffer: Option<usize>,
    traces: Option<bool>,
    trace_capacity: Option<usize>,
    trace_retention_minutes: Option<u64>,
    metrics: Option<bool>,
    metrics_bind: Option<SocketAddr>,
    otlp_endpoint: Option<String>,
    otlp_protocol: Option<String>,
    otlp_sample_percent: Option<u32>,
    rollup_flush_secs: Option<u64>,
    rollup_retention_days: Option<u64>,
}

/// What one account may hold: every tenant resource is bounded (a stranger's sign-up is free).
#[derive(Clone, Copy, Debug)]
pub struct TenantLimits {
    /// Services registered (each is health-checked on up to five nodes).
    pub services: u64,
    /// API keys not revoked.
    pub keys: u64,
}

impl Default for TenantLimits {
    fn default() -> Self {
        Self { services: 100, keys: 100 }
    }
}

/// The resolved configuration of one server process.
#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub site_root: PathBuf,
    /// Origins (scheme://host[:port]) that state-changing browser requests may come from,
    /// besides the request's own Host.
    pub trusted_origins: Vec<String>,
    /// The origin invokes are served on, when not the portal's (see [`InvokeOrigin`]).
    pub invoke_origin: Option<InvokeOrigin>,
    pub secure_cookies: bool,
    pub trust_forwarded_for: bool,
    /// Sessions expire after this many days without a request.
    pub session_days: i64,
    pub login_throttle: LoginThrottle,
    /// Embedded mesh nodes (0: none).
    pub nodes: usize,
    /// Address the embedded nodes listen on.
    pub mesh_host: std::net::IpAddr,
    /// Ranges upstreams may be on beyond public addresses (see [`crate::egress`]).
    pub egress_allow: Vec<ipnet::IpNet>,
    /// What one account may hold.
    pub limits: TenantLimits,
    /// Heartbeat timing and the liveness it implies.
    pub mesh: crate::liveness::Liveness,
    /// Placement and availability timing of services.
    pub services: crate::services::runtime::ServiceSettings,
    /// Request rate limits per API key and per account.
    pub rate_limits: crate::ratelimit::RateLimitSettings,
    /// Pricing and invoicing: the platform fee and the month-end scheduler.
    pub billing: crate::billing::BillingSettings,
    /// KV quotas per account and the expiry sweeper's interval.
    pub memory: crate::memory::validation::MemorySettings,
    /// Record usage of successful invokes (always on; only benchmarks turn it off, to
    /// measure its cost: unmetered calls are never billed).
    pub metering: bool,
    /// How often each payer is told its recorded calls (`platform.usage.recorded`).
    pub usage_events_every: std::time::Duration,
    /// Webhooks: the retry schedule, auto-disable, limits and timing.
    pub webhooks: crate::webhooks::WebhookSettings,
    /// The recent invokes' traces: whether they are kept, how many, how long.
    pub traces: crate::observability::traces::TraceSettings,
    /// Metrics (on or off, the unauthenticated listener) and the rollups' timing.
    pub observability: crate::observability::ObservabilitySettings,
}

impl Config {
    /// Defaults for everything, rooted in `data_dir`: what tests start from.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url: sqlite_url(&data_dir),
            data_dir,
            site_root: PathBuf::from("target/site"),
            trusted_origins: Vec::new(),
            invoke_origin: None,
            secure_cookies: false,
            trust_forwarded_for: false,
            session_days: 7,
            login_throttle: LoginThrottle::default(),
            nodes: 3,
            mesh_host: std::net::IpAddr::from([127, 0, 0, 1]),
            egress_allow: Vec::new(),
            limits: TenantLimits::default(),
            mesh: crate::liveness::Liveness::default(),
            services: crate::services::runtime::ServiceSettings::default(),
            rate_limits: crate::ratelimit::RateLimitSettings::default(),
            metering: true,
            billing: crate::billing::BillingSettings::default(),
            memory: crate::memory::validation::MemorySettings::default(),
            usage_events_every: std::time::Duration::from_secs(10),
            webhooks: crate::webhooks::WebhookSettings::default(),
            traces: crate::observability::traces::TraceSettings::default(),
            observability: crate::observability::ObservabilitySettings::default(),
        }
    }

    /// Resolves flags and environment (`args`, already merged by clap) over the file they
    /// name, over the defaults.
    pub fn resolve(args: ServeArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("invalid configuration file {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let site_addr = std::env::var("LEPTOS_SITE_ADDR").ok().and_then(|s| s.parse().ok());
        let data_dir = args.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("data"));
        let mut config = Self::for_data_dir(data_dir);
        if let Some(bind) = args.bind.or(site_addr).or(file.bind) {
            config.bind = bind;
        }
        if let Some(url) = args.database_url.or(file.database_url) {
            config.database_url = url;
        }
        if let Some(root) = args.site_root.or(file.site_root) {
            config.site_root = root;
        }
        if let Some(url) = args.public_url.or(file.public_url) {
            config.trusted_origins.push(origin_of(&url)?);
        }
        if let Some(url) = args.invoke_origin.or(file.invoke_origin) {
            let origin = InvokeOrigin::parse(&url)?;
            anyhow::ensure!(
                !config.trusted_origins.iter().any(|o| o == origin.as_str()),
                "invoke_origin {url:?} is the portal's public URL: give invokes a host of their own"
            );
            config.invoke_origin = Some(origin);
        }
        config.secure_cookies = args.secure_cookies.or(file.secure_cookies).unwrap_or(false);
        config.trust_forwarded_for = args.trust_forwarded_for.or(file.trust_forwarded_for).unwrap_or(false);
        if let Some(days) = file.session_days {
            anyhow::ensure!(days > 0, "session_days must be at least 1");
            config.session_days = days;
        }
        if let Some(limit) = file.login_max_failures {
            anyhow::ensure!(limit > 0, "login_max_failures must be at least 1");
            config.login_throttle.limit = limit;
        }
        if let Some(minutes) = file.login_window_minutes {
            anyhow::ensure!(minutes > 0, "login_window_minutes must be at least 1");
            config.login_throttle.window = chrono::Duration::minutes(minutes);
        }
        if let Some(free) = file.login_free_failures {
            config.login_throttle.free = free;
        }
        if let Some(count) = args.sign_ups_per_hour.or(file.sign_ups_per_hour) {
            anyhow::ensure!(count > 0, "sign_ups_per_hour must be at least 1");
            config.rate_limits.sign_up = crate::ratelimit::Budget::per_hour(count);
        }
        if let Some(count) = args.searches_per_second.or(file.searches_per_second) {
            anyhow::ensure!(count > 0, "searches_per_second must be at least 1");
            config.rate_limits.search = crate::ratelimit::Limit::with_burst_of_ten_seconds(count);
        }
        if let Some(nodes) = args.nodes.or(file.nodes) {
            anyhow::ensure!(nodes <= 100, "at most 100 embedded nodes (the mesh's scale ceiling)");
            config.nodes = nodes;
        }
        if let Some(host) = args.mesh_host.or(file.mesh_host) {
            config.mesh_host = host;
        }
        if let Some(allow) = args.egress_allow.map(|a| vec![a]).or(file.egress_allow) {
            config.egress_allow = crate::egress::parse_allow(&allow)?;
        }
        if let Some(ms) = file.heartbeat_interval_ms {
            anyhow::ensure!(ms >= 100, "heartbeat_interval_ms must be at least 100");
            config.mesh.heartbeat_interval = std::time::Duration::from_millis(ms);
        }
        if let Some(secs) = file.node_degraded_after_secs {
            config.mesh.degraded_after = std::time::Duration::from_secs(secs);
        }
        if let Some(secs) = file.node_offline_after_secs {
            config.mesh.offline_after = std::time::Duration::from_secs(secs);
        }
        if let Some(secs) = file.service_unavailable_after_secs {
            config.services.unavailable_after = std::time::Duration::from_secs(secs);
        }
        if let Some(n) = file.max_concurrent_invokes {
            anyhow::ensure!(n > 0, "max_concurrent_invokes must be at least 1");
            config.services.max_concurrent_invokes = n;
        }
        if let Some(n) = file.max_concurrent_invokes_per_account {
            anyhow::ensure!(n > 0, "max_concurrent_invokes_per_account must be at least 1");
            config.services.max_concurrent_invokes_per_account = n;
        }
        if let Some(n) = file.max_concurrent_health_checks {
            anyhow::ensure!(n > 0, "max_concurrent_health_checks must be at least 1");
            config.services.max_concurrent_checks = n;
        }
        if let Some(secs) = file.invoke_body_timeout_secs {
            anyhow::ensure!(secs > 0, "invoke_body_timeout_secs must be at least 1");
            config.services.body_read_timeout = std::time::Duration::from_secs(secs);
        }
        if let Some(n) = file.max_services_per_account {
            config.limits.services = n;
        }
        if let Some(n) = file.max_keys_per_account {
            config.limits.keys = n;
        }
        if let Some(n) = file.max_kv_buckets_per_account {
            config.memory.max_buckets = n;
        }
        if let Some(secs) = file.usage_events_every_secs {
            anyhow::ensure!(secs > 0, "usage_events_every_secs must be at least 1");
            config.usage_events_every = std::time::Duration::from_secs(secs);
        }
        if let Some(n) = file.max_kv_keys_per_account {
            config.memory.max_live_keys = n;
        }
        if let Some(n) = file.max_kv_watchers_per_account {
            config.memory.max_watchers = n;
        }
        if let Some(n) = file.kv_watch_buffer {
            anyhow::ensure!(n > 0, "kv_watch_buffer must be at least 1");
            config.memory.watch_buffer = n;
        }
        if let Some(percent) = file.platform_fee_percent {
            anyhow::ensure!(percent <= 100, "platform_fee_percent must be between 0 and 100");
            config.billing.fee_bps = percent * 100;
        }
        if let Some(waits) = args.webhook_retry_schedule.or(file.webhook_retry_schedule) {
            config.webhooks.retry_schedule =
                crate::webhooks::retry::parse_schedule(&waits).context("webhook_retry_schedule")?;
        }
        if let Some(secs) = args.webhook_disable_after_secs.or(file.webhook_disable_after_secs) {
            anyhow::ensure!(secs > 0, "webhook_disable_after_secs must be at least 1");
            config.webhooks.disable_after = std::time::Duration::from_secs(secs);
        }
        if let Some(n) = args.max_webhooks_per_account.or(file.max_webhooks_per_account) {
            config.webhooks.max_per_account = n;
        }
        if let Some(secs) = file.webhook_timeout_secs {
            anyhow::ensure!((1..=60).contains(&secs), "webhook_timeout_secs must be between 1 and 60");
            config.webhooks.timeout = std::time::Duration::from_secs(secs);
        }
        if let Some(n) = file.webhook_max_concurrent {
            anyhow::ensure!(n > 0, "webhook_max_concurrent must be at least 1");
            config.webhooks.max_concurrent = n;
        }
        if let Some(days) = file.webhook_retention_days {
            anyhow::ensure!(days > 0, "webhook_retention_days must be at least 1");
            config.webhooks.keep_deliveries_for = std::time::Duration::from_secs(days * 24 * 3600);
        }
        if let Some(on) = args.traces.or(file.traces) {
            config.traces.enabled = on;
        }
        if let Some(n) = file.trace_capacity {
            anyhow::ensure!((1..=1_000_000).contains(&n), "trace_capacity must be between 1 and 1000000");
            config.traces.capacity = n;
        }
        if let Some(minutes) = file.trace_retention_minutes {
            anyhow::ensure!(
                (1..=10_080).contains(&minutes),
                "trace_retention_minutes must be between 1 and 10080"
            );
            config.traces.retention = std::time::Duration::from_secs(minutes * 60);
        }
        let observability = &mut config.observability;
        observability.metrics = args.metrics.or(file.metrics).unwrap_or(true);
        observability.metrics_bind = args.metrics_bind.or(file.metrics_bind);
        let protocol = args.otlp_protocol.or(file.otlp_protocol);
        let protocol = protocol.map(|p| p.parse()).transpose().map_err(anyhow::Error::msg)?;
        // The protocol is checked even when nothing is exported.
        let endpoint = args.otlp_endpoint.or(file.otlp_endpoint);
        let sample_percent = args.otlp_sample_percent.or(file.otlp_sample_percent).unwrap_or(100);
        anyhow::ensure!(sample_percent <= 100, "otlp_sample_percent must be between 0 and 100");
        observability.otlp = endpoint
            .map(|endpoint| {
                crate::observability::otlp::OtlpSettings::new(&endpoint, protocol.unwrap_or_default())
            })
            .transpose()?
            .map(|otlp| crate::observability::otlp::OtlpSettings { sample_percent, ..otlp });
        if let Some(secs) = file.rollup_flush_secs {
            anyhow::ensure!(secs > 0, "rollup_flush_secs must be at least 1");
            observability.rollup_flush_every = std::time::Duration::from_secs(secs);
        }
        if let Some(days) = file.rollup_retention_days {
            anyhow::ensure!(days > 0, "rollup_retention_days must be at least 1");
            observability.rollup_retention = std::time::Duration::from_secs(days * 24 * 3600);
        }
        let limits = &mut config.rate_limits;
        for (value, slot, name) in [
            (file.rate_limit_key_per_second, &mut limits.key.per_second, "rate_limit_key_per_second"),
            (file.rate_limit_key_burst, &mut limits.key.burst, "rate_limit_key_burst"),
            (
                file.rate_limit_account_per_second,
                &mut limits.account.per_second,
                "rate_limit_account_per_second",
            ),
            (file.rate_limit_account_burst, &mut limits.account.burst, "rate_limit_account_burst"),
        ] {
            if let Some(value) = value {
                anyhow::ensure!(value > 0, "{name} must be at least 1");
                *slot = value;
            }
        }
        anyhow::ensure!(
            config.mesh.degraded_after < config.mesh.offline_after,
            "node_degraded_after_secs must be shorter than node_offline_after_secs"
        );
        Ok(config)
    }
}

fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("web4.db").display())
}

/// `https://Example.com:8443/portal` → `https://example.com:8443`.
fn origin_of(url: &str) -> anyhow::Result<String> {
    let parsed: http::Uri = url.parse().with_context(|| format!("public URL {url:?} is not a URL"))?;
    let scheme = parsed.scheme_str().filter(|s| *s == "http" || *s == "https");
    match (scheme, parsed.authority()) {
        (Some(scheme), Some(authority)) => Ok(format!("{scheme}://{}", authority.as_str().to_lowercase())),
        _ => anyhow::bail!("public URL {url:?} must look like https://host[:port]"),
    }
}

/// The separate origin invoke answers are served on (`invoke_origin`): upstreams write those
/// answers, so on a host of their own nothing they contain runs with the portal's origin (its
/// cookies, its storage, its same-origin requests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvokeOrigin {
    /// `scheme://host[:port]`, lowercase, without a default port.
    origin: String,
    host: String,
    port: u16,
}

impl InvokeOrigin {
    /// An `http(s)://host[:port]` URL with no user, path (but `/`), query or fragment.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let bad = || format!("invoke_origin {url:?} must look like https://invoke.example.com[:port]");
        let parsed = url::Url::parse(url).with_context(bad)?;
        let plain = matches!(parsed.scheme(), "http" | "https")
            && parsed.username().is_empty()
            && parsed.password().is_none()
            && parsed.path() == "/"
            && parsed.query().is_none()
            && parsed.fragment().is_none();
        let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
            anyhow::bail!(bad())
        };
        anyhow::ensure!(plain, bad());
        let origin = parsed.origin().ascii_serialization();
        Ok(Self { origin, host: host.to_ascii_lowercase(), port })
    }

    /// `scheme://host[:port]`, as links to it are written.
    pub fn as_str(&self) -> &str {
        &self.origin
    }

    /// Whether a request's `Host` (or HTTP/2 `:authority`) names this origin; a host without a
    /// port names the scheme's default one.
    pub fn is_host(&self, authority: &str) -> bool {
        let Ok(authority) = authority.parse::<http::uri::Authority>() else { return false };
        let default = if self.origin.starts_with("https:") { 443 } else { 80 };
        authority.host().eq_ignore_ascii_case(&self.host)
            && authority.port_u16().unwrap_or(default) == self.port
    }
}

/// `docs/configuration.md` checked against the settings above.
#[cfg(test)]
mod documented;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invoke_origin_is_a_bare_origin_and_names_its_hosts() {
        let origin = InvokeOrigin::parse("https://Invoke.Example.com/").unwrap();
        assert_eq!(origin.as_str(), "https://invoke.example.com");
        assert!(origin.is_host("invoke.example.com"));
        assert!(origin.is_host("INVOKE.example.com:443"));
        assert!(!origin.is_host("invoke.example.com:8443"));
        assert!(!origin.is_host("web4.example.com"));
        assert!(!origin.is_host("invoke.example.com.evil.test"));
        assert!(!origin.is_host(""));
        let local = InvokeOrigin::parse("http://127.0.0.1:3001").unwrap();
        assert!(local.is_host("127.0.0.1:3001"));
        assert!(!local.is_host("127.0.0.1:3000"));
        assert!(!local.is_host("127.0.0.1"));
        let v6 = InvokeOrigin::parse("http://[::1]:3001").unwrap();
        assert!(v6.is_host("[::1]:3001"));
        for bad in [
            "invoke.example.com",
            "ftp://invoke.example.com",
            "https://user:pw@invoke.example.com",
            "https://invoke.example.com/api",
            "https://invoke.example.com/?q=1",
            "https://invoke.example.com/#top",
            "https://",
        ] {
            assert!(InvokeOrigin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_invoke_origin_must_differ_from_the_portals() {
        let args = ServeArgs {
            public_url: Some("https://web4.example.com".into()),
            invoke_origin: Some("https://web4.example.com/".into()),
            ..ServeArgs::default()
        };
        let err = Config::resolve(args).unwrap_err().to_string();
        assert!(err.contains("host of their own"), "{err}");
        let args = ServeArgs {
            public_url: Some("https://web4.example.com".into()),
            invoke_origin: Some("https://invoke.example.com".into()),
            ..ServeArgs::default()
        };
        assert_eq!(
            Config::resolve(args).unwrap().invoke_origin.unwrap().as_str(),
            "https://invoke.example.com"
        );
    }

    #[test]
    fn origin_of_keeps_scheme_host_and_port_only() {
        assert_eq!(
            origin_of("https://Web4.Example.com:8443/portal/").unwrap(),
            "https://web4.example.com:8443"
        );
        assert!(origin_of("web4.example.com").is_err());
        assert!(origin_of("ftp://web4.example.com").is_err());
    }

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("web4.toml");
        std::fs::write(
            &file,
            "bind = \"127.0.0.1:4000\"\ndata_dir = \"/srv/web4\"\nlogin_max_failures = 5\nsecure_cookies = true\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(file),
            bind: Some("127.0.0.1:5000".parse().unwrap()),
            ..ServeArgs::default()
        };
        let config = Config::resolve(args).unwrap();
        assert_eq!(config.bind.port(), 5000);
        assert_eq!(config.data_dir, PathBuf::from("/srv/web4"));
        assert_eq!(config.database_url, "sqlite:///srv/web4/web4.db");
        assert_eq!(config.login_throttle.limit, 5);
        assert!(config.secure_cookies);
    }

    #[test]
    fn kv_quotas_come_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("web4.toml");
        std::fs::write(
            &file,
            "max_kv_buckets_per_account = 3\nmax_kv_keys_per_account = 50\nmax_kv_watchers_per_account = 2\nkv_watch_buffer = 8\n",
        )
        .unwrap();
        let config = Config::resolve(ServeArgs { config: Some(file), ..ServeArgs::default() }).unwrap();
        assert_eq!((config.memory.max_buckets, config.memory.max_live_keys), (3, 50));
        assert_eq!((config.memory.max_watchers, config.memory.watch_buffer), (2, 8));
    }

    #[test]
    fn webhook_settings_come_from_flags_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("web4.toml");
        std::fs::write(
            &file,
            "webhook_retry_schedule = \"1s,1m\"\nwebhook_disable_after_secs = 60\nmax_webhooks_per_account = 3\n\
             webhook_timeout_secs = 5\nwebhook_max_concurrent = 8\nwebhook_retention_days = 2\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(file),
            webhook_retry_schedule: Some("500ms,5s".into()),
            ..ServeArgs::default()
        };
        let webhooks = Config::resolve(args).unwrap().webhooks;
        let secs = std::time::Duration::from_secs;
        assert_eq!(
            webhooks.retry_schedule,
            [std::time::Duration::from_millis(500), secs(5)],
            "the flag wins"
        );
        assert_eq!((webhooks.disable_after, webhooks.max_per_account), (secs(60), 3));
        assert_eq!((webhooks.timeout, webhooks.max_concurrent), (secs(5), 8));
        assert_eq!(webhooks.keep_deliveries_for, secs(2 * 24 * 3600));
        let bad = ServeArgs { webhook_retry_schedule: Some("soon".into()), ..ServeArgs::default() };
        assert!(Config::resolve(bad).is_err());
    }

    #[test]
    fn trace_settings_come_from_the_flag_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("web4.toml");
        std::fs::write(&file, "traces = true\ntrace_capacity = 5\ntrace_retention_minutes = 2\n").unwrap();
        let args = ServeArgs { config: Some(file.clone()), traces: Some(false), ..ServeArgs::default() };
        let traces = Config::resolve(args).unwrap().traces;
        assert!(!traces.enabled, "the flag wins");
        assert_eq!((traces.capacity, traces.retention), (5, std::time::Duration::from_secs(120)));
        std::fs::write(&file, "trace_capacity = 0\n").unwrap();
        assert!(Config::resolve(ServeArgs { config: Some(file), ..ServeArgs::default() }).is_err());
    }

    #[test]
    fn observability_settings_come_from_flags_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("web4.toml");
        std::fs::write(
            &file,
            "metrics = true\nmetrics_bind = \"127.0.0.1:9464\"\nrollup_flush_secs = 5\nrollup_retention_days = 2\n",
        )
        .unwrap();
        let args = ServeArgs { config: Some(file), metrics: Some(false), ..ServeArgs::default() };
        let settings = Config::resolve(args).unwrap().observability;
        assert!(!settings.metrics, "the flag wins");
        assert_eq!(settings.metrics_bind, Some("127.0.0.1:9464".parse().unwrap()));
        let secs = std::time::Duration::from_secs;
        assert_eq!((settings.rollup_flush_every, settings.rollup_retention), (secs(5), secs(2 * 24 * 3600)));
        assert!(Config::resolve(ServeArgs::default()).unwrap().observability.metrics, "on by default");
    }

    #[test]
    fn an_unknown_key_in_the_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("web4.toml");
        std::fs::write(&file, "bnid = \"127.0.0.1:4000\"\n").unwrap();
        let err = Config::resolve(ServeArgs { config: Some(file), ..ServeArgs::default() }).unwrap_err();
        assert!(format!("{err:#}").contains("bnid"), "{err:#}");
    }
}
