//! Routes: the nodes an envelope crossed with their times, and the route a reply carries ahead
//! of its answer.
use super::{
    DecodeError, Envelope,
    wire::{get_node, get_u8, get_u64, put_node},
};
use crate::NodeId;
use bytes::{BufMut, Bytes, BytesMut};

/// A node on a request's path and its time there: microseconds since the Unix epoch on that
/// node's own clock. For a hop of the record, when the node signed it (see the module doc);
/// for the destination of a request, when it received the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HopStamp {
    pub node: NodeId,
    pub at_us: u64,
}

impl Envelope {
    /// The nodes the envelope has crossed, origin first.
    pub fn route(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.hops.iter().map(|h| h.node)
    }

    /// The nodes the envelope has crossed with the times they signed their hops, origin first.
    pub fn stamps(&self) -> impl Iterator<Item = HopStamp> + '_ {
        self.hops.iter().map(|h| HopStamp { node: h.node, at_us: h.at_us })
    }
}

/// A reply's payload: the route its request took, each node with its time (as the destination
/// verified them from the request's hop signatures, then the destination itself with the time
/// it received the request), then the answer:
///
/// ```text
/// count u8 | (node (len u8, id) | at_us u64) × count | answer
/// ```
///
/// The destination signs the whole, so the origin learns the route and its times from the
/// destination itself, not from whoever relays the reply.
pub fn with_route(route: &[HopStamp], answer: &[u8]) -> Bytes {
    let route = &route[..route.len().min(usize::from(u8::MAX))];
    let mut out = BytesMut::with_capacity(1 + route.len() * 48 + answer.len());
    out.put_u8(route.len() as u8);
    for stamp in route {
        put_node(&mut out, &stamp.node);
        out.put_u64(stamp.at_us);
    }
    out.put_slice(answer);
    out.freeze()
}

/// Splits what [`with_route`] wrote; the answer is a slice, not a copy.
pub fn split_route(mut payload: Bytes) -> Result<(Vec<HopStamp>, Bytes), DecodeError> {
    let count = get_u8(&mut payload)?;
    let route = (0..count)
        .map(|_| Ok(HopStamp { node: get_node(&mut payload)?, at_us: get_u64(&mut payload)? }))
        .collect::<Result<_, _>>()?;
    Ok((route, payload))
}
