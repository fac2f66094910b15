//! `Idempotency-Key` on authenticated `POST`s (Stripe's semantics): the first response to a
//! key is stored for 24 hours and replayed, byte for byte, to every retry with the same key
//! (marked `Idempotent-Replayed: true`); the same key with a different method, path, query or
//! body answers 422 `idempotency_key_reused`; a retry while the first request is still being
//! answered gets 409 `idempotency_in_progress`. Responses of 500 and above are not stored, so
//! a failed request can be retried. Keys are per account. On `/api/v1/invoke/…` a replay does
//! not call the service again, so it is not metered again either.
//!
//! Bodies over [`MAX_STORED_BODY`] are answered but not kept: a retry gets 409
//! `idempotency_answer_not_kept` rather than running again. A first request that ends without
//! an answer (its client went away, or its server died) releases its key, so a retry runs
//! again under the same invoke id — and is metered once.
use super::{caller::Caller, error::ApiError};
use crate::error::{ErrorCode, Problem};
use crate::{db, state::AppState};
use app::types::ids::AccountId;
use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, SubsecRound, Utc};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// How long a response is kept.
pub const TTL: chrono::Duration = chrono::Duration::hours(24);
/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 255;
/// A first request still unanswered after this long is taken to have died (a backstop: a
/// dropped request releases its key at once, and a restart releases its predecessor's).
const ABANDONED_AFTER: chrono::Duration = chrono::Duration::minutes(2);
/// Largest answer body kept for replay.
pub const MAX_STORED_BODY: usize = 64 * 1024;
/// Headers never stored or replayed (they belong to one response).
const NOT_STORED: [&str; 3] = ["x-request-id", "set-cookie", "date"];

/// Put on a response by a handler whose answer holds secrets: these top-level JSON fields
/// are stored as `null`, so a replay never shows them and the database never holds them.
#[derive(Clone, Copy, Debug)]
pub struct SecretFields(pub &'static [&'static str]);

/// The body to store: `body` with the secret fields nulled.
fn storable(body: &[u8], secret: Option<SecretFields>) -> Vec<u8> {
    let Some(SecretFields(fields)) = secret else { return body.to_vec() };
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut value) => {
            if let Some(object) = value.as_object_mut() {
                for field in fields {
                    if object.contains_key(*field) {
                        object.insert((*field).to_owned(), serde_json::Value::Null);
                    }
                }
            }
            serde_json::to_vec(&value).unwrap_or_default()
        }
        Err(_) => Vec::new(),
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic())
}

fn request_hash(method: &Method, path_and_query: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_str().as_bytes());
    hash.update(b"\n");
    hash.update(path_and_query.as_bytes());
    hash.update(b"\n");
    hash.update(body);
    crate::secrets::hex(&hash.finalize())
}

fn replay(status: i32, headers: Option<serde_json::Value>, body: Vec<u8>) -> Response {
    let mut response = Body::from(body).into_response();
    *response.status_mut() = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let pairs: Vec<(String, String)> = match headers.map(serde_json::from_value).transpose() {
        Ok(pairs) => pairs.unwrap_or_default(),
        Err(err) => {
            return ApiError::Internal(anyhow::anyhow!("a stored answer's headers are unreadable: {err}"))
                .into_response();
        }
    };
    let out = response.headers_mut();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            out.append(name, value);
        }
    }
    out.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// What to do with a request whose key already has a record.
enum Existing {
    Replay(Response),
    /// The record is gone (expired, or deleted meanwhile): begin a new one.
    Retry,
    /// The first request died unanswered: run again as it, from its beginning.
    Resume(DateTime<Utc>),
    Refuse(ApiError),
}

async fn existing(
    state: &AppState,
    account: &AccountId,
    key: &str,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Existing, ApiError> {
    let Some(record) = db::keys::idempotent(&state.db, account, key).await.map_err(anyhow::Error::from)?
    else {
        return Ok(Existing::Retry);
    };
    let expired = record.created_at + TTL <= now;
    let abandoned = record.status.is_none()
        && (record.created_at < state.started_at || record.created_at + ABANDONED_AFTER <= now);
    if expired || (abandoned && record.request_hash != hash) {
        db::keys::forget_idempotent(&state.db, account, key).await.map_err(anyhow::Error::from)?;
        return Ok(Existing::Retry);
    }
    if abandoned {
        db::keys::forget_idempotent(&state.db, account, key).await.map_err(anyhow::Error::from)?;
        return Ok(Existing::Resume(record.created_at));
    }
    if record.request_hash != hash {
        return Ok(Existing::Refuse(ApiError::Problem(Problem {
            message:
                "This Idempotency-Key was used with a different request; use a new key for a new request."
                    .into(),
            ..Problem::invalid(
                [("idempotency_key".to_owned(), "used with a different method, path or body".to_owned())]
                    .into(),
            )
        })));
    }
    Ok(match (record.status, record.body) {
        (Some(status), Some(body)) => Existing::Replay(replay(status, record.headers, body)),
        (Some(status), None) => Existing::Refuse(ApiError::new(
            ErrorCode::IdempotencyAnswerNotKept,
            format!(
                "The first request with this Idempotency-Key was answered {status} with a body over {} KiB, which is not kept for replay. Use a new key to make a new request.",
                MAX_STORED_BODY / 1024
            ),
        )),
        (None, _) => Existing::Refuse(in_progress()),
    })
}

/// Middleware (inside [`super::caller::authenticate`]): applies `Idempotency-Key` to `POST`s
/// of authenticated callers. `body_limit` bounds the request body it reads to hash it.
pub async fn idempotent(
    State((state, body_limit)): State<(AppState, usize)>,
    request: Request,
    next: Next,
) -> Response {
    let key = request.headers().get(HEADER).map(|v| v.to_str().map(str::to_owned));
    let account = request.extensions().get::<Caller>().map(|c| c.account.id.clone());
    let (Some(key), Some(account), true) = (key, account, request.method() == Method::POST) else {
        return next.run(request).await;
    };
    let key = match key {
        Ok(key) if valid_key(&key) => key,
        _ => {
            return ApiError::new(
                ErrorCode::BadIdempotencyKey,
                format!("Idempotency-Key must be 1–{MAX_KEY_LEN} visible ASCII characters."),
            )
            .into_response();
        }
    };
    let (parts, body) = request.into_parts();
    // Bounded in time as the invoke path bounds it: a body that trickles in is cut off.
    let wait = state.services.runtime().settings().body_read_timeout;
    let body = match tokio::time::timeout(wait, to_bytes(body, body_limit)).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return ApiError::new(ErrorCode::PayloadTooLarge, "The request body is too large.")
                .into_response();
        }
        Err(_) => {
            let timeout = crate::services::gateway::InvokeError::BodyTimeout { ms: wait.as_millis() };
            return ApiError::from(timeout).into_response();
        }
    };
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let hash = request_hash(&parts.method, path_and_query, &body);
    let mut attempts = 0;
    // Millisecond precision: the time is part of the invoke id and must survive storage.
    let mut begin_at = Utc::now().trunc_subsecs(3);
    let since = loop {
        match db::keys::begin_idempotent(&state.db, &account, &key, &hash, begin_at).await {
            Ok(true) => break begin_at,
            Ok(false) => {}
            Err(err) => return ApiError::Internal(err.into()).into_response(),
        }
        let now = Utc::now().trunc_subsecs(3);
        match existing(&state, &account, &key, &hash, now).await {
            Ok(Existing::Replay(response)) => return response,
            Ok(Existing::Refuse(err)) => return with_retry_after(err),
            Ok(Existing::Retry | Existing::Resume(_)) if attempts == 3 => {
                return with_retry_after(in_progress());
            }
            Ok(Existing::Retry) => begin_at = now,
            Ok(Existing::Resume(first)) => begin_at = first,
            Err(err) => return err.into_response(),
        }
        attempts += 1;
    };
    let mut request = Request::from_parts(parts, Body::from(body));
    request.extensions_mut().insert(Owned { key: key.clone(), since });
    let mut unanswered = Unanswered { state: state.clone(), account, key, armed: true };
    let response = next.run(request).await;
    let response = store(&state, &unanswered.account, &unanswered.key, response).await;
    unanswered.armed = false;
    response
}

/// The `Idempotency-Key` of a request this layer owns a record for (a `POST` being answered
/// for the first time), and when that record began. Only such a request may fix its invoke id
/// from the key: any other (a `GET`, say, which this layer does not replay, or a reuse of the
/// key after its record expired) must not reuse an id and go unmetered.
#[derive(Clone, Debug)]
pub struct Owned {
    pub key: String,
    pub since: DateTime<Utc>,
}

/// Releases the key of a first request dropped before its answer was stored (its client went
/// away, or a timeout cancelled it), so a retry runs now instead of waiting for
/// [`ABANDONED_AFTER`].
struct Unanswered {
    state: AppState,
    account: AccountId,
    key: String,
    armed: bool,
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (db, account, key) = (self.state.db.clone(), self.account.clone(), std::mem::take(&mut self.key));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(err) = db::keys::release_idempotent(&db, &account, &key).await {
                    tracing::warn!(error = %err, "cannot release the key of a dropped idempotent request");
                }
            });
        }
    }
}

fn in_progress() -> ApiError {
    ApiError::new(
        ErrorCode::IdempotencyInProgress,
        "A request with this Idempotency-Key is still being answered; retry shortly.",
    )
}

fn with_retry_after(err: ApiError) -> Response {
    let conflict = err.status() == StatusCode::CONFLICT;
    let mut response = err.into_response();
    if conflict {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1));
    }
    response
}

/// Stores the first response (below 500) and answers it; forgets the key otherwise.
async fn store(state: &AppState, account: &AccountId, key: &str, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    if parts.status.is_server_error() {
        if let Err(err) = db::keys::forget_idempotent(&state.db, account, key).await {
            tracing::warn!(error = %err, "cannot release an idempotency key after a failed request");
        }
        return Response::from_parts(parts, body);
    }
    let body = match to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(err) => {
            let _ = db::keys::forget_idempotent(&state.db, account, key).await;
            return ApiError::Internal(anyhow::anyhow!("reading a response to store it: {err}"))
                .into_response();
        }
    };
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter(|(name, _)| !NOT_STORED.contains(&name.as_str()))
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let kept = (body.len() <= MAX_STORED_BODY)
        .then(|| storable(&body, parts.extensions.get::<SecretFields>().copied()));
    let stored = db::keys::finish_idempotent(
        &state.db,
        account,
        key,
        parts.status.as_u16(),
        serde_json::json!(headers),
        kept,
    )
    .await;
    if let Err(err) = stored {
        // The request itself succeeded: answer it, and say the key could not be kept.
        tracing::error!(error = %err, "cannot store an idempotent response");
    }
    Response::from_parts(parts, Body::from(body))
}

/// Deletes records older than [`TTL`] every hour until the task is aborted.
pub fn start_purge(db: sea_orm::DatabaseConnection) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match db::keys::purge_idempotent(&db, Utc::now() - TTL).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(purged = n, "expired idempotency records deleted"),
                Err(err) => tracing::warn!(error = %err, "cannot purge idempotency records"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(valid_key("order-42_retry"));
        assert!(!valid_key(""));
        assert!(!valid_key("has space"));
        assert!(!valid_key(&"k".repeat(256)));
        assert!(!valid_key("clé"));
    }

    #[test]
    fn secret_fields_are_never_stored() {
        let body = br#"{"key":{"id":"k1"},"secret":"w4k_abc"}"#;
        let stored = storable(body, Some(SecretFields(&["secret"])));
        assert_eq!(stored, br#"{"key":{"id":"k1"},"secret":null}"#);
        assert_eq!(storable(body, None), body);
    }

    #[test]
    fn the_hash_covers_method_path_and_body() {
        let a = request_hash(&Method::POST, "/api/v1/keys", b"{}");
        assert_eq!(a, request_hash(&Method::POST, "/api/v1/keys", b"{}"));
        assert_ne!(a, request_hash(&Method::POST, "/api/v1/services", b"{}"));
        assert_ne!(a, request_hash(&Method::POST, "/api/v1/keys", b"{ }"));
        assert_ne!(a, request_hash(&Method::PUT, "/api/v1/keys", b"{}"));
    }
}
