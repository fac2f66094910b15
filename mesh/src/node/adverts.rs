//! Routing advertisements: the node's own signed sequence number, adverts sent periodically
//! and on reachability changes (coalesced), and the checks an arriving advert's entries pass.
use super::{
    now_ms,
    relay::Accepted,
    state::Frame,
    state::{Pending, Runtime},
};
use crate::{
    DropReason, NodeId,
    envelope::{Envelope, Kind},
    routing,
};
use std::time::{Duration, Instant};

/// Least time between two triggered advertisements: changes arriving in a burst go out as one.
const TRIGGER_COALESCE: Duration = Duration::from_millis(100);

impl Runtime {
    /// An advertisement from the neighbour `from`, admitted already (see `admit`): its
    /// vouched-for entries go into the routing table, and a change of reachability is
    /// advertised on.
    pub(super) fn on_advert(
        &mut self,
        from: NodeId,
        envelope: Envelope,
        now_ms: u64,
    ) -> Result<Accepted, DropReason> {
        if envelope.header.origin != from || envelope.header.destination != self.me {
            return Err(DropReason::Malformed);
        }
        let entries = routing::decode_advert(envelope.payload).ok_or(DropReason::Malformed)?;
        let entries = self.vouched(from, entries, now_ms)?;
        if self.table.apply(from, &entries, Instant::now()) {
            self.trigger_adverts();
        }
        Ok(Accepted::Advert)
    }

    /// Signs this node's current sequence number for its advertisements.
    pub(super) fn sign_own_seq(&mut self) {
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

    /// The periodic advertisement: a fresh signed sequence number, broken routes past their
    /// time forgotten, and the whole table to every neighbour (which also sends a triggered
    /// advertisement still waiting).
    pub(super) fn advertise_periodically(&mut self) {
        self.table.bump_own_seq(now_ms());
        self.sign_own_seq();
        self.table.prune_broken(Instant::now(), Duration::from_secs(60));
        self.advert_pending = false;
        self.advertise_all();
    }

    /// Asks for an advertisement of a reachability change, sent at once unless one went out
    /// in the last `TRIGGER_COALESCE` (then the 50 ms tick sends it when that has passed).
    pub(super) fn trigger_adverts(&mut self) {
        self.advert_pending = true;
        self.flush_adverts();
    }

    pub(super) fn flush_adverts(&mut self) {
        if self.advert_pending && self.last_triggered.elapsed() >= TRIGGER_COALESCE {
            self.advert_pending = false;
            self.last_triggered = Instant::now();
            self.advertise_all();
        }
    }

    pub(super) fn advertise_all(&mut self) {
        let neighbors: Vec<NodeId> = self.table.neighbors().copied().collect();
        for n in neighbors {
            self.advertise_to(n);
        }
    }

    pub(super) fn advertise_to(&mut self, neighbor: NodeId) {
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
}
