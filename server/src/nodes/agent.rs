//! A hosted node: the `server node` process. It loads (or creates) its key, starts a mesh
//! node, proves possession of the key to the control plane by signing a challenge, joins with
//! a join token, links to its bootstrap peers, and heartbeats its stats, applying the
//! membership every answer carries (admitting new nodes, blocking blocked ones, forgetting
//! removed ones). It executes the invokes — and the health checks, which the control plane
//! sends through the mesh like calls — of the services placed on it.
use super::{HEARTBEAT_SIGNING_TAG, JOIN_SIGNING_TAG, embedded::stats_view};
use crate::mesh::{
    Keypair, Multiaddr, NodeId, identity,
    node::{self, MeshHandle, NodeConfig},
    trust::TrustEvent,
};
use crate::secrets;
use crate::services::executor;
use anyhow::{Context, bail};
use app::types::nodes::{HeartbeatRequest, JoinChallenge, JoinRequest, MembershipView, NodeStatus};
use sha2::{Digest, Sha256};
use std::{
    collections::{BTreeMap, HashSet},
    path::PathBuf,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// The options of `server node`.
#[derive(Clone, Debug, clap::Args)]
pub struct NodeArgs {
    /// Base URL of the control plane (the `serve` process), e.g. http://10.0.0.1:3000
    #[arg(long, env = "WEB4_CONTROL_PLANE", value_name = "URL")]
    pub control_plane: String,
    /// Join token minted by the operator
    #[arg(long, env = "WEB4_JOIN_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: String,
    /// Directory for this node's key [default: ./data/node]
    #[arg(long, env = "WEB4_NODE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Multiaddr to listen on
    #[arg(long, default_value = "/ip4/127.0.0.1/tcp/0", value_name = "MULTIADDR")]
    pub listen: Multiaddr,
    /// Address other nodes should dial, if not the listen address (e.g. behind NAT)
    #[arg(long, value_name = "MULTIADDR")]
    pub advertise: Option<Multiaddr>,
    /// A name shown to the operator
    #[arg(long, default_value = "")]
    pub name: String,
    /// Labels, `key=value`, repeatable
    #[arg(long = "label", value_parser = parse_label, value_name = "KEY=VALUE")]
    pub labels: Vec<(String, String)>,
    /// Address ranges upstreams may be on beyond public addresses, comma-separated CIDRs
    /// (see the control plane's --egress-allow)
    #[arg(long, env = "WEB4_EGRESS_ALLOW", value_name = "CIDRS")]
    pub egress_allow: Option<String>,
    /// Bootstrap peers to link to (the rest are reached through them)
    #[arg(long, default_value_t = 2)]
    pub links: usize,
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("label {s:?} must look like key=value"))
}

/// Runs a hosted node until `shutdown` completes.
pub async fn run(args: NodeArgs, shutdown: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
    let data_dir = args.data_dir.clone().unwrap_or_else(|| PathBuf::from("data/node"));
    let key = identity::load_or_create(&data_dir)?;
    let (handle, inbox) =
        node::start(key.clone(), NodeConfig { listen: args.listen.clone(), ..NodeConfig::default() }).await?;
    // Invokes of the services placed on this node.
    let egress = crate::egress::EgressPolicy::new(crate::egress::parse_allow(
        &args.egress_allow.iter().cloned().collect::<Vec<_>>(),
    )?);
    if let Some(addr) = crate::mesh::socket_addr(handle.listen_addr()) {
        egress.add_own(addr);
    }
    let grants = executor::SharedGrants::default();
    tokio::spawn(executor::serve(
        inbox,
        executor::Upstreams::new(std::sync::Arc::new(egress)),
        grants.clone(),
        None,
    ));
    let base = args.control_plane.trim_end_matches('/').to_owned();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;

    let membership = join(&client, &base, &key, &handle, &args).await?;
    println!("joined the mesh as {} (listening on {})", handle.id(), handle.listen_addr());
    let mut links = Links::default();
    links.apply(&handle, &membership, args.links)?;
    grants.set(grants_of(&membership));
    println!("linked to {} bootstrap peer(s) of {} member(s)", links.linked.len(), membership.members.len());

    let interval = Duration::from_millis(membership.heartbeat_interval_ms.max(100));
    let heartbeats = async {
        let mut tick = tokio::time::interval(interval);
        loop {
            tick.tick().await;
            match heartbeat(&client, &base, &key, &handle).await {
                Ok(membership) => {
                    grants.set(grants_of(&membership));
                    links.apply(&handle, &membership, args.links)?
                }
                Err(HeartbeatError::Removed) => bail!("this node was removed from the mesh by the operator"),
                Err(HeartbeatError::Other(err)) => tracing::warn!(error = %err, "heartbeat failed; retrying"),
            }
        }
    };
    let result = tokio::select! {
        result = heartbeats => result,
        () = shutdown => Ok(()),
    };
    handle.shutdown();
    result
}

/// What the control plane says this node may execute.
fn grants_of(membership: &MembershipView) -> executor::Grants {
    executor::Grants {
        entries: membership.entries.iter().filter_map(|id| id.as_str().parse().ok()).collect(),
        upstreams: membership
            .services
            .iter()
            .map(|s| (s.service_id.to_string(), s.upstream_url.clone()))
            .collect(),
        // A hosted node has no store: kv services are placed on embedded nodes only.
        kv: Default::default(),
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Reads the platform's error shape into one line: "message (code)".
async fn refusal(response: reqwest::Response) -> String {
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    match (body["error"]["message"].as_str(), body["error"]["code"].as_str()) {
        (Some(message), Some(code)) => format!("{message} ({code})"),
        _ => format!("HTTP {status}"),
    }
}

async fn join(
    client: &reqwest::Client,
    base: &str,
    key: &Keypair,
    handle: &MeshHandle,
    args: &NodeArgs,
) -> anyhow::Result<MembershipView> {
    let response = client
        .post(format!("{base}/api/v1/mesh/challenges"))
        .send()
        .await
        .with_context(|| format!("cannot reach the control plane at {base}"))?;
    if !response.status().is_success() {
        bail!("the control plane refused a challenge: {}", refusal(response).await);
    }
    let challenge: JoinChallenge = response.json().await?;
    let nonce =
        secrets::unb64(&challenge.challenge).context("the control plane sent a malformed challenge")?;
    let id = NodeId::from(key);
    let mut message = JOIN_SIGNING_TAG.to_vec();
    message.extend_from_slice(&nonce);
    message.extend_from_slice(&id.to_bytes());
    let signature = key.sign(&message).context("signing the join challenge")?;
    let address = args.advertise.clone().unwrap_or_else(|| handle.listen_addr().clone());
    let request = JoinRequest {
        token: args.token.clone(),
        node_id: super::stored_id(id),
        challenge: challenge.challenge,
        signature: secrets::b64(&signature),
        address: address.to_string(),
        name: args.name.clone(),
        labels: args.labels.iter().cloned().collect::<BTreeMap<_, _>>(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    let response = client.post(format!("{base}/api/v1/mesh/join")).json(&request).send().await?;
    if !response.status().is_success() {
        bail!("join refused: {}", refusal(response).await);
    }
    Ok(response.json().await?)
}

enum HeartbeatError {
    Removed,
    Other(anyhow::Error),
}

async fn heartbeat(
    client: &reqwest::Client,
    base: &str,
    key: &Keypair,
    handle: &MeshHandle,
) -> Result<MembershipView, HeartbeatError> {
    let other = |e: anyhow::Error| HeartbeatError::Other(e);
    let snapshot = handle.snapshot().await.map_err(|e| other(e.into()))?;
    let body = HeartbeatRequest {
        node_id: super::stored_id(handle.id()),
        sent_at_ms: now_ms(),
        stats: stats_view(handle, &snapshot),
    };
    let body = serde_json::to_vec(&body).map_err(|e| other(e.into()))?;
    let mut message = HEARTBEAT_SIGNING_TAG.to_vec();
    message.extend_from_slice(&Sha256::digest(&body));
    let signature = key.sign(&message).map_err(|e| other(e.into()))?;
    let response = client
        .post(format!("{base}/api/v1/mesh/heartbeat"))
        .header("content-type", "application/json")
        .header("x-web4-node-id", handle.id().to_string())
        .header("x-web4-signature", secrets::b64(&signature))
        .body(body)
        .send()
        .await
        .map_err(|e| other(e.into()))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Err(HeartbeatError::Removed);
    }
    if !response.status().is_success() {
        return Err(other(anyhow::anyhow!(refusal(response).await)));
    }
    response.json().await.map_err(|e| other(e.into()))
}

/// What this node has applied of the membership.
#[derive(Default)]
struct Links {
    known: HashSet<NodeId>,
    linked: HashSet<NodeId>,
}

impl Links {
    fn apply(
        &mut self,
        handle: &MeshHandle,
        membership: &MembershipView,
        max_links: usize,
    ) -> anyhow::Result<()> {
        let me = handle.id();
        let mut now_known = HashSet::new();
        for member in &membership.members {
            let Ok(id) = member.id.as_str().parse::<NodeId>() else { continue };
            if id == me {
                continue;
            }
            now_known.insert(id);
            match member.status {
                NodeStatus::Blocked => {
                    handle.block(id, TrustEvent::OperatorBlock)?;
                    self.linked.remove(&id);
                }
                NodeStatus::Active | NodeStatus::Draining => {
                    handle.allow(id)?;
                    if self.linked.len() < max_links
                        && !self.linked.contains(&id)
                        && let Ok(addr) = member.address.parse::<Multiaddr>()
                    {
                        handle.link(id, addr)?;
                        self.linked.insert(id);
                    }
                }
            }
        }
        for gone in self.known.difference(&now_known) {
            handle.forget(*gone)?;
            self.linked.remove(gone);
        }
        self.known = now_known;
        Ok(())
    }
}
