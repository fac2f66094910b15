//! A live mesh node: a libp2p swarm (TCP, Noise XX, yamux) that admits only the peers the
//! control plane allowed, carries envelopes hop by hop, and answers each one back along the
//! path it came, so the origin learns whether it was delivered, and if not, where and why.
//!
//! Each hop is a request-response exchange: a node that forwards an envelope holds the
//! upstream request open until the downstream hop answers, so a drop at hop 3 reaches the
//! origin as "dropped at node X: backpressure". Every peer has a bounded number of requests
//! in flight; past it, sending fails at once with `Backpressure` (nothing queues without
//! bound, nothing is dropped silently). Drops are counted by reason.
//!
//! This file holds what users of a node see: the configuration, the handle and what it
//! answers. The node's event loop (`runtime.rs`) owns the swarm and all state; its work is
//! split by concern: links and heartbeats (`transport.rs`), who and what is let in
//! (`admission.rs`), carrying envelopes on (`relay.rs`), envelopes addressed to this node
//! (`delivery.rs`), the answers that travel back along the path (`acks.rs`) and routing
//! advertisements (`adverts.rs`).
mod acks;
mod admission;
mod adverts;
mod delivery;
mod relay;
mod runtime;
mod state;
mod transport;

pub use crate::envelope::HopStamp;
use crate::{
    DropReason, NodeId,
    envelope::{Envelope, Freshness, MAX_PAYLOAD},
    trust::{TrustEvent, TrustLevel, TrustTransition},
};
use bytes::Bytes;
use libp2p::{Multiaddr, identity::Keypair};
use state::Runtime;
use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::sync::{mpsc, oneshot};

/// How a node behaves.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Where to listen, e.g. `/ip4/127.0.0.1/tcp/0`.
    pub listen: Multiaddr,
    /// Requests in flight to one peer before sends to it fail with `Backpressure`.
    pub peer_queue: usize,
    /// Envelopes waiting for the local application before deliveries fail with `Backpressure`.
    pub inbox: usize,
    /// Links an envelope may cross.
    pub hop_limit: u8,
    /// Period of routing advertisements (changes are also advertised at once).
    pub advert_interval: Duration,
    /// Period of heartbeats (libp2p ping) to each peer.
    pub heartbeat_interval: Duration,
    /// Heartbeats missed in a row before a link is considered dead and closed.
    pub heartbeat_misses: u32,
    /// How long a hop waits for the next one to answer. A request's answer includes the
    /// destination application's work (invokes allow upstreams up to 60 s), so this is long;
    /// dead links are found sooner by the heartbeats.
    pub hop_timeout: Duration,
    /// Invalid signatures from one peer before it is blocked.
    pub invalid_signature_limit: u32,
    /// First and largest delay between reconnection attempts (doubling, with ±20% jitter).
    pub reconnect_initial: Duration,
    pub reconnect_max: Duration,
    pub freshness: Freshness,
    /// Envelope ids remembered against replay, per origin: its envelopes per second × the
    /// freshness window (the default takes 10 000 a second from each origin).
    pub replay_capacity: usize,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            listen: "/ip4/127.0.0.1/tcp/0".parse().expect("a valid multiaddr"),
            peer_queue: 256,
            inbox: 1024,
            hop_limit: 32,
            advert_interval: Duration::from_secs(1),
            heartbeat_interval: Duration::from_secs(1),
            heartbeat_misses: 3,
            hop_timeout: Duration::from_secs(75),
            invalid_signature_limit: 5,
            reconnect_initial: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(10),
            freshness: Freshness::default(),
            replay_capacity: 300_000,
        }
    }
}

/// An envelope that reached this node as its destination.
#[derive(Debug)]
pub struct Delivery {
    pub envelope: Envelope,
    /// For a `Request`: the way to answer it. Dropping it unanswered answers `Unanswered`.
    pub responder: Option<Responder>,
}

/// Answers one request delivered to this node. The answer travels back to the origin along
/// the hop-by-hop streams the request came on, as a `Reply` envelope signed by this node.
#[derive(Debug)]
pub struct Responder {
    token: u64,
    commands: mpsc::Sender<Command>,
    answered: bool,
}

impl Responder {
    /// Sends `payload` back to the request's origin.
    pub async fn respond(mut self, payload: Bytes) {
        self.answered = true;
        let _ = self.commands.send(Command::Respond { token: self.token, payload: Some(payload) }).await;
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if !self.answered {
            let _ = self.commands.try_send(Command::Respond { token: self.token, payload: None });
        }
    }
}

/// A request's answer: the reply's payload (verified against the destination's key), the
/// nodes the request crossed and the times it was at each.
///
/// The times are microseconds since the Unix epoch, each on the clock of the node that took
/// it. Stamps of one node compare exactly; stamps of two nodes differ also by the skew between
/// their clocks — between hosted nodes (separate machines) that can be milliseconds, and
/// can make a link look shorter than it was or even negative (which [`Answer::hop_durations`]
/// shows as zero). Embedded nodes run in one process and share one clock. [`Answer::round_trip`]
/// and [`Answer::at_destination`] compare stamps of one clock only, so no skew enters them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub receipt: Receipt,
    pub payload: Bytes,
    /// The request's leg, origin first, destination last (the nodes of `receipt.route`, in the
    /// same order): the origin when it signed and sent the request, each relay when it
    /// verified and forwarded it, the destination when it received and verified it. As the
    /// destination signed them into the reply: each relay's stamp is covered by that relay's
    /// own hop signature, which the destination verified. A request a node sends to itself has
    /// one stamp, when it was sent.
    pub hops: Vec<HopStamp>,
    /// The reply's hop record, destination first: the destination when its application had
    /// answered and it signed the reply. Relays carry the reply back without appending hops,
    /// so this holds that one stamp.
    pub reply_hops: Vec<HopStamp>,
    /// When the reply arrived at the origin and verified, on the origin's clock.
    pub received_at_us: u64,
}

impl Answer {
    /// How long the request took on each link of its leg, origin first: `(from, to, duration)`
    /// for each pair of consecutive nodes in [`Answer::hops`] — from the moment `from` sent it
    /// to the moment `to` had verified it (and, for a relay, signed it on). Across two
    /// machines the duration includes their clock skew; a negative one (the receiver's clock
    /// behind) is shown as zero.
    pub fn hop_durations(&self) -> Vec<(NodeId, NodeId, Duration)> {
        self.hops.windows(2).map(|w| (w[0].node, w[1].node, micros_between(w[0].at_us, w[1].at_us))).collect()
    }

    /// How long the destination held the request: from receiving it to signing the reply
    /// (its application's work). One clock: no skew.
    pub fn at_destination(&self) -> Option<Duration> {
        let (received, replied) = (self.hops.last()?, self.reply_hops.first()?);
        Some(micros_between(received.at_us, replied.at_us))
    }

    /// How long the reply took back: from the destination signing it to the origin receiving
    /// it, across every relay of the way back. Two clocks: includes their skew (zero if
    /// negative).
    pub fn reply_leg(&self) -> Option<Duration> {
        Some(micros_between(self.reply_hops.first()?.at_us, self.received_at_us))
    }

    /// From sending the request to receiving its verified reply. One clock (the origin's): no
    /// skew.
    pub fn round_trip(&self) -> Option<Duration> {
        Some(micros_between(self.hops.first()?.at_us, self.received_at_us))
    }
}

/// The time from `from` to `to` (microsecond stamps), zero if `to` is earlier.
fn micros_between(from: u64, to: u64) -> Duration {
    Duration::from_micros(to.saturating_sub(from))
}

/// Proof that an envelope was delivered: the nodes it crossed, origin to destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub id: [u8; 16],
    pub route: Vec<NodeId>,
}

/// Why a send failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("dropped at {at}: {reason}")]
    Dropped { reason: DropReason, at: NodeId },
    #[error("the payload is larger than {MAX_PAYLOAD} bytes")]
    TooLarge,
    #[error("the node has stopped")]
    Stopped,
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    #[error("the reply does not verify: {0}")]
    BadReply(&'static str),
}

impl SendError {
    /// The drop reason, when the envelope was dropped somewhere.
    pub fn reason(&self) -> Option<DropReason> {
        match self {
            SendError::Dropped { reason, .. } => Some(*reason),
            _ => None,
        }
    }
}

/// Counters of one node, readable without asking its event loop.
#[derive(Default)]
pub struct NodeStats {
    pub originated: AtomicU64,
    pub delivered: AtomicU64,
    pub forwarded: AtomicU64,
    pub received: AtomicU64,
    drops: [AtomicU64; DropReason::ALL.len()],
    /// Most requests ever in flight to one peer (stays ≤ `peer_queue`).
    pub peak_in_flight: AtomicU64,
    /// Changes of a peer's trust level (every recorded transition, any peer, any reason).
    pub trust_transitions: AtomicU64,
}

impl NodeStats {
    fn count_drop(&self, reason: DropReason) {
        self.drops[DropReason::ALL.iter().position(|r| *r == reason).unwrap_or(0)]
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Drops so far, every reason listed.
    pub fn drops(&self) -> BTreeMap<DropReason, u64> {
        DropReason::ALL.iter().zip(&self.drops).map(|(r, c)| (*r, c.load(Ordering::Relaxed))).collect()
    }
}

/// A peer as this node sees it.
#[derive(Clone, Debug)]
pub struct PeerView {
    pub id: NodeId,
    pub trust: TrustLevel,
    pub history: Vec<TrustTransition>,
    pub connected: bool,
    pub in_flight: usize,
    pub last_rtt: Option<Duration>,
}

/// A route as this node sees it.
#[derive(Clone, Debug)]
pub struct RouteView {
    pub destination: NodeId,
    pub next_hop: NodeId,
    /// `None` when the route is broken.
    pub hops: Option<u8>,
}

/// Everything a node can report about itself.
#[derive(Clone, Debug)]
pub struct NodeSnapshot {
    pub id: NodeId,
    pub listen: Vec<Multiaddr>,
    pub peers: Vec<PeerView>,
    pub routes: Vec<RouteView>,
}

#[derive(Debug)]
enum Command {
    Send { destination: NodeId, payload: Bytes, reply: oneshot::Sender<Result<Receipt, SendError>> },
    Request { destination: NodeId, payload: Bytes, reply: oneshot::Sender<Result<Answer, SendError>> },
    Respond { token: u64, payload: Option<Bytes> },
    Link { peer: NodeId, addr: Multiaddr },
    Allow { peer: NodeId },
    Block { peer: NodeId, reason: TrustEvent },
    Unblock { peer: NodeId },
    Forget { peer: NodeId },
    Snapshot { reply: oneshot::Sender<NodeSnapshot> },
    Inject { peer: NodeId, frame: Vec<u8> },
    Shutdown,
}

/// Talks to a running node. Cheap to clone.
#[derive(Clone)]
pub struct MeshHandle {
    id: NodeId,
    listen: Multiaddr,
    commands: mpsc::Sender<Command>,
    stats: Arc<NodeStats>,
}

impl MeshHandle {
    /// The node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The address the node listens on (with its real port).
    pub fn listen_addr(&self) -> &Multiaddr {
        &self.listen
    }

    /// Whether the node still runs (it has not been shut down).
    pub fn is_running(&self) -> bool {
        !self.commands.is_closed()
    }

    /// The node's counters.
    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    /// Sends `payload` to `destination` over the mesh and waits for the answer from the path.
    pub async fn send(&self, destination: NodeId, payload: Bytes) -> Result<Receipt, SendError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(SendError::TooLarge);
        }
        let (reply, answer) = oneshot::channel();
        self.command(Command::Send { destination, payload, reply })?;
        answer.await.map_err(|_| SendError::Stopped)?
    }

    /// Sends a request to `destination` and waits, at most `timeout`, for the application
    /// there to answer it (see [`Responder`]).
    pub async fn request(
        &self,
        destination: NodeId,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Answer, SendError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(SendError::TooLarge);
        }
        let (reply, answer) = oneshot::channel();
        self.command(Command::Request { destination, payload, reply })?;
        match tokio::time::timeout(timeout, answer).await {
            Ok(answer) => answer.map_err(|_| SendError::Stopped)?,
            Err(_) => Err(SendError::TimedOut(timeout)),
        }
    }

    /// Keeps a link to `peer` at `addr`: dials now and redials whenever the link drops.
    pub fn link(&self, peer: NodeId, addr: Multiaddr) -> Result<(), SendError> {
        self.command(Command::Link { peer, addr })
    }

    /// Admits `peer` (the control plane registered it, or lifted its block).
    pub fn allow(&self, peer: NodeId) -> Result<(), SendError> {
        self.command(Command::Allow { peer })
    }

    /// Blocks `peer`: disconnects it, withdraws routes through it, refuses its traffic.
    pub fn block(&self, peer: NodeId, reason: TrustEvent) -> Result<(), SendError> {
        self.command(Command::Block { peer, reason })
    }

    /// Lifts a block; the peer must earn trust again.
    pub fn unblock(&self, peer: NodeId) -> Result<(), SendError> {
        self.command(Command::Unblock { peer })
    }

    /// Forgets `peer` (it was removed from the mesh): disconnects it and refuses it again.
    pub fn forget(&self, peer: NodeId) -> Result<(), SendError> {
        self.command(Command::Forget { peer })
    }

    /// Peers, trust and routes, as the node sees them now.
    pub async fn snapshot(&self) -> Result<NodeSnapshot, SendError> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Snapshot { reply })?;
        answer.await.map_err(|_| SendError::Stopped)
    }

    /// Sends `frame` — an encoded envelope built by the caller — to the neighbour `peer` as it
    /// is, answer ignored. Only for tests that play a misbehaving node (a forged route
    /// advertisement, say): a node never needs it.
    #[doc(hidden)]
    pub fn inject(&self, peer: NodeId, frame: Vec<u8>) -> Result<(), SendError> {
        self.command(Command::Inject { peer, frame })
    }

    /// Stops the node (its links close; peers withdraw their routes through it).
    pub fn shutdown(&self) {
        let _ = self.commands.try_send(Command::Shutdown);
    }

    fn command(&self, command: Command) -> Result<(), SendError> {
        self.commands.try_send(command).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                self.stats.count_drop(DropReason::Backpressure);
                SendError::Dropped { reason: DropReason::Backpressure, at: self.id }
            }
            mpsc::error::TrySendError::Closed(_) => SendError::Stopped,
        })
    }
}

/// Starts a node with identity `key`. Returns once it listens, with the handle and the
/// receiver of envelopes addressed to it.
pub async fn start(
    key: Keypair,
    config: NodeConfig,
) -> anyhow::Result<(MeshHandle, mpsc::Receiver<Delivery>)> {
    let me = NodeId::from(&key);
    let mut swarm = transport::build_swarm(&key, &config)?;
    let listen = transport::listen(&mut swarm, me, &config.listen).await?;
    let (commands, command_rx) = mpsc::channel(1024);
    let (inbox, deliveries) = mpsc::channel(config.inbox.max(1));
    let stats = Arc::new(NodeStats::default());
    let mut runtime =
        Runtime::new(key, swarm, config, listen.clone(), inbox, commands.clone(), stats.clone());
    runtime.sign_own_seq();
    tokio::spawn(runtime.run(command_rx));
    tracing::info!(node_id = %me, %listen, "mesh node listening");
    Ok((MeshHandle { id: me, listen, commands, stats }, deliveries))
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests;
