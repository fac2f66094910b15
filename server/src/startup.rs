//! Building and running the application: database, migrations, listener, router, and a
//! graceful shutdown that lets in-flight requests finish.
use crate::{
    config::Config,
    db, http,
    mesh::node::NodeConfig,
    nodes::{Nodes, challenges::Challenges, embedded::EmbeddedNodes},
    services::{Services, runtime::ServiceRuntime},
    state::AppState,
};
use anyhow::Context;
use leptos::config::LeptosOptions;
use migrations::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};
use tokio::net::TcpListener;
use tower_sessions::ExpiredDeletion;
use tower_sessions_sqlx_store::SqliteStore;

/// How often the operators are told about changes of the nodes' state and trust.
const NODE_WATCH_EVERY: Duration = Duration::from_secs(1);

/// A built, bound, not yet running platform server.
pub struct Application {
    listener: TcpListener,
    /// The unauthenticated `/metrics` listener (`metrics_bind`), when configured.
    metrics_listener: Option<TcpListener>,
    state: AppState,
    session_store: SqliteStore,
}

impl Application {
    /// Opens the database (creating the data directory), applies migrations and binds the
    /// listener (port 0 picks a free port: see [`Application::local_addr`]).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
        let db = db::connect(&config.database_url).await?;
        let applied = migrate(&db).await?;
        if applied > 0 {
            tracing::info!(applied, "database migrations applied");
        }
        // Idempotent requests the last run left unanswered are resumed by their retries.
        let started_at = chrono::Utc::now();
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let local = listener.local_addr()?;
        let metrics_listener = match config.observability.metrics_bind {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen for /metrics on {addr}"))?,
            ),
            None => None,
        };
        let leptos = LeptosOptions::builder()
            .output_name("web4")
            .site_root(config.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(local)
            // Pages name the bundle `web4.<hash>.wasm` (cached for good) when the site was built
            // with cargo-leptos' `hash-files`, `web4.wasm` otherwise.
            .hash_files(http::assets::site_is_hashed(&config.site_root, "web4"))
            .build();
        let session_store = SqliteStore::new(db.get_sqlite_connection_pool().clone());
        let egress = Arc::new(crate::egress::EgressPolicy::new(config.egress_allow.clone()));
        egress.add_own(local);
        // Before the embedded nodes: their executors run kv services' calls against it.
        let memory = Arc::new(crate::memory::Memory::new(
            Arc::new(crate::memory::sqlite::SqliteKv::new(db.clone())),
            config.memory,
        ));
        let mesh = if config.nodes == 0 {
            EmbeddedNodes::empty(config.mesh)
        } else {
            let node_config = NodeConfig {
                listen: format!(
                    "/ip{}/{}/tcp/0",
                    if config.mesh_host.is_ipv4() { 4 } else { 6 },
                    config.mesh_host
                )
                .parse()
                .context("mesh listen address")?,
                ..NodeConfig::default()
            };
            EmbeddedNodes::start(
                &db,
                &config.data_dir,
                config.nodes,
                config.mesh,
                node_config,
                egress.clone(),
                memory.clone(),
            )
            .await?
        };
        let events =
            Arc::new(crate::events::Events::sqlite(db.clone(), crate::events::EventSettings::default()));
        let challenges = Arc::new(Challenges::new(Duration::from_secs(60), 10_000));
        let embedded = Arc::new(mesh);
        let traces = Arc::new(crate::observability::traces::TraceStore::new(config.traces));
        let state_handles: Vec<_> = embedded.nodes().iter().map(|n| n.handle.clone()).collect();
        let otlp = config.observability.otlp.as_ref().map(crate::observability::otlp::OtlpExport::start);
        let otlp = otlp.transpose().context("starting the OTLP trace exporter")?;
        let observer =
            Arc::new(crate::observability::Observer::new(&config.observability, traces.clone(), otlp));
        let runtime = ServiceRuntime::new(
            db.clone(),
            config.mesh,
            config.services,
            embedded.nodes().iter().map(|n| (n.handle.clone(), n.grants.clone())).collect(),
            config.metering.then(|| {
                let feed = crate::metering::Feed { events: events.clone(), every: config.usage_events_every };
                crate::metering::Meter::start(db.clone(), Some(feed))
            }),
            Arc::new(crate::services::proxy_secret::ProxySecrets::load_or_create(&config.data_dir)?),
            events.clone(),
            observer.clone(),
        );
        runtime.start();
        let nodes = Arc::new(Nodes::new(db.clone(), challenges, embedded, runtime.clone(), events.clone()));
        let limits = Arc::new(crate::ratelimit::RateLimits::with_heartbeats(
            config.rate_limits,
            config.mesh.heartbeat_interval,
        ));
        let marketplace = Arc::new(
            crate::marketplace::Marketplace::new(db.clone(), runtime.clone(), limits.clone(), events.clone())
                .await?,
        );
        let webhooks = Arc::new(crate::webhooks::Webhooks::new(
            db.clone(),
            events.clone(),
            egress.clone(),
            crate::webhooks::signing::WebhookSecrets::load_or_create(&config.data_dir)?,
            config.webhooks.clone(),
        ));
        let services = Arc::new(Services::new(
            db.clone(),
            egress.clone(),
            config.limits.services,
            runtime,
            events.clone(),
            memory.clone(),
        ));
        let keys = crate::keys::Keys::new(db.clone(), config.limits.keys);
        let accounts =
            Arc::new(crate::auth::Accounts::new(db.clone(), limits.clone(), config.login_throttle));
        let billing = Arc::new(crate::billing::Billing::new(db.clone(), config.billing, events.clone()));
        let observability = Arc::new(crate::observability::Observability::new(
            db.clone(),
            observer,
            state_handles,
            config.mesh,
            traces,
        ));
        let state = AppState {
            accounts,
            observability,
            billing,
            events,
            webhooks,
            memory,
            db,
            config: Arc::new(config),
            leptos,
            nodes,
            services,
            marketplace,
            keys,
            limits,
            egress,
            started_at,
        };
        Ok(Self { listener, metrics_listener, state, session_store })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.state.config.bind)
    }

    /// The address of the unauthenticated `/metrics` listener, when there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The shared state (tests use it to look into the database).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then drains in-flight requests and closes the database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self { listener, metrics_listener, state, session_store } = self;
        let cleanup =
            tokio::spawn(session_store.clone().continuously_delete_expired(Duration::from_secs(3600)));
        let background = [
            state.keys.start(),
            state.limits.start(),
            http::idempotency::start_purge(state.db.clone()),
            state.billing.start_scheduler(),
            state.events.start(),
            state.webhooks.start(),
            state.memory.start_sweeper(),
            state.nodes.start_watch(NODE_WATCH_EVERY),
        ];
        let rollups = state.observability.start(&state.config.observability);
        let metrics_only = metrics_listener.map(|listener| {
            let router = http::observability::metrics_only_router(state.clone());
            tokio::spawn(async move {
                if let Err(err) = axum::serve(listener, router).await {
                    tracing::error!(error = %err, "the /metrics listener stopped");
                }
            })
        });
        let router = http::router(state.clone(), session_store);
        let served = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await;
        cleanup.abort();
        background.iter().chain(&rollups).chain(&metrics_only).for_each(tokio::task::JoinHandle::abort);
        if let Err(err) = state.observability.flush().await {
            tracing::warn!(error = %err, "cannot write the last metrics rollups");
        }
        if let Err(err) = state.keys.flush_touched().await {
            tracing::warn!(error = %err, "cannot record when API keys were last used");
        }
        state.services.runtime().shutdown();
        state.nodes.embedded().shutdown();
        state.db.close().await.context("closing the database")?;
        tracing::info!("server stopped");
        Ok(served?)
    }
}

/// Applies pending migrations; returns how many there were.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<usize> {
    let pending = Migrator::get_pending_migrations(db).await?.len();
    Migrator::up(db, None).await.context("applying database migrations")?;
    Ok(pending)
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received: finishing in-flight requests");
}
