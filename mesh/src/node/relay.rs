//! Carrying envelopes: what arrives on the envelope protocol, what this node does with an
//! envelope it accepted (deliver, apply or forward), and sending one on to the next hop.
use super::{
    state::Ack,
    state::Frame,
    state::{Pending, Runtime},
};
use crate::{
    DropReason, NodeId,
    envelope::{self, Envelope, Kind},
};
use libp2p::request_response::{self, OutboundFailure, OutboundRequestId, ResponseChannel};
use std::sync::atomic::Ordering;

/// What an accepted envelope is for.
pub(super) enum Accepted {
    Deliver(Envelope),
    Forward(Envelope),
    Advert,
}

impl Runtime {
    pub(super) fn on_envelope_event(&mut self, event: request_response::Event<Frame, Ack>) {
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
            Event::OutboundFailure { request_id, error, .. } => self.on_outbound_failure(request_id, error),
            _ => {}
        }
    }

    /// An envelope this node sent on got no answer: whoever waits for it learns why.
    fn on_outbound_failure(&mut self, request_id: OutboundRequestId, error: OutboundFailure) {
        if let Some((next, pending)) = self.pending.remove(&request_id) {
            self.landed(next);
            // No answer in time, or a stream the next hop refused while the link
            // stays up (it is at its stream bound), means the next hop is overloaded;
            // a lost link means the route went away under the envelope.
            let connected = self.peers.get(&next).is_some_and(|p| p.connected);
            let reason = match error {
                OutboundFailure::Timeout => DropReason::Backpressure,
                OutboundFailure::Io(_) if connected => DropReason::Backpressure,
                _ => DropReason::NoRoute,
            };
            if !matches!(pending, Pending::Advert) {
                self.stats.count_drop(reason);
            }
            let id = match &pending {
                Pending::Local { id, .. } | Pending::Request { id, .. } | Pending::Forward { id, .. } => {
                    Some(*id)
                }
                Pending::Advert => None,
            };
            let ack = self.drop_ack(id, reason);
            self.answer(pending, ack, None);
        }
    }

    fn on_frame(&mut self, from: NodeId, Frame(bytes): Frame, channel: ResponseChannel<Ack>) {
        let id = envelope::peek_id(&bytes);
        match self.accept(from, bytes) {
            Ok(Accepted::Deliver(envelope)) => self.arrived(envelope, channel),
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

    /// Every check an arriving envelope goes through, in order: first those of any envelope
    /// (see `admit`), then those of its kind.
    fn accept(&mut self, from: NodeId, bytes: Vec<u8>) -> Result<Accepted, DropReason> {
        let (envelope, digest, now) = self.admit(from, bytes)?;
        if envelope.header.kind == Kind::Reply {
            // Replies travel back inside answers, never as envelopes of their own.
            return Err(DropReason::Malformed);
        }
        if envelope.header.kind == Kind::RouteAdvert {
            return self.on_advert(from, envelope, now);
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

    /// Sends `envelope` towards its destination, remembering who waits for the answer.
    /// On `Err` the waiting party has been answered with the drop.
    pub(super) fn forward(&mut self, envelope: Envelope, pending: Pending) -> Result<(), DropReason> {
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
}
