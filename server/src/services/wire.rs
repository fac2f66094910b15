//! What an invoke looks like inside a mesh envelope: the entry node's request to the hosting
//! node and the hosting node's reply. A compact binary format (big-endian lengths) written
//! once into one buffer; on reading, header values and the body are slices of the envelope's
//! payload, not copies.
//!
//! ```text
//! request: "WI" 2 | invoke id [16] | service id (u16 len)
//!          | method (u8) | path and query (u16) | timeout ms u32 | max response bytes u32
//!          | header count u16 | (name (u16), value (u16)) × count | body (the rest)
//! reply:   "WR" 2 | 0 | status u16 | header count u16 | headers | body (the rest)
//!          "WR" 2 | 1 | failure code u8 | message (u16)
//! ```
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Largest upstream answer a call can carry back (one envelope, less room for headers).
pub const MAX_RESPONSE_BYTES: u32 = (crate::mesh::envelope::MAX_PAYLOAD - 64 * 1024) as u32;
/// Time the mesh may add to a service's timeout before the gateway gives up.
pub const MESH_MARGIN: std::time::Duration = std::time::Duration::from_secs(1);

const REQUEST_MAGIC: [u8; 2] = *b"WI";
const REPLY_MAGIC: [u8; 2] = *b"WR";
/// 2: the request names no upstream — the hosting node takes it from its own grants (a
/// request could otherwise make a node fetch any URL).
const VERSION: u8 = 2;

/// Why bytes are not an invoke message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed invoke message")]
pub struct Malformed;

/// An invoke as the hosting node receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub invoke_id: [u8; 16],
    pub service_id: String,
    pub method: String,
    pub path_and_query: String,
    pub timeout_ms: u32,
    pub max_response_bytes: u32,
    pub headers: Vec<(String, Bytes)>,
    pub body: Bytes,
}

/// Why the hosting node could not get an answer from the upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No answer within the service's timeout.
    Timeout,
    /// Connection refused, DNS failure, TLS failure, reset.
    Unreachable,
    /// The upstream's answer is larger than an envelope may carry.
    ResponseTooLarge,
    /// The request could not be built (e.g. an invalid header reached the host).
    BadRequest,
    /// The egress policy refused the upstream's address (see `crate::egress`).
    EgressRefused,
    /// The hosting node does not take this call: its origin is not one of the control
    /// plane's entry nodes, or the service is not placed on this node (as far as it knows).
    NotPermitted,
    /// The hosting node is running as many calls as it allows: try another placement.
    Busy,
}

impl Failure {
    fn code(self) -> u8 {
        match self {
            Failure::Timeout => 1,
            Failure::Unreachable => 2,
            Failure::ResponseTooLarge => 3,
            Failure::BadRequest => 4,
            Failure::EgressRefused => 5,
            Failure::NotPermitted => 6,
            Failure::Busy => 7,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        [
            Failure::Timeout,
            Failure::Unreachable,
            Failure::ResponseTooLarge,
            Failure::BadRequest,
            Failure::EgressRefused,
            Failure::NotPermitted,
            Failure::Busy,
        ]
        .into_iter()
        .find(|f| f.code() == code)
    }
}

/// The hosting node's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Response { status: u16, headers: Vec<(String, Bytes)>, body: Bytes },
    Failed { failure: Failure, message: String },
}

/// A field does not fit the format (a string over 65 535 bytes, a method over 255, more than
/// 65 535 headers): it is refused, never cut short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} is longer than the mesh's call format allows ({limit} bytes or items)")]
pub struct TooLong {
    pub what: &'static str,
    pub limit: usize,
}

fn put_str16(out: &mut BytesMut, s: &[u8], what: &'static str) -> Result<(), TooLong> {
    let len = u16::try_from(s.len()).map_err(|_| TooLong { what, limit: u16::MAX as usize })?;
    out.put_u16(len);
    out.put_slice(s);
    Ok(())
}

fn put_headers<'a>(
    out: &mut BytesMut,
    headers: impl Iterator<Item = (&'a str, &'a [u8])> + Clone,
) -> Result<(), TooLong> {
    let count = u16::try_from(headers.clone().count())
        .map_err(|_| TooLong { what: "the header list", limit: u16::MAX as usize })?;
    out.put_u16(count);
    for (name, value) in headers {
        put_str16(out, name.as_bytes(), "a header name")?;
        put_str16(out, value, "a header value")?;
    }
    Ok(())
}

fn get_bytes16(buf: &mut Bytes) -> Result<Bytes, Malformed> {
    if buf.remaining() < 2 {
        return Err(Malformed);
    }
    let len = buf.get_u16() as usize;
    if buf.remaining() < len {
        return Err(Malformed);
    }
    Ok(buf.split_to(len))
}

fn get_str16(buf: &mut Bytes) -> Result<String, Malformed> {
    String::from_utf8(get_bytes16(buf)?.to_vec()).map_err(|_| Malformed)
}

fn need(buf: &Bytes, n: usize) -> Result<(), Malformed> {
    if buf.remaining() < n { Err(Malformed) } else { Ok(()) }
}

/// The parts of a request the entry node writes (borrowed: nothing is copied but into the
/// one output buffer).
pub struct RequestParts<'a, H> {
    pub invoke_id: [u8; 16],
    pub service_id: &'a str,
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub timeout_ms: u32,
    pub max_response_bytes: u32,
    pub headers: H,
    pub body: &'a [u8],
}

/// Writes a request.
pub fn encode_request<'a, H>(parts: RequestParts<'a, H>) -> Result<Bytes, TooLong>
where
    H: Iterator<Item = (&'a str, &'a [u8])> + Clone,
{
    let header_len: usize = parts.headers.clone().map(|(n, v)| 4 + n.len() + v.len()).sum();
    let mut out = BytesMut::with_capacity(
        64 + parts.service_id.len()
            + parts.method.len()
            + parts.path_and_query.len()
            + header_len
            + parts.body.len(),
    );
    out.put_slice(&REQUEST_MAGIC);
    out.put_u8(VERSION);
    out.put_slice(&parts.invoke_id);
    put_str16(&mut out, parts.service_id.as_bytes(), "the service id")?;
    let method_len =
        u8::try_from(parts.method.len()).map_err(|_| TooLong { what: "the method", limit: 255 })?;
    out.put_u8(method_len);
    out.put_slice(parts.method.as_bytes());
    put_str16(&mut out, parts.path_and_query.as_bytes(), "the path and query")?;
    out.put_u32(parts.timeout_ms);
    out.put_u32(parts.max_response_bytes);
    put_headers(&mut out, parts.headers)?;
    out.put_slice(parts.body);
    Ok(out.freeze())
}

fn check_magic(buf: &mut Bytes, magic: [u8; 2]) -> Result<(), Malformed> {
    need(buf, 3)?;
    if buf[..2] != magic || buf[2] != VERSION {
        return Err(Malformed);
    }
    buf.advance(3);
    Ok(())
}

fn get_headers(buf: &mut Bytes) -> Result<Vec<(String, Bytes)>, Malformed> {
    need(buf, 2)?;
    let count = buf.get_u16() as usize;
    let mut headers = Vec::with_capacity(count.min(256));
    for _ in 0..count {
        let name = get_str16(buf)?;
        let value = get_bytes16(buf)?;
        headers.push((name, value));
    }
    Ok(headers)
}

/// Reads a request; the body and header values are slices of `buf`.
pub fn decode_request(mut buf: Bytes) -> Result<Request, Malformed> {
    check_magic(&mut buf, REQUEST_MAGIC)?;
    need(&buf, 16)?;
    let mut invoke_id = [0; 16];
    buf.copy_to_slice(&mut invoke_id);
    let service_id = get_str16(&mut buf)?;
    need(&buf, 1)?;
    let method_len = buf.get_u8() as usize;
    need(&buf, method_len)?;
    let method = String::from_utf8(buf.split_to(method_len).to_vec()).map_err(|_| Malformed)?;
    let path_and_query = get_str16(&mut buf)?;
    need(&buf, 8)?;
    let timeout_ms = buf.get_u32();
    let max_response_bytes = buf.get_u32();
    let headers = get_headers(&mut buf)?;
    Ok(Request {
        invoke_id,
        service_id,
        method,
        path_and_query,
        timeout_ms,
        max_response_bytes,
        headers,
        body: buf,
    })
}

/// Writes a response reply's status and headers into a buffer with room for `body_capacity`
/// more bytes: the body is appended to it as it arrives (no second copy).
pub fn response_head<'a>(
    status: u16,
    headers: impl Iterator<Item = (&'a str, &'a [u8])> + Clone,
    body_capacity: usize,
) -> Result<BytesMut, TooLong> {
    let header_len: usize = headers.clone().map(|(n, v)| 4 + n.len() + v.len()).sum();
    let mut out = BytesMut::with_capacity(8 + header_len + body_capacity);
    out.put_slice(&REPLY_MAGIC);
    out.put_u8(VERSION);
    out.put_u8(0);
    out.put_u16(status);
    put_headers(&mut out, headers)?;
    Ok(out)
}

/// Writes a whole response reply.
pub fn encode_response<'a>(
    status: u16,
    headers: impl Iterator<Item = (&'a str, &'a [u8])> + Clone,
    body: &[u8],
) -> Result<Bytes, TooLong> {
    let mut out = response_head(status, headers, body.len())?;
    out.put_slice(body);
    Ok(out.freeze())
}

/// Most bytes of a failure's message (the platform writes these; a longer one is shortened
/// at a character boundary, and says so).
const MAX_MESSAGE: usize = 1024;

/// Writes a failure reply.
pub fn encode_failure(failure: Failure, message: &str) -> Bytes {
    let message: std::borrow::Cow<'_, str> = if message.len() <= MAX_MESSAGE {
        message.into()
    } else {
        let mut end = MAX_MESSAGE - 3;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &message[..end]).into()
    };
    let mut out = BytesMut::with_capacity(8 + message.len());
    out.put_slice(&REPLY_MAGIC);
    out.put_u8(VERSION);
    out.put_u8(1);
    out.put_u8(failure.code());
    out.put_u16(message.len() as u16);
    out.put_slice(message.as_bytes());
    out.freeze()
}

/// Reads a reply; the body and header values are slices of `buf`.
pub fn decode_reply(mut buf: Bytes) -> Result<Reply, Malformed> {
    check_magic(&mut buf, REPLY_MAGIC)?;
    need(&buf, 1)?;
    match buf.get_u8() {
        0 => {
            need(&buf, 2)?;
            let status = buf.get_u16();
            let headers = get_headers(&mut buf)?;
            Ok(Reply::Response { status, headers, body: buf })
        }
        1 => {
            need(&buf, 1)?;
            let failure = Failure::from_code(buf.get_u8()).ok_or(Malformed)?;
            let message = get_str16(&mut buf)?;
            Ok(Reply::Failed { failure, message })
        }
        _ => Err(Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_request_round_trips_and_its_body_is_not_copied() {
        let headers = [("content-type", b"application/json".as_slice()), ("x-a", b"1".as_slice())];
        let bytes = encode_request(RequestParts {
            invoke_id: [9; 16],
            service_id: "svc",
            method: "POST",
            path_and_query: "/a?b=c",
            timeout_ms: 1500,
            max_response_bytes: 1000,
            headers: headers.iter().copied(),
            body: b"{\"x\":1}",
        })
        .unwrap();
        let start = bytes.as_ptr() as usize;
        let end = start + bytes.len();
        let request = decode_request(bytes).unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path_and_query, "/a?b=c");
        assert_eq!(request.headers[0], ("content-type".to_owned(), Bytes::from_static(b"application/json")));
        assert_eq!(&request.body[..], b"{\"x\":1}");
        let body_at = request.body.as_ptr() as usize;
        assert!(body_at >= start && body_at < end, "the body is a slice of the payload");
    }

    #[test]
    fn replies_round_trip() {
        let r = encode_response(201, [("etag", b"\"1\"".as_slice())].into_iter(), b"ok").unwrap();
        assert_eq!(
            decode_reply(r).unwrap(),
            Reply::Response {
                status: 201,
                headers: vec![("etag".into(), Bytes::from_static(b"\"1\""))],
                body: Bytes::from_static(b"ok")
            }
        );
        let f = encode_failure(Failure::Timeout, "no answer in 2 s");
        assert_eq!(
            decode_reply(f).unwrap(),
            Reply::Failed { failure: Failure::Timeout, message: "no answer in 2 s".into() }
        );
    }

    #[test]
    fn a_field_too_long_for_the_format_is_refused_not_cut_short() {
        let long = vec![b'a'; 70_000];
        let parts = |value: &'static [u8]| RequestParts {
            invoke_id: [1; 16],
            service_id: "s",
            method: "GET",
            path_and_query: "/",
            timeout_ms: 1,
            max_response_bytes: 1,
            headers: [("x-big", value)].into_iter(),
            body: b"",
        };
        let long: &'static [u8] = Box::leak(long.into_boxed_slice());
        assert_eq!(encode_request(parts(long)).unwrap_err().what, "a header value");
        assert!(encode_request(parts(&long[..65_535])).is_ok(), "the longest that fits");
        let head = response_head(200, [("x-big", long)].into_iter(), 0);
        assert!(head.is_err());
        let method = "M".repeat(256);
        let request = RequestParts { method: &method, ..parts(b"") };
        assert_eq!(encode_request(request).unwrap_err().what, "the method");
    }

    #[test]
    fn a_long_failure_message_is_shortened_at_a_character_boundary() {
        let message = "é".repeat(2000);
        let Reply::Failed { message: got, .. } =
            decode_reply(encode_failure(Failure::Unreachable, &message)).unwrap()
        else {
            panic!("a failure")
        };
        assert!(got.len() <= MAX_MESSAGE && got.ends_with('…'), "{}", got.len());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_request(Bytes::from(bytes.clone()));
            let _ = decode_reply(Bytes::from(bytes));
        }

        #[test]
        fn truncated_requests_are_malformed(cut in 0usize..60) {
            let bytes = encode_request(RequestParts {
                invoke_id: [1; 16], service_id: "s", method: "GET",
                path_and_query: "/", timeout_ms: 1, max_response_bytes: 1,
                headers: [("a", b"b".as_slice())].into_iter(), body: b"",
            }).unwrap();
            let cut = cut.min(bytes.len() - 1);
            prop_assert!(decode_request(bytes.slice(..cut)).is_err());
        }
    }
}
