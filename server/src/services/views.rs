//! The answers about services: a stored service with its placements, and which placements
//! callers are offered.
use crate::db::{self, entities::services as service_rows};
use app::types::{
    ids::NodeId,
    nodes::{NodeState, NodeStatus},
    services::{HealthStatus, PlacementView, ServiceKind, ServiceView},
};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

type Result<T, E = super::error::ServicesError> = std::result::Result<T, E>;
use std::collections::HashMap;

/// Node names and liveness, for placement views.
pub struct NodeNames {
    nodes: HashMap<NodeId, (String, NodeState, NodeStatus)>,
}

impl NodeNames {
    /// Every node's name and liveness now.
    pub async fn load(
        db: &DatabaseConnection,
        now: DateTime<Utc>,
        settings: &crate::liveness::Liveness,
    ) -> Result<Self> {
        Ok(Self::of(&db::nodes::nodes(db).await?, now, settings))
    }

    /// The names and liveness of `rows` at `now`.
    pub fn of(
        rows: &[db::entities::nodes::Model],
        now: DateTime<Utc>,
        settings: &crate::liveness::Liveness,
    ) -> Self {
        let nodes = rows
            .iter()
            .map(|n| {
                let state = crate::liveness::state_of(n.last_heartbeat_at, now, settings);
                let status = n.status;
                (n.id.clone(), (n.name.clone(), state, status))
            })
            .collect();
        Self { nodes }
    }

    /// A node's name (empty when unknown).
    pub fn name(&self, id: &NodeId) -> &str {
        self.nodes.get(id).map_or("", |(name, ..)| name.as_str())
    }

    /// A node's liveness and status (an unknown node is offline and blocked).
    pub fn state(&self, id: &NodeId) -> (NodeState, NodeStatus) {
        self.nodes.get(id).map_or((NodeState::Offline, NodeStatus::Blocked), |(_, s, st)| (*s, *st))
    }
}

/// A placement as the API shows it.
pub fn placement_view(p: &db::entities::service_placements::Model, names: &NodeNames) -> PlacementView {
    PlacementView {
        node_id: p.node_id.clone(),
        node_name: names.name(&p.node_id).to_owned(),
        node_state: names.state(&p.node_id).0.as_str().into(),
        health: p.health,
        output: p.output.clone(),
        checked_at: p.checked_at,
        placed_at: p.placed_at,
    }
}

/// Whether discovery offers a placement and invokes may use it — the one rule both follow:
/// healthy (a `kv` placement needs no upstream check), on a node that is not offline or blocked.
pub fn offered(kind: ServiceKind, health: HealthStatus, state: NodeState, status: NodeStatus) -> bool {
    (health.is_healthy() || kind == ServiceKind::Kv)
        && state != NodeState::Offline
        && status != NodeStatus::Blocked
}

pub fn view(
    row: service_rows::Model,
    placements: &[db::entities::service_placements::Model],
    names: &NodeNames,
) -> ServiceView {
    let settings = row.settings.clone();
    let mut placements: Vec<PlacementView> =
        placements.iter().filter(|p| p.service_id == row.id).map(|p| placement_view(p, names)).collect();
    placements.sort_by(|a, b| a.node_name.cmp(&b.node_name));
    let health =
        placements.iter().filter(|p| p.node_state != "offline").map(|p| p.health).max().unwrap_or_default();
    ServiceView {
        invoke_path: format!("/api/v1/invoke/{}/", row.id),
        proxy_secret: None,
        tags: row.tags.0,
        kind: row.kind,
        status: row.status,
        replicas: row.replicas,
        http: settings.http,
        health_check: settings.health_check,
        policy: settings.policy,
        id: row.id,
        owner_id: row.account_id,
        slug: row.slug,
        name: row.name,
        description: row.description,
        version: row.version,
        pricing: row.pricing.clone(),
        available: row.available,
        health,
        placements,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_and_the_gateway_offer_the_same_placements() {
        use HealthStatus::*;
        let (http, kv) = (ServiceKind::Http, ServiceKind::Kv);
        let live = (NodeState::Online, NodeStatus::Active);
        assert!(offered(http, Passing, live.0, live.1));
        assert!(offered(http, Warning, NodeState::Degraded, NodeStatus::Draining));
        assert!(!offered(http, Critical, live.0, live.1));
        assert!(!offered(http, Unknown, live.0, live.1));
        assert!(offered(kv, Unknown, live.0, live.1), "kv has no upstream check");
        assert!(!offered(http, Passing, NodeState::Offline, NodeStatus::Active));
        assert!(!offered(http, Passing, NodeState::Online, NodeStatus::Blocked));
    }
}
