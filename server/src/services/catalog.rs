//! What the invoke path reads on every call, without touching the database: each service's
//! routing facts and the placements discovery offers. Rebuilt by the placement loop after
//! every pass (at least twice a second, and at once after every registry change) and swapped
//! in whole, so a reader sees one consistent picture.
use super::{executor::Grants, health::Probe, kv_call::KvGrant};
use crate::mesh::NodeId;
use app::types::{
    ids::{AccountId, ServiceId},
    services::{HttpSettings, PlacementView, PolicySettings, ServiceKind, ServiceStatus},
};
use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

/// One service, as the gateway needs it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: ServiceId,
    pub owner: AccountId,
    pub slug: String,
    pub kind: ServiceKind,
    pub status: ServiceStatus,
    pub available: bool,
    pub http: Option<HttpSettings>,
    pub policy: PolicySettings,
    /// Placements offered now: healthy (checked through the mesh from the entry node, so
    /// routable), on nodes that are not offline or blocked. Discovery shows exactly these.
    pub healthy: Vec<NodeId>,
    /// The same placements as discovery shows them (as of the last pass: ≤ 500 ms old).
    pub instances: Vec<PlacementView>,
    /// Placements in all.
    pub placed: usize,
    /// Sent to the upstream with every call (see [`super::proxy_secret`]).
    pub proxy_secret: String,
}

/// The whole picture.
#[derive(Default)]
pub struct Catalog {
    by_id: HashMap<ServiceId, Arc<Entry>>,
    by_slug: HashMap<(AccountId, String), Arc<Entry>>,
    checks: Vec<(NodeId, Probe)>,
    /// Per node, the services placed on it and their upstreams.
    hosted: HashMap<NodeId, HashMap<String, String>>,
    /// Per (embedded) node, the kv services placed on it and the bucket each exposes.
    hosted_kv: HashMap<NodeId, HashMap<String, KvGrant>>,
    names: HashMap<NodeId, String>,
}

impl Catalog {
    /// Adds a service.
    pub fn insert(&mut self, entry: Entry) {
        let entry = Arc::new(entry);
        self.by_slug.insert((entry.owner.clone(), entry.slug.clone()), entry.clone());
        self.by_id.insert(entry.id.clone(), entry);
    }

    /// Adds the health check of a placement.
    pub fn assign(&mut self, node: NodeId, probe: Probe) {
        self.checks.push((node, probe));
    }

    /// Records that `node` hosts `service` at `upstream`.
    pub fn host(&mut self, node: NodeId, service: &ServiceId, upstream: &str) {
        self.hosted.entry(node).or_default().insert(service.to_string(), upstream.to_owned());
    }

    /// Records that `node` hosts the kv service `service`, which exposes `grant`'s bucket.
    pub fn host_kv(&mut self, node: NodeId, service: &ServiceId, grant: KvGrant) {
        self.hosted_kv.entry(node).or_default().insert(service.to_string(), grant);
    }

    /// What `node` may execute, with calls coming from `entries`.
    pub fn grants(&self, node: NodeId, entries: HashSet<NodeId>) -> Grants {
        Grants {
            entries,
            upstreams: self.hosted.get(&node).cloned().unwrap_or_default(),
            kv: self.hosted_kv.get(&node).cloned().unwrap_or_default(),
        }
    }

    /// Names a node (for routes shown to people).
    pub fn name(&mut self, node: NodeId, name: String) {
        self.names.insert(node, name);
    }

    /// The service with this id (as read off a request path, or typed).
    pub fn get(&self, id: &str) -> Option<&Arc<Entry>> {
        self.by_id.get(id)
    }

    /// Every service.
    pub fn entries(&self) -> impl Iterator<Item = &Arc<Entry>> {
        self.by_id.values()
    }

    /// The service `owner` registered as `slug`.
    pub fn by_slug(&self, owner: &str, slug: &str) -> Option<&Arc<Entry>> {
        self.by_slug.get(&(AccountId::new(owner), slug.to_owned()))
    }

    /// Every placement's health check.
    pub fn checks(&self) -> impl Iterator<Item = (NodeId, &Probe)> {
        self.checks.iter().map(|(n, p)| (*n, p))
    }

    /// A node's name, if known.
    pub fn node_name(&self, node: &NodeId) -> Option<&str> {
        self.names.get(node).map(String::as_str)
    }
}
