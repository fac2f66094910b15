//! The envelope every mesh message travels in: a versioned binary format with a hop record in
//! which every node that sends it on appends its id and a signature.
//!
//! Wire format, version 1 (all integers big-endian):
//!
//! ```text
//! "W4" | version u8 | kind u8 | id [16] | origin (len u8, id) | destination (len u8, id)
//!      | hop_limit u8 | created_at_ms u64 | payload (len u32, bytes) | hop count u8
//!      | hops: (node (len u8, id) | signature [64]) × count
//! ```
//!
//! Signatures: `digest = SHA-256("web4/envelope/v1" | header | payload length | payload)`.
//! The chain starts at `c0 = digest`; hop `i` signs `c_i | node_i` with its Ed25519 key, and
//! `c_{i+1} = SHA-256(c_i | node_i | signature_i)`. So hop 0 (the origin) vouches for the
//! header and payload, every later hop for everything before it, and each signature costs
//! the same whatever the payload's size. Changing any byte — payload, header, a hop's id or
//! signature, or the order of hops — breaks a signature or the decoding.
use super::{DropReason, NodeId};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use libp2p::identity::{Keypair, PublicKey};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};

/// The format version this code writes and reads.
pub const VERSION: u8 = 1;
const MAGIC: [u8; 2] = *b"W4";
const DOMAIN: &[u8] = b"web4/envelope/v1";
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
    pub signature: [u8; SIGNATURE_LEN],
}

/// A mesh envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub header: Header,
    pub payload: Bytes,
    pub hops: Vec<Hop>,
}

/// Why bytes are not an envelope.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the envelope is cut short")]
    Truncated,
    #[error("not an envelope (bad magic)")]
    BadMagic,
    #[error("unsupported envelope version {0}")]
    UnsupportedVersion(u8),
    #[error("unknown envelope kind {0}")]
    UnknownKind(u8),
    #[error("a node id is invalid")]
    BadNodeId,
    #[error("payload of {0} bytes exceeds the limit")]
    PayloadTooLarge(usize),
    #[error("hop limit or hop record of {0} exceeds the limit")]
    TooManyHops(u8),
    #[error("{0} bytes after the envelope")]
    TrailingBytes(usize),
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

/// Public keys decoded from node ids, kept because decoding (point decompression) costs more
/// than a hash-map lookup. Bounded: cleared when full.
#[derive(Default)]
pub struct KeyCache {
    keys: HashMap<NodeId, PublicKey>,
}

impl KeyCache {
    const CAPACITY: usize = 4096;

    /// The public key of `id` (decoded once, then kept).
    pub fn get(&mut self, id: &NodeId) -> Option<PublicKey> {
        if let Some(key) = self.keys.get(id) {
            return Some(key.clone());
        }
        let key = id.public_key()?;
        if self.keys.len() >= Self::CAPACITY {
            self.keys.clear();
        }
        self.keys.insert(*id, key.clone());
        Some(key)
    }
}

impl Envelope {
    /// A new envelope from the holder of `key`, signed as hop 0.
    pub fn new(
        key: &Keypair,
        id: [u8; 16],
        kind: Kind,
        destination: NodeId,
        hop_limit: u8,
        payload: Bytes,
        created_at_ms: u64,
    ) -> Self {
        let header = Header {
            id,
            kind,
            origin: NodeId::from(key),
            destination,
            hop_limit: hop_limit.min(MAX_HOPS),
            created_at_ms,
        };
        let mut envelope = Envelope { header, payload, hops: Vec::new() };
        let digest = envelope.digest();
        envelope.sign_hop(key, &digest);
        envelope
    }

    /// SHA-256 over the header and payload: what hop 0 signs.
    pub fn digest(&self) -> [u8; 32] {
        let mut header = BytesMut::with_capacity(128);
        encode_header(&self.header, &mut header);
        let mut hasher = Sha256::new();
        hasher.update(DOMAIN);
        hasher.update(&header);
        hasher.update((self.payload.len() as u32).to_be_bytes());
        hasher.update(&self.payload);
        hasher.finalize().into()
    }

    /// Appends a hop signed by `key`. `digest` is [`Envelope::digest`] (computed once by the
    /// caller, who usually has it from verifying).
    pub fn sign_hop(&mut self, key: &Keypair, digest: &[u8; 32]) {
        let node = NodeId::from(key);
        let chain = chain_value(digest, &self.hops);
        let message = hop_message(&chain, &node);
        // Ed25519 signing of a message cannot fail; an empty signature would simply never verify.
        let signature = key.sign(&message).ok().and_then(|s| <[u8; SIGNATURE_LEN]>::try_from(s).ok());
        self.hops.push(Hop { node, signature: signature.unwrap_or([0; SIGNATURE_LEN]) });
    }

    /// Checks freshness and the whole signature chain; returns the digest for reuse.
    pub fn verify(
        &self,
        now_ms: u64,
        freshness: Freshness,
        keys: &mut KeyCache,
    ) -> Result<[u8; 32], DropReason> {
        let created = self.header.created_at_ms;
        if created.saturating_add(freshness.max_age_ms) < now_ms
            || created > now_ms.saturating_add(freshness.max_skew_ms)
        {
            return Err(DropReason::Expired);
        }
        if self.hops.len() > usize::from(self.header.hop_limit) {
            return Err(DropReason::HopLimit);
        }
        match self.hops.first() {
            Some(first) if first.node == self.header.origin => {}
            _ => return Err(DropReason::BadSignature),
        }
        let digest = self.digest();
        let mut chain = digest;
        for hop in &self.hops {
            let key = keys.get(&hop.node).ok_or(DropReason::BadSignature)?;
            if !key.verify(&hop_message(&chain, &hop.node), &hop.signature) {
                return Err(DropReason::BadSignature);
            }
            chain = next_chain(&chain, hop);
        }
        Ok(digest)
    }

    /// The nodes the envelope has crossed, origin first.
    pub fn route(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.hops.iter().map(|h| h.node)
    }

    /// The wire bytes.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(160 + self.payload.len() + self.hops.len() * 104);
        encode_header(&self.header, &mut out);
        out.put_u32(self.payload.len() as u32);
        out.put_slice(&self.payload);
        out.put_u8(self.hops.len() as u8);
        for hop in &self.hops {
            put_node(&mut out, &hop.node);
            out.put_slice(&hop.signature);
        }
        out.freeze()
    }

    /// Parses wire bytes. Never panics; the payload is a slice of `bytes`, not a copy.
    pub fn decode(mut bytes: Bytes) -> Result<Self, DecodeError> {
        let buf = &mut bytes;
        if take::<2>(buf)? != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let version = get_u8(buf)?;
        if version != VERSION {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let kind_code = get_u8(buf)?;
        let kind = Kind::from_code(kind_code).ok_or(DecodeError::UnknownKind(kind_code))?;
        let id = take::<16>(buf)?;
        let origin = get_node(buf)?;
        let destination = get_node(buf)?;
        let hop_limit = get_u8(buf)?;
        if hop_limit > MAX_HOPS {
            return Err(DecodeError::TooManyHops(hop_limit));
        }
        if buf.remaining() < 8 {
            return Err(DecodeError::Truncated);
        }
        let created_at_ms = buf.get_u64();
        if buf.remaining() < 4 {
            return Err(DecodeError::Truncated);
        }
        let payload_len = buf.get_u32() as usize;
        if payload_len > MAX_PAYLOAD {
            return Err(DecodeError::PayloadTooLarge(payload_len));
        }
        if buf.remaining() < payload_len {
            return Err(DecodeError::Truncated);
        }
        let payload = buf.split_to(payload_len);
        let count = get_u8(buf)?;
        if count > MAX_HOPS {
            return Err(DecodeError::TooManyHops(count));
        }
        let mut hops = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let node = get_node(buf)?;
            let signature = take::<SIGNATURE_LEN>(buf)?;
            hops.push(Hop { node, signature });
        }
        if buf.has_remaining() {
            return Err(DecodeError::TrailingBytes(buf.remaining()));
        }
        let header = Header { id, kind, origin, destination, hop_limit, created_at_ms };
        Ok(Envelope { header, payload, hops })
    }
}

fn encode_header(h: &Header, out: &mut BytesMut) {
    out.put_slice(&MAGIC);
    out.put_u8(VERSION);
    out.put_u8(h.kind.code());
    out.put_slice(&h.id);
    put_node(out, &h.origin);
    put_node(out, &h.destination);
    out.put_u8(h.hop_limit);
    out.put_u64(h.created_at_ms);
}

/// The id of an encoded envelope, read without decoding the rest (for reporting a drop of an
/// envelope that fails to decode further on).
pub fn peek_id(bytes: &[u8]) -> Option<[u8; 16]> {
    (bytes.len() >= 20 && bytes[..2] == MAGIC).then(|| bytes[4..20].try_into().ok()).flatten()
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

fn put_node(out: &mut BytesMut, node: &NodeId) {
    let bytes = node.to_bytes();
    out.put_u8(bytes.len() as u8);
    out.put_slice(&bytes);
}

fn chain_value(digest: &[u8; 32], hops: &[Hop]) -> [u8; 32] {
    hops.iter().fold(*digest, |chain, hop| next_chain(&chain, hop))
}

fn next_chain(chain: &[u8; 32], hop: &Hop) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(chain);
    hasher.update(hop.node.to_bytes());
    hasher.update(hop.signature);
    hasher.finalize().into()
}

fn hop_message(chain: &[u8; 32], node: &NodeId) -> Vec<u8> {
    let node = node.to_bytes();
    let mut message = Vec::with_capacity(DOMAIN.len() + 4 + 32 + node.len());
    message.extend_from_slice(DOMAIN);
    message.extend_from_slice(b"/hop");
    message.extend_from_slice(chain);
    message.extend_from_slice(&node);
    message
}

fn get_u8(buf: &mut Bytes) -> Result<u8, DecodeError> {
    if buf.has_remaining() { Ok(buf.get_u8()) } else { Err(DecodeError::Truncated) }
}

fn take<const N: usize>(buf: &mut Bytes) -> Result<[u8; N], DecodeError> {
    if buf.remaining() < N {
        return Err(DecodeError::Truncated);
    }
    let mut out = [0u8; N];
    buf.copy_to_slice(&mut out);
    Ok(out)
}

fn get_node(buf: &mut Bytes) -> Result<NodeId, DecodeError> {
    let len = usize::from(get_u8(buf)?);
    if buf.remaining() < len {
        return Err(DecodeError::Truncated);
    }
    let bytes = buf.split_to(len);
    NodeId::from_bytes(&bytes).ok_or(DecodeError::BadNodeId)
}

/// Remembers the envelopes a node has accepted, so a replayed one is refused. An entry is
/// kept until its envelope would be refused as expired anyway, so memory is bounded by the
/// traffic of one freshness window. Each origin has its own budget of `per_origin` ids (its
/// rate × the window): past it, that origin's new envelopes are refused with `Backpressure`
/// rather than forgetting ids early (which would open a replay hole) — and one busy or
/// malicious origin cannot use up the budget of the others.
pub struct ReplayGuard {
    seen: HashMap<(NodeId, [u8; 16]), u64>,
    order: VecDeque<(u64, NodeId, [u8; 16])>,
    held: HashMap<NodeId, usize>,
    per_origin: usize,
    max_age_ms: u64,
}

impl ReplayGuard {
    /// A guard for envelopes accepted under `freshness`, holding at most `per_origin` ids of
    /// each origin.
    pub fn new(freshness: Freshness, per_origin: usize) -> Self {
        Self {
            seen: HashMap::new(),
            order: VecDeque::new(),
            held: HashMap::new(),
            per_origin,
            max_age_ms: freshness.max_age_ms,
        }
    }

    /// Records `header`'s id; `Err(Replay)` if it was already recorded.
    pub fn check(&mut self, header: &Header, now_ms: u64) -> Result<(), DropReason> {
        while let Some(&(expires, origin, id)) = self.order.front() {
            if expires >= now_ms {
                break;
            }
            self.order.pop_front();
            if self.seen.get(&(origin, id)) == Some(&expires) {
                self.seen.remove(&(origin, id));
                if let Some(held) = self.held.get_mut(&origin) {
                    *held -= 1;
                    if *held == 0 {
                        self.held.remove(&origin);
                    }
                }
            }
        }
        let key = (header.origin, header.id);
        if self.seen.contains_key(&key) {
            return Err(DropReason::Replay);
        }
        let held = self.held.entry(header.origin).or_default();
        if *held >= self.per_origin {
            return Err(DropReason::Backpressure);
        }
        *held += 1;
        // Kept monotonic so the queue stays ordered by expiry; an envelope that arrives out
        // of creation order is only remembered a little longer than it needs to be.
        let expires = header
            .created_at_ms
            .saturating_add(self.max_age_ms)
            .max(self.order.back().map_or(0, |last| last.0));
        self.seen.insert(key, expires);
        self.order.push_back((expires, header.origin, header.id));
        Ok(())
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// True when no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: u64 = 1_800_000_000_000;

    fn keys(n: usize) -> Vec<Keypair> {
        (0..n).map(|_| Keypair::generate_ed25519()).collect()
    }

    fn sample(keys: &[Keypair], payload: &'static [u8]) -> Envelope {
        let dest = NodeId::from(keys.last().unwrap());
        let mut e = Envelope::new(&keys[0], [7; 16], Kind::Data, dest, 8, Bytes::from_static(payload), NOW);
        let digest = e.digest();
        for k in &keys[1..keys.len() - 1] {
            e.sign_hop(k, &digest);
        }
        e
    }

    fn verify(e: &Envelope) -> Result<[u8; 32], DropReason> {
        e.verify(NOW, Freshness::default(), &mut KeyCache::default())
    }

    #[test]
    fn an_envelope_round_trips_through_its_wire_format() {
        let ks = keys(5);
        let e = sample(&ks, b"hello mesh");
        let decoded = Envelope::decode(e.encode()).unwrap();
        assert_eq!(decoded, e);
        assert_eq!(decoded.hops.len(), 4);
        assert!(verify(&decoded).is_ok());
        let route: Vec<_> = decoded.route().collect();
        assert_eq!(route, ks[..4].iter().map(NodeId::from).collect::<Vec<_>>());
    }

    #[test]
    fn a_tampered_payload_is_rejected() {
        let mut e = sample(&keys(3), b"pay 10");
        e.payload = Bytes::from_static(b"pay 99");
        assert_eq!(verify(&e), Err(DropReason::BadSignature));
    }

    #[test]
    fn a_tampered_header_is_rejected() {
        let mut e = sample(&keys(3), b"x");
        e.header.hop_limit = 30;
        assert_eq!(verify(&e), Err(DropReason::BadSignature));
    }

    #[test]
    fn a_tampered_hop_record_is_rejected() {
        let ks = keys(4);
        let mut dropped = sample(&ks, b"x");
        dropped.hops.remove(1);
        assert_eq!(verify(&dropped), Err(DropReason::BadSignature));

        let mut swapped = sample(&ks, b"x");
        swapped.hops.swap(1, 2);
        assert_eq!(verify(&swapped), Err(DropReason::BadSignature));

        let mut forged = sample(&ks, b"x");
        forged.hops[1].node = NodeId::from(&Keypair::generate_ed25519());
        assert_eq!(verify(&forged), Err(DropReason::BadSignature));

        let mut resigned = sample(&ks, b"x");
        resigned.hops[2].signature[0] ^= 1;
        assert_eq!(verify(&resigned), Err(DropReason::BadSignature));
    }

    #[test]
    fn an_origin_that_did_not_sign_first_is_rejected() {
        let ks = keys(3);
        let mut e = sample(&ks, b"x");
        e.header.origin = NodeId::from(&ks[1]);
        assert_eq!(verify(&e), Err(DropReason::BadSignature));
    }

    #[test]
    fn stale_and_future_envelopes_are_rejected() {
        let e = sample(&keys(3), b"x");
        let f = Freshness::default();
        let mut cache = KeyCache::default();
        assert_eq!(e.verify(NOW + 30_001, f, &mut cache), Err(DropReason::Expired));
        assert_eq!(e.verify(NOW - 5_001, f, &mut cache), Err(DropReason::Expired));
        assert!(e.verify(NOW + 30_000, f, &mut cache).is_ok());
    }

    #[test]
    fn a_hop_record_longer_than_the_hop_limit_is_rejected() {
        let ks = keys(3);
        let dest = NodeId::from(&ks[2]);
        let mut e = Envelope::new(&ks[0], [1; 16], Kind::Data, dest, 1, Bytes::new(), NOW);
        let digest = e.digest();
        e.sign_hop(&ks[1], &digest);
        assert_eq!(verify(&e), Err(DropReason::HopLimit));
    }

    #[test]
    fn a_replayed_envelope_is_rejected_until_it_would_have_expired() {
        let e = sample(&keys(3), b"x");
        let mut guard = ReplayGuard::new(Freshness::default(), 100);
        assert_eq!(guard.check(&e.header, NOW), Ok(()));
        assert_eq!(guard.check(&e.header, NOW + 1), Err(DropReason::Replay));
        assert_eq!(guard.check(&e.header, NOW + 30_000), Err(DropReason::Replay));
        // Past its window the envelope fails freshness; the guard may forget it.
        assert_eq!(guard.check(&e.header, NOW + 30_001), Ok(()));
    }

    #[test]
    fn a_full_replay_guard_refuses_instead_of_forgetting() {
        let mut guard = ReplayGuard::new(Freshness::default(), 2);
        let ks = keys(2);
        let mut e = sample(&ks, b"x");
        for i in 0..2u8 {
            e.header.id = [i; 16];
            assert_eq!(guard.check(&e.header, NOW), Ok(()));
        }
        e.header.id = [9; 16];
        assert_eq!(guard.check(&e.header, NOW), Err(DropReason::Backpressure));
        assert_eq!(guard.len(), 2);
    }

    #[test]
    fn a_reply_carries_its_route_ahead_of_the_answer_and_the_id_can_be_peeked() {
        let ks = keys(3);
        let route: Vec<NodeId> = ks.iter().map(NodeId::from).collect();
        let payload = with_route(&route, b"answer");
        let (got, answer) = split_route(payload).unwrap();
        assert_eq!(got, route);
        assert_eq!(&answer[..], b"answer");
        assert!(split_route(Bytes::from_static(&[2, 1])).is_err());
        let e = sample(&ks, b"x");
        assert_eq!(peek_id(&e.encode()), Some(e.header.id));
        assert_eq!(peek_id(b"short"), None);
    }

    #[test]
    fn one_origin_cannot_use_up_the_guard_for_the_others() {
        let mut guard = ReplayGuard::new(Freshness::default(), 2);
        let ks = keys(3);
        let mut flood = sample(&ks, b"x");
        for i in 0..2u8 {
            flood.header.id = [i; 16];
            assert_eq!(guard.check(&flood.header, NOW), Ok(()));
        }
        flood.header.id = [9; 16];
        assert_eq!(guard.check(&flood.header, NOW), Err(DropReason::Backpressure));
        let mut honest = sample(&ks, b"y");
        honest.header.origin = NodeId::from(&ks[1]);
        assert_eq!(guard.check(&honest.header, NOW), Ok(()), "another origin has its own budget");
        // Once the flood's ids expire, its budget is back.
        assert_eq!(guard.check(&flood.header, NOW + 30_001), Ok(()));
    }

    #[test]
    fn decoding_reports_what_is_wrong() {
        let bytes = sample(&keys(3), b"x").encode();
        assert_eq!(Envelope::decode(Bytes::from_static(b"XX")), Err(DecodeError::BadMagic));
        assert_eq!(Envelope::decode(bytes.slice(..bytes.len() - 1)), Err(DecodeError::Truncated));
        let mut v = bytes.to_vec();
        v[2] = 9;
        assert_eq!(Envelope::decode(v.into()), Err(DecodeError::UnsupportedVersion(9)));
        let mut v = bytes.to_vec();
        v.push(0);
        assert_eq!(Envelope::decode(v.into()), Err(DecodeError::TrailingBytes(1)));
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Envelope::decode(Bytes::from(bytes));
        }

        #[test]
        fn decoding_a_mangled_envelope_never_panics(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
            let mut bytes = sample(&keys(3), b"payload").encode().to_vec();
            for (at, value) in flips {
                let i = at % bytes.len();
                bytes[i] = value;
            }
            let _ = Envelope::decode(Bytes::from(bytes));
        }

        #[test]
        fn changing_any_byte_is_caught_by_decoding_or_verification(at in any::<usize>(), delta in 1u8..=255) {
            let original = sample(&keys(4), b"the payload");
            let mut bytes = original.encode().to_vec();
            let i = at % bytes.len();
            bytes[i] = bytes[i].wrapping_add(delta);
            match Envelope::decode(Bytes::from(bytes)) {
                Err(_) => {}
                Ok(e) => prop_assert!(verify(&e).is_err(), "byte {} changed and still verified", i),
            }
        }
    }
}
