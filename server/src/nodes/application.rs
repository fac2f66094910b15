//! The control plane's use cases, as the Cloud API and the portal call them: the operator's
//! management of nodes and join tokens, and the node-facing join protocol and heartbeats.
//! Each does its follow-ups itself: a change to membership or trust brings the embedded
//! nodes' allow lists in line, and a node's membership answer carries what it may run.
use super::{
    NodesError, challenges::Challenges, embedded::EmbeddedNodes, heartbeat, join, list_nodes, list_tokens,
    mint_token, node_detail, revoke_token, topology,
};
use crate::{
    events::{Events, platform},
    liveness::Liveness,
    mesh::NodeId,
    services::runtime::ServiceRuntime,
};
use app::types::{
    ids::{self, AccountId, JoinTokenId, ServiceId},
    nodes::{
        CreateJoinToken, CreatedJoinToken, HeartbeatRequest, HostedService, JoinChallenge, JoinRequest,
        JoinTokenView, MembershipView, NodeAction, NodeDetail, NodeState, NodeStatus, NodeView, TopologyView,
    },
};
use chrono::Utc;
use sea_orm::DatabaseConnection;
use std::{collections::HashMap, sync::Arc, time::Duration};

type Result<T, E = NodesError> = std::result::Result<T, E>;

/// The mesh's control plane.
pub struct Nodes {
    db: DatabaseConnection,
    challenges: Arc<Challenges>,
    embedded: Arc<EmbeddedNodes>,
    /// Tells each node which services it may run.
    services: Arc<ServiceRuntime>,
    /// Told about joins and changes of state and trust (`platform.node.*`, to the operators).
    events: Arc<Events>,
}

/// What the watch compares between two looks at a node.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    name: String,
    state: NodeState,
    status: NodeStatus,
    trust: String,
}

impl Nodes {
    /// The control plane over the embedded nodes, the join challenges and the services' run
    /// time.
    pub fn new(
        db: DatabaseConnection,
        challenges: Arc<Challenges>,
        embedded: Arc<EmbeddedNodes>,
        services: Arc<ServiceRuntime>,
        events: Arc<Events>,
    ) -> Self {
        Self { db, challenges, embedded, services, events }
    }

    /// Tells every operator about a node.
    async fn tell(&self, topic: &'static str, data: serde_json::Value) {
        match crate::db::accounts::operators(&self.db).await {
            Ok(operators) => self.events.emit_to(&operators, topic, data).await,
            Err(err) => tracing::warn!(topic, %data, error = %err, "cannot find the operators to tell"),
        }
    }

    /// Looks at every node each `every` and tells the operators when a node's state (online,
    /// degraded, offline: from its heartbeats), status or trust changed since the last look, or
    /// it was removed. Changes while the server was down are not told.
    pub fn start_watch(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let nodes = self.clone();
        tokio::spawn(async move {
            let mut last: Option<HashMap<ids::NodeId, Seen>> = None;
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let now = match nodes.list().await {
                    Ok(list) => list
                        .into_iter()
                        .map(|n| {
                            let seen =
                                Seen { name: n.name, state: n.state, status: n.status, trust: n.trust };
                            (n.id, seen)
                        })
                        .collect(),
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot look at the nodes");
                        continue;
                    }
                };
                if let Some(before) = &last {
                    nodes.tell_changes(before, &now).await;
                }
                last = Some(now);
            }
        })
    }

    async fn tell_changes(&self, before: &HashMap<ids::NodeId, Seen>, now: &HashMap<ids::NodeId, Seen>) {
        for (id, was) in before {
            let Some(is) = now.get(id) else {
                let data = serde_json::json!({ "node_id": id, "name": was.name, "removed": true });
                self.tell(platform::NODE_STATE_CHANGED, data).await;
                continue;
            };
            if (was.state, was.status) != (is.state, is.status) {
                let data = serde_json::json!({
                    "node_id": id, "name": is.name,
                    "state": is.state, "status": is.status,
                    "previous_state": was.state, "previous_status": was.status,
                });
                self.tell(platform::NODE_STATE_CHANGED, data).await;
            }
            if was.trust != is.trust {
                let data = serde_json::json!({
                    "node_id": id, "name": is.name, "trust": is.trust, "previous_trust": was.trust,
                });
                self.tell(platform::NODE_TRUST_CHANGED, data).await;
            }
        }
    }

    /// The nodes this process runs itself.
    pub fn embedded(&self) -> &Arc<EmbeddedNodes> {
        &self.embedded
    }

    fn liveness(&self) -> &Liveness {
        self.embedded.settings()
    }

    /// Brings the embedded nodes' allow and block lists in line with the registry.
    async fn sync(&self) -> Result<()> {
        self.embedded.sync(&self.db).await.map_err(NodesError::Internal)
    }

    /// Every node with its state, trust, last heartbeat, address and labels.
    pub async fn list(&self) -> Result<Vec<NodeView>> {
        list_nodes(&self.db, Utc::now(), self.liveness()).await
    }

    /// A node with its trust history.
    pub async fn get(&self, id: &ids::NodeId) -> Result<NodeDetail> {
        node_detail(&self.db, id, Utc::now(), self.liveness()).await
    }

    /// Nodes and live links.
    pub async fn topology(&self) -> Result<TopologyView> {
        topology(&self.db, Utc::now(), self.liveness()).await
    }

    /// Drains, undrains, blocks, unblocks or removes a node; answers it (`None` once removed).
    pub async fn act(&self, id: &ids::NodeId, action: NodeAction) -> Result<Option<NodeView>> {
        let node = super::act(&self.db, id, action, Utc::now(), self.liveness()).await?;
        self.sync().await?;
        Ok(node)
    }

    /// Every join token, newest first.
    pub async fn list_join_tokens(&self) -> Result<Vec<JoinTokenView>> {
        list_tokens(&self.db, Utc::now()).await
    }

    /// Mints a join token; the secret is in the answer and nowhere else.
    pub async fn create_join_token(
        &self,
        operator: &AccountId,
        request: CreateJoinToken,
    ) -> Result<CreatedJoinToken> {
        mint_token(&self.db, operator, request, Utc::now()).await
    }

    /// Revokes a token; with `block_nodes`, blocks every node that joined with it.
    pub async fn revoke_join_token(&self, id: &JoinTokenId, block_nodes: bool) -> Result<JoinTokenView> {
        let token = revoke_token(&self.db, id, block_nodes, Utc::now()).await?;
        self.sync().await?;
        Ok(token)
    }

    /// A nonce for a joining node to sign.
    pub fn create_challenge(&self) -> Result<JoinChallenge> {
        let nonce = self.challenges.issue().ok_or(NodesError::TooManyChallenges)?;
        Ok(JoinChallenge {
            challenge: crate::secrets::b64(&nonce),
            expires_in_secs: self.challenges.ttl().as_secs(),
        })
    }

    /// A node proves its key and presents a join token; answers its membership.
    pub async fn join(&self, request: JoinRequest) -> Result<MembershipView> {
        let membership = join(&self.db, &self.challenges, request, Utc::now(), self.liveness()).await?;
        self.sync().await?;
        self.tell(platform::NODE_JOINED, serde_json::json!({ "node_id": membership.node_id })).await;
        Ok(self.with_grants(membership))
    }

    /// A member's heartbeat (its signature already verified as `node`'s).
    pub async fn heartbeat(&self, node: NodeId, request: HeartbeatRequest) -> Result<MembershipView> {
        let membership =
            heartbeat(&self.db, node, request.sent_at_ms, request.stats, Utc::now(), self.liveness()).await?;
        Ok(self.with_grants(membership))
    }

    /// Adds what the node may execute (see `services::executor::Grants`) to its membership.
    fn with_grants(&self, mut membership: MembershipView) -> MembershipView {
        let Ok(node) = membership.node_id.as_str().parse() else { return membership };
        let grants = self.services.grants_for(node);
        membership.entries = grants.entries.iter().map(|entry| super::stored_id(*entry)).collect();
        membership.services = grants
            .upstreams
            .into_iter()
            .map(|(service_id, upstream_url)| HostedService {
                service_id: ServiceId::new(service_id),
                upstream_url,
            })
            .collect();
        membership
    }
}
