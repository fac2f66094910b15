//! The hosting node's side of an invoke: takes requests delivered to the node over the mesh,
//! forwards each to the service's upstream (method, path, query, headers minus hop-by-hop
//! ones, body) within the timeout, and answers with the upstream's status, headers and body
//! — or with why there is none.
use super::wire::{self, Failure, Request};
use crate::mesh::node::Delivery;
use bytes::Bytes;
use std::time::Duration;
use tokio::sync::mpsc;

/// Headers that describe one connection, not the message: never forwarded (RFC 9110 §7.6.1),
/// plus `host` and `content-length`, which the next hop sets for itself.
pub fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

/// The HTTP client a hosting node calls upstreams with: pooled connections, no redirects
/// followed (a 3xx goes back to the caller as it is), no cookies kept.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .build()
        .expect("a TLS backend is compiled in")
}

/// Serves the requests delivered to one node until its inbox closes; each runs in its own
/// task (the node's inbox bounds how many wait).
pub async fn serve(mut inbox: mpsc::Receiver<Delivery>, client: reqwest::Client) {
    while let Some(delivery) = inbox.recv().await {
        let Some(responder) = delivery.responder else { continue };
        let client = client.clone();
        tokio::spawn(async move {
            let reply = match wire::decode_request(delivery.envelope.payload) {
                Ok(request) => execute(&client, request).await,
                Err(_) => wire::encode_failure(Failure::BadRequest, "malformed invoke request"),
            };
            responder.respond(reply).await;
        });
    }
}

/// Calls the upstream for one request and encodes the reply.
pub async fn execute(client: &reqwest::Client, request: Request) -> Bytes {
    match call(client, request).await {
        Ok(reply) => reply,
        Err((failure, message)) => wire::encode_failure(failure, &message),
    }
}

/// The upstream's answer, encoded as it streams in: the body goes straight into the reply.
async fn call(client: &reqwest::Client, request: Request) -> Result<Bytes, (Failure, String)> {
    let Request {
        invoke_id,
        upstream,
        method,
        path_and_query,
        timeout_ms,
        max_response_bytes,
        headers,
        body,
        ..
    } = request;
    let bad = |m: String| (Failure::BadRequest, m);
    let method =
        reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| bad(format!("bad method {method:?}")))?;
    let path = if path_and_query.starts_with('/') { path_and_query } else { format!("/{path_and_query}") };
    let url = format!("{upstream}{path}");
    let timeout = Duration::from_millis(u64::from(timeout_ms));
    let mut builder = client.request(method, &url).timeout(timeout);
    for (name, value) in headers {
        if is_hop_by_hop(&name) {
            continue;
        }
        let value = reqwest::header::HeaderValue::from_maybe_shared(value)
            .map_err(|_| bad(format!("invalid value for header {name}")))?;
        builder = builder.header(name, value);
    }
    builder = builder.header("x-web4-invoke-id", uuid::Uuid::from_bytes(invoke_id).to_string());
    let mut response = builder.body(body).send().await.map_err(|e| classify(&e, timeout))?;
    let limit = max_response_bytes as usize;
    let too_large =
        || (Failure::ResponseTooLarge, format!("the upstream's answer is larger than {limit} bytes"));
    let length = response.content_length().map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    if length.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let head: Vec<(&str, &[u8])> = response
        .headers()
        .iter()
        .filter(|(n, _)| !is_hop_by_hop(n.as_str()))
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let mut reply =
        wire::response_head(response.status().as_u16(), head.iter().copied(), length.unwrap_or(8 * 1024));
    drop(head);
    let body_start = reply.len();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e, timeout))? {
        if reply.len() - body_start + chunk.len() > limit {
            return Err(too_large());
        }
        reply.extend_from_slice(&chunk);
    }
    Ok(reply.freeze())
}

fn classify(err: &reqwest::Error, timeout: Duration) -> (Failure, String) {
    if err.is_timeout() {
        (Failure::Timeout, format!("the upstream did not answer within {} ms", timeout.as_millis()))
    } else {
        (Failure::Unreachable, format!("cannot reach the upstream: {}", root_cause(err)))
    }
}

/// The innermost cause of an error: the useful part ("Connection refused (os error 111)").
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
