//! The one HTTP error type. Every 4xx/5xx of the HTTP API answers
//! `{"error": {"code", "message", "details"?}}`; an internal error answers an opaque 500 and
//! is logged once, by [`log_internal_errors`], never here.
use crate::auth::AuthError;
use axum::{
    Json,
    extract::{Request, rejection::JsonRejection},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use std::sync::Arc;

/// An error answered to an HTTP client. Each variant's doc names its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no valid session or key.
    #[error("authentication required")]
    Unauthenticated,
    /// 401: a bearer API key that is malformed, unknown, expired or revoked.
    #[error("{message}")]
    InvalidKey { code: &'static str, message: String },
    /// 401: log-in with a wrong email or password (one message for both).
    #[error("incorrect email or password")]
    InvalidCredentials,
    /// 403: authenticated, or not, but not allowed to do this.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: nothing here (or nothing this caller may see).
    #[error("{message}")]
    NotFound { message: String },
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: conflicts with existing state.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 413: the body is over the endpoint's limit.
    #[error("request body is too large")]
    PayloadTooLarge,
    /// 415: the body is not JSON.
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    /// 422: well-formed but invalid fields; `details` maps field → message.
    #[error("{message}")]
    Validation { message: String, details: Value },
    /// 429: slow down; answered with `Retry-After`.
    #[error("{message}")]
    TooManyRequests { code: &'static str, message: String, retry_after_secs: u64 },
    /// 503: a dependency is unavailable.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// The invoke path's failures: 405 (with `Allow`), 413, 501, 502, 503 (with
    /// `Retry-After` when waiting helps) and 504.
    #[error("{message}")]
    Gateway {
        status: StatusCode,
        code: &'static str,
        message: String,
        retry_after_secs: Option<u64>,
        allow: Option<String>,
    },
    /// 500: a bug or an infrastructure failure. The cause is logged, never sent.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// Carries an internal error from `into_response` to the logging middleware.
#[derive(Clone)]
struct InternalErrorReport(Arc<anyhow::Error>);

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated | ApiError::InvalidCredentials | ApiError::InvalidKey { .. } => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Gateway { status, .. } => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::TooManyRequests { code, .. }
            | ApiError::Unavailable { code, .. }
            | ApiError::Gateway { code, .. }
            | ApiError::InvalidKey { code, .. } => code,
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::NotFound { .. } => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::Validation { .. } => "validation_failed",
            ApiError::Internal(_) => "internal",
        }
    }

    /// A 404 with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound { message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Internal(_) => "An internal error occurred. It has been logged.".to_string(),
            other => other.to_string(),
        };
        let mut error = json!({ "code": self.code(), "message": message });
        if let ApiError::Validation { details, .. } = &self {
            error["details"] = details.clone();
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        match self {
            ApiError::TooManyRequests { retry_after_secs, .. } => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            ApiError::Gateway { retry_after_secs, allow, .. } => {
                if let Some(secs) = retry_after_secs {
                    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                if let Some(allow) = allow.and_then(|a| HeaderValue::try_from(a).ok()) {
                    response.headers_mut().insert(header::ALLOW, allow);
                }
            }
            ApiError::Unauthenticated => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"web4\""));
            }
            ApiError::InvalidKey { .. } => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"web4\", error=\"invalid_token\""),
                );
            }
            ApiError::Internal(err) => {
                response.extensions_mut().insert(InternalErrorReport(Arc::new(err)));
            }
            _ => {}
        }
        response
    }
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

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Invalid(fields) => ApiError::Validation {
                message: "Some fields are invalid.".into(),
                details: serde_json::to_value(fields).unwrap_or(Value::Null),
            },
            AuthError::EmailTaken => ApiError::Conflict {
                code: "email_taken",
                message: "An account with this email already exists.".into(),
            },
            AuthError::InvalidCredentials => ApiError::InvalidCredentials,
            AuthError::Throttled { retry_after_secs } => ApiError::TooManyRequests {
                code: "too_many_login_attempts",
                message: format!(
                    "Too many failed log-in attempts. Try again in {}.",
                    app::error::human_duration(retry_after_secs)
                ),
                retry_after_secs,
            },
            AuthError::SignUpsThrottled { retry_after_secs } => ApiError::TooManyRequests {
                code: "too_many_sign_ups",
                message: format!(
                    "Too many accounts were created from this address. Try again in {}.",
                    app::error::human_duration(retry_after_secs)
                ),
                retry_after_secs,
            },
            AuthError::Busy => ApiError::Gateway {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "busy",
                message: "The server is checking too many passwords at once. Try again shortly.".into(),
                retry_after_secs: Some(1),
                allow: None,
            },
            AuthError::Unauthenticated => ApiError::Unauthenticated,
            AuthError::Internal(err) => ApiError::Internal(err),
        }
    }
}

impl From<crate::nodes::NodesError> for ApiError {
    fn from(err: crate::nodes::NodesError) -> Self {
        use crate::nodes::NodesError as E;
        let message = err.to_string();
        match err {
            E::Invalid { field, message } => ApiError::Validation {
                message: message.clone(),
                details: serde_json::json!({ field: message }),
            },
            E::NotFound(what) => ApiError::not_found(format!("No such {what}.")),
            E::ChallengeInvalid => ApiError::BadRequest { code: "challenge_invalid", message },
            E::TooManyChallenges => ApiError::Unavailable { code: "too_many_challenges", message },
            E::BadSignature => ApiError::Forbidden { code: "bad_signature", message },
            E::TokenInvalid => ApiError::Forbidden { code: "join_token_invalid", message },
            E::TokenRevoked => ApiError::Forbidden { code: "join_token_revoked", message },
            E::TokenExpired => ApiError::Forbidden { code: "join_token_expired", message },
            E::TokenUsed => ApiError::Conflict { code: "join_token_used", message },
            E::NodeBlocked => ApiError::Forbidden { code: "node_blocked", message },
            E::StaleHeartbeat => ApiError::BadRequest { code: "stale_heartbeat", message },
            E::Internal(err) => ApiError::Internal(err),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType {
                message: "Send the body as JSON with `Content-Type: application/json`.".into(),
            },
            JsonRejection::JsonSyntaxError(e) => {
                ApiError::BadRequest { code: "malformed_json", message: e.body_text() }
            }
            JsonRejection::JsonDataError(e) => {
                ApiError::Validation { message: e.body_text(), details: Value::Object(Default::default()) }
            }
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            other => ApiError::BadRequest { code: "unreadable_body", message: other.body_text() },
        }
    }
}

impl From<tower_sessions::session::Error> for ApiError {
    fn from(err: tower_sessions::session::Error) -> Self {
        ApiError::Internal(err.into())
    }
}
