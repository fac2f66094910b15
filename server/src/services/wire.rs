//! What an invoke looks like inside a mesh envelope: the entry node's request to the hosting
//! node and the hosting node's reply. A compact binary format (big-endian lengths) written
//! once into one buffer; on reading, header values and the body are slices of the envelope's
//! payload, not copies.
//!
//! ```text
//! request: "WI" 3 | invoke id [16] | trace: 0 | 1, trace id [16], parent span id [8], flags u8
//!          | service id (u16 len)
//!          | method (u8) | path and query (u16) | timeout ms u32 | max response bytes u32
//!          | header count u16 | (name (u16), value (u16)) × count | body (the rest)
//! reply:   "WR" 3 | 0 | status u16 | host µs u32 | upstream at µs u32 | upstream µs u32
//!          | header count u16 | headers | body (the rest)
//!          "WR" 3 | 1 | failure code u8 | message (u16)
//! ```
//!
//! The trace (W3C Trace Context, see `observability::trace_context`) names the entry node's
//! attempt span as the parent: the hosting node continues it to the upstream. The reply's
//! timing is the hosting node's own clock (durations only, so the nodes' clocks need not
//! agree): how long it held the call, when the upstream call began after that, and how long
//! the upstream took; all zero when unknown.
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Largest upstream answer a call can carry back (one envelope, less room for headers).
pub const MAX_RESPONSE_BYTES: u32 = (crate::mesh::envelope::MAX_PAYLOAD - 64 * 1024) as u32;
/// Time the mesh may add to a service's timeout before the gateway gives up.
pub const MESH_MARGIN: std::time::Duration = std::time::Duration::from_secs(1);

const REQUEST_MAGIC: [u8; 2] = *b"WI";
const REPLY_MAGIC: [u8; 2] = *b"WR";
/// 2: the request names no upstream — the hosting node takes it from its own grants (a
/// request could otherwise make a node fetch any URL). 3: the trace context in the request,
/// the hosting node's timing in the reply.
const VERSION: u8 = 3;
/// Where a request's parent span id is (when it carries a trace).
const PARENT_AT: usize = 3 + 16 + 1 + 16;
/// Where a response reply's timing is.
const TIMING_AT: usize = 3 + 1 + 2;

/// The trace a request belongs to: its id, the entry node's span that is the parent of the
/// hosting node's, and the W3C flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trace {
    pub trace_id: [u8; 16],
    pub parent_id: [u8; 8],
    pub flags: u8,
}

/// The hosting node's timing of a call, in microseconds of its own clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostTiming {
    /// From taking the request off the mesh to the reply's last byte.
    pub host_us: u32,
    /// When the upstream call began, after the host took the request.
    pub upstream_at_us: u32,
    /// The upstream's time: from sending the request to the answer's last byte.
    pub upstream_us: u32,
}

/// Why bytes are not an invoke message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed invoke message")]
pub struct Malformed;

/// An invoke as the hosting node receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub invoke_id: [u8; 16],
    pub trace: Option<Trace>,
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
    Response { status: u16, timing: HostTiming, headers: Vec<(String, Bytes)>, body: Bytes },
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
    pub trace: Option<Trace>,
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
    match parts.trace {
        None => out.put_u8(0),
        Some(trace) => {
            out.put_u8(1);
            out.put_slice(&trace.trace_id);
            out.put_slice(&trace.parent_id);
            out.put_u8(trace.flags);
        }
    }
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

/// A request's trace: absent, or non-zero ids (anything else is malformed).
fn get_trace(buf: &mut Bytes) -> Result<Option<Trace>, Malformed> {
    need(buf, 1)?;
    match buf.get_u8() {
        0 => Ok(None),
        1 => {
            need(buf, 25)?;
            let mut trace = Trace { trace_id: [0; 16], parent_id: [0; 8], flags: 0 };
            buf.copy_to_slice(&mut trace.trace_id);
            buf.copy_to_slice(&mut trace.parent_id);
            trace.flags = buf.get_u8();
            if trace.trace_id == [0; 16] || trace.parent_id == [0; 8] {
                return Err(Malformed);
            }
            Ok(Some(trace))
        }
        _ => Err(Malformed),
    }
}

/// The same request with `parent` as its parent span (another attempt's span): a copy, made
/// only for retries. A request without a trace is returned as it is.
pub fn with_parent(request: &Bytes, parent: [u8; 8]) -> Bytes {
    if request.len() < PARENT_AT + 8 || request[PARENT_AT - 17] != 1 {
        return request.clone();
    }
    let mut copy = BytesMut::from(&request[..]);
    copy[PARENT_AT..PARENT_AT + 8].copy_from_slice(&parent);
    copy.freeze()
}

/// Reads a request; the body and header values are slices of `buf`.
pub fn decode_request(mut buf: Bytes) -> Result<Request, Malformed> {
    check_magic(&mut buf, REQUEST_MAGIC)?;
    need(&buf, 16)?;
    let mut invoke_id = [0; 16];
    buf.copy_to_slice(&mut invoke_id);
    let trace = get_trace(&mut buf)?;
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
        trace,
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
    out.put_bytes(0, 12);
    put_headers(&mut out, headers)?;
    Ok(out)
}

/// Writes the hosting node's timing into a reply [`response_head`] began (once the body is in).
pub fn set_timing(reply: &mut BytesMut, timing: HostTiming) {
    if reply.len() >= TIMING_AT + 12 && reply[3] == 0 {
        let at = &mut reply[TIMING_AT..TIMING_AT + 12];
        at[..4].copy_from_slice(&timing.host_us.to_be_bytes());
        at[4..8].copy_from_slice(&timing.upstream_at_us.to_be_bytes());
        at[8..].copy_from_slice(&timing.upstream_us.to_be_bytes());
    }
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
            need(&buf, 14)?;
            let status = buf.get_u16();
            let timing = HostTiming {
                host_us: buf.get_u32(),
                upstream_at_us: buf.get_u32(),
                upstream_us: buf.get_u32(),
            };
            let headers = get_headers(&mut buf)?;
            Ok(Reply::Response { status, timing, headers, body: buf })
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
        let trace = Trace { trace_id: [7; 16], parent_id: [8; 8], flags: 1 };
        let bytes = encode_request(RequestParts {
            invoke_id: [9; 16],
            trace: Some(trace),
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
        let request = decode_request(bytes.clone()).unwrap();
        assert_eq!(request.trace, Some(trace));
        assert_eq!(request.method, "POST");
        let retried = decode_request(with_parent(&bytes, [5; 8])).unwrap();
        assert_eq!(retried.trace, Some(Trace { parent_id: [5; 8], ..trace }));
        assert_eq!(retried.body, request.body);
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
                timing: HostTiming::default(),
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
            trace: None,
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

    #[test]
    fn the_hosts_timing_is_written_into_the_head_after_the_body() {
        let mut reply = response_head(200, [("a", b"b".as_slice())].into_iter(), 2).unwrap();
        reply.extend_from_slice(b"ok");
        let timing = HostTiming { host_us: 900, upstream_at_us: 100, upstream_us: 700 };
        set_timing(&mut reply, timing);
        let Reply::Response { timing: got, body, .. } = decode_reply(reply.freeze()).unwrap() else {
            panic!("a response")
        };
        assert_eq!((got, &body[..]), (timing, b"ok".as_slice()));
    }

    #[test]
    fn a_trace_with_a_zero_id_or_an_unknown_presence_byte_is_malformed() {
        let encode = |trace| {
            encode_request(RequestParts {
                invoke_id: [1; 16],
                trace: Some(trace),
                service_id: "s",
                method: "GET",
                path_and_query: "/",
                timeout_ms: 1,
                max_response_bytes: 1,
                headers: std::iter::empty(),
                body: b"",
            })
            .unwrap()
        };
        let zero_trace = encode(Trace { trace_id: [0; 16], parent_id: [2; 8], flags: 1 });
        let zero_parent = encode(Trace { trace_id: [1; 16], parent_id: [0; 8], flags: 1 });
        assert_eq!(decode_request(zero_trace), Err(Malformed));
        assert_eq!(decode_request(zero_parent), Err(Malformed));
        let mut unknown =
            BytesMut::from(&encode(Trace { trace_id: [1; 16], parent_id: [2; 8], flags: 1 })[..]);
        unknown[19] = 2;
        assert_eq!(decode_request(unknown.freeze()), Err(Malformed));
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
                invoke_id: [1; 16], trace: Some(Trace { trace_id: [1; 16], parent_id: [2; 8], flags: 0 }),
                service_id: "s", method: "GET",
                path_and_query: "/", timeout_ms: 1, max_response_bytes: 1,
                headers: [("a", b"b".as_slice())].into_iter(), body: b"",
            }).unwrap();
            let cut = cut.min(bytes.len() - 1);
            prop_assert!(decode_request(bytes.slice(..cut)).is_err());
        }
    }
}
