//! Signing and verifying: the origin's signature over header and payload, the hash chain every
//! later hop signs (see the parent module), and the cache of keys the signatures are checked
//! against.
use super::{Envelope, Freshness, Header, Hop, Kind, MAX_HOPS, SIGNATURE_LEN, now_us, wire::encode_header};
use crate::{DropReason, NodeId};
use bytes::{Bytes, BytesMut};
use libp2p::identity::{Keypair, PublicKey};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

const DOMAIN: &[u8] = b"web4/envelope/v2";

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
    /// A new envelope from the holder of `key`, signed as hop 0 stamped with the current time
    /// (see [`Envelope::sign_hop`]).
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

    /// Appends a hop signed by `key`, stamped with this machine's clock now ([`now_us`]).
    /// `digest` is [`Envelope::digest`] (computed once by the caller, who usually has it from
    /// verifying).
    pub fn sign_hop(&mut self, key: &Keypair, digest: &[u8; 32]) {
        self.sign_hop_at(key, digest, now_us());
    }

    /// Appends a hop signed by `key` and stamped `at_us` (microseconds since the Unix epoch).
    pub fn sign_hop_at(&mut self, key: &Keypair, digest: &[u8; 32], at_us: u64) {
        let node = NodeId::from(key);
        let chain = chain_value(digest, &self.hops);
        let message = hop_message(&chain, &node, at_us);
        // Ed25519 signing of a message cannot fail; an empty signature would simply never verify.
        let signature = key.sign(&message).ok().and_then(|s| <[u8; SIGNATURE_LEN]>::try_from(s).ok());
        self.hops.push(Hop { node, at_us, signature: signature.unwrap_or([0; SIGNATURE_LEN]) });
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
            if !key.verify(&hop_message(&chain, &hop.node, hop.at_us), &hop.signature) {
                return Err(DropReason::BadSignature);
            }
            chain = next_chain(&chain, hop);
        }
        Ok(digest)
    }
}

fn chain_value(digest: &[u8; 32], hops: &[Hop]) -> [u8; 32] {
    hops.iter().fold(*digest, |chain, hop| next_chain(&chain, hop))
}

fn next_chain(chain: &[u8; 32], hop: &Hop) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(chain);
    hasher.update(hop.node.to_bytes());
    hasher.update(hop.at_us.to_be_bytes());
    hasher.update(hop.signature);
    hasher.finalize().into()
}

fn hop_message(chain: &[u8; 32], node: &NodeId, at_us: u64) -> Vec<u8> {
    let node = node.to_bytes();
    let mut message = Vec::with_capacity(DOMAIN.len() + 4 + 32 + node.len() + 8);
    message.extend_from_slice(DOMAIN);
    message.extend_from_slice(b"/hop");
    message.extend_from_slice(chain);
    message.extend_from_slice(&node);
    message.extend_from_slice(&at_us.to_be_bytes());
    message
}
