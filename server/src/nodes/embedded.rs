//! The embedded mesh: the nodes a `serve` process runs itself, each a real libp2p node on
//! its own loopback port, linked in a line so that the ends are several hops apart (every
//! laptop exercises multi-hop routing). The supervisor registers them, heartbeats them, and
//! keeps every embedded node's allow/block list in step with the registry.
use super::{Liveness, NodesError};
use crate::mesh::{
    NodeId, identity,
    node::{self, MeshHandle, NodeConfig, NodeSnapshot},
    trust::TrustEvent,
};
use app::types::nodes::{NodeStatsView, NodeStatus, PeerLinkView, RouteEntryView};
use chrono::Utc;
use sea_orm::DatabaseConnection;
use std::{collections::HashSet, path::Path, sync::Mutex};
use tokio::task::JoinHandle;

/// One embedded node.
pub struct EmbeddedNode {
    pub name: String,
    pub handle: MeshHandle,
    /// What its executor may run (kept by the services layer).
    pub grants: crate::services::executor::SharedGrants,
}

/// The embedded nodes and their background tasks.
pub struct EmbeddedNodes {
    nodes: Vec<EmbeddedNode>,
    settings: Liveness,
    known: Mutex<HashSet<NodeId>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl EmbeddedNodes {
    /// No embedded nodes (`--nodes 0`).
    pub fn empty(settings: Liveness) -> Self {
        Self { nodes: Vec::new(), settings, known: Mutex::default(), tasks: Mutex::default() }
    }

    /// Starts `count` embedded nodes with keys under `data_dir/nodes/`, registers them,
    /// links them in a line and starts their heartbeats.
    pub async fn start(
        db: &DatabaseConnection,
        data_dir: &Path,
        count: usize,
        settings: Liveness,
        config: NodeConfig,
        egress: std::sync::Arc<crate::egress::EgressPolicy>,
        kv: std::sync::Arc<crate::memory::Memory>,
    ) -> anyhow::Result<Self> {
        let mut mesh = Self::empty(settings);
        let mut tasks = Vec::new();
        let upstreams = crate::services::executor::Upstreams::new(egress.clone());
        for i in 1..=count {
            let name = format!("embedded-{i}");
            let key = identity::load_or_create(&data_dir.join("nodes").join(&name))?;
            let (handle, inbox) = node::start(key, config.clone()).await?;
            if let Some(addr) = crate::mesh::socket_addr(handle.listen_addr()) {
                egress.add_own(addr);
            }
            super::register_embedded(db, handle.id(), &name, &handle.listen_addr().to_string(), Utc::now())
                .await?;
            // Invokes of the services placed on this node.
            let grants = crate::services::executor::SharedGrants::default();
            tasks.push(tokio::spawn(crate::services::executor::serve(
                inbox,
                upstreams.clone(),
                grants.clone(),
                Some(kv.clone()),
            )));
            mesh.nodes.push(EmbeddedNode { name, handle, grants });
        }
        mesh.sync(db).await?;
        for pair in mesh.nodes.windows(2) {
            pair[0].handle.link(pair[1].handle.id(), pair[1].handle.listen_addr().clone())?;
        }
        let heartbeats = {
            let db = db.clone();
            let handles: Vec<MeshHandle> = mesh.nodes.iter().map(|n| n.handle.clone()).collect();
            let interval = settings.heartbeat_interval;
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(interval);
                loop {
                    tick.tick().await;
                    for handle in &handles {
                        let Ok(snapshot) = handle.snapshot().await else { continue };
                        let stats = stats_view(handle, &snapshot);
                        match super::record_heartbeat(&db, handle.id(), stats, Utc::now()).await {
                            Ok(()) | Err(NodesError::NodeBlocked | NodesError::NotFound(_)) => {}
                            Err(err) => {
                                tracing::warn!(node_id = %handle.id(), error = %err, "embedded heartbeat failed")
                            }
                        }
                    }
                }
            })
        };
        tasks.push(heartbeats);
        *mesh.tasks.lock().unwrap_or_else(|e| e.into_inner()) = tasks;
        tracing::info!(count, "embedded mesh nodes started");
        Ok(mesh)
    }

    /// The embedded nodes.
    pub fn nodes(&self) -> &[EmbeddedNode] {
        &self.nodes
    }

    /// Heartbeat and liveness timing.
    pub fn settings(&self) -> &Liveness {
        &self.settings
    }

    /// Applies the registry to every embedded node: registered nodes are admitted, blocked
    /// ones blocked, removed ones forgotten. Called after every change of membership.
    pub async fn sync(&self, db: &DatabaseConnection) -> anyhow::Result<()> {
        let members = super::members(db).await?;
        let mut now_known = HashSet::new();
        for member in &members {
            let Ok(id) = member.id.as_str().parse::<NodeId>() else { continue };
            now_known.insert(id);
            for node in &self.nodes {
                match member.status {
                    NodeStatus::Blocked => node.handle.block(id, TrustEvent::OperatorBlock)?,
                    NodeStatus::Active | NodeStatus::Draining => node.handle.allow(id)?,
                }
            }
        }
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        for gone in known.difference(&now_known) {
            for node in &self.nodes {
                node.handle.forget(*gone)?;
            }
        }
        *known = now_known;
        Ok(())
    }

    /// Stops the embedded nodes and their tasks.
    pub fn shutdown(&self) {
        for node in &self.nodes {
            node.handle.shutdown();
        }
        for task in self.tasks.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            task.abort();
        }
    }
}

impl Drop for EmbeddedNodes {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A node's report in the wire shape (shared by embedded heartbeats and `server node`).
pub fn stats_view(handle: &MeshHandle, snapshot: &NodeSnapshot) -> NodeStatsView {
    use std::sync::atomic::Ordering::Relaxed;
    let stats = handle.stats();
    NodeStatsView {
        originated: stats.originated.load(Relaxed),
        delivered: stats.delivered.load(Relaxed),
        forwarded: stats.forwarded.load(Relaxed),
        received: stats.received.load(Relaxed),
        drops: stats.drops().into_iter().map(|(r, n)| (r.as_str().to_owned(), n)).collect(),
        peers: snapshot
            .peers
            .iter()
            .map(|p| PeerLinkView {
                id: super::stored_id(p.id),
                connected: p.connected,
                trust: p.trust.as_str().into(),
                rtt_ms: p.last_rtt.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            })
            .collect(),
        routes: snapshot
            .routes
            .iter()
            .map(|r| RouteEntryView {
                destination: r.destination.to_string(),
                next_hop: r.next_hop.to_string(),
                hops: r.hops,
            })
            .collect(),
    }
}
