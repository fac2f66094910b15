//! A live mesh node: a libp2p swarm (TCP, Noise XX, yamux) that admits only the peers the
//! control plane allowed, carries envelopes hop by hop, and answers each one back along the
//! path it came, so the origin learns whether it was delivered, and if not, where and why.
//!
//! Each hop is a request-response exchange: a node that forwards an envelope holds the
//! upstream request open until the downstream hop answers, so a drop at hop 3 reaches the
//! origin as "dropped at node X: backpressure". Every peer has a bounded number of requests
//! in flight; past it, sending fails at once with `Backpressure` (nothing queues without
//! bound, nothing is dropped silently). Drops are counted by reason.
use super::{
    DropReason, NodeId,
    envelope::{self, Envelope, Freshness, KeyCache, Kind, MAX_PAYLOAD, ReplayGuard},
    routing::{self, RoutingTable},
    trust::{TrustEvent, TrustLevel, TrustRecord, TrustTransition},
};
use bytes::Bytes;
use chrono::Utc;
use libp2p::{
    Multiaddr, StreamProtocol, Swarm, allow_block_list,
    futures::StreamExt,
    identity::Keypair,
    noise, ping,
    request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel, cbor},
    swarm::{NetworkBehaviour, SwarmEvent, dial_opts::DialOpts},
    tcp, yamux,
};
use serde::{Deserialize, Serialize};
use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use tokio::sync::{mpsc, oneshot};

const PROTOCOL: &str = "/web4/envelope/1";
/// Streams per connection beyond both sides' `peer_queue`: room for a peer whose queue is
/// configured a little larger, and for streams closing while new ones open.
const STREAM_HEADROOM: usize = 16;

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

/// A request's answer: the reply's payload (verified against the destination's key) and the
/// nodes the request crossed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub receipt: Receipt,
    pub payload: Bytes,
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

/// One envelope on the wire (raw bytes: decoded and verified by the receiver).
#[derive(Debug, Serialize, Deserialize)]
struct Frame(#[serde(with = "serde_bytes")] Vec<u8>);

/// A hop's answer. Acks travel back through every hop of the route, and any of them may lie:
/// what the origin acts on is signed by the node it is about, or comes from its direct peer.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Ack {
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
    /// with the route (see [`envelope::with_route`]).
    Replied {
        #[serde(with = "serde_bytes")]
        reply: Vec<u8>,
    },
}

/// Whether a drop report (`reason` at `at`, for envelope `id`) that came from peer `from`
/// (`None`: made by this node) is the dropping node's own word.
fn drop_believed(
    keys: &mut KeyCache,
    id: &[u8; 16],
    reason: &str,
    at: &str,
    signature: &[u8],
    from: Option<NodeId>,
) -> bool {
    let Ok(at) = at.parse::<NodeId>() else { return false };
    if from.is_none_or(|from| from == at) {
        return true;
    }
    keys.get(&at).is_some_and(|key| key.verify(&drop_message(id, reason, &at), signature))
}

/// What a drop report is signed over.
fn drop_message(id: &[u8; 16], reason: &str, at: &NodeId) -> Vec<u8> {
    let mut message = b"web4/drop/v1".to_vec();
    message.extend_from_slice(id);
    message.extend_from_slice(reason.as_bytes());
    message.push(0);
    message.extend_from_slice(&at.to_bytes());
    message
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    ping: ping::Behaviour,
    envelopes: cbor::Behaviour<Frame, Ack>,
}

enum Pending {
    Local { id: [u8; 16], reply: oneshot::Sender<Result<Receipt, SendError>> },
    Request { id: [u8; 16], destination: NodeId, reply: oneshot::Sender<Result<Answer, SendError>> },
    Forward { channel: ResponseChannel<Ack>, id: [u8; 16] },
    Advert,
}

#[derive(Default)]
struct Peer {
    trust: TrustRecord,
    connected: bool,
    allowed: bool,
    in_flight: usize,
    invalid_signatures: u32,
    missed_heartbeats: u32,
    last_rtt: Option<Duration>,
    link: Option<Link>,
}

struct Link {
    addr: Multiaddr,
    attempt: u32,
    next_dial: Option<Instant>,
}

/// Starts a node with identity `key`. Returns once it listens, with the handle and the
/// receiver of envelopes addressed to it.
pub async fn start(
    key: Keypair,
    config: NodeConfig,
) -> anyhow::Result<(MeshHandle, mpsc::Receiver<Delivery>)> {
    let me = NodeId::from(&key);
    let codec = cbor::codec::Codec::<Frame, Ack>::default()
        .set_request_size_maximum((MAX_PAYLOAD + 64 * 1024) as u64)
        .set_response_size_maximum((MAX_PAYLOAD + 64 * 1024) as u64);
    // libp2p bounds the streams of one connection, inbound and outbound together, and fails
    // whatever exceeds the bound (an outbound request with "max sub-streams reached", an
    // inbound one silently). Our own bound is `peer_queue` per peer and direction (adverts
    // included): the connection carries at most that many of ours plus as many of the peer's,
    // so libp2p's bound must hold both, or a busy link fails sends that our backpressure
    // would have answered (found as a flaky `backpressure` test under load).
    let rr_config = request_response::Config::default()
        .with_request_timeout(config.hop_timeout)
        .with_max_concurrent_streams(2 * config.peer_queue.max(1) + STREAM_HEADROOM);
    let heartbeat = config.heartbeat_interval;
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key.clone())
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)?
        .with_behaviour(|_| Behaviour {
            allow: allow_block_list::Behaviour::default(),
            ping: ping::Behaviour::new(
                ping::Config::new().with_interval(heartbeat).with_timeout(heartbeat * 2),
            ),
            envelopes: request_response::Behaviour::with_codec(
                codec,
                [(StreamProtocol::new(PROTOCOL), ProtocolSupport::Full)],
                rr_config,
            ),
        })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    swarm.listen_on(config.listen.clone())?;
    let listen = loop {
        match tokio::time::timeout(Duration::from_secs(10), swarm.select_next_some()).await {
            Ok(SwarmEvent::NewListenAddr { address, .. }) => break address,
            Ok(_) => continue,
            Err(_) => anyhow::bail!("node {me} did not start listening on {}", config.listen),
        }
    };
    let (commands, command_rx) = mpsc::channel(1024);
    let (inbox, deliveries) = mpsc::channel(config.inbox.max(1));
    let stats = Arc::new(NodeStats::default());
    let mut runtime = Runtime {
        table: RoutingTable::new(me, now_ms()),
        verified: HashMap::new(),
        replay: ReplayGuard::new(config.freshness, config.replay_capacity),
        keys: KeyCache::default(),
        peers: HashMap::new(),
        pending: HashMap::new(),
        listen: vec![listen.clone()],
        key,
        me,
        swarm,
        config,
        inbox,
        commands: commands.clone(),
        awaiting: HashMap::new(),
        next_token: 0,
        stats: stats.clone(),
        advert_pending: false,
        last_triggered: Instant::now(),
    };
    runtime.sign_own_seq();
    tokio::spawn(runtime.run(command_rx));
    tracing::info!(node_id = %me, %listen, "mesh node listening");
    Ok((MeshHandle { id: me, listen, commands, stats }, deliveries))
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

struct Runtime {
    key: Keypair,
    me: NodeId,
    swarm: Swarm<Behaviour>,
    config: NodeConfig,
    table: RoutingTable,
    /// Per destination, the newest sequence number (even part) verified and its signature: an
    /// entry repeated by every neighbour is checked once, and older ones are not checked at
    /// all (they cannot win over what the destination already said).
    verified: HashMap<NodeId, (u64, routing::Signature)>,
    replay: ReplayGuard,
    keys: KeyCache,
    peers: HashMap<NodeId, Peer>,
    pending: HashMap<OutboundRequestId, (NodeId, Pending)>,
    listen: Vec<Multiaddr>,
    inbox: mpsc::Sender<Delivery>,
    /// For responders to answer through.
    commands: mpsc::Sender<Command>,
    /// Requests delivered to the application, waiting for its answer.
    awaiting: HashMap<u64, Awaiting>,
    next_token: u64,
    stats: Arc<NodeStats>,
    /// A reachability change waits to be advertised (coalesced, see `flush_adverts`).
    advert_pending: bool,
    last_triggered: Instant,
}

/// Least time between two triggered advertisements: changes arriving in a burst go out as one.
const TRIGGER_COALESCE: Duration = Duration::from_millis(100);

impl Runtime {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut adverts = tokio::time::interval(self.config.advert_interval);
        let mut redials = tokio::time::interval(Duration::from_millis(50));
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm(event),
                command = commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(command) => self.on_command(command),
                },
                _ = adverts.tick() => {
                    self.table.bump_own_seq(now_ms());
                    self.sign_own_seq();
                    self.table.prune_broken(Instant::now(), Duration::from_secs(60));
                    self.advert_pending = false;
                    self.advertise_all();
                }
                _ = redials.tick() => {
                    self.redial_due();
                    self.flush_adverts();
                }
            }
        }
        for (_, (_, pending)) in self.pending.drain() {
            match pending {
                Pending::Local { reply, .. } => {
                    let _ = reply.send(Err(SendError::Stopped));
                }
                Pending::Request { reply, .. } => {
                    let _ = reply.send(Err(SendError::Stopped));
                }
                Pending::Forward { .. } | Pending::Advert => {}
            }
        }
        tracing::info!(node_id = %self.me, "mesh node stopped");
    }

    fn peer(&mut self, id: NodeId) -> &mut Peer {
        self.peers.entry(id).or_default()
    }

    /// An envelope sent to `next` came back (answered or failed). The peer may have been
    /// forgotten while it was out: then there is nothing to count down (and no entry to make).
    fn landed(&mut self, next: NodeId) {
        if let Some(peer) = self.peers.get_mut(&next) {
            peer.in_flight = peer.in_flight.saturating_sub(1);
        }
    }

    fn on_command(&mut self, command: Command) {
        // Membership lists include this node itself; it is never its own peer.
        if let Command::Link { peer, .. }
        | Command::Allow { peer }
        | Command::Block { peer, .. }
        | Command::Unblock { peer }
        | Command::Forget { peer } = &command
            && *peer == self.me
        {
            return;
        }
        match command {
            Command::Send { destination, payload, reply } => {
                let (id, envelope) = self.originate(Kind::Data, destination, payload);
                if destination == self.me {
                    let _ = reply.send(Ok(Receipt { id, route: vec![self.me] }));
                    return;
                }
                if let Err(reason) = self.forward(envelope, Pending::Local { id, reply }) {
                    self.stats.count_drop(reason);
                }
            }
            Command::Request { destination, payload, reply } => {
                let (id, envelope) = self.originate(Kind::Request, destination, payload);
                if destination == self.me {
                    // Answered by this node's own application, without a hop.
                    let awaiting = Awaiting::Local { id, reply };
                    self.deliver(envelope, awaiting);
                    return;
                }
                if let Err(reason) = self.forward(envelope, Pending::Request { id, destination, reply }) {
                    self.stats.count_drop(reason);
                }
            }
            Command::Respond { token, payload } => self.respond(token, payload),
            Command::Link { peer, addr } => {
                self.peer(peer).link = Some(Link { addr, attempt: 0, next_dial: Some(Instant::now()) });
                self.redial_due();
            }
            Command::Allow { peer } => {
                let p = self.peer(peer);
                p.allowed = true;
                if p.trust.level() == TrustLevel::Blocked {
                    p.trust.apply(TrustEvent::OperatorUnblock, Utc::now());
                }
                self.swarm.behaviour_mut().allow.allow_peer(peer.peer_id());
            }
            Command::Forget { peer } => {
                self.peers.remove(&peer);
                self.swarm.behaviour_mut().allow.disallow_peer(peer.peer_id());
                let _ = self.swarm.disconnect_peer_id(peer.peer_id());
                if self.table.withdraw(peer, Instant::now()) {
                    self.advertise_all();
                }
            }
            Command::Block { peer, reason } => self.block(peer, reason),
            Command::Unblock { peer } => {
                let me = self.me;
                let p = self.peer(peer);
                if p.trust.apply(TrustEvent::OperatorUnblock, Utc::now()).is_some() {
                    tracing::info!(node_id = %me, %peer, "peer unblocked");
                }
                if p.allowed {
                    self.swarm.behaviour_mut().allow.allow_peer(peer.peer_id());
                }
            }
            Command::Snapshot { reply } => {
                let _ = reply.send(self.snapshot());
            }
            Command::Inject { peer, frame } => {
                let request =
                    self.swarm.behaviour_mut().envelopes.send_request(&peer.peer_id(), Frame(frame));
                self.peer(peer).in_flight += 1;
                self.pending.insert(request, (peer, Pending::Advert));
            }
            Command::Shutdown => {}
        }
    }

    /// A new envelope from this node, counted as originated.
    fn originate(&self, kind: Kind, destination: NodeId, payload: Bytes) -> ([u8; 16], Envelope) {
        let id: [u8; 16] = rand::random();
        let envelope =
            Envelope::new(&self.key, id, kind, destination, self.config.hop_limit, payload, now_ms());
        self.stats.originated.fetch_add(1, Ordering::Relaxed);
        (id, envelope)
    }

    fn block(&mut self, peer: NodeId, reason: TrustEvent) {
        let me = self.me;
        if let Some(t) = self.peer(peer).trust.apply(reason, Utc::now()) {
            tracing::warn!(node_id = %me, %peer, reason = t.reason.as_str(), "peer blocked");
        }
        self.swarm.behaviour_mut().allow.disallow_peer(peer.peer_id());
        let _ = self.swarm.disconnect_peer_id(peer.peer_id());
        if self.table.withdraw(peer, Instant::now()) {
            self.advertise_all();
        }
    }

    fn is_blocked(&self, id: &NodeId) -> bool {
        self.peers.get(id).is_some_and(|p| p.trust.level() == TrustLevel::Blocked)
    }

    /// Sends `envelope` towards its destination, remembering who waits for the answer.
    /// On `Err` the waiting party has been answered with the drop.
    fn forward(&mut self, envelope: Envelope, pending: Pending) -> Result<(), DropReason> {
        let result = self.route_out(&envelope);
        match result {
            Ok(next) => {
                let request = self
                    .swarm
                    .behaviour_mut()
                    .envelopes
                    .send_request(&next.peer_id(), Frame(Vec::from(envelope.encode())));
                let in_flight = {
                    let p = self.peer(next);
                    p.in_flight += 1;
                    p.in_flight as u64
                };
                self.stats.peak_in_flight.fetch_max(in_flight, Ordering::Relaxed);
                self.pending.insert(request, (next, pending));
                Ok(())
            }
            Err(reason) => {
                let ack = self.drop_ack(Some(envelope.header.id), reason);
                self.answer(pending, ack, None);
                Err(reason)
            }
        }
    }

    fn route_out(&mut self, envelope: &Envelope) -> Result<NodeId, DropReason> {
        let destination = envelope.header.destination;
        if self.is_blocked(&destination) || self.is_blocked(&envelope.header.origin) {
            return Err(DropReason::Blocked);
        }
        if envelope.hops.len() > usize::from(envelope.header.hop_limit) {
            return Err(DropReason::HopLimit);
        }
        let next = self.table.next_hop(&destination).ok_or(DropReason::NoRoute)?;
        if self.is_blocked(&next) {
            return Err(DropReason::Blocked);
        }
        let queue = self.config.peer_queue;
        let peer = self.peer(next);
        if !peer.connected {
            return Err(DropReason::NoRoute);
        }
        if peer.in_flight >= queue {
            return Err(DropReason::Backpressure);
        }
        Ok(next)
    }

    /// A drop report from this node, signed when the envelope's id is known.
    fn drop_ack(&self, id: Option<[u8; 16]>, reason: DropReason) -> Ack {
        let signature = id
            .and_then(|id| self.key.sign(&drop_message(&id, reason.as_str(), &self.me)).ok())
            .unwrap_or_default();
        Ack::Dropped { reason: reason.as_str().into(), at: self.me.to_string(), signature }
    }

    /// Answers whoever waits for envelope `pending`. `from` is the peer the ack came from
    /// (`None`: this node made it).
    fn answer(&mut self, pending: Pending, ack: Ack, from: Option<NodeId>) {
        let ack = match (&pending, ack) {
            (
                Pending::Local { id, .. } | Pending::Request { id, .. },
                Ack::Dropped { reason, at, signature },
            ) => {
                if self.believed(id, &reason, &at, &signature, from) {
                    Ack::Dropped { reason, at, signature }
                } else {
                    let error = SendError::BadReply("a drop report its node did not sign");
                    match pending {
                        Pending::Local { reply, .. } => drop(reply.send(Err(error))),
                        Pending::Request { reply, .. } => drop(reply.send(Err(error))),
                        _ => {}
                    }
                    return;
                }
            }
            (_, ack) => ack,
        };
        match pending {
            Pending::Local { id, reply } => {
                let _ = reply.send(self.receipt(id, ack));
            }
            Pending::Request { id, destination, reply } => {
                let _ = reply.send(self.answer_of(id, destination, ack));
            }
            Pending::Forward { channel, .. } => {
                let _ = self.swarm.behaviour_mut().envelopes.send_response(channel, ack);
            }
            Pending::Advert => {}
        }
    }

    /// Whether a drop report is the dropping node's own: it came from that node directly (the
    /// link is authenticated), or that node signed it for this envelope.
    fn believed(
        &mut self,
        id: &[u8; 16],
        reason: &str,
        at: &str,
        signature: &[u8],
        from: Option<NodeId>,
    ) -> bool {
        drop_believed(&mut self.keys, id, reason, at, signature, from)
    }

    /// A request's answer, after checking that the reply is the destination's, signed by it,
    /// for this request, addressed to this node and fresh; the route is the one the
    /// destination signed.
    fn answer_of(&mut self, id: [u8; 16], destination: NodeId, ack: Ack) -> Result<Answer, SendError> {
        let reply = match ack {
            Ack::Replied { reply } => reply,
            Ack::Delivered { .. } => return Err(SendError::BadReply("delivered without an answer")),
            Ack::Dropped { reason, at, .. } => return Err(self.dropped(&reason, &at)),
        };
        let envelope =
            Envelope::decode(Bytes::from(reply)).map_err(|_| SendError::BadReply("malformed reply"))?;
        let header = &envelope.header;
        if header.kind != Kind::Reply || header.id != id {
            return Err(SendError::BadReply("not the reply to this request"));
        }
        if header.origin != destination || header.destination != self.me {
            return Err(SendError::BadReply("reply from or to the wrong node"));
        }
        if envelope.hops.len() != 1 {
            return Err(SendError::BadReply("reply with a forwarded hop record"));
        }
        envelope
            .verify(now_ms(), self.config.freshness, &mut self.keys)
            .map_err(|_| SendError::BadReply("bad signature"))?;
        let (route, payload) = envelope::split_route(envelope.payload)
            .map_err(|_| SendError::BadReply("reply without its route"))?;
        Ok(Answer { receipt: Receipt { id, route }, payload })
    }

    /// Hands an envelope that needs an answer to the application, remembering who waits.
    fn deliver(&mut self, envelope: Envelope, awaiting: Awaiting) {
        self.next_token += 1;
        let token = self.next_token;
        let responder = Responder { token, commands: self.commands.clone(), answered: false };
        self.awaiting.insert(token, awaiting);
        match self.inbox.try_send(Delivery { envelope, responder: Some(responder) }) {
            Ok(()) => {
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(delivery) | mpsc::error::TrySendError::Closed(delivery)) => {
                if let Some(mut responder) = delivery.responder {
                    responder.answered = true;
                }
                self.stats.count_drop(DropReason::Backpressure);
                self.unanswered(token, DropReason::Backpressure);
            }
        }
    }

    /// The application answered (or dropped) the request behind `token`.
    fn respond(&mut self, token: u64, payload: Option<Bytes>) {
        let Some(payload) = payload else {
            self.stats.count_drop(DropReason::Unanswered);
            self.unanswered(token, DropReason::Unanswered);
            return;
        };
        match self.awaiting.remove(&token) {
            Some(Awaiting::Remote { channel, route, origin, id }) => {
                let payload = envelope::with_route(&route, &payload);
                let reply = Envelope::new(&self.key, id, Kind::Reply, origin, 1, payload, now_ms());
                let ack = Ack::Replied { reply: Vec::from(reply.encode()) };
                let _ = self.swarm.behaviour_mut().envelopes.send_response(channel, ack);
            }
            Some(Awaiting::Local { id, reply }) => {
                let receipt = Receipt { id, route: vec![self.me] };
                let _ = reply.send(Ok(Answer { receipt, payload }));
            }
            None => {}
        }
    }

    fn unanswered(&mut self, token: u64, reason: DropReason) {
        let id = match self.awaiting.get(&token) {
            Some(Awaiting::Remote { id, .. } | Awaiting::Local { id, .. }) => Some(*id),
            None => None,
        };
        let dropped = self.drop_ack(id, reason);
        match self.awaiting.remove(&token) {
            Some(Awaiting::Remote { channel, .. }) => {
                let _ = self.swarm.behaviour_mut().envelopes.send_response(channel, dropped);
            }
            Some(Awaiting::Local { reply, .. }) => {
                let _ = reply.send(Err(self.dropped(reason.as_str(), &self.me.to_string())));
            }
            None => {}
        }
    }

    fn receipt(&self, id: [u8; 16], ack: Ack) -> Result<Receipt, SendError> {
        match ack {
            Ack::Delivered { route } => {
                Ok(Receipt { id, route: route.iter().filter_map(|s| s.parse().ok()).collect() })
            }
            Ack::Replied { .. } => Err(SendError::BadReply("an answer to an envelope that wanted none")),
            Ack::Dropped { reason, at, .. } => Err(self.dropped(&reason, &at)),
        }
    }

    fn dropped(&self, reason: &str, at: &str) -> SendError {
        SendError::Dropped {
            reason: DropReason::parse(reason).unwrap_or(DropReason::Malformed),
            at: at.parse().unwrap_or(self.me),
        }
    }

    fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => self.listen.push(address),
            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                let Ok(peer) = NodeId::try_from(peer_id) else {
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                };
                let now = Utc::now();
                let p = self.peer(peer);
                p.connected = true;
                p.missed_heartbeats = 0;
                if let Some(link) = &mut p.link {
                    link.attempt = 0;
                    link.next_dial = None;
                }
                // The Noise handshake proved the key; the allow list proves the control plane
                // registered it.
                p.trust.apply(TrustEvent::Handshake, now);
                if p.allowed {
                    p.trust.apply(TrustEvent::AttestedByControlPlane, now);
                }
                self.table.neighbor_up(peer);
                self.advertise_to(peer);
                tracing::debug!(node_id = %self.me, %peer, "link up");
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                let Ok(peer) = NodeId::try_from(peer_id) else { return };
                let backoff = self.backoff(0);
                let p = self.peer(peer);
                p.connected = false;
                if let Some(link) = &mut p.link {
                    link.next_dial = Some(Instant::now() + backoff);
                }
                if self.table.neighbor_down(peer, Instant::now()) {
                    self.trigger_adverts();
                }
                tracing::debug!(node_id = %self.me, %peer, "link down");
            }
            SwarmEvent::OutgoingConnectionError { peer_id: Some(peer_id), error, .. } => {
                let Ok(peer) = NodeId::try_from(peer_id) else { return };
                let attempt = self.peers.get(&peer).and_then(|p| p.link.as_ref()).map_or(0, |l| l.attempt);
                let delay = self.backoff(attempt);
                if let Some(link) = &mut self.peer(peer).link {
                    link.attempt = link.attempt.saturating_add(1);
                    link.next_dial = Some(Instant::now() + delay);
                }
                tracing::debug!(node_id = %self.me, %peer, %error, retry_in = ?delay, "dial failed");
            }
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event { peer, connection, result })) => {
                let Ok(peer) = NodeId::try_from(peer) else { return };
                let misses = self.config.heartbeat_misses;
                let p = self.peer(peer);
                match result {
                    Ok(rtt) => {
                        p.last_rtt = Some(rtt);
                        p.missed_heartbeats = 0;
                    }
                    Err(_) => {
                        p.missed_heartbeats += 1;
                        if p.missed_heartbeats >= misses {
                            tracing::warn!(node_id = %self.me, %peer, "heartbeats missed: closing the link");
                            self.swarm.close_connection(connection);
                        }
                    }
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Envelopes(event)) => self.on_envelope_event(event),
            _ => {}
        }
    }

    fn on_envelope_event(&mut self, event: request_response::Event<Frame, Ack>) {
        use request_response::{Event, Message};
        match event {
            Event::Message { peer, message: Message::Request { request, channel, .. }, .. } => {
                self.stats.received.fetch_add(1, Ordering::Relaxed);
                match NodeId::try_from(peer) {
                    Ok(from) => self.on_frame(from, request, channel),
                    Err(_) => {
                        self.stats.count_drop(DropReason::Malformed);
                    }
                }
            }
            Event::Message { message: Message::Response { request_id, response }, .. } => {
                if let Some((next, pending)) = self.pending.remove(&request_id) {
                    self.landed(next);
                    self.answer(pending, response, Some(next));
                }
            }
            Event::OutboundFailure { request_id, error, .. } => {
                if let Some((next, pending)) = self.pending.remove(&request_id) {
                    self.landed(next);
                    // No answer in time, or a stream the next hop refused while the link
                    // stays up (it is at its stream bound), means the next hop is overloaded;
                    // a lost link means the route went away under the envelope.
                    let connected = self.peers.get(&next).is_some_and(|p| p.connected);
                    let reason = match error {
                        request_response::OutboundFailure::Timeout => DropReason::Backpressure,
                        request_response::OutboundFailure::Io(_) if connected => DropReason::Backpressure,
                        _ => DropReason::NoRoute,
                    };
                    if !matches!(pending, Pending::Advert) {
                        self.stats.count_drop(reason);
                    }
                    let id = match &pending {
                        Pending::Local { id, .. }
                        | Pending::Request { id, .. }
                        | Pending::Forward { id, .. } => Some(*id),
                        Pending::Advert => None,
                    };
                    let ack = self.drop_ack(id, reason);
                    self.answer(pending, ack, None);
                }
            }
            _ => {}
        }
    }

    fn on_frame(&mut self, from: NodeId, Frame(bytes): Frame, channel: ResponseChannel<Ack>) {
        let id = envelope::peek_id(&bytes);
        match self.accept(from, bytes) {
            Ok(Accepted::Deliver(envelope)) => {
                let mut route: Vec<NodeId> = envelope.route().collect();
                route.push(self.me);
                if envelope.header.kind == Kind::Request {
                    let (origin, id) = (envelope.header.origin, envelope.header.id);
                    self.deliver(envelope, Awaiting::Remote { channel, route, origin, id });
                    return;
                }
                let id = envelope.header.id;
                let ack = match self.inbox.try_send(Delivery { envelope, responder: None }) {
                    Ok(()) => {
                        self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                        Ack::Delivered { route: route.iter().map(ToString::to_string).collect() }
                    }
                    Err(_) => {
                        self.stats.count_drop(DropReason::Backpressure);
                        self.drop_ack(Some(id), DropReason::Backpressure)
                    }
                };
                let _ = self.swarm.behaviour_mut().envelopes.send_response(channel, ack);
            }
            Ok(Accepted::Advert) => {
                let route = vec![from.to_string(), self.me.to_string()];
                let _ = self.swarm.behaviour_mut().envelopes.send_response(channel, Ack::Delivered { route });
            }
            Ok(Accepted::Forward(envelope)) => {
                let id = envelope.header.id;
                if let Err(reason) = self.forward(envelope, Pending::Forward { channel, id }) {
                    self.stats.count_drop(reason);
                } else {
                    self.stats.forwarded.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(reason) => {
                self.stats.count_drop(reason);
                tracing::debug!(node_id = %self.me, %from, %reason, "envelope dropped");
                let ack = self.drop_ack(id, reason);
                let _ = self.swarm.behaviour_mut().envelopes.send_response(channel, ack);
            }
        }
    }

    /// Every check an arriving envelope goes through, in order.
    fn accept(&mut self, from: NodeId, bytes: Vec<u8>) -> Result<Accepted, DropReason> {
        if self.is_blocked(&from) {
            return Err(DropReason::Blocked);
        }
        let envelope = Envelope::decode(Bytes::from(bytes)).map_err(|_| DropReason::Malformed)?;
        let now = now_ms();
        let digest = match envelope.verify(now, self.config.freshness, &mut self.keys) {
            Ok(digest) => digest,
            Err(DropReason::BadSignature) => {
                self.invalid_signature(from);
                return Err(DropReason::BadSignature);
            }
            Err(reason) => return Err(reason),
        };
        // The peer that handed it over must be the last signer.
        if envelope.hops.last().map(|h| h.node) != Some(from) {
            self.invalid_signature(from);
            return Err(DropReason::BadSignature);
        }
        if envelope.route().any(|n| n == self.me) {
            return Err(DropReason::Loop);
        }
        if self.is_blocked(&envelope.header.origin) {
            return Err(DropReason::Blocked);
        }
        self.replay.check(&envelope.header, now)?;
        if envelope.header.kind == Kind::Reply {
            // Replies travel back inside answers, never as envelopes of their own.
            return Err(DropReason::Malformed);
        }
        if envelope.header.kind == Kind::RouteAdvert {
            if envelope.header.origin != from || envelope.header.destination != self.me {
                return Err(DropReason::Malformed);
            }
            let entries = routing::decode_advert(envelope.payload).ok_or(DropReason::Malformed)?;
            let entries = self.vouched(from, entries, now)?;
            if self.table.apply(from, &entries, Instant::now()) {
                self.trigger_adverts();
            }
            return Ok(Accepted::Advert);
        }
        if envelope.header.destination == self.me {
            return Ok(Accepted::Deliver(envelope));
        }
        if envelope.hops.len() >= usize::from(envelope.header.hop_limit) {
            return Err(DropReason::HopLimit);
        }
        let mut envelope = envelope;
        envelope.sign_hop(&self.key, &digest);
        Ok(Accepted::Forward(envelope))
    }

    /// Signs this node's current sequence number for its advertisements.
    fn sign_own_seq(&mut self) {
        let message = routing::seq_message(self.me, self.table.own_seq());
        match self.key.sign(&message) {
            Ok(signature) => match routing::Signature::try_from(signature.as_slice()) {
                Ok(signature) => self.table.sign_own(signature),
                Err(_) => tracing::error!(node_id = %self.me, "an Ed25519 signature that is not 64 bytes"),
            },
            Err(err) => tracing::error!(node_id = %self.me, %err, "cannot sign the routing sequence number"),
        }
    }

    /// The entries of `from`'s advertisement this node may act on: destinations the control
    /// plane admitted, sequence numbers not ahead of the destination's clock, each signed by
    /// its destination. A forged signature is the relaying neighbour's doing (honest nodes
    /// relay only what they verified): the whole advertisement is refused and counted against
    /// it, as for any invalid signature.
    fn vouched(
        &mut self,
        from: NodeId,
        entries: Vec<routing::AdvertEntry>,
        now_ms: u64,
    ) -> Result<Vec<routing::AdvertEntry>, DropReason> {
        let mut kept = Vec::with_capacity(entries.len());
        for entry in entries {
            let member = self.peers.get(&entry.destination).is_some_and(|p| p.allowed);
            let ahead = entry.seq / 2 > now_ms.saturating_add(self.config.freshness.max_skew_ms);
            if entry.destination == self.me || !member || ahead {
                continue;
            }
            let even = entry.seq & !1;
            let known = match self.verified.get(&entry.destination) {
                // Older than what the destination is known to have signed: it cannot win, and
                // a route at that number is not worth a check (fresh ones come every interval).
                Some((seq, _)) if even < *seq => continue,
                Some((seq, sig)) => *seq == even && *sig == entry.signature,
                None => false,
            };
            if !known {
                let genuine = self.keys.get(&entry.destination).is_some_and(|key| {
                    key.verify(&routing::seq_message(entry.destination, entry.seq), &entry.signature)
                });
                if !genuine {
                    self.invalid_signature(from);
                    return Err(DropReason::BadSignature);
                }
                self.verified.insert(entry.destination, (even, entry.signature));
            }
            kept.push(entry);
        }
        Ok(kept)
    }

    fn invalid_signature(&mut self, from: NodeId) {
        let limit = self.config.invalid_signature_limit;
        let p = self.peer(from);
        p.invalid_signatures += 1;
        if p.invalid_signatures >= limit {
            self.block(from, TrustEvent::RepeatedInvalidSignatures);
        }
    }

    /// Asks for an advertisement of a reachability change, sent at once unless one went out
    /// in the last `TRIGGER_COALESCE` (then the 50 ms tick sends it when that has passed).
    fn trigger_adverts(&mut self) {
        self.advert_pending = true;
        self.flush_adverts();
    }

    fn flush_adverts(&mut self) {
        if self.advert_pending && self.last_triggered.elapsed() >= TRIGGER_COALESCE {
            self.advert_pending = false;
            self.last_triggered = Instant::now();
            self.advertise_all();
        }
    }

    fn advertise_all(&mut self) {
        let neighbors: Vec<NodeId> = self.table.neighbors().copied().collect();
        for n in neighbors {
            self.advertise_to(n);
        }
    }

    fn advertise_to(&mut self, neighbor: NodeId) {
        let entries = self.table.advert_for(neighbor);
        let payload = routing::encode_advert(&entries);
        let envelope =
            Envelope::new(&self.key, rand::random(), Kind::RouteAdvert, neighbor, 1, payload, now_ms());
        let queue = self.config.peer_queue;
        let peer = self.peer(neighbor);
        if !peer.connected {
            return;
        }
        if peer.in_flight >= queue {
            self.stats.count_drop(DropReason::Backpressure);
            return;
        }
        peer.in_flight += 1;
        let request = self
            .swarm
            .behaviour_mut()
            .envelopes
            .send_request(&neighbor.peer_id(), Frame(envelope.encode().to_vec()));
        self.pending.insert(request, (neighbor, Pending::Advert));
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.config.reconnect_initial.saturating_mul(1u32 << attempt.min(16));
        let capped = base.min(self.config.reconnect_max);
        capped.mul_f64(rand::random::<f64>() * 0.4 + 0.8)
    }

    fn redial_due(&mut self) {
        let now = Instant::now();
        let due: Vec<(NodeId, Multiaddr)> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.connected && p.trust.level() != TrustLevel::Blocked)
            .filter_map(|(id, p)| {
                let link = p.link.as_ref()?;
                (link.next_dial? <= now).then(|| (*id, link.addr.clone()))
            })
            .collect();
        for (peer, addr) in due {
            if let Some(link) = &mut self.peer(peer).link {
                // The outcome (connected or failed) schedules what happens next.
                link.next_dial = None;
            }
            let opts = DialOpts::peer_id(peer.peer_id()).addresses(vec![addr]).build();
            if let Err(error) = self.swarm.dial(opts) {
                let attempt = self.peers.get(&peer).and_then(|p| p.link.as_ref()).map_or(0, |l| l.attempt);
                let delay = self.backoff(attempt);
                if let Some(link) = &mut self.peer(peer).link {
                    link.attempt = link.attempt.saturating_add(1);
                    link.next_dial = Some(now + delay);
                }
                tracing::debug!(node_id = %self.me, %peer, %error, "dial refused");
            }
        }
    }

    fn snapshot(&self) -> NodeSnapshot {
        let mut peers: Vec<PeerView> = self
            .peers
            .iter()
            .map(|(id, p)| PeerView {
                id: *id,
                trust: p.trust.level(),
                history: p.trust.history().to_vec(),
                connected: p.connected,
                in_flight: p.in_flight,
                last_rtt: p.last_rtt,
            })
            .collect();
        peers.sort_by_key(|p| p.id);
        let mut routes: Vec<RouteView> = self
            .table
            .routes()
            .map(|(dest, r)| RouteView {
                destination: *dest,
                next_hop: r.next_hop,
                hops: (r.metric != routing::INFINITY).then_some(r.metric),
            })
            .collect();
        routes.sort_by_key(|r| r.destination);
        NodeSnapshot { id: self.me, listen: self.listen.clone(), peers, routes }
    }
}

/// Who waits for the application's answer to a delivered request.
enum Awaiting {
    /// The hop the request came from (the answer goes back on its stream).
    Remote { channel: ResponseChannel<Ack>, route: Vec<NodeId>, origin: NodeId, id: [u8; 16] },
    /// A request this node sent to itself.
    Local { id: [u8; 16], reply: oneshot::Sender<Result<Answer, SendError>> },
}

enum Accepted {
    Deliver(Envelope),
    Forward(Envelope),
    Advert,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relay_cannot_put_a_drop_report_in_another_node_s_mouth() {
        let (honest, relay) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let (honest_id, relay_id) = (NodeId::from(&honest), NodeId::from(&relay));
        let id = [7u8; 16];
        let mut keys = KeyCache::default();
        let signed = |key: &Keypair, at: &NodeId| key.sign(&drop_message(&id, "backpressure", at)).unwrap();
        let at = honest_id.to_string();
        let from = Some(relay_id);
        // The honest node's own signed report, relayed: believed.
        assert!(drop_believed(&mut keys, &id, "backpressure", &at, &signed(&honest, &honest_id), from));
        // The relay's forgery in the honest node's name: not believed, signed or not.
        assert!(!drop_believed(&mut keys, &id, "backpressure", &at, &signed(&relay, &honest_id), from));
        assert!(!drop_believed(&mut keys, &id, "backpressure", &at, &[], from));
        // Another reason, or another envelope, than the one signed: not believed.
        assert!(!drop_believed(&mut keys, &id, "no_route", &at, &signed(&honest, &honest_id), from));
        assert!(!drop_believed(&mut keys, &[8; 16], "backpressure", &at, &signed(&honest, &honest_id), from));
        // A direct peer speaks for itself over its authenticated link.
        assert!(drop_believed(&mut keys, &id, "malformed", &relay_id.to_string(), &[], from));
    }
}
