//! The wire format (see the parent module's table): encoding, decoding that never panics, and
//! the field readers and writers the other parts share.
use super::{Envelope, Header, Hop, Kind, MAX_HOPS, MAX_PAYLOAD, SIGNATURE_LEN, VERSION};
use crate::NodeId;
use bytes::{Buf, BufMut, Bytes, BytesMut};

const MAGIC: [u8; 2] = *b"W4";

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

impl Envelope {
    /// The wire bytes.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(160 + self.payload.len() + self.hops.len() * 112);
        encode_header(&self.header, &mut out);
        out.put_u32(self.payload.len() as u32);
        out.put_slice(&self.payload);
        out.put_u8(self.hops.len() as u8);
        for hop in &self.hops {
            put_node(&mut out, &hop.node);
            out.put_u64(hop.at_us);
            out.put_slice(&hop.signature);
        }
        out.freeze()
    }

    /// Parses wire bytes. Never panics; the payload is a slice of `bytes`, not a copy.
    pub fn decode(mut bytes: Bytes) -> Result<Self, DecodeError> {
        let buf = &mut bytes;
        let header = get_header(buf)?;
        let payload = get_payload(buf)?;
        let hops = get_hops(buf)?;
        if buf.has_remaining() {
            return Err(DecodeError::TrailingBytes(buf.remaining()));
        }
        Ok(Envelope { header, payload, hops })
    }
}

/// Writes the header: also what the origin's signature covers (see `Envelope::digest`).
pub(super) fn encode_header(h: &Header, out: &mut BytesMut) {
    out.put_slice(&MAGIC);
    out.put_u8(VERSION);
    out.put_u8(h.kind.code());
    out.put_slice(&h.id);
    put_node(out, &h.origin);
    put_node(out, &h.destination);
    out.put_u8(h.hop_limit);
    out.put_u64(h.created_at_ms);
}

/// Reads what [`encode_header`] wrote.
fn get_header(buf: &mut Bytes) -> Result<Header, DecodeError> {
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
    let created_at_ms = get_u64(buf)?;
    Ok(Header { id, kind, origin, destination, hop_limit, created_at_ms })
}

/// Reads the payload's length and the payload (a slice, not a copy).
fn get_payload(buf: &mut Bytes) -> Result<Bytes, DecodeError> {
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
    Ok(buf.split_to(payload_len))
}

/// Reads the hop record: its count, then each hop's node, time and signature.
fn get_hops(buf: &mut Bytes) -> Result<Vec<Hop>, DecodeError> {
    let count = get_u8(buf)?;
    if count > MAX_HOPS {
        return Err(DecodeError::TooManyHops(count));
    }
    let mut hops = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let node = get_node(buf)?;
        let at_us = get_u64(buf)?;
        let signature = take::<SIGNATURE_LEN>(buf)?;
        hops.push(Hop { node, at_us, signature });
    }
    Ok(hops)
}

/// The id of an encoded envelope, read without decoding the rest (for reporting a drop of an
/// envelope that fails to decode further on).
pub fn peek_id(bytes: &[u8]) -> Option<[u8; 16]> {
    (bytes.len() >= 20 && bytes[..2] == MAGIC).then(|| bytes[4..20].try_into().ok()).flatten()
}

pub(super) fn put_node(out: &mut BytesMut, node: &NodeId) {
    let bytes = node.to_bytes();
    out.put_u8(bytes.len() as u8);
    out.put_slice(&bytes);
}

pub(super) fn get_u8(buf: &mut Bytes) -> Result<u8, DecodeError> {
    if buf.has_remaining() { Ok(buf.get_u8()) } else { Err(DecodeError::Truncated) }
}

pub(super) fn get_u64(buf: &mut Bytes) -> Result<u64, DecodeError> {
    if buf.remaining() >= 8 { Ok(buf.get_u64()) } else { Err(DecodeError::Truncated) }
}

fn take<const N: usize>(buf: &mut Bytes) -> Result<[u8; N], DecodeError> {
    if buf.remaining() < N {
        return Err(DecodeError::Truncated);
    }
    let mut out = [0u8; N];
    buf.copy_to_slice(&mut out);
    Ok(out)
}

pub(super) fn get_node(buf: &mut Bytes) -> Result<NodeId, DecodeError> {
    let len = usize::from(get_u8(buf)?);
    if buf.remaining() < len {
        return Err(DecodeError::Truncated);
    }
    let bytes = buf.split_to(len);
    NodeId::from_bytes(&bytes).ok_or(DecodeError::BadNodeId)
}
