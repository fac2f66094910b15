//! Envelopes addressed to this node: handing them to the application, and sending its answer
//! to a request (or the lack of one) back to whoever waits for it.
use super::{
    Answer, Delivery, Receipt, Responder, now_ms,
    state::{Ack, Awaiting, Runtime},
};
use crate::{
    DropReason,
    envelope::{self, Envelope, HopStamp, Kind, now_us},
};
use bytes::Bytes;
use libp2p::request_response::ResponseChannel;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;

impl Runtime {
    /// An accepted envelope for this node, from the hop that waits on `channel`: a request
    /// goes to the application to answer (its route remembered with the hops' times and the
    /// time it arrived here, after its checks); data is delivered and acknowledged with its
    /// route.
    pub(super) fn arrived(&mut self, envelope: Envelope, channel: ResponseChannel<Ack>) {
        let mut route: Vec<HopStamp> = envelope.stamps().collect();
        route.push(HopStamp { node: self.me, at_us: now_us() });
        if envelope.header.kind == Kind::Request {
            let (origin, id) = (envelope.header.origin, envelope.header.id);
            self.deliver(envelope, Awaiting::Remote { channel, route, origin, id });
            return;
        }
        let id = envelope.header.id;
        let ack = match self.inbox.try_send(Delivery { envelope, responder: None }) {
            Ok(()) => {
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                Ack::Delivered { route: route.iter().map(|s| s.node.to_string()).collect() }
            }
            Err(_) => {
                self.stats.count_drop(DropReason::Backpressure);
                self.drop_ack(Some(id), DropReason::Backpressure)
            }
        };
        let _ = self.swarm.behaviour_mut().envelopes.send_response(channel, ack);
    }

    /// Hands an envelope that needs an answer to the application, remembering who waits.
    pub(super) fn deliver(&mut self, envelope: Envelope, awaiting: Awaiting) {
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
    pub(super) fn respond(&mut self, token: u64, payload: Option<Bytes>) {
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
            Some(Awaiting::Local { id, sent_at_us, reply }) => {
                let receipt = Receipt { id, route: vec![self.me] };
                let now = now_us();
                let _ = reply.send(Ok(Answer {
                    receipt,
                    payload,
                    hops: vec![HopStamp { node: self.me, at_us: sent_at_us }],
                    reply_hops: vec![HopStamp { node: self.me, at_us: now }],
                    received_at_us: now,
                }));
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
}
