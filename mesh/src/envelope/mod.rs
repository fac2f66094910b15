//! The envelope every mesh message travels in: a versioned binary format with a hop record in
//! which every node that sends it on appends its id, the time it did so and a signature.
//!
//! Wire format, version 2 (all integers big-endian):
//!
//! ```text
//! "W4" | version u8 | kind u8 | id [16] | origin (len u8, id) | destination (len u8, id)
//!      | hop_limit u8 | created_at_ms u64 | payload (len u32, bytes) | hop count u8
//!      | hops: (node (len u8, id) | at_us u64 | signature [64]) × count
//! ```
//!
//! Version 1 had no `at_us` in its hops; it is refused (`DecodeError::UnsupportedVersion(1)`).
//!
//! Signatures: `digest = SHA-256("web4/envelope/v2" | header | payload length | payload)`.
//! The chain starts at `c0 = digest`; hop `i` signs `c_i | node_i | at_us_i` with its Ed25519
//! key, and `c_{i+1} = SHA-256(c_i | node_i | at_us_i | signature_i)`. So hop 0 (the origin)
//! vouches for the header and payload, every later hop for everything before it, and each
//! signature costs the same whatever the payload's size. Changing any byte — payload, header,
//! a hop's id, time or signature, or the order of hops — breaks a signature or the decoding;
//! in particular no relay can change the time another hop stamped.
//!
//! Hop times (`at_us`, microseconds since the Unix epoch on the signing node's own clock) are
//! taken when the node signs its hop:
//! - hop 0, the origin: when it creates and signs the envelope, just before handing it to the
//!   link (the node sends it in the same turn of its event loop);
//! - a relay: when it forwards — after it decoded and verified the envelope and passed every
//!   admission check, just before sending it to the next hop.
//!
//! The destination appends no hop; the time it received the envelope (after the same checks)
//! travels back in the reply's route instead (see [`with_route`]). Stamps of different nodes
//! come from different clocks: between hosted nodes they differ by the machines' clock skew
//! (a difference between two nodes' stamps can even be negative); embedded nodes share one
//! clock. Nothing checks the stamps against a clock or against each other: they are a trace,
//! signed so that each node answers for its own, not an input to any decision.
//!
//! The parts: the wire format (`wire.rs`), signing and verifying the hop chain (`signing.rs`),
//! the route a reply carries (`route.rs`) and the guard against replays (`replay.rs`).
mod replay;
mod route;
mod signing;
mod wire;

pub use replay::ReplayGuard;
pub use route::{HopStamp, split_route, with_route};
pub use signing::KeyCache;
pub use wire::{DecodeError, peek_id};

use super::NodeId;
use bytes::Bytes;
use std::time::{SystemTime, UNIX_EPOCH};

/// The format version this code writes and reads.
pub const VERSION: u8 = 2;
/// Largest payload an envelope may carry.
pub const MAX_PAYLOAD: usize = 4 << 20;
/// Largest hop limit (and so hop record) an envelope may have.
pub const MAX_HOPS: u8 = 32;
const SIGNATURE_LEN: usize = 64;

/// What an envelope carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Application data for the destination.
    Data,
    /// An answer to a `Data` envelope.
    Reply,
    /// A routing advertisement for a direct neighbour.
    RouteAdvert,
    /// Application data whose destination must answer (with a `Reply` signed by it).
    Request,
}

impl Kind {
    fn code(self) -> u8 {
        match self {
            Kind::Data => 1,
            Kind::Reply => 2,
            Kind::RouteAdvert => 3,
            Kind::Request => 4,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Kind::Data),
            2 => Some(Kind::Reply),
            3 => Some(Kind::RouteAdvert),
            4 => Some(Kind::Request),
            _ => None,
        }
    }
}

/// The signed, immutable part of an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub id: [u8; 16],
    pub kind: Kind,
    pub origin: NodeId,
    pub destination: NodeId,
    /// Most links the envelope may cross.
    pub hop_limit: u8,
    /// Milliseconds since the Unix epoch, set by the origin.
    pub created_at_ms: u64,
}

/// One entry of the hop record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    pub node: NodeId,
    /// When `node` signed this hop: microseconds since the Unix epoch on its own clock (see
    /// the module doc for what each hop's time means). Covered by the hop's signature.
    pub at_us: u64,
    pub signature: [u8; SIGNATURE_LEN],
}

/// A mesh envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub header: Header,
    pub payload: Bytes,
    pub hops: Vec<Hop>,
}

/// How old (or how far ahead of the local clock) an envelope may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Freshness {
    pub max_age_ms: u64,
    pub max_skew_ms: u64,
}

impl Default for Freshness {
    /// 30 s old at most, 5 s ahead at most.
    fn default() -> Self {
        Self { max_age_ms: 30_000, max_skew_ms: 5_000 }
    }
}

/// Microseconds since the Unix epoch on this machine's clock (0 if the clock is before 1970):
/// the unit of hop times.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests;
