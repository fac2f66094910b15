//! Wire types of the mesh's control plane: nodes, join tokens, the join protocol, heartbeats
//! and the topology picture.
use super::ids::{JoinTokenId, NodeId, ServiceId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Liveness, derived from the age of the node's last heartbeat.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum NodeState {
    Online,
    Degraded,
    Offline,
}

/// What the operator decided about a node.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case"))]
pub enum NodeStatus {
    /// Carries traffic and may host services.
    Active,
    /// Carries traffic; new placements avoid it.
    Draining,
    /// Refused by every node.
    Blocked,
}

impl NodeStatus {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        [NodeStatus::Active, NodeStatus::Draining, NodeStatus::Blocked].into_iter().find(|v| v.as_str() == s)
    }
}

/// Where a node runs.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case"))]
pub enum NodeKind {
    /// Runs inside the control plane's process.
    Embedded,
    /// Run by an operator elsewhere; joined with a join token.
    Hosted,
}

impl NodeKind {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl NodeState {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A link as one node sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PeerLinkView {
    pub id: NodeId,
    pub connected: bool,
    pub trust: String,
    pub rtt_ms: Option<u64>,
}

/// A route as one node sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RouteEntryView {
    pub destination: String,
    pub next_hop: String,
    /// `None` when the route is broken.
    pub hops: Option<u8>,
}

/// What a node reports with each heartbeat.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sea_orm::FromJsonQueryResult))]
pub struct NodeStatsView {
    pub originated: u64,
    pub delivered: u64,
    pub forwarded: u64,
    pub received: u64,
    /// Dropped envelopes by reason (every reason listed).
    pub drops: BTreeMap<String, u64>,
    pub peers: Vec<PeerLinkView>,
    pub routes: Vec<RouteEntryView>,
}

/// A registered node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodeView {
    pub id: NodeId,
    pub name: String,
    pub kind: NodeKind,
    pub address: String,
    pub labels: BTreeMap<String, String>,
    pub version: String,
    pub status: NodeStatus,
    pub state: NodeState,
    /// `unknown`, `probing`, `trusted` or `blocked`.
    pub trust: String,
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// Seconds since the last heartbeat, as the server saw it when answering.
    pub last_heartbeat_secs_ago: Option<u64>,
    pub registered_at: DateTime<Utc>,
    pub stats: NodeStatsView,
}

/// One trust transition of a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TrustEventView {
    pub from: String,
    pub to: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A node with its trust history (newest first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodeDetail {
    pub node: NodeView,
    pub trust_history: Vec<TrustEventView>,
}

/// What an operator can do to a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NodeAction {
    Drain,
    Undrain,
    Block,
    Unblock,
    Remove,
}

/// A join token as listed (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JoinTokenView {
    pub id: JoinTokenId,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    pub note: String,
    pub reusable: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub uses: u32,
    pub created_at: DateTime<Utc>,
    /// `active`, `used`, `expired` or `revoked`.
    pub state: String,
}

/// Request to mint a join token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateJoinToken {
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub reusable: bool,
    /// Hours until it expires; none: never.
    #[serde(default)]
    pub expires_in_hours: Option<u32>,
}

/// A freshly minted token: the only time its secret is ever shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedJoinToken {
    pub token: JoinTokenView,
    pub secret: String,
}

/// Request to revoke a token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RevokeJoinToken {
    /// Also block every node that joined with this token.
    #[serde(default)]
    pub block_nodes: bool,
}

/// A challenge a joining node must sign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JoinChallenge {
    /// Base64 (URL-safe, no padding) random bytes.
    pub challenge: String,
    pub expires_in_secs: u64,
}

/// A node asking to join.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JoinRequest {
    pub token: String,
    pub node_id: NodeId,
    pub challenge: String,
    /// Base64 Ed25519 signature of `"web4/join/v1" | challenge bytes | node id bytes`.
    pub signature: String,
    /// Multiaddr the node listens on.
    pub address: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub version: String,
}

/// Another node, as a node needs to know it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MemberView {
    pub id: NodeId,
    pub address: String,
    pub status: NodeStatus,
}

/// The control plane's answer to a join or a heartbeat: who is in the mesh now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MembershipView {
    pub node_id: NodeId,
    pub heartbeat_interval_ms: u64,
    pub members: Vec<MemberView>,
    /// The control plane's entry nodes: the only origins whose calls the node executes.
    #[serde(default)]
    pub entries: Vec<NodeId>,
    /// The services placed on the node, with their upstreams: the only calls it executes.
    #[serde(default)]
    pub services: Vec<HostedService>,
}

/// A service placed on a node, as the node needs it to execute calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostedService {
    pub service_id: ServiceId,
    pub upstream_url: String,
}

/// A node's heartbeat (signed: see the API docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HeartbeatRequest {
    pub node_id: NodeId,
    pub sent_at_ms: u64,
    pub stats: NodeStatsView,
}

/// The mesh as a picture: nodes and the links between them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TopologyView {
    pub nodes: Vec<NodeView>,
    /// Pairs of node ids with a live link (each pair once).
    pub links: Vec<(NodeId, NodeId)>,
}

/// The join-tokens page: every token, the one just minted (once), and how to use it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JoinTokensView {
    pub tokens: Vec<JoinTokenView>,
    /// A token minted by a form posted before hydration, shown on this one page load.
    pub just_created: Option<CreatedJoinToken>,
    /// The control plane's URL as the browser reached it, for the example command.
    pub control_plane: String,
}
