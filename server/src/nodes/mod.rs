//! The mesh's control plane: join tokens, node registration (with proof of key possession),
//! heartbeats, liveness, the operator's actions and the trust history of every node. The
//! Cloud API and the portal both call these functions.
pub mod agent;
pub mod application;
pub mod challenges;
pub mod embedded;

pub use crate::liveness::{Liveness, state_of};
pub use application::Nodes;

use crate::{
    db::{self, entities::nodes as node_rows},
    error::{Classified, Classify, ErrorCode, Problem},
    mesh::{
        NodeId,
        trust::{TrustEvent, TrustLevel},
    },
    secrets,
};
use app::types::{
    ids::{self, AccountId, JoinTokenId},
    nodes::{
        CreateJoinToken, CreatedJoinToken, JoinRequest, JoinTokenView, MemberView, MembershipView,
        NodeAction, NodeDetail, NodeKind, NodeStatsView, NodeStatus, NodeView, TopologyView, TrustEventView,
    },
};
use challenges::Challenges;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The id under which the control plane stores and shows a mesh node.
pub fn stored_id(id: NodeId) -> ids::NodeId {
    ids::NodeId::new(id.to_string())
}

/// Domain tag of the message a joining node signs.
pub const JOIN_SIGNING_TAG: &[u8] = b"web4/join/v1";
/// Domain tag of the message a node signs for each heartbeat.
pub const HEARTBEAT_SIGNING_TAG: &[u8] = b"web4/heartbeat/v1";

/// Why a control-plane operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NodesError {
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    #[error("No such {0}.")]
    NotFound(&'static str),
    #[error("The join challenge is unknown, used or expired; ask for a new one.")]
    ChallengeInvalid,
    #[error("Too many join challenges are outstanding; try again in a second.")]
    TooManyChallenges,
    #[error("The signature does not verify against the node id's key.")]
    BadSignature,
    #[error("The join token is not valid.")]
    TokenInvalid,
    #[error("The join token was revoked.")]
    TokenRevoked,
    #[error("The join token has expired.")]
    TokenExpired,
    #[error("The one-time join token has already been used.")]
    TokenUsed,
    #[error("This node is blocked by the operator.")]
    NodeBlocked,
    #[error("The heartbeat is too old or from the future; check the node's clock.")]
    StaleHeartbeat,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Classify for NodesError {
    fn classify(self) -> Classified {
        use ErrorCode as C;
        let message = self.to_string();
        let code = match self {
            NodesError::Invalid { field, message } => {
                return Problem {
                    message: message.clone(),
                    ..Problem::invalid([(field.to_owned(), message)].into())
                }
                .into();
            }
            NodesError::NotFound(what) => return Problem::not_found(format!("No such {what}.")).into(),
            NodesError::ChallengeInvalid => C::ChallengeInvalid,
            NodesError::TooManyChallenges => C::ChallengePoolFull,
            NodesError::BadSignature => C::BadSignature,
            NodesError::TokenInvalid => C::JoinTokenInvalid,
            NodesError::TokenRevoked => C::JoinTokenRevoked,
            NodesError::TokenExpired => C::JoinTokenExpired,
            NodesError::TokenUsed => C::JoinTokenUsed,
            NodesError::NodeBlocked => C::NodeBlocked,
            NodesError::StaleHeartbeat => C::StaleHeartbeat,
            NodesError::Internal(err) => return Classified::Internal(err),
        };
        let problem = Problem::new(code, message);
        match code {
            C::ChallengePoolFull => problem.retry_after(1).into(),
            _ => problem.into(),
        }
    }
}

impl From<DbErr> for NodesError {
    fn from(err: DbErr) -> Self {
        NodesError::Internal(err.into())
    }
}

type Result<T, E = NodesError> = std::result::Result<T, E>;

fn token_state(t: &db::entities::join_tokens::Model, now: DateTime<Utc>) -> &'static str {
    if t.revoked_at.is_some() {
        "revoked"
    } else if t.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else if !t.reusable && t.uses > 0 {
        "used"
    } else {
        "active"
    }
}

fn token_view(t: db::entities::join_tokens::Model, now: DateTime<Utc>) -> JoinTokenView {
    JoinTokenView {
        state: token_state(&t, now).into(),
        id: t.id,
        prefix: t.prefix,
        note: t.note,
        reusable: t.reusable,
        expires_at: t.expires_at,
        revoked_at: t.revoked_at,
        uses: u32::try_from(t.uses).unwrap_or(0),
        created_at: t.created_at,
    }
}

fn node_view(n: node_rows::Model, now: DateTime<Utc>, s: &Liveness) -> NodeView {
    NodeView {
        state: state_of(n.last_heartbeat_at, now, s),
        status: n.status,
        labels: n.labels.0,
        stats: n.stats,
        id: n.id,
        name: n.name,
        kind: n.kind,
        address: n.address,
        version: n.version,
        trust: n.trust_level.as_str().to_owned(),
        last_heartbeat_secs_ago: n
            .last_heartbeat_at
            .map(|t| u64::try_from((now - t).num_seconds()).unwrap_or(0)),
        last_heartbeat_at: n.last_heartbeat_at,
        registered_at: n.registered_at,
    }
}

/// Mints a join token; the secret is in the answer and nowhere else.
pub async fn mint_token(
    db: &DatabaseConnection,
    created_by: &AccountId,
    req: CreateJoinToken,
    now: DateTime<Utc>,
) -> Result<CreatedJoinToken> {
    let note = req.note.trim().to_owned();
    if note.chars().count() > 200 {
        return Err(NodesError::Invalid {
            field: "note",
            message: "Keep the note under 200 characters.".into(),
        });
    }
    let expires_at = match req.expires_in_hours {
        None => None,
        Some(h) if (1..=8760).contains(&h) => Some(now + chrono::Duration::hours(i64::from(h))),
        Some(_) => {
            return Err(NodesError::Invalid {
                field: "expires_in_hours",
                message: "Expiry must be between 1 hour and 8760 hours (a year).".into(),
            });
        }
    };
    let secret = secrets::new_secret(secrets::TOKEN_PREFIX);
    let row = db::entities::join_tokens::Model {
        id: JoinTokenId::new(uuid::Uuid::now_v7().to_string()),
        secret_hash: secrets::hash_secret(&secret),
        prefix: secrets::display_prefix(&secret, secrets::TOKEN_PREFIX),
        note,
        reusable: req.reusable,
        expires_at,
        revoked_at: None,
        uses: 0,
        created_by: created_by.clone(),
        created_at: now,
    };
    db::nodes::insert_token(db, row.clone()).await?;
    tracing::info!(token_id = %row.id, reusable = row.reusable, "join token minted");
    Ok(CreatedJoinToken { token: token_view(row, now), secret })
}

/// Every join token, newest first.
pub async fn list_tokens(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<JoinTokenView>> {
    Ok(db::nodes::tokens(db).await?.into_iter().map(|t| token_view(t, now)).collect())
}

/// Revokes a token; with `block_nodes`, blocks every node that joined with it.
pub async fn revoke_token(
    db: &DatabaseConnection,
    id: &JoinTokenId,
    block_nodes: bool,
    now: DateTime<Utc>,
) -> Result<JoinTokenView> {
    let txn = db.begin().await?;
    db::nodes::token(&txn, id).await?.ok_or(NodesError::NotFound("join token"))?;
    db::nodes::revoke_token(&txn, id, now).await?;
    if block_nodes {
        for mut node in db::nodes::nodes_of_token(&txn, id).await? {
            apply_trust(&txn, &mut node, TrustEvent::TokenRevoked, now).await?;
            node.status = NodeStatus::Blocked;
            node.updated_at = now;
            db::nodes::save_node(&txn, node, true).await?;
        }
    }
    let token = db::nodes::token(&txn, id).await?.ok_or(NodesError::NotFound("join token"))?;
    txn.commit().await?;
    tracing::info!(token_id = %id, block_nodes, "join token revoked");
    Ok(token_view(token, now))
}

/// Moves a node's trust by `event` (if it applies) and records the transition.
async fn apply_trust(
    db: &impl ConnectionTrait,
    node: &mut node_rows::Model,
    event: TrustEvent,
    now: DateTime<Utc>,
) -> Result<bool> {
    let from = node.trust_level;
    let Some(to) = from.after(event) else { return Ok(false) };
    db::nodes::insert_trust_event(db, &node.id, from, to, event, now).await?;
    node.trust_level = to;
    crate::observability::metrics::trust_transition(to.as_str());
    Ok(true)
}

/// A node registered by this process itself (an embedded node): the control plane holds
/// its key, so the handshake and the attestation are immediate.
pub async fn register_embedded(
    db: &DatabaseConnection,
    id: NodeId,
    name: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = db.begin().await?;
    let existing = db::nodes::node(&txn, &stored_id(id)).await?;
    let existed = existing.is_some();
    let mut node = existing.unwrap_or_else(|| new_node(id, NodeKind::Embedded, now));
    node.name = name.into();
    node.address = address.into();
    node.version = env!("CARGO_PKG_VERSION").into();
    node.updated_at = now;
    if !existed {
        db::nodes::save_node(&txn, node.clone(), false).await?;
    }
    apply_trust(&txn, &mut node, TrustEvent::Handshake, now).await?;
    if node.status != NodeStatus::Blocked {
        apply_trust(&txn, &mut node, TrustEvent::AttestedByControlPlane, now).await?;
    }
    db::nodes::save_node(&txn, node, true).await?;
    txn.commit().await?;
    Ok(())
}

fn new_node(id: NodeId, kind: NodeKind, now: DateTime<Utc>) -> node_rows::Model {
    node_rows::Model {
        id: stored_id(id),
        name: String::new(),
        kind,
        address: String::new(),
        labels: node_rows::Labels::default(),
        version: String::new(),
        join_token_id: None,
        status: NodeStatus::Active,
        trust_level: TrustLevel::Unknown,
        last_heartbeat_at: None,
        stats: NodeStatsView::default(),
        registered_at: now,
        updated_at: now,
    }
}

fn parse_node_id(text: &str) -> Result<NodeId> {
    text.trim().parse().map_err(|_| NodesError::Invalid {
        field: "node_id",
        message: "node_id must be an Ed25519 libp2p peer id (it starts with 12D3KooW).".into(),
    })
}

/// Admits a node that proved possession of its key by signing a challenge, with a valid
/// join token. Answers with the membership it should link to.
pub async fn join(
    db: &DatabaseConnection,
    challenges: &Challenges,
    req: JoinRequest,
    now: DateTime<Utc>,
    s: &Liveness,
) -> Result<MembershipView> {
    let id = parse_node_id(req.node_id.as_str())?;
    let address: libp2p::Multiaddr = req.address.trim().parse().map_err(|_| NodesError::Invalid {
        field: "address",
        message: "address must be a multiaddr such as /ip4/10.0.0.5/tcp/7001.".into(),
    })?;
    if req.name.chars().count() > 100 || req.labels.len() > 32 {
        return Err(NodesError::Invalid {
            field: "labels",
            message: "At most 32 labels and a 100-character name.".into(),
        });
    }
    let challenge = secrets::unb64(&req.challenge).ok_or(NodesError::ChallengeInvalid)?;
    if !challenges.take(&challenge) {
        return Err(NodesError::ChallengeInvalid);
    }
    let signature = secrets::unb64(&req.signature).ok_or(NodesError::BadSignature)?;
    let mut message = JOIN_SIGNING_TAG.to_vec();
    message.extend_from_slice(&challenge);
    message.extend_from_slice(&id.to_bytes());
    let key = id.public_key().ok_or(NodesError::BadSignature)?;
    if !key.verify(&message, &signature) {
        return Err(NodesError::BadSignature);
    }

    let txn = db.begin().await?;
    let token = db::nodes::token_by_hash(&txn, &secrets::hash_secret(req.token.trim()))
        .await?
        .ok_or(NodesError::TokenInvalid)?;
    match token_state(&token, now) {
        "revoked" => return Err(NodesError::TokenRevoked),
        "expired" => return Err(NodesError::TokenExpired),
        "used" => return Err(NodesError::TokenUsed),
        _ => {}
    }
    let existing = db::nodes::node(&txn, &stored_id(id)).await?;
    if existing.as_ref().is_some_and(|n| n.status == NodeStatus::Blocked) {
        return Err(NodesError::NodeBlocked);
    }
    if !db::nodes::use_token(&txn, &token).await? {
        return Err(NodesError::TokenUsed);
    }
    let existed = existing.is_some();
    let mut node = existing.unwrap_or_else(|| new_node(id, NodeKind::Hosted, now));
    node.name = if req.name.trim().is_empty() {
        format!("node-{}", &node.id.as_str()[node.id.as_str().len() - 6..])
    } else {
        req.name.trim().into()
    };
    node.address = address.to_string();
    node.labels = node_rows::Labels(req.labels.clone());
    node.version = req.version.chars().take(40).collect();
    node.join_token_id = Some(token.id.clone());
    node.last_heartbeat_at = Some(now);
    node.updated_at = now;
    if !existed {
        db::nodes::save_node(&txn, node.clone(), false).await?;
    }
    apply_trust(&txn, &mut node, TrustEvent::Handshake, now).await?;
    apply_trust(&txn, &mut node, TrustEvent::AttestedByControlPlane, now).await?;
    db::nodes::save_node(&txn, node, true).await?;
    txn.commit().await?;
    tracing::info!(node_id = %id, token_id = %token.id, "node joined");
    membership(db, id, s).await
}

/// Checks a heartbeat's signature: `x-web4-signature` over `"web4/heartbeat/v1" | SHA-256(body)`.
pub fn verify_heartbeat(node_id: &str, signature: &str, body: &[u8]) -> Result<NodeId> {
    let id = parse_node_id(node_id)?;
    let signature = secrets::unb64(signature).ok_or(NodesError::BadSignature)?;
    let mut message = HEARTBEAT_SIGNING_TAG.to_vec();
    message.extend_from_slice(&Sha256::digest(body));
    let key = id.public_key().ok_or(NodesError::BadSignature)?;
    if key.verify(&message, &signature) { Ok(id) } else { Err(NodesError::BadSignature) }
}

/// Records a heartbeat (already authenticated) and answers with the membership.
pub async fn heartbeat(
    db: &DatabaseConnection,
    id: NodeId,
    sent_at_ms: u64,
    stats: NodeStatsView,
    now: DateTime<Utc>,
    s: &Liveness,
) -> Result<MembershipView> {
    let sent = DateTime::<Utc>::from_timestamp_millis(i64::try_from(sent_at_ms).unwrap_or(i64::MAX));
    if sent.is_none_or(|t| (now - t).num_seconds().abs() > 30) {
        return Err(NodesError::StaleHeartbeat);
    }
    record_heartbeat(db, id, stats, now).await?;
    membership(db, id, s).await
}

/// Stores a node's report and time. A node back from a block (probing) is attested again by
/// its first heartbeat after it: a fresh proof that it holds its key.
pub async fn record_heartbeat(
    db: &DatabaseConnection,
    id: NodeId,
    stats: NodeStatsView,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = db.begin().await?;
    let mut node = db::nodes::node(&txn, &stored_id(id)).await?.ok_or(NodesError::NotFound("node"))?;
    if node.status == NodeStatus::Blocked {
        return Err(NodesError::NodeBlocked);
    }
    node.last_heartbeat_at = Some(now);
    node.stats = stats;
    if node.trust_level == TrustLevel::Probing {
        apply_trust(&txn, &mut node, TrustEvent::AttestedByControlPlane, now).await?;
    }
    db::nodes::save_node(&txn, node, true).await?;
    txn.commit().await?;
    Ok(())
}

/// Who is in the mesh, as `node` should see it.
pub async fn membership(db: &DatabaseConnection, node: NodeId, s: &Liveness) -> Result<MembershipView> {
    Ok(MembershipView {
        node_id: stored_id(node),
        heartbeat_interval_ms: u64::try_from(s.heartbeat_interval.as_millis()).unwrap_or(1000),
        members: members(db).await?,
        entries: Vec::new(),
        services: Vec::new(),
    })
}

/// Every registered node with its address and status.
pub async fn members(db: &DatabaseConnection) -> Result<Vec<MemberView>> {
    Ok(db::nodes::nodes(db)
        .await?
        .into_iter()
        .map(|n| MemberView { status: n.status, id: n.id, address: n.address })
        .collect())
}

/// Every node, by name.
pub async fn list_nodes(db: &DatabaseConnection, now: DateTime<Utc>, s: &Liveness) -> Result<Vec<NodeView>> {
    Ok(db::nodes::nodes(db).await?.into_iter().map(|n| node_view(n, now, s)).collect())
}

/// One node with its trust history.
pub async fn node_detail(
    db: &DatabaseConnection,
    id: &ids::NodeId,
    now: DateTime<Utc>,
    s: &Liveness,
) -> Result<NodeDetail> {
    let node = db::nodes::node(db, id).await?.ok_or(NodesError::NotFound("node"))?;
    let trust_history = db::nodes::trust_events(db, id)
        .await?
        .into_iter()
        .map(|e| TrustEventView {
            from: e.from_level.as_str().into(),
            to: e.to_level.as_str().into(),
            reason: e.reason.as_str().into(),
            at: e.at,
        })
        .collect();
    Ok(NodeDetail { node: node_view(node, now, s), trust_history })
}

/// The nodes and the live links their last reports name (a link counts when either end
/// reports it connected, each pair once).
pub async fn topology(db: &DatabaseConnection, now: DateTime<Utc>, s: &Liveness) -> Result<TopologyView> {
    let nodes = list_nodes(db, now, s).await?;
    let known: BTreeSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let mut links = BTreeSet::new();
    for node in &nodes {
        for peer in node.stats.peers.iter().filter(|p| p.connected && known.contains(p.id.as_str())) {
            let (a, b) = if node.id < peer.id { (&node.id, &peer.id) } else { (&peer.id, &node.id) };
            links.insert((a.clone(), b.clone()));
        }
    }
    Ok(TopologyView { links: links.into_iter().collect(), nodes })
}

/// An operator's action on a node; `None` after a removal.
pub async fn act(
    db: &DatabaseConnection,
    id: &ids::NodeId,
    action: NodeAction,
    now: DateTime<Utc>,
    s: &Liveness,
) -> Result<Option<NodeView>> {
    let txn = db.begin().await?;
    let mut node = db::nodes::node(&txn, id).await?.ok_or(NodesError::NotFound("node"))?;
    let status = node.status;
    let blocked_first =
        || NodesError::Invalid { field: "action", message: "The node is blocked: unblock it first.".into() };
    match action {
        NodeAction::Remove => {
            db::nodes::delete_node(&txn, id).await?;
            txn.commit().await?;
            tracing::info!(node_id = %id, "node removed");
            return Ok(None);
        }
        NodeAction::Drain if status == NodeStatus::Blocked => return Err(blocked_first()),
        NodeAction::Undrain if status == NodeStatus::Blocked => return Err(blocked_first()),
        NodeAction::Drain => node.status = NodeStatus::Draining,
        NodeAction::Undrain => node.status = NodeStatus::Active,
        NodeAction::Block => {
            apply_trust(&txn, &mut node, TrustEvent::OperatorBlock, now).await?;
            node.status = NodeStatus::Blocked;
        }
        NodeAction::Unblock => {
            apply_trust(&txn, &mut node, TrustEvent::OperatorUnblock, now).await?;
            node.status = NodeStatus::Active;
        }
    }
    node.updated_at = now;
    db::nodes::save_node(&txn, node.clone(), true).await?;
    txn.commit().await?;
    tracing::info!(node_id = %id, ?action, "node action");
    Ok(Some(node_view(node, now, s)))
}
