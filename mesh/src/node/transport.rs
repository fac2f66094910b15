//! Links: the libp2p swarm (TCP, Noise XX, yamux, the allow list, ping and the envelope
//! protocol), links coming up and going down, heartbeats, and redialing with backoff.
use super::{
    NodeConfig,
    state::Ack,
    state::{Behaviour, BehaviourEvent, Frame, Link, Runtime},
};
use crate::{
    NodeId,
    envelope::MAX_PAYLOAD,
    trust::{TrustEvent, TrustLevel},
};
use libp2p::{
    Multiaddr, StreamProtocol, Swarm, allow_block_list,
    futures::StreamExt,
    identity::Keypair,
    noise, ping,
    request_response::{self, ProtocolSupport, cbor},
    swarm::{ConnectionId, SwarmEvent, dial_opts::DialOpts},
    tcp, yamux,
};
use std::time::{Duration, Instant};

/// The stream protocol names the envelope format, so a node of another format is refused when
/// the stream is negotiated (and says why) instead of its envelopes being dropped as malformed.
const PROTOCOL: &str = "/web4/envelope/2";
/// Streams per connection beyond both sides' `peer_queue`: room for a peer whose queue is
/// configured a little larger, and for streams closing while new ones open.
const STREAM_HEADROOM: usize = 16;

/// The swarm of a node with identity `key`, not yet listening.
pub(super) fn build_swarm(key: &Keypair, config: &NodeConfig) -> anyhow::Result<Swarm<Behaviour>> {
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
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key.clone())
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
    Ok(swarm)
}

/// Starts listening on `addr`; returns the address with its real port.
pub(super) async fn listen(
    swarm: &mut Swarm<Behaviour>,
    me: NodeId,
    addr: &Multiaddr,
) -> anyhow::Result<Multiaddr> {
    swarm.listen_on(addr.clone())?;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), swarm.select_next_some()).await {
            Ok(SwarmEvent::NewListenAddr { address, .. }) => return Ok(address),
            Ok(_) => continue,
            Err(_) => anyhow::bail!("node {me} did not start listening on {addr}"),
        }
    }
}

impl Runtime {
    pub(super) fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => self.listen.push(address),
            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                let Ok(peer) = NodeId::try_from(peer_id) else {
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                };
                self.link_up(peer);
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                let Ok(peer) = NodeId::try_from(peer_id) else { return };
                self.link_down(peer);
            }
            SwarmEvent::OutgoingConnectionError { peer_id: Some(peer_id), error, .. } => {
                let Ok(peer) = NodeId::try_from(peer_id) else { return };
                let delay = self.schedule_redial(peer, Instant::now());
                tracing::debug!(node_id = %self.me, %peer, %error, retry_in = ?delay, "dial failed");
            }
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event { peer, connection, result })) => {
                let Ok(peer) = NodeId::try_from(peer) else { return };
                self.heartbeat(peer, connection, result);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Envelopes(event)) => self.on_envelope_event(event),
            _ => {}
        }
    }

    /// A connection to `peer` came up.
    fn link_up(&mut self, peer: NodeId) {
        let p = self.peer(peer);
        p.connected = true;
        p.missed_heartbeats = 0;
        if let Some(link) = &mut p.link {
            link.attempt = 0;
            link.next_dial = None;
        }
        let allowed = p.allowed;
        // The Noise handshake proved the key; the allow list proves the control plane
        // registered it.
        self.trust_event(peer, TrustEvent::Handshake);
        if allowed {
            self.trust_event(peer, TrustEvent::AttestedByControlPlane);
        }
        self.table.neighbor_up(peer);
        self.advertise_to(peer);
        tracing::debug!(node_id = %self.me, %peer, "link up");
    }

    /// The last connection to `peer` closed.
    fn link_down(&mut self, peer: NodeId) {
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

    /// A heartbeat to `peer` came back (`Ok`, with the round trip) or did not; too many
    /// missed in a row close the link.
    fn heartbeat(&mut self, peer: NodeId, connection: ConnectionId, result: Result<Duration, ping::Failure>) {
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

    /// Keeps a link to `peer` at `addr`, dialing it now.
    pub(super) fn link(&mut self, peer: NodeId, addr: Multiaddr) {
        self.peer(peer).link = Some(Link { addr, attempt: 0, next_dial: Some(Instant::now()) });
        self.redial_due();
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.config.reconnect_initial.saturating_mul(1u32 << attempt.min(16));
        let capped = base.min(self.config.reconnect_max);
        capped.mul_f64(rand::random::<f64>() * 0.4 + 0.8)
    }

    /// A dial of `peer` failed: the next one is due after a backoff that grows with each
    /// failure in a row. Returns the delay.
    fn schedule_redial(&mut self, peer: NodeId, now: Instant) -> Duration {
        let attempt = self.peers.get(&peer).and_then(|p| p.link.as_ref()).map_or(0, |l| l.attempt);
        let delay = self.backoff(attempt);
        if let Some(link) = &mut self.peer(peer).link {
            link.attempt = link.attempt.saturating_add(1);
            link.next_dial = Some(now + delay);
        }
        delay
    }

    pub(super) fn redial_due(&mut self) {
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
                self.schedule_redial(peer, now);
                tracing::debug!(node_id = %self.me, %peer, %error, "dial refused");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stream_protocol_names_the_envelope_format() {
        assert_eq!(super::PROTOCOL, format!("/web4/envelope/{}", crate::envelope::VERSION));
    }
}
