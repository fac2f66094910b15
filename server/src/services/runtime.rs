//! The service registry at run time: the placement loop (placements follow node liveness,
//! trust and drain; a service's availability follows its health), the health checks of every
//! placement (sent from the entry node through the mesh, see [`health`]), the catalog the
//! gateway and discovery read, and the gateway's breakers.
use super::{
    breaker::Breaker,
    catalog::{Catalog, Entry},
    executor::{Grants, SharedGrants},
    health::{self, Probe, Schedule},
    kv_call::KvGrant,
    placement,
};
use crate::{
    db,
    liveness::Liveness,
    mesh::{NodeId, node::MeshHandle},
};
use app::types::{
    ids::{self, AccountId, ServiceId},
    nodes::{NodeKind, NodeState, NodeStatus},
    services::{DiscoveryView, HealthStatus, PlacementView, ServiceKind, ServiceStatus},
};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};
use tokio::{sync::Notify, task::JoinHandle};

/// Days of health tallies kept (listings show the last 30).
const HEALTH_DAYS_KEPT: u64 = 90;
/// How often old health tallies are forgotten.
const HEALTH_DAYS_PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Timing and limits of the registry at run time.
#[derive(Clone, Copy, Debug)]
pub struct ServiceSettings {
    /// A service with no healthy placement for longer than this is marked unavailable.
    pub unavailable_after: Duration,
    /// Period of the placement loop (it also runs at once after every change).
    pub reconcile_interval: Duration,
    /// Invokes in flight at once, over all accounts (past it: 503 `platform_busy`).
    pub max_concurrent_invokes: u32,
    /// Invokes one account may have in flight at once (past it: 429 `too_many_concurrent_calls`).
    pub max_concurrent_invokes_per_account: u32,
    /// Health checks in flight at once; due checks past it wait for a free slot.
    pub max_concurrent_checks: usize,
    /// How long an invoke's request body may take to arrive (past it: 408 `body_timeout`).
    pub body_read_timeout: Duration,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        Self {
            unavailable_after: Duration::from_secs(300),
            reconcile_interval: Duration::from_millis(500),
            max_concurrent_invokes: 4096,
            max_concurrent_invokes_per_account: 256,
            max_concurrent_checks: 64,
            body_read_timeout: Duration::from_secs(30),
        }
    }
}

/// The registry at run time: placements, health, the catalog and the gateway. One per
/// `serve` process.
pub struct ServiceRuntime {
    pub(super) db: DatabaseConnection,
    liveness: Liveness,
    settings: ServiceSettings,
    catalog: RwLock<Arc<Catalog>>,
    /// Per service id, per placement: looked up by `&str`, so a call allocates nothing here.
    pub(super) breakers: Mutex<HashMap<ServiceId, HashMap<NodeId, Breaker>>>,
    embedded: Vec<MeshHandle>,
    /// What each embedded node's executor may run, kept in step with the placements.
    grants: Vec<(NodeId, SharedGrants)>,
    pub(super) next: AtomicUsize,
    pass: tokio::sync::Mutex<()>,
    /// Passes asked for, and the newest request a finished pass covered (see `reconcile`).
    requested: AtomicU64,
    completed: AtomicU64,
    wake: Notify,
    /// The last health recorded per (service, node): a change refreshes the catalog at once.
    last_health: Mutex<HashMap<(ServiceId, ids::NodeId), HealthStatus>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Records successful invokes (`None`: metering off, for benchmarks only).
    pub(super) meter: Option<Arc<crate::metering::Meter>>,
    /// Told of every finished invoke: metrics, rollups, traces.
    pub(super) observer: Arc<crate::observability::Observer>,
    /// Invokes in flight, in total and per account.
    pub(super) in_flight: super::in_flight::InFlight,
    /// Derives each service's proxy secret.
    proxy: Arc<super::proxy_secret::ProxySecrets>,
    /// Who may call other accounts' services, and their counts this month.
    entitlements: super::entitlements::Entitlements,
    /// Told when a service's availability changes and when a subscription passes a usage
    /// alert (`platform.service.health_changed`, `platform.subscription.usage_alert`).
    events: Arc<crate::events::Events>,
}

impl ServiceRuntime {
    /// The run time over the embedded nodes `embedded` (the first is the entry node).
    // The composition root hands each part over once; a parameter struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: DatabaseConnection,
        liveness: Liveness,
        settings: ServiceSettings,
        embedded: Vec<(MeshHandle, SharedGrants)>,
        meter: Option<Arc<crate::metering::Meter>>,
        proxy: Arc<super::proxy_secret::ProxySecrets>,
        events: Arc<crate::events::Events>,
        observer: Arc<crate::observability::Observer>,
    ) -> Arc<Self> {
        Arc::new(Self {
            db,
            liveness,
            settings,
            catalog: RwLock::default(),
            breakers: Mutex::default(),
            grants: embedded.iter().map(|(h, g)| (h.id(), g.clone())).collect(),
            embedded: embedded.into_iter().map(|(h, _)| h).collect(),
            next: AtomicUsize::new(0),
            pass: tokio::sync::Mutex::new(()),
            requested: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            wake: Notify::new(),
            last_health: Mutex::default(),
            tasks: Mutex::default(),
            meter,
            observer,
            in_flight: super::in_flight::InFlight::default(),
            proxy,
            entitlements: super::entitlements::Entitlements::default(),
            events,
        })
    }

    /// The marketplace's grants as the invoke path reads them.
    pub fn entitlements(&self) -> &super::entitlements::Entitlements {
        &self.entitlements
    }

    /// The proxy secret of `service` at `generation`.
    pub fn proxy_secret(&self, service: &ServiceId, generation: i32) -> String {
        self.proxy.secret(service, generation)
    }

    /// The placement and availability settings.
    pub fn settings(&self) -> &ServiceSettings {
        &self.settings
    }

    /// The meter that records successful invokes (`None` when metering is off).
    pub fn meter(&self) -> Option<&Arc<crate::metering::Meter>> {
        self.meter.as_ref()
    }

    /// Starts the placement loop and the health checks.
    pub fn start(self: &Arc<Self>) {
        let placement = {
            let runtime = self.clone();
            tokio::spawn(async move {
                let mut pruned: Option<std::time::Instant> = None;
                loop {
                    if let Err(err) = runtime.reconcile().await {
                        tracing::warn!(error = %err, "placement pass failed");
                    }
                    runtime.tell_alerts().await;
                    if pruned.is_none_or(|at| at.elapsed() >= HEALTH_DAYS_PRUNE_EVERY) {
                        pruned = Some(std::time::Instant::now());
                        let before = Utc::now().date_naive() - chrono::Days::new(HEALTH_DAYS_KEPT);
                        if let Err(err) = db::services::prune_health_days(&runtime.db, before).await {
                            tracing::warn!(error = %err, "forgetting old health tallies failed");
                        }
                    }
                    tokio::select! {
                        () = tokio::time::sleep(runtime.settings.reconcile_interval) => {}
                        () = runtime.wake.notified() => {}
                    }
                }
            })
        };
        let checks = {
            let runtime = self.clone();
            tokio::spawn(async move { runtime.run_checks().await })
        };
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).extend([placement, checks]);
    }

    /// Stops the background tasks.
    pub fn shutdown(&self) {
        for task in self.tasks.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            task.abort();
        }
    }

    /// The node invokes enter the mesh at: the first embedded node still running.
    pub fn entry(&self) -> Option<&MeshHandle> {
        self.embedded.iter().find(|h| h.is_running())
    }

    /// The nodes calls may come from: this process's embedded nodes (any of them can become
    /// the entry node when the one before it stops).
    pub fn entries(&self) -> HashSet<NodeId> {
        self.embedded.iter().map(MeshHandle::id).collect()
    }

    /// What a hosted node may run: told with each heartbeat answer.
    pub fn grants_for(&self, node: NodeId) -> Grants {
        self.catalog().grants(node, self.entries())
    }

    /// The current catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Every node's name and liveness now, for views of services.
    pub async fn names(&self) -> Result<super::NodeNames, super::ServicesError> {
        super::NodeNames::load(&self.db, Utc::now(), &self.liveness).await
    }

    /// Discovery: the account's service with the placements callers may use — the catalog's
    /// own, so what discovery shows as healthy is what the gateway routes to, and polling it
    /// costs no query.
    pub fn discover(
        &self,
        account: &AccountId,
        id: &ServiceId,
    ) -> Result<DiscoveryView, super::ServicesError> {
        let catalog = self.catalog();
        let entry =
            catalog.get(id.as_str()).filter(|e| &e.owner == account).ok_or(super::ServicesError::NotFound)?;
        Ok(DiscoveryView {
            service_id: entry.id.clone(),
            slug: entry.slug.clone(),
            status: entry.status,
            available: entry.available,
            instances: entry.instances.clone(),
        })
    }

    /// Asks for a placement pass soon (after a health result, say).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// One placement pass: every active service on its `replicas` best eligible nodes
    /// (rendezvous hashing over trusted, active, not-offline nodes), inactive services on
    /// none; availability from health; then a fresh catalog.
    ///
    /// Returns once a pass that started after this call has finished. Callers that ask while
    /// a pass runs share the next one: a burst of registrations or health changes costs two
    /// passes, not one each (each pass reads every service, so one each made a burst
    /// quadratic and registrations waited past the request timeout).
    pub async fn reconcile(&self) -> anyhow::Result<()> {
        let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let _one_at_a_time = self.pass.lock().await;
        if self.completed.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        // Every request made before this point wrote what it changed before asking.
        let covers = self.requested.load(Ordering::SeqCst);
        self.pass().await?;
        self.completed.fetch_max(covers, Ordering::SeqCst);
        Ok(())
    }

    /// One placement pass, in phases: the live nodes, then per service its desired placements
    /// applied and its catalog entry made, then the new catalog published.
    async fn pass(&self) -> anyhow::Result<()> {
        let now = Utc::now();
        // One transaction: the pass holds the (single) connection once instead of queueing
        // for it per query behind every other request, and its writes land together.
        let txn = self.db.begin().await?;
        let nodes = db::nodes::nodes(&txn).await?;
        let names = super::NodeNames::of(&nodes, now, &self.liveness);
        let eligible: Vec<&ids::NodeId> = nodes
            .iter()
            .filter(|n| {
                n.status == NodeStatus::Active
                    && n.trust_level == crate::mesh::trust::TrustLevel::Trusted
                    && names.state(&n.id).0 != NodeState::Offline
            })
            .map(|n| &n.id)
            .collect();
        // A kv service runs against the store, which only this process's embedded nodes
        // have: it is placed among those alone.
        let embedded: HashSet<&ids::NodeId> =
            nodes.iter().filter(|n| n.kind == NodeKind::Embedded).map(|n| &n.id).collect();
        let eligible_kv: Vec<&ids::NodeId> =
            eligible.iter().copied().filter(|n| embedded.contains(n)).collect();
        let mut placements: HashMap<ServiceId, Vec<db::entities::service_placements::Model>> = HashMap::new();
        for p in db::services::placements(&txn).await? {
            placements.entry(p.service_id.clone()).or_default().push(p);
        }
        let mut catalog = Catalog::default();
        for n in &nodes {
            if let Ok(id) = n.id.as_str().parse() {
                catalog.name(id, n.name.clone());
            }
        }
        let mut placed: HashSet<(ServiceId, ids::NodeId)> = HashSet::new();
        for service in db::services::all(&txn).await? {
            let replicas =
                if service.status == ServiceStatus::Active { usize::from(service.replicas) } else { 0 };
            let pool = if service.kind == ServiceKind::Kv { &eligible_kv } else { &eligible };
            let desired: HashSet<&ids::NodeId> =
                placement::choose(service.id.as_str(), pool.iter().copied(), replicas).into_iter().collect();
            let current = apply_placements(
                &txn,
                &service.id,
                &desired,
                placements.remove(&service.id).unwrap_or_default(),
                now,
            )
            .await?;
            placed.extend(desired.iter().map(|n| (service.id.clone(), (*n).clone())));
            self.enter(&txn, &mut catalog, service, &desired, &current, &names, now).await?;
        }
        txn.commit().await?;
        // Grants before the catalog: a call routed by the new catalog finds its host ready.
        for (node, grants) in &self.grants {
            grants.set(catalog.grants(*node, self.entries()));
        }
        let catalog = Arc::new(catalog);
        let before =
            std::mem::replace(&mut *self.catalog.write().unwrap_or_else(|e| e.into_inner()), catalog.clone());
        self.last_health.lock().unwrap_or_else(|e| e.into_inner()).retain(|k, _| placed.contains(k));
        self.tell_availability(&before, &catalog).await;
        Ok(())
    }

    /// Tells each consumer about the usage alerts its calls passed since the last time.
    async fn tell_alerts(&self) {
        for alert in self.entitlements.take_alerts() {
            let data = serde_json::json!({
                "subscription_id": alert.grant.subscription,
                "listing_id": alert.grant.listing,
                "listing_title": alert.grant.listing_title,
                "kind": alert.kind,
                "percent": alert.percent,
                "used": alert.used,
                "limit": alert.limit,
            });
            self.events.emit(&alert.consumer, crate::events::platform::USAGE_ALERT, data).await;
        }
    }

    /// Tells each owner whose service became available or unavailable in this pass (a service
    /// new to the catalog was told about by its registration).
    async fn tell_availability(&self, before: &Catalog, after: &Catalog) {
        for entry in after.entries() {
            let Some(was) = before.get(entry.id.as_str()) else { continue };
            let (was_up, is_up) =
                (was.available && !was.healthy.is_empty(), entry.available && !entry.healthy.is_empty());
            if was_up != is_up {
                let data = serde_json::json!({
                    "service_id": entry.id,
                    "slug": entry.slug,
                    "available": is_up,
                    "healthy_placements": entry.healthy.len(),
                });
                self.events.emit(&entry.owner, crate::events::platform::SERVICE_HEALTH_CHANGED, data).await;
            }
        }
    }

    /// Puts `service` in `catalog` as placed on `desired` (with the last health of `current`):
    /// its healthy placements, the upstream each hosting node may call and the checks it runs;
    /// records the service's availability when it changed.
    #[allow(clippy::too_many_arguments)]
    async fn enter(
        &self,
        txn: &DatabaseTransaction,
        catalog: &mut Catalog,
        service: db::entities::services::Model,
        desired: &HashSet<&ids::NodeId>,
        current: &[db::entities::service_placements::Model],
        names: &super::NodeNames,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let active = service.status == ServiceStatus::Active;
        let settings = service.settings.clone();
        let kind = service.kind;
        // Every placement after this pass, with its last health (just placed: unknown).
        let offered: Vec<&ids::NodeId> = desired
            .iter()
            .copied()
            .filter(|node| {
                let health =
                    current.iter().find(|p| &p.node_id == *node).map(|p| p.health).unwrap_or_default();
                let (state, status) = names.state(node);
                super::offered(kind, health, state, status)
            })
            .collect();
        let healthy: Vec<NodeId> = offered.iter().filter_map(|n| n.as_str().parse().ok()).collect();
        let instances: Vec<PlacementView> = current
            .iter()
            .filter(|p| offered.contains(&&p.node_id))
            .map(|p| super::placement_view(p, names))
            .collect();
        let (unhealthy_since, available) =
            availability(&service, active, !healthy.is_empty(), now, &self.settings);
        if (unhealthy_since, available) != (service.unhealthy_since, service.available) {
            db::services::set_availability(txn, &service.id, unhealthy_since, available).await?;
            if available != service.available {
                tracing::warn!(service_id = %service.id, available, "service availability changed");
            }
        }
        let hosts: Vec<NodeId> =
            if active { desired.iter().filter_map(|n| n.as_str().parse().ok()).collect() } else { vec![] };
        let proxy_secret = self.proxy.secret(&service.id, service.proxy_secret_generation);
        if let Some(http) = &settings.http {
            for node in &hosts {
                catalog.host(*node, &service.id, &http.upstream_url);
                if let Some(check) = &settings.health_check {
                    catalog.assign(
                        *node,
                        Probe {
                            service_id: service.id.clone(),
                            path: check.path.clone(),
                            interval_ms: check.interval_ms,
                            timeout_ms: check.timeout_ms,
                            proxy_secret: proxy_secret.clone(),
                        },
                    );
                }
            }
        }
        if kind == ServiceKind::Kv {
            // The bucket named like the slug, of the service's owner: all a call can reach.
            let grant = KvGrant { account: service.account_id.clone(), bucket: service.slug.clone() };
            for node in &hosts {
                catalog.host_kv(*node, &service.id, grant.clone());
            }
        }
        catalog.insert(Entry {
            id: service.id,
            owner: service.account_id,
            slug: service.slug,
            kind,
            status: service.status,
            available,
            http: settings.http,
            policy: settings.policy,
            healthy,
            instances,
            placed: desired.len(),
            proxy_secret,
        });
        Ok(())
    }

    /// Runs the health check of every placement, embedded or hosted, from the entry node
    /// through the mesh, recording each result as it comes.
    async fn run_checks(self: Arc<Self>) {
        let schedule = Arc::new(Mutex::new(Schedule::default()));
        let slots = Arc::new(tokio::sync::Semaphore::new(self.settings.max_concurrent_checks.max(1)));
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            let Some(entry) = self.entry() else { continue };
            let catalog = self.catalog();
            let (runtime, again) = (self.clone(), schedule.clone());
            let mut due = schedule.lock().unwrap_or_else(|e| e.into_inner());
            health::start_due(&mut due, entry, &slots, catalog.checks(), move |node, probe, outcome| {
                let (runtime, again) = (runtime.clone(), again.clone());
                async move {
                    if outcome.transient {
                        let mut schedule = again.lock().unwrap_or_else(|e| e.into_inner());
                        schedule.again(node, &probe, health::TRANSIENT_RETRY, std::time::Instant::now());
                    }
                    let node = ids::NodeId::new(node.to_string());
                    runtime
                        .record(&probe.service_id, &node, outcome.status, &outcome.output, Utc::now())
                        .await;
                }
            });
        }
    }

    /// Stores a check's result; when the health changed, the catalog follows before this
    /// returns, so what discovery shows is what the gateway routes to.
    async fn record(
        &self,
        service: &ServiceId,
        node: &ids::NodeId,
        status: HealthStatus,
        output: &str,
        at: DateTime<Utc>,
    ) {
        if let Err(err) = db::services::record_health(&self.db, service, node, status, output, at).await {
            tracing::warn!(service_id = %service, node_id = %node, error = %err, "recording a health check failed");
            return;
        }
        let changed = {
            let mut last = self.last_health.lock().unwrap_or_else(|e| e.into_inner());
            last.insert((service.clone(), node.clone()), status) != Some(status)
        };
        if changed && let Err(err) = self.reconcile().await {
            tracing::warn!(error = %err, "placement pass failed");
        }
    }
}

/// Brings `service`'s stored placements in line with `desired`; answers the placements kept
/// (those just made are in the table with unknown health).
async fn apply_placements(
    txn: &DatabaseTransaction,
    service: &ServiceId,
    desired: &HashSet<&ids::NodeId>,
    mut current: Vec<db::entities::service_placements::Model>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<db::entities::service_placements::Model>> {
    for gone in current.iter().filter(|p| !desired.contains(&p.node_id)) {
        db::services::unplace(txn, service, &gone.node_id).await?;
        tracing::info!(service_id = %service, node_id = %gone.node_id, "placement released");
    }
    current.retain(|p| desired.contains(&p.node_id));
    for node in desired.iter().filter(|n| !current.iter().any(|p| &p.node_id == **n)) {
        db::services::place(txn, service, node, now).await?;
        tracing::info!(service_id = %service, node_id = %node, "service placed");
    }
    Ok(current)
}

/// A service's availability after this pass: when it became unhealthy, and whether it is
/// still offered (unavailable once it has had no healthy placement for `unavailable_after`).
fn availability(
    service: &db::entities::services::Model,
    active: bool,
    healthy: bool,
    now: DateTime<Utc>,
    settings: &ServiceSettings,
) -> (Option<DateTime<Utc>>, bool) {
    if !active || healthy {
        return (None, true);
    }
    let since = service.unhealthy_since.unwrap_or(now);
    let unhealthy_for = (now - since).to_std().unwrap_or_default();
    (Some(since), unhealthy_for <= settings.unavailable_after)
}
