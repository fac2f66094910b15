//! Routes: the nodes an envelope crossed, and the route a reply carries ahead of its answer.
use super::{
    DecodeError, Envelope,
    wire::{get_node, get_u8, put_node},
};
use crate::NodeId;
use bytes::{BufMut, Bytes, BytesMut};

impl Envelope {
    /// The nodes the envelope has crossed, origin first.
    pub fn route(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.hops.iter().map(|h| h.node)
    }
}

/// A reply's payload: the route its request took (as the destination verified it from the
/// request's hop signatures), then the answer. The destination signs the whole, so the origin
/// learns the route from the destination itself, not from whoever relays the reply.
pub fn with_route(route: &[NodeId], answer: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(1 + route.len() * 40 + answer.len());
    out.put_u8(u8::try_from(route.len()).unwrap_or(u8::MAX));
    for node in route.iter().take(usize::from(u8::MAX)) {
        put_node(&mut out, node);
    }
    out.put_slice(answer);
    out.freeze()
}

/// Splits what [`with_route`] wrote; the answer is a slice, not a copy.
pub fn split_route(mut payload: Bytes) -> Result<(Vec<NodeId>, Bytes), DecodeError> {
    let count = get_u8(&mut payload)?;
    let route = (0..count).map(|_| get_node(&mut payload)).collect::<Result<_, _>>()?;
    Ok((route, payload))
}
