//! The node's event loop: the loop that serves swarm events, commands and
//! timers, and the commands a [`MeshHandle`](super::MeshHandle) sends it.
use super::{
    Answer, Command, Delivery, NodeConfig, NodeSnapshot, NodeStats, PeerView, Receipt, RouteView, SendError,
    now_ms,
    state::{Awaiting, Behaviour, Frame, Peer, Pending, Runtime},
};
use crate::{
    NodeId,
    envelope::{self, Envelope, KeyCache, Kind, ReplayGuard},
    routing::{self, RoutingTable},
};
use bytes::Bytes;
use libp2p::{Multiaddr, Swarm, futures::StreamExt, identity::Keypair};
use std::{
    collections::HashMap,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};
use tokio::sync::{mpsc, oneshot};

impl Runtime {
    /// The state of a node that listens on `listen` and knows no peer yet.
    pub(super) fn new(
        key: Keypair,
        swarm: Swarm<Behaviour>,
        config: NodeConfig,
        listen: Multiaddr,
        inbox: mpsc::Sender<Delivery>,
        commands: mpsc::Sender<Command>,
        stats: Arc<NodeStats>,
    ) -> Self {
        let me = NodeId::from(&key);
        Runtime {
            table: RoutingTable::new(me, now_ms()),
            verified: HashMap::new(),
            replay: ReplayGuard::new(config.freshness, config.replay_capacity),
            keys: KeyCache::default(),
            peers: HashMap::new(),
            pending: HashMap::new(),
            listen: vec![listen],
            key,
            me,
            swarm,
            config,
            inbox,
            commands,
            awaiting: HashMap::new(),
            next_token: 0,
            stats,
            advert_pending: false,
            last_triggered: Instant::now(),
        }
    }

    pub(super) async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut adverts = tokio::time::interval(self.config.advert_interval);
        let mut redials = tokio::time::interval(Duration::from_millis(50));
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm(event),
                command = commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(command) => self.on_command(command),
                },
                _ = adverts.tick() => self.advertise_periodically(),
                _ = redials.tick() => {
                    self.redial_due();
                    self.flush_adverts();
                }
            }
        }
        self.fail_pending();
        tracing::info!(node_id = %self.me, "mesh node stopped");
    }

    /// The node stops: whoever on this node waits for an envelope's answer learns it never
    /// comes.
    fn fail_pending(&mut self) {
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
    }

    pub(super) fn peer(&mut self, id: NodeId) -> &mut Peer {
        self.peers.entry(id).or_default()
    }

    /// An envelope sent to `next` came back (answered or failed). The peer may have been
    /// forgotten while it was out: then there is nothing to count down (and no entry to make).
    pub(super) fn landed(&mut self, next: NodeId) {
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
            Command::Send { destination, payload, reply } => self.send(destination, payload, reply),
            Command::Request { destination, payload, reply } => self.request(destination, payload, reply),
            Command::Respond { token, payload } => self.respond(token, payload),
            Command::Link { peer, addr } => self.link(peer, addr),
            Command::Allow { peer } => self.allow(peer),
            Command::Forget { peer } => self.forget(peer),
            Command::Block { peer, reason } => self.block(peer, reason),
            Command::Unblock { peer } => self.unblock(peer),
            Command::Snapshot { reply } => {
                let _ = reply.send(self.snapshot());
            }
            Command::Inject { peer, frame } => self.inject(peer, frame),
            Command::Shutdown => {}
        }
    }

    /// A one-way envelope from this node's application.
    fn send(
        &mut self,
        destination: NodeId,
        payload: Bytes,
        reply: oneshot::Sender<Result<Receipt, SendError>>,
    ) {
        let (id, envelope) = self.originate(Kind::Data, destination, payload);
        if destination == self.me {
            let _ = reply.send(Ok(Receipt { id, route: vec![self.me] }));
            return;
        }
        if let Err(reason) = self.forward(envelope, Pending::Local { id, reply }) {
            self.stats.count_drop(reason);
        }
    }

    /// A request from this node's application.
    fn request(
        &mut self,
        destination: NodeId,
        payload: Bytes,
        reply: oneshot::Sender<Result<Answer, SendError>>,
    ) {
        let (id, envelope) = self.originate(Kind::Request, destination, payload);
        if destination == self.me {
            // Answered by this node's own application, without a hop.
            let sent_at_us = envelope.hops.first().map_or_else(envelope::now_us, |h| h.at_us);
            let awaiting = Awaiting::Local { id, sent_at_us, reply };
            self.deliver(envelope, awaiting);
            return;
        }
        if let Err(reason) = self.forward(envelope, Pending::Request { id, destination, reply }) {
            self.stats.count_drop(reason);
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

    /// Sends a caller-built frame as it is (see `MeshHandle::inject`).
    fn inject(&mut self, peer: NodeId, frame: Vec<u8>) {
        let request = self.swarm.behaviour_mut().envelopes.send_request(&peer.peer_id(), Frame(frame));
        self.peer(peer).in_flight += 1;
        self.pending.insert(request, (peer, Pending::Advert));
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
