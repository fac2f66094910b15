//! Who and what is let in: the allow list the control plane keeps, blocks and what earns
//! one, and the checks every arriving envelope passes before this node acts on it (the
//! signature chain, loops, blocked senders and origins, replays).
use super::{now_ms, state::Runtime};
use crate::{
    DropReason, NodeId,
    envelope::Envelope,
    trust::{TrustEvent, TrustLevel, TrustTransition},
};
use bytes::Bytes;
use chrono::Utc;
use std::{sync::atomic::Ordering, time::Instant};

impl Runtime {
    /// The checks of any envelope, whatever its kind, in order. Returns the envelope with its
    /// digest (for signing it on) and the time it was checked at.
    pub(super) fn admit(
        &mut self,
        from: NodeId,
        bytes: Vec<u8>,
    ) -> Result<(Envelope, [u8; 32], u64), DropReason> {
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
        Ok((envelope, digest, now))
    }

    /// Applies `event` to `peer`'s trust, now; a change of level is counted
    /// (`NodeStats::trust_transitions`) and returned. Every trust change goes through here.
    pub(super) fn trust_event(&mut self, peer: NodeId, event: TrustEvent) -> Option<TrustTransition> {
        let transition = self.peer(peer).trust.apply(event, Utc::now());
        if transition.is_some() {
            self.stats.trust_transitions.fetch_add(1, Ordering::Relaxed);
        }
        transition
    }

    pub(super) fn is_blocked(&self, id: &NodeId) -> bool {
        self.peers.get(id).is_some_and(|p| p.trust.level() == TrustLevel::Blocked)
    }

    /// Counts an invalid signature against `from`, blocking it at the limit.
    pub(super) fn invalid_signature(&mut self, from: NodeId) {
        let limit = self.config.invalid_signature_limit;
        let p = self.peer(from);
        p.invalid_signatures += 1;
        if p.invalid_signatures >= limit {
            self.block(from, TrustEvent::RepeatedInvalidSignatures);
        }
    }

    /// Admits `peer` (see `MeshHandle::allow`).
    pub(super) fn allow(&mut self, peer: NodeId) {
        let p = self.peer(peer);
        p.allowed = true;
        if p.trust.level() == TrustLevel::Blocked {
            self.trust_event(peer, TrustEvent::OperatorUnblock);
        }
        self.swarm.behaviour_mut().allow.allow_peer(peer.peer_id());
    }

    /// Forgets `peer` and refuses it again (see `MeshHandle::forget`).
    pub(super) fn forget(&mut self, peer: NodeId) {
        self.peers.remove(&peer);
        self.swarm.behaviour_mut().allow.disallow_peer(peer.peer_id());
        let _ = self.swarm.disconnect_peer_id(peer.peer_id());
        if self.table.withdraw(peer, Instant::now()) {
            self.advertise_all();
        }
    }

    /// Blocks `peer` for `reason`: disconnected, refused, its routes withdrawn.
    pub(super) fn block(&mut self, peer: NodeId, reason: TrustEvent) {
        if let Some(t) = self.trust_event(peer, reason) {
            tracing::warn!(node_id = %self.me, %peer, reason = t.reason.as_str(), "peer blocked");
        }
        self.swarm.behaviour_mut().allow.disallow_peer(peer.peer_id());
        let _ = self.swarm.disconnect_peer_id(peer.peer_id());
        if self.table.withdraw(peer, Instant::now()) {
            self.advertise_all();
        }
    }

    /// Lifts a block (see `MeshHandle::unblock`).
    pub(super) fn unblock(&mut self, peer: NodeId) {
        if self.trust_event(peer, TrustEvent::OperatorUnblock).is_some() {
            tracing::info!(node_id = %self.me, %peer, "peer unblocked");
        }
        if self.peer(peer).allowed {
            self.swarm.behaviour_mut().allow.allow_peer(peer.peer_id());
        }
    }
}
