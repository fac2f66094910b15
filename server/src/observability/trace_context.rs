//! W3C Trace Context (`traceparent`, `tracestate`): the trace a call belongs to, taken from
//! the caller when it sent a valid header, started otherwise — never an error for the caller.
//!
//! The header is untrusted input: anything but the exact grammar (lowercase hex, non-zero ids,
//! version `ff` refused, nothing after the flags for version `00`) starts a new trace, so a
//! hostile value never reaches a log, the trace store or an upstream.
use axum::http::HeaderMap;
use rand::RngCore;

/// Longest `tracestate` passed on to the upstream (the W3C's suggested minimum to propagate).
pub const MAX_TRACESTATE: usize = 512;
/// Most list-members a `tracestate` may have (W3C Trace Context §3.3.1.1).
const MAX_TRACESTATE_MEMBERS: usize = 32;

/// A trace id and the platform's span the next ones are children of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: [u8; 16],
    /// The platform's own span at this node (the gateway span at the entry node): what the
    /// caller learns in the answer's `traceparent` and what the attempts are children of.
    pub span_id: [u8; 8],
    pub sampled: bool,
    /// The caller's span, when it sent a valid `traceparent`.
    pub parent_id: Option<[u8; 8]>,
}

/// A parsed `traceparent`: trace id, parent id, flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: [u8; 16],
    pub parent_id: [u8; 8],
    pub flags: u8,
}

impl TraceContext {
    /// A new trace, sampled.
    pub fn start() -> Self {
        let mut trace_id = [0u8; 16];
        while trace_id == [0; 16] {
            rand::thread_rng().fill_bytes(&mut trace_id);
        }
        Self { trace_id, span_id: new_span_id(), sampled: true, parent_id: None }
    }

    /// Continues the caller's trace when its `traceparent` is valid (the platform's span is a
    /// child of the caller's); starts a new one otherwise.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut values = headers.get_all("traceparent").iter();
        // Two `traceparent` headers are not one valid value: start anew.
        match (values.next(), values.next()) {
            (Some(value), None) => match value.to_str().ok().and_then(parse_traceparent) {
                Some(parent) => Self::child_of(parent),
                None => Self::start(),
            },
            _ => Self::start(),
        }
    }

    /// A new span of the trace `parent` names.
    pub fn child_of(parent: TraceParent) -> Self {
        Self {
            trace_id: parent.trace_id,
            span_id: new_span_id(),
            sampled: parent.flags & 1 == 1,
            parent_id: Some(parent.parent_id),
        }
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// The flags this platform propagates: only `sampled` is defined for version `00`, and
    /// unknown flags are not passed on.
    pub fn flags(&self) -> u8 {
        u8::from(self.sampled)
    }

    /// `00-<trace id>-<span id>-<flags>`, naming `span_id` as the parent of what follows.
    pub fn traceparent_with(&self, span_id: [u8; 8]) -> String {
        format!("00-{}-{}-{:02x}", hex(&self.trace_id), hex(&span_id), self.flags())
    }

    /// This context's own `traceparent` (what the caller is answered).
    pub fn traceparent(&self) -> String {
        self.traceparent_with(self.span_id)
    }
}

/// A random, non-zero span id.
pub fn new_span_id() -> [u8; 8] {
    let mut span_id = [0u8; 8];
    while span_id == [0; 8] {
        rand::thread_rng().fill_bytes(&mut span_id);
    }
    span_id
}

/// The hosting node's span for an attempt whose span is `attempt`: derived, not drawn, so the
/// entry node knows it without being told — the span an OTLP export shows as the host is the
/// one the upstream's `traceparent` names as its parent, and the provider's own spans join it.
pub fn host_span_id(attempt: [u8; 8]) -> [u8; 8] {
    use sha2::Digest;
    let digest = sha2::Sha256::new().chain_update(b"web4 host span").chain_update(attempt).finalize();
    let mut span = [0u8; 8];
    span.copy_from_slice(&digest[..8]);
    if span == [0; 8] { [1; 8] } else { span }
}

/// Parses a `traceparent` value (W3C Trace Context §3.2). Version `00` is exactly 55
/// characters; a later version may be longer, and only its first four fields are read (the
/// 56th character must then be `-`). `None` for anything else.
pub fn parse_traceparent(value: &str) -> Option<TraceParent> {
    let bytes = value.as_bytes();
    if bytes.len() < 55 {
        return None;
    }
    let version = hex_byte(&bytes[0..2])?;
    match version {
        0xff => return None,
        0x00 if bytes.len() != 55 => return None,
        0x00 => {}
        _ if bytes.len() > 55 && bytes[55] != b'-' => return None,
        _ => {}
    }
    if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
        return None;
    }
    let mut trace_id = [0u8; 16];
    for (i, b) in trace_id.iter_mut().enumerate() {
        *b = hex_byte(&bytes[3 + 2 * i..5 + 2 * i])?;
    }
    let mut parent_id = [0u8; 8];
    for (i, b) in parent_id.iter_mut().enumerate() {
        *b = hex_byte(&bytes[36 + 2 * i..38 + 2 * i])?;
    }
    let flags = hex_byte(&bytes[53..55])?;
    if trace_id == [0; 16] || parent_id == [0; 8] {
        return None;
    }
    Some(TraceParent { trace_id, parent_id, flags })
}

/// A trace id as an API path names it: 32 lowercase hex digits, not all zero.
pub fn parse_trace_id(value: &str) -> Option<[u8; 16]> {
    let bytes = value.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut id = [0u8; 16];
    for (i, b) in id.iter_mut().enumerate() {
        *b = hex_byte(&bytes[2 * i..2 * i + 2])?;
    }
    (id != [0; 16]).then_some(id)
}

/// Two lowercase hex digits.
fn hex_byte(pair: &[u8]) -> Option<u8> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    Some(digit(pair[0])? << 4 | digit(pair[1])?)
}

/// The caller's `tracestate`, when it is well-formed (W3C Trace Context §3.3) and at most
/// [`MAX_TRACESTATE`] bytes: passed to the upstream unchanged. Several headers are one list
/// (joined with `,`). Anything else is dropped.
pub fn vetted_tracestate(headers: &HeaderMap) -> Option<String> {
    let mut joined = String::new();
    for value in headers.get_all("tracestate") {
        let value = value.to_str().ok()?;
        if !joined.is_empty() {
            joined.push(',');
        }
        joined.push_str(value);
        if joined.len() > MAX_TRACESTATE {
            return None;
        }
    }
    (!joined.is_empty() && tracestate_is_valid(&joined)).then_some(joined)
}

/// `list-member *( OWS "," OWS list-member )`, empty members allowed, at most 32 non-empty
/// ones, each `key=value` with a unique key.
pub fn tracestate_is_valid(value: &str) -> bool {
    let mut keys: Vec<&str> = Vec::new();
    for member in value.split(',') {
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            continue;
        }
        let Some((key, val)) = member.split_once('=') else { return false };
        if !tracestate_key(key) || !tracestate_value(val) || keys.contains(&key) {
            return false;
        }
        keys.push(key);
        if keys.len() > MAX_TRACESTATE_MEMBERS {
            return false;
        }
    }
    !keys.is_empty()
}

/// `simple-key` (`lcalpha 0*255(lcalpha / DIGIT / "_" / "-" / "*" / "/")`) or
/// `tenant-id@system-id` (`(lcalpha / DIGIT) 0*240(…)` `@` `lcalpha 0*13(…)`).
fn tracestate_key(key: &str) -> bool {
    fn rest(c: u8) -> bool {
        matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/')
    }
    let b = key.as_bytes();
    match key.split_once('@') {
        None => (1..=256).contains(&b.len()) && b[0].is_ascii_lowercase() && b[1..].iter().all(|&c| rest(c)),
        Some((tenant, system)) => {
            let (t, s) = (tenant.as_bytes(), system.as_bytes());
            (1..=241).contains(&t.len())
                && (t[0].is_ascii_lowercase() || t[0].is_ascii_digit())
                && t[1..].iter().all(|&c| rest(c))
                && (1..=14).contains(&s.len())
                && s[0].is_ascii_lowercase()
                && s[1..].iter().all(|&c| rest(c))
        }
    }
}

/// `0*255(chr) nblk-chr`: printable ASCII but `,` and `=`, not ending in a space.
fn tracestate_value(value: &str) -> bool {
    let b = value.as_bytes();
    (1..=256).contains(&b.len())
        && b.iter().all(|&c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
        && b[b.len() - 1] != b' '
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SPEC: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_specs_example_is_continued() {
        let parent = parse_traceparent(SPEC).unwrap();
        assert_eq!(hex(&parent.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(hex(&parent.parent_id), "00f067aa0ba902b7");
        assert_eq!(parent.flags, 1);
        let not_sampled = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
        assert_eq!(not_sampled.unwrap().flags, 0);

        let mut headers = HeaderMap::new();
        headers.insert("traceparent", SPEC.parse().unwrap());
        let context = TraceContext::from_headers(&headers);
        assert_eq!(context.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(context.parent_id, Some(parent.parent_id));
        assert_ne!(context.span_id, parent.parent_id, "the platform's span is a new child");
        let answered = context.traceparent();
        assert!(answered.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && answered.ends_with("-01"));
        assert_eq!(parse_traceparent(&answered).unwrap().parent_id, context.span_id);
    }

    #[test]
    fn a_future_version_is_read_up_to_its_fourth_field() {
        let future = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-the-future-holds";
        assert_eq!(parse_traceparent(future).unwrap().flags, 9);
        assert!(parse_traceparent(&future[..55]).is_some(), "exactly the four fields");
        let glued = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09x";
        assert!(parse_traceparent(glued).is_none());
    }

    #[test]
    fn hostile_or_malformed_values_start_a_new_trace() {
        let long = format!("{SPEC}{}", "-a".repeat(5000));
        for bad in [
            "",
            "00",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0é",
            "00-4bf92f3577b34da6a3ce929d0e0e47é-00f067aa0ba902b7-01",
            " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            &long,
        ] {
            assert!(parse_traceparent(bad).is_none(), "{bad:?}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            "traceparent",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap(),
        );
        let started = TraceContext::from_headers(&headers);
        assert_ne!(started.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(started.parent_id, None);
        assert!(started.sampled);

        let mut twice = HeaderMap::new();
        twice.append("traceparent", SPEC.parse().unwrap());
        twice.append("traceparent", SPEC.parse().unwrap());
        assert_eq!(TraceContext::from_headers(&twice).parent_id, None);
    }

    #[test]
    fn tracestate_passes_only_when_well_formed_and_short() {
        let vet = |values: &[&str]| {
            let mut headers = HeaderMap::new();
            for v in values {
                headers.append("tracestate", v.parse().unwrap());
            }
            vetted_tracestate(&headers)
        };
        assert_eq!(
            vet(&["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"]).as_deref(),
            Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        );
        assert_eq!(vet(&["rojo=1", "congo=2"]).as_deref(), Some("rojo=1,congo=2"));
        assert!(vet(&["fw529a3039@dt=00f067aa0ba902b7, ,x=y"]).is_some());
        assert_eq!(vet(&[]), None);
        for bad in
            ["Rojo=1", "rojo", "rojo=1,rojo=2", "rojo=a=b", "=1", "1rojo=1", "a@b@c=1", "rojo=", "@x=1"]
        {
            assert_eq!(vet(&[bad]), None, "{bad:?}");
        }
        let long = (0..40).map(|i| format!("k{i}=v")).collect::<Vec<_>>().join(",");
        assert_eq!(vet(&[&long]), None, "more than 32 members");
        let big = format!("k={}", "v".repeat(255));
        let big = [big.as_str(), &big.replace("k=", "l="), &big.replace("k=", "m=")];
        assert_eq!(vet(&big), None, "over 512 bytes");
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic(value in ".{0,120}") {
            let _ = parse_traceparent(&value);
            let _ = tracestate_is_valid(&value);
        }

        #[test]
        fn arbitrary_near_misses_never_panic(value in "[0-9a-fA-F-]{50,60}") {
            if let Some(p) = parse_traceparent(&value) {
                prop_assert!(p.trace_id != [0; 16] && p.parent_id != [0; 8]);
            }
        }
    }
}
