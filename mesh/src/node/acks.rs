//! The answers that travel back along the path: what a hop answers ([`Ack`]), signed drop
//! reports and whether to believe one, and turning an ack into what the sender waits for (a
//! receipt, a request's verified answer, or the drop).
use super::{
    Answer, Receipt, SendError, now_ms,
    state::{Ack, Pending, Runtime},
};
use crate::{
    DropReason, NodeId,
    envelope::{self, Envelope, KeyCache, Kind, now_us},
};
use bytes::Bytes;

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

impl Runtime {
    /// A drop report from this node, signed when the envelope's id is known.
    pub(super) fn drop_ack(&self, id: Option<[u8; 16]>, reason: DropReason) -> Ack {
        let signature = id
            .and_then(|id| self.key.sign(&drop_message(&id, reason.as_str(), &self.me)).ok())
            .unwrap_or_default();
        Ack::Dropped { reason: reason.as_str().into(), at: self.me.to_string(), signature }
    }

    /// Answers whoever waits for envelope `pending`. `from` is the peer the ack came from
    /// (`None`: this node made it).
    pub(super) fn answer(&mut self, pending: Pending, ack: Ack, from: Option<NodeId>) {
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
    /// for this request, addressed to this node and fresh; the route and its times are the
    /// ones the destination signed, the reply's times those of its own hop record.
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
        let received_at_us = now_us();
        let reply_hops = envelope.stamps().collect();
        let (hops, payload) = envelope::split_route(envelope.payload)
            .map_err(|_| SendError::BadReply("reply without its route"))?;
        let route = hops.iter().map(|h| h.node).collect();
        Ok(Answer { receipt: Receipt { id, route }, payload, hops, reply_hops, received_at_us })
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

    pub(super) fn dropped(&self, reason: &str, at: &str) -> SendError {
        SendError::Dropped {
            reason: DropReason::parse(reason).unwrap_or(DropReason::Malformed),
            at: at.parse().unwrap_or(self.me),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libp2p::identity::Keypair;

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
