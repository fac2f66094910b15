//! What a node's event loop owns and what travels through it: the loop's state, the swarm's
//! behaviour and frame, a hop's answer ([`Ack`]) and who waits for a delivered request's
//! answer. Definitions only; the behaviour is in the sibling files.
use super::{Answer, Command, Delivery, NodeConfig, NodeStats, Receipt, SendError};
use crate::{
    NodeId,
    envelope::{HopStamp, KeyCache, ReplayGuard},
    routing::{self, RoutingTable},
    trust::TrustRecord,
};
use libp2p::{
    Multiaddr, Swarm, allow_block_list,
    identity::Keypair,
    ping,
    request_response::{OutboundRequestId, ResponseChannel, cbor},
    swarm::NetworkBehaviour,
};
use serde::{Deserialize, Serialize};
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::{mpsc, oneshot};

pub(super) struct Runtime {
    pub(super) key: Keypair,
    pub(super) me: NodeId,
    pub(super) swarm: Swarm<Behaviour>,
    pub(super) config: NodeConfig,
    pub(super) table: RoutingTable,
    /// Per destination, the newest sequence number (even part) verified and its signature: an
    /// entry repeated by every neighbour is checked once, and older ones are not checked at
    /// all (they cannot win over what the destination already said).
    pub(super) verified: HashMap<NodeId, (u64, routing::Signature)>,
    pub(super) replay: ReplayGuard,
    pub(super) keys: KeyCache,
    pub(super) peers: HashMap<NodeId, Peer>,
    pub(super) pending: HashMap<OutboundRequestId, (NodeId, Pending)>,
    pub(super) listen: Vec<Multiaddr>,
    pub(super) inbox: mpsc::Sender<Delivery>,
    /// For responders to answer through.
    pub(super) commands: mpsc::Sender<Command>,
    /// Requests delivered to the application, waiting for its answer.
    pub(super) awaiting: HashMap<u64, Awaiting>,
    pub(super) next_token: u64,
    pub(super) stats: Arc<NodeStats>,
    /// A reachability change waits to be advertised (coalesced, see `flush_adverts`).
    pub(super) advert_pending: bool,
    pub(super) last_triggered: Instant,
}

pub(super) enum Pending {
    Local { id: [u8; 16], reply: oneshot::Sender<Result<Receipt, SendError>> },
    Request { id: [u8; 16], destination: NodeId, reply: oneshot::Sender<Result<Answer, SendError>> },
    Forward { channel: ResponseChannel<Ack>, id: [u8; 16] },
    Advert,
}

#[derive(Default)]
pub(super) struct Peer {
    pub(super) trust: TrustRecord,
    pub(super) connected: bool,
    pub(super) allowed: bool,
    pub(super) in_flight: usize,
    pub(super) invalid_signatures: u32,
    pub(super) missed_heartbeats: u32,
    pub(super) last_rtt: Option<Duration>,
    pub(super) link: Option<Link>,
}

pub(super) struct Link {
    pub(super) addr: Multiaddr,
    pub(super) attempt: u32,
    pub(super) next_dial: Option<Instant>,
}

/// A hop's answer. Acks travel back through every hop of the route, and any of them may lie:
/// what the origin acts on is signed by the node it is about, or comes from its direct peer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) enum Ack {
    /// A one-way envelope was delivered. The route is as reported (a receipt for a `send`; no
    /// call's routing or billing depends on it).
    Delivered { route: Vec<String> },
    /// The envelope was dropped at `at`: signed by `at` over (id, reason), unless the node
    /// could not read the envelope's id — then only the node's direct peer believes it.
    Dropped {
        reason: String,
        at: String,
        #[serde(with = "serde_bytes", default)]
        signature: Vec<u8>,
    },
    /// A request's answer: the `Reply` envelope the destination signed, whose payload starts
    /// with the route and its times (see [`envelope::with_route`]).
    Replied {
        #[serde(with = "serde_bytes")]
        reply: Vec<u8>,
    },
}

/// Who waits for the application's answer to a delivered request.
pub(super) enum Awaiting {
    /// The hop the request came from (the answer goes back on its stream). `route` is the
    /// request's, with its times, this node (received at) last.
    Remote { channel: ResponseChannel<Ack>, route: Vec<HopStamp>, origin: NodeId, id: [u8; 16] },
    /// A request this node sent to itself, at `sent_at_us`.
    Local { id: [u8; 16], sent_at_us: u64, reply: oneshot::Sender<Result<Answer, SendError>> },
}

/// One envelope on the wire (raw bytes: decoded and verified by the receiver).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Frame(#[serde(with = "serde_bytes")] pub(super) Vec<u8>);

#[derive(NetworkBehaviour)]
pub(super) struct Behaviour {
    pub(super) allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    pub(super) ping: ping::Behaviour,
    pub(super) envelopes: cbor::Behaviour<Frame, Ack>,
}
