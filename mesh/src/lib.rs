//! The mesh runtime: nodes with Ed25519 identities, linked over libp2p (TCP + Noise XX +
//! yamux), exchanging signed envelopes that carry a hop record, routed hop-limited across
//! nodes that are not directly connected, with a per-peer trust state machine.
//!
//! It depends on nothing of the platform; the server re-exports it as `server::mesh`.
#![forbid(unsafe_code)]

pub mod envelope;
pub mod identity;
pub mod node;
pub mod routing;
pub mod trust;

use libp2p::PeerId;
pub use libp2p::{Multiaddr, identity::Keypair};
use std::{fmt, str::FromStr};

/// A node's identity on the mesh: derived from its Ed25519 public key (a libp2p `PeerId`
/// with the key inlined), so anyone holding the id can verify the node's signatures.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(PeerId);

impl NodeId {
    /// The libp2p peer id.
    pub fn peer_id(&self) -> PeerId {
        self.0
    }

    /// The id's canonical bytes (a multihash).
    pub fn to_bytes(self) -> Vec<u8> {
        self.0.to_bytes()
    }

    /// Parses canonical bytes; only Ed25519 ids (with the key inlined) are node ids. Checks
    /// the shape without decompressing the key (that costs microseconds per id and happens
    /// when a signature is first verified, in `envelope::KeyCache`).
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let peer = PeerId::from_bytes(bytes).ok()?;
        let multihash = peer.as_ref();
        // Identity multihash holding a protobuf PublicKey { type: Ed25519 (1), data: 32 bytes }.
        let ed25519 = multihash.code() == 0
            && multihash.digest().len() == 36
            && multihash.digest()[..4] == [0x08, 0x01, 0x12, 0x20];
        ed25519.then_some(NodeId(peer))
    }

    /// The Ed25519 public key inlined in the id.
    pub fn public_key(&self) -> Option<libp2p::identity::PublicKey> {
        let multihash = self.0.as_ref();
        // Code 0 is the identity multihash: the digest is the protobuf-encoded public key.
        if multihash.code() != 0 {
            return None;
        }
        libp2p::identity::PublicKey::try_decode_protobuf(multihash.digest()).ok()
    }
}

impl TryFrom<PeerId> for NodeId {
    type Error = &'static str;

    fn try_from(peer: PeerId) -> Result<Self, Self::Error> {
        let id = NodeId(peer);
        match id.public_key() {
            Some(key) if key.clone().try_into_ed25519().is_ok() => Ok(id),
            _ => Err("not an Ed25519 node id"),
        }
    }
}

impl From<&libp2p::identity::Keypair> for NodeId {
    fn from(key: &libp2p::identity::Keypair) -> Self {
        NodeId(key.public().to_peer_id())
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", self.0)
    }
}

impl FromStr for NodeId {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let peer = PeerId::from_str(s).map_err(|_| "not a node id")?;
        NodeId::try_from(peer)
    }
}

/// Why a node dropped an envelope. Every drop is counted under one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// No route to the destination.
    NoRoute,
    /// The hop record already holds as many hops as the envelope allows.
    HopLimit,
    /// The sender or the next hop is blocked.
    Blocked,
    /// This node already appears in the hop record.
    Loop,
    /// Created too long ago, or too far in the future.
    Expired,
    /// A signature in the chain does not verify (tampered payload or hop record).
    BadSignature,
    /// The envelope id was seen before within the replay window.
    Replay,
    /// The next hop's queue is full.
    Backpressure,
    /// The bytes are not a well-formed envelope.
    Malformed,
    /// A request reached its destination but the application there never answered it.
    Unanswered,
}

impl DropReason {
    /// Every reason, for reports that list all counters (zeros included).
    pub const ALL: [DropReason; 10] = [
        DropReason::NoRoute,
        DropReason::HopLimit,
        DropReason::Blocked,
        DropReason::Loop,
        DropReason::Expired,
        DropReason::BadSignature,
        DropReason::Replay,
        DropReason::Backpressure,
        DropReason::Malformed,
        DropReason::Unanswered,
    ];

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Stable snake_case name (metrics labels, API).
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::NoRoute => "no_route",
            DropReason::HopLimit => "hop_limit",
            DropReason::Blocked => "blocked",
            DropReason::Loop => "loop",
            DropReason::Expired => "expired",
            DropReason::BadSignature => "bad_signature",
            DropReason::Replay => "replay",
            DropReason::Backpressure => "backpressure",
            DropReason::Malformed => "malformed",
            DropReason::Unanswered => "unanswered",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The TCP socket address a `/ip4|ip6/…/tcp/…` multiaddr names, if it names one.
pub fn socket_addr(addr: &Multiaddr) -> Option<std::net::SocketAddr> {
    use libp2p::multiaddr::Protocol;
    let mut ip = None;
    for part in addr.iter() {
        match part {
            Protocol::Ip4(v4) => ip = Some(std::net::IpAddr::V4(v4)),
            Protocol::Ip6(v6) => ip = Some(std::net::IpAddr::V6(v6)),
            Protocol::Tcp(port) => return ip.map(|ip| std::net::SocketAddr::new(ip, port)),
            _ => {}
        }
    }
    None
}
