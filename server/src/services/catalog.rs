//! What the invoke path reads on every call, without touching the database: each service's
//! routing facts and the placements discovery offers. Rebuilt by the placement loop after
//! every pass (at least twice a second, and at once after every registry change) and swapped
//! in whole, so a reader sees one consistent picture.
use crate::mesh::NodeId;
use app::types::{
    nodes::HealthCheckAssignment,
    services::{HttpSettings, PolicySettings, ServiceKind, ServiceStatus},
};
use std::{collections::HashMap, sync::Arc};

/// One service, as the gateway needs it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: String,
    pub owner: String,
    pub slug: String,
    pub kind: ServiceKind,
    pub status: ServiceStatus,
    pub available: bool,
    pub http: Option<HttpSettings>,
    pub policy: PolicySettings,
    /// Placements offered now: healthy, on nodes that are not offline or blocked.
    pub healthy: Vec<NodeId>,
    /// Placements in all.
    pub placed: usize,
}

/// The whole picture.
#[derive(Default)]
pub struct Catalog {
    by_id: HashMap<String, Arc<Entry>>,
    by_slug: HashMap<(String, String), Arc<Entry>>,
    checks: HashMap<String, Vec<HealthCheckAssignment>>,
    names: HashMap<NodeId, String>,
}

impl Catalog {
    /// Adds a service.
    pub fn insert(&mut self, entry: Entry) {
        let entry = Arc::new(entry);
        self.by_slug.insert((entry.owner.clone(), entry.slug.clone()), entry.clone());
        self.by_id.insert(entry.id.clone(), entry);
    }

    /// Adds a health check a node runs.
    pub fn assign(&mut self, node: &str, check: HealthCheckAssignment) {
        self.checks.entry(node.to_owned()).or_default().push(check);
    }

    /// Names a node (for routes shown to people).
    pub fn name(&mut self, node: NodeId, name: String) {
        self.names.insert(node, name);
    }

    /// The service with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<Entry>> {
        self.by_id.get(id)
    }

    /// The service `owner` registered as `slug`.
    pub fn by_slug(&self, owner: &str, slug: &str) -> Option<&Arc<Entry>> {
        self.by_slug.get(&(owner.to_owned(), slug.to_owned()))
    }

    /// The health checks `node` runs.
    pub fn checks(&self, node: &str) -> &[HealthCheckAssignment] {
        self.checks.get(node).map_or(&[], Vec::as_slice)
    }

    /// Every node's checks.
    pub fn all_checks(&self) -> impl Iterator<Item = (&str, &HealthCheckAssignment)> {
        self.checks.iter().flat_map(|(n, cs)| cs.iter().map(move |c| (n.as_str(), c)))
    }

    /// A node's name, if known.
    pub fn node_name(&self, node: &NodeId) -> Option<&str> {
        self.names.get(node).map(String::as_str)
    }
}
