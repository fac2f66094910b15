//! A call to a `kv` service: the operation the entry node reads off the request, its form in
//! the mesh envelope, and how the hosting node runs it against the store.
//!
//! A `kv` service exposes its owner's bucket named like its slug:
//!
//! | call | operation |
//! | --- | --- |
//! | `GET …/keys/{key}` | get (404 when absent, deleted or expired) |
//! | `PUT …/keys/{key}` | put; the body is the Cloud API's `KvPut` (`{"value": base64, "ttl_seconds"?}`); `If-Match: <revision>` compares and swaps, `If-None-Match: *` creates only (409 with `details.current_revision` either way) |
//! | `DELETE …/keys/{key}` | a delete marker |
//! | `GET …/keys?prefix=&cursor=&limit=` | a page of keys |
//!
//! Answers are the Cloud API's (`KvEntryView`, `Page<String>`, the one error shape), with an
//! `ETag` of the revision. Keys are percent-decoded path segments after `keys/` (a `/` may be
//! written as is or as `%2F`).
//!
//! Trust: the envelope names the service and the operation only. The hosting node takes the
//! account and the bucket from its own grants for that service (as it takes an http
//! service's upstream), after checking that the call comes from one of the control plane's
//! entry nodes — so neither a crafted key nor a mesh peer can reach another bucket or
//! account: a key is only ever a key inside that one bucket.
use super::{
    invoke_error::InvokeError,
    wire::{self, Failure},
};
use crate::{
    error::{Classified, Classify, Problem},
    memory::Memory,
};
use app::types::{ids::AccountId, memory::KvPut};
use axum::http::{HeaderMap, Method};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

/// How long the entry node waits for a kv operation's answer (the store answers in
/// milliseconds; this bounds a hosting node that stalls).
pub const KV_TIMEOUT_MS: u32 = 5_000;
/// The methods a kv service takes.
pub const KV_METHODS: [&str; 3] = ["GET", "PUT", "DELETE"];

const MAGIC: [u8; 2] = *b"WK";
/// 2: the trace id after the invoke id.
const VERSION: u8 = 2;

/// One operation on the service's bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum KvOp {
    Get { key: String },
    Put { key: String, input: KvPutInput },
    Delete { key: String },
    List { prefix: Option<String>, cursor: Option<String>, limit: Option<u64> },
}

/// `KvPut` as it travels (the app type refuses unknown fields but is not `PartialEq`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KvPutInput {
    pub value: String,
    pub ttl_seconds: Option<u64>,
    pub expected_revision: Option<u64>,
    pub create_only: bool,
}

impl From<KvPutInput> for KvPut {
    fn from(i: KvPutInput) -> Self {
        KvPut {
            value: i.value,
            ttl_seconds: i.ttl_seconds,
            expected_revision: i.expected_revision,
            create_only: i.create_only,
        }
    }
}

fn bad(message: impl Into<String>) -> InvokeError {
    InvokeError::BadRequest(message.into())
}

/// Reads the operation off a call to a kv service (`path_and_query` after the service
/// reference).
pub fn parse(
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<KvOp, InvokeError> {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let path = path.trim_start_matches('/');
    let not_allowed = |allowed: &[&str]| InvokeError::MethodNotAllowed {
        method: method.to_string(),
        allowed: allowed.iter().map(|m| (*m).to_owned()).collect(),
    };
    if path == "keys" || path == "keys/" {
        if method != Method::GET {
            return Err(not_allowed(&["GET"]));
        }
        return list(query);
    }
    let Some(encoded) = path.strip_prefix("keys/") else {
        return Err(bad(
            "A kv service takes /keys/{key} (GET, PUT, DELETE) and /keys?prefix= (GET) after its name.",
        ));
    };
    let key = percent_decode(encoded).ok_or_else(|| bad("The key is not valid percent-encoded UTF-8."))?;
    match *method {
        Method::GET => Ok(KvOp::Get { key }),
        Method::DELETE => Ok(KvOp::Delete { key }),
        Method::PUT => Ok(KvOp::Put { key, input: put_input(headers, body)? }),
        _ => Err(not_allowed(&KV_METHODS)),
    }
}

fn list(query: &str) -> Result<KvOp, InvokeError> {
    let (mut prefix, mut cursor, mut limit) = (None, None, None);
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*name {
            "prefix" => prefix = Some(value.into_owned()),
            "cursor" => cursor = Some(value.into_owned()),
            "limit" => {
                let n = value.parse::<u64>().ok().filter(|l| (1..=crate::pagination::MAX_PAGE).contains(l));
                limit = Some(n.ok_or_else(|| bad("limit must be between 1 and 100."))?);
            }
            other => {
                return Err(bad(format!("Unknown query parameter {other:?}: use prefix, cursor, limit.")));
            }
        }
    }
    Ok(KvOp::List { prefix, cursor, limit })
}

/// The body (`KvPut`), with `If-Match` / `If-None-Match: *` as its conditions.
fn put_input(headers: &HeaderMap, body: &[u8]) -> Result<KvPutInput, InvokeError> {
    let put: KvPut = serde_json::from_slice(body).map_err(|e| {
        bad(format!("The body is not a KV put ({{\"value\": base64, \"ttl_seconds\"?}}): {e}."))
    })?;
    let mut input = KvPutInput {
        value: put.value,
        ttl_seconds: put.ttl_seconds,
        expected_revision: put.expected_revision,
        create_only: put.create_only,
    };
    if let Some(value) = headers.get("if-match") {
        let revision = value
            .to_str()
            .ok()
            .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| bad("If-Match takes the revision to replace, e.g. If-Match: 5."))?;
        if input.expected_revision.is_some_and(|r| r != revision) {
            return Err(bad("If-Match and expected_revision disagree."));
        }
        input.expected_revision = Some(revision);
    }
    if let Some(value) = headers.get("if-none-match") {
        if value.as_bytes().trim_ascii() != b"*" {
            return Err(bad("If-None-Match takes only * (create the key only if it is absent)."));
        }
        input.create_only = true;
    }
    Ok(input)
}

/// `%XX` decoded; `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether an envelope's payload is a kv call (rather than an http one).
pub fn is_kv_request(payload: &[u8]) -> bool {
    payload.starts_with(&MAGIC)
}

/// A kv call as the hosting node receives it.
#[derive(Debug, PartialEq)]
pub struct KvRequest {
    pub invoke_id: [u8; 16],
    /// The call's W3C trace id (for the hosting node's logs; all zero: none).
    pub trace_id: [u8; 16],
    pub service_id: String,
    pub op: KvOp,
}

/// `"WK" 2 | invoke id [16] | trace id [16] | service id (u16 len) | the operation as JSON (the
/// rest)`.
pub fn encode(
    invoke_id: [u8; 16],
    trace_id: [u8; 16],
    service_id: &str,
    op: &KvOp,
) -> Result<Bytes, InvokeError> {
    let json = serde_json::to_vec(op).map_err(|e| bad(format!("The operation cannot be sent: {e}.")))?;
    let id = u16::try_from(service_id.len()).map_err(|_| bad("The service id is too long."))?;
    let mut out = BytesMut::with_capacity(37 + service_id.len() + json.len());
    out.put_slice(&MAGIC);
    out.put_u8(VERSION);
    out.put_slice(&invoke_id);
    out.put_slice(&trace_id);
    out.put_u16(id);
    out.put_slice(service_id.as_bytes());
    out.put_slice(&json);
    Ok(out.freeze())
}

pub fn decode(mut buf: Bytes) -> Result<KvRequest, wire::Malformed> {
    if buf.len() < 37 || buf[..2] != MAGIC || buf[2] != VERSION {
        return Err(wire::Malformed);
    }
    buf.advance(3);
    let mut invoke_id = [0; 16];
    buf.copy_to_slice(&mut invoke_id);
    let mut trace_id = [0; 16];
    buf.copy_to_slice(&mut trace_id);
    let len = buf.get_u16() as usize;
    if buf.len() < len {
        return Err(wire::Malformed);
    }
    let service_id = String::from_utf8(buf.split_to(len).to_vec()).map_err(|_| wire::Malformed)?;
    let op = serde_json::from_slice(&buf).map_err(|_| wire::Malformed)?;
    Ok(KvRequest { invoke_id, trace_id, service_id, op })
}

/// The bucket a kv service exposes, as the hosting node's grants record it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvGrant {
    pub account: AccountId,
    pub bucket: String,
}

/// Runs `op` on the granted bucket and encodes the answer as the Cloud API would give it.
pub async fn execute(memory: Option<&Memory>, grant: Option<&KvGrant>, op: KvOp) -> Bytes {
    let (Some(memory), Some(grant)) = (memory, grant) else {
        return wire::encode_failure(Failure::NotPermitted, "the service is not placed on this node");
    };
    let (account, bucket) = (&grant.account, grant.bucket.as_str());
    let answer = match op {
        KvOp::Get { key } => memory.get(account, bucket, &key).await.map(|e| (e.revision, json(&e))),
        KvOp::Put { key, input } => {
            memory.put(account, bucket, &key, input.into()).await.map(|e| (e.revision, json(&e)))
        }
        KvOp::Delete { key } => memory.delete(account, bucket, &key).await.map(|e| (e.revision, json(&e))),
        KvOp::List { prefix, cursor, limit } => memory
            .list_keys(account, bucket, prefix.as_deref(), cursor.as_deref(), limit)
            .await
            .map(|page| (0, json(&page))),
    };
    let (status, revision, body) = match answer {
        Ok((revision, body)) => (200, Some(revision).filter(|r| *r > 0), body),
        Err(err) => {
            // The Cloud API's own classification and body, so both paths answer alike.
            let problem = match err.classify() {
                Classified::Problem(problem) => problem,
                Classified::Internal(cause) => {
                    tracing::error!(error = ?cause, "a kv call failed");
                    Problem::internal()
                }
            };
            (problem.status().as_u16(), None, json(&problem.body()))
        }
    };
    let etag = revision.map(|r| format!("\"{r}\""));
    let mut headers: Vec<(&str, &[u8])> = vec![("content-type", b"application/json")];
    if let Some(etag) = &etag {
        headers.push(("etag", etag.as_bytes()));
    }
    wire::encode_response(status, headers.into_iter(), &body)
        .unwrap_or_else(|e| wire::encode_failure(Failure::BadRequest, &e.to_string()))
}

fn json(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(method: Method, path: &str, headers: &[(&str, &str)], body: &str) -> Result<KvOp, InvokeError> {
        let mut map = HeaderMap::new();
        for (n, v) in headers {
            map.insert(axum::http::HeaderName::from_bytes(n.as_bytes()).unwrap(), v.parse().unwrap());
        }
        parse(&method, path, &map, body.as_bytes())
    }

    #[test]
    fn calls_become_operations_with_their_conditions() {
        assert_eq!(parsed(Method::GET, "/keys/a%2Fb/c", &[], "").unwrap(), KvOp::Get { key: "a/b/c".into() });
        assert_eq!(parsed(Method::DELETE, "/keys/k", &[], "").unwrap(), KvOp::Delete { key: "k".into() });
        assert_eq!(
            parsed(Method::GET, "/keys?prefix=a%2F&limit=5", &[], "").unwrap(),
            KvOp::List { prefix: Some("a/".into()), cursor: None, limit: Some(5) }
        );
        let put = parsed(Method::PUT, "/keys/k", &[("if-match", "\"7\"")], r#"{"value":"eA=="}"#).unwrap();
        let KvOp::Put { input, .. } = put else { panic!("a put") };
        assert_eq!((input.expected_revision, input.create_only), (Some(7), false));
        let put = parsed(Method::PUT, "/keys/k", &[("if-none-match", "*")], r#"{"value":"eA=="}"#).unwrap();
        assert!(matches!(put, KvOp::Put { input: KvPutInput { create_only: true, .. }, .. }));
    }

    #[test]
    fn other_calls_are_refused_before_the_mesh() {
        assert!(matches!(
            parsed(Method::POST, "/keys/k", &[], ""),
            Err(InvokeError::MethodNotAllowed { .. })
        ));
        assert!(matches!(parsed(Method::PUT, "/keys", &[], ""), Err(InvokeError::MethodNotAllowed { .. })));
        assert!(matches!(parsed(Method::GET, "/admin", &[], ""), Err(InvokeError::BadRequest(_))));
        assert!(matches!(parsed(Method::GET, "/keys/%zz", &[], ""), Err(InvokeError::BadRequest(_))));
        assert!(matches!(parsed(Method::PUT, "/keys/k", &[], "not json"), Err(InvokeError::BadRequest(_))));
        let mismatch =
            parsed(Method::PUT, "/keys/k", &[("if-match", "3")], r#"{"value":"","expected_revision":4}"#);
        assert!(matches!(mismatch, Err(InvokeError::BadRequest(_))));
    }

    #[test]
    fn a_kv_request_round_trips_and_garbage_is_malformed() {
        let op = KvOp::Put {
            key: "../other".into(),
            input: KvPutInput { value: "eA==".into(), ..Default::default() },
        };
        let bytes = encode([3; 16], [4; 16], "svc-1", &op).unwrap();
        assert!(is_kv_request(&bytes));
        let request = decode(bytes.clone()).unwrap();
        assert_eq!(
            request,
            KvRequest { invoke_id: [3; 16], trace_id: [4; 16], service_id: "svc-1".into(), op }
        );
        assert!(decode(bytes.slice(..10)).is_err());
        assert!(decode(Bytes::from_static(b"WK\x01")).is_err());
    }
}
