//! The one HTTP error type. Every 4xx/5xx of the HTTP API answers
//! `{"error": {"code", "message", "details"?}}`; an internal error answers an opaque 500 and
//! is logged once, by [`log_internal_errors`], never here.
use crate::error::{Classified, Classify, ErrorCode, Problem};
use axum::{
    Json,
    extract::{Request, rejection::JsonRejection},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::Value;
use std::sync::Arc;

/// An error answered to an HTTP client: a classified [`Problem`] (its code fixes the status),
/// or an internal fault (an opaque 500).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Problem(Problem),
    /// 500: a bug or an infrastructure failure. The cause is logged, never sent.
    #[error("internal error")]
    Internal(anyhow::Error),
}

/// Every classified failure answers as its classification says.
impl<E: Classify> From<E> for ApiError {
    fn from(err: E) -> Self {
        match err.classify() {
            Classified::Problem(problem) => ApiError::Problem(problem),
            Classified::Internal(err) => ApiError::Internal(err),
        }
    }
}

/// Carries an internal error from `into_response` to the logging middleware.
#[derive(Clone)]
struct InternalErrorReport(Arc<anyhow::Error>);

impl ApiError {
    /// A problem with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::Problem(Problem::new(code, message))
    }

    /// A 401: no valid session or key.
    pub fn unauthenticated() -> Self {
        ApiError::new(ErrorCode::Unauthenticated, "Authentication required.")
    }

    /// A 404 with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::NotFound, message)
    }

    /// The classified code (`internal` for a fault of ours).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ApiError::Problem(problem) => problem.code,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        self.error_code().status()
    }

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The error as the API's body carries it: `{"error": {"code", "message", "details"?}}`.
    pub fn body(&self) -> Value {
        match self {
            ApiError::Problem(problem) => problem.body(),
            ApiError::Internal(_) => Problem::internal().body(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::Problem(problem) => {
                if let Some(secs) = problem.retry_after_secs {
                    headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                if let Some(allow) = problem.allow.and_then(|a| HeaderValue::try_from(a).ok()) {
                    headers.insert(header::ALLOW, allow);
                }
                let challenge = match problem.code {
                    ErrorCode::Unauthenticated => Some("Bearer realm=\"web4\""),
                    ErrorCode::MalformedAuthorization
                    | ErrorCode::InvalidApiKey
                    | ErrorCode::ApiKeyExpired
                    | ErrorCode::ApiKeyRevoked
                    | ErrorCode::ApiKeyRequired => Some("Bearer realm=\"web4\", error=\"invalid_token\""),
                    _ => None,
                };
                if let Some(challenge) = challenge {
                    headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
                }
            }
            ApiError::Internal(err) => {
                response.extensions_mut().insert(InternalErrorReport(Arc::new(err)));
            }
        }
        response
    }
}

/// The one error shape of every 4xx/5xx answer.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// Stable and machine-readable, e.g. `validation_failed`, `rate_limited`.
    code: String,
    /// For a person.
    message: String,
    /// Per-field messages for `validation_failed`, keyed by the field's JSON path; a
    /// conflict's particulars otherwise (e.g. `current_revision` of `kv_revision_mismatch`).
    details: Option<std::collections::BTreeMap<String, String>>,
}

/// Middleware: logs each internal error once, with the request it belongs to.
pub async fn log_internal_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    if let Some(InternalErrorReport(err)) = response.extensions_mut().remove::<InternalErrorReport>() {
        tracing::error!(%method, %path, error = ?err, "internal error");
    }
    response
}

impl Classify for JsonRejection {
    fn classify(self) -> Classified {
        let (code, message) = match self {
            JsonRejection::MissingJsonContentType(_) => (
                ErrorCode::UnsupportedMediaType,
                "Send the body as JSON with `Content-Type: application/json`.".to_owned(),
            ),
            JsonRejection::JsonSyntaxError(e) => (ErrorCode::MalformedJson, e.body_text()),
            JsonRejection::JsonDataError(e) => {
                let problem = Problem {
                    fields: Some(Default::default()),
                    ..Problem::new(ErrorCode::ValidationFailed, e.body_text())
                };
                return problem.into();
            }
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                (ErrorCode::PayloadTooLarge, "The request body is too large.".to_owned())
            }
            other => (ErrorCode::UnreadableBody, other.body_text()),
        };
        Problem::new(code, message).into()
    }
}

impl Classify for tower_sessions::session::Error {
    fn classify(self) -> Classified {
        Classified::Internal(self.into())
    }
}
