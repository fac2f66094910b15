//! The one classification of every failure the platform answers. A failure is a [`Problem`]:
//! a stable [`ErrorCode`] (which fixes the HTTP status), a message for people, and what helps
//! the caller act on it (per-field messages, how long to wait, the methods allowed). Each
//! domain error becomes a problem in one place, its [`Classify`] impl; the Cloud API's
//! `ApiError` and the portal's `PortalError` are both made from that classification, so the
//! two front ends cannot disagree.
use axum::http::StatusCode;
use std::collections::BTreeMap;

/// Every error code the platform answers, as it appears on the wire (`snake_case`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    // 400: the request is malformed.
    BadCursor,
    BadRange,
    BadQuery,
    BadLimit,
    BadPath,
    BadIdempotencyKey,
    BadInvokeRequest,
    MalformedJson,
    UnreadableBody,
    ChallengeInvalid,
    StaleHeartbeat,
    NodeIdMismatch,
    BadSearch,
    // 401: no valid credentials.
    Unauthenticated,
    InvalidCredentials,
    MalformedAuthorization,
    InvalidApiKey,
    ApiKeyExpired,
    ApiKeyRevoked,
    ApiKeyRequired,
    // 402
    SpendingCapReached,
    // 403: not allowed.
    Forbidden,
    OperatorOnly,
    MissingScope,
    ScopeEscalation,
    CrossOriginRequest,
    BadSignature,
    JoinTokenInvalid,
    JoinTokenRevoked,
    JoinTokenExpired,
    NodeBlocked,
    NotSubscribed,
    SubscriptionPending,
    SubscriptionSuspended,
    ReviewNotVerified,
    TopicForbidden,
    // 404
    NotFound,
    // 405
    MethodNotAllowed,
    // 408
    BodyTimeout,
    // 410
    ListingSunset,
    // 409: conflicts with what exists.
    EmailTaken,
    SlugTaken,
    ServiceActive,
    UnbilledUsage,
    ServiceLimitReached,
    KeyLimitReached,
    JoinTokenUsed,
    IdempotencyInProgress,
    IdempotencyAnswerNotKept,
    ListingExists,
    AlreadySubscribed,
    ListingNotOpen,
    OwnListing,
    PlanLimitReached,
    ListingNotReady,
    ListingStateConflict,
    ConsumerExists,
    ConsumerLimitReached,
    WebhookLimitReached,
    // 409: the memory context (KV buckets).
    KvBucketExists,
    KvKeyExists,
    KvRevisionMismatch,
    KvBucketLimitReached,
    KvKeyLimitReached,
    // 421: this host does not serve this request.
    MisdirectedRequest,
    // 413
    PayloadTooLarge,
    BodyTooLarge,
    // 415
    UnsupportedMediaType,
    // 422
    ValidationFailed,
    // 429: slow down (always with a wait).
    RateLimited,
    TooManyLoginAttempts,
    TooManySignUps,
    TooManyChallenges,
    TooManyHeartbeats,
    TooManyFailedAuthentications,
    TooManyConcurrentCalls,
    QuotaExhausted,
    KvWatcherLimitReached,
    // 500
    Internal,
    // 502: the upstream or the mesh failed the call.
    UpstreamUnreachable,
    EgressRefused,
    UpstreamResponseTooLarge,
    MeshUndeliverable,
    // 503: try again later.
    NotReady,
    Busy,
    ServiceInactive,
    ServiceUnavailable,
    NoHealthyPlacement,
    Backpressure,
    CircuitOpen,
    NoEntryNode,
    MeteringUnavailable,
    PlatformBusy,
    ChallengePoolFull,
    // 504
    UpstreamTimeout,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The HTTP status every failure with this code answers.
    pub fn status(self) -> StatusCode {
        use ErrorCode as C;
        match self {
            C::BadCursor
            | C::BadRange
            | C::BadQuery
            | C::BadLimit
            | C::BadPath
            | C::BadIdempotencyKey
            | C::BadInvokeRequest
            | C::MalformedJson
            | C::UnreadableBody
            | C::ChallengeInvalid
            | C::StaleHeartbeat
            | C::NodeIdMismatch
            | C::BadSearch => StatusCode::BAD_REQUEST,
            C::SpendingCapReached => StatusCode::PAYMENT_REQUIRED,
            C::Unauthenticated
            | C::InvalidCredentials
            | C::MalformedAuthorization
            | C::InvalidApiKey
            | C::ApiKeyExpired
            | C::ApiKeyRevoked
            | C::ApiKeyRequired => StatusCode::UNAUTHORIZED,
            C::Forbidden
            | C::OperatorOnly
            | C::MissingScope
            | C::ScopeEscalation
            | C::CrossOriginRequest
            | C::BadSignature
            | C::JoinTokenInvalid
            | C::JoinTokenRevoked
            | C::JoinTokenExpired
            | C::NodeBlocked
            | C::NotSubscribed
            | C::SubscriptionPending
            | C::SubscriptionSuspended
            | C::ReviewNotVerified
            | C::TopicForbidden => StatusCode::FORBIDDEN,
            C::NotFound => StatusCode::NOT_FOUND,
            C::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            C::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            C::ListingSunset => StatusCode::GONE,
            C::MisdirectedRequest => StatusCode::MISDIRECTED_REQUEST,
            C::EmailTaken
            | C::SlugTaken
            | C::ServiceActive
            | C::UnbilledUsage
            | C::ServiceLimitReached
            | C::KeyLimitReached
            | C::JoinTokenUsed
            | C::IdempotencyInProgress
            | C::IdempotencyAnswerNotKept
            | C::ListingExists
            | C::AlreadySubscribed
            | C::ListingNotOpen
            | C::OwnListing
            | C::PlanLimitReached
            | C::ListingNotReady
            | C::ListingStateConflict
            | C::ConsumerExists
            | C::ConsumerLimitReached
            | C::WebhookLimitReached => StatusCode::CONFLICT,
            C::KvBucketExists
            | C::KvKeyExists
            | C::KvRevisionMismatch
            | C::KvBucketLimitReached
            | C::KvKeyLimitReached => StatusCode::CONFLICT,
            C::PayloadTooLarge | C::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            C::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            C::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            C::RateLimited
            | C::TooManyLoginAttempts
            | C::TooManySignUps
            | C::TooManyChallenges
            | C::TooManyHeartbeats
            | C::TooManyFailedAuthentications
            | C::TooManyConcurrentCalls
            | C::QuotaExhausted
            | C::KvWatcherLimitReached => StatusCode::TOO_MANY_REQUESTS,
            C::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            C::UpstreamUnreachable
            | C::EgressRefused
            | C::UpstreamResponseTooLarge
            | C::MeshUndeliverable => StatusCode::BAD_GATEWAY,
            C::NotReady
            | C::Busy
            | C::ServiceInactive
            | C::ServiceUnavailable
            | C::NoHealthyPlacement
            | C::Backpressure
            | C::CircuitOpen
            | C::NoEntryNode
            | C::MeteringUnavailable
            | C::PlatformBusy
            | C::ChallengePoolFull => StatusCode::SERVICE_UNAVAILABLE,
            C::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }
}

/// A failure as the caller is told it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Problem {
    pub code: ErrorCode,
    /// A sentence for people (the API's `message`, the portal's banner).
    pub message: String,
    /// Field → message, for [`ErrorCode::ValidationFailed`] (field names as the API spells
    /// them, e.g. `http.upstream_url`).
    pub fields: Option<BTreeMap<String, String>>,
    /// Seconds until trying again can succeed (`Retry-After`).
    pub retry_after_secs: Option<u64>,
    /// The methods a 405 allows (`Allow`).
    pub allow: Option<String>,
}

impl Problem {
    /// A problem with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), fields: None, retry_after_secs: None, allow: None }
    }

    /// A 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// A 422 with a message per field.
    pub fn invalid(fields: BTreeMap<String, String>) -> Self {
        Self { fields: Some(fields), ..Self::new(ErrorCode::ValidationFailed, "Some fields are invalid.") }
    }

    /// The same problem, telling the caller to wait `secs` before trying again.
    pub fn retry_after(self, secs: u64) -> Self {
        Self { retry_after_secs: Some(secs), ..self }
    }

    /// The HTTP status of this problem.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The problem as every API answer carries it: `{"error": {"code", "message", "details"?}}`
    /// (`details`: a validation failure's fields, or a conflict's particulars such as a KV key's
    /// `current_revision`).
    pub fn body(&self) -> serde_json::Value {
        let mut error = serde_json::json!({ "code": self.code.as_str(), "message": self.message });
        if self.code == ErrorCode::ValidationFailed || self.fields.is_some() {
            error["details"] = serde_json::json!(self.fields.clone().unwrap_or_default());
        }
        serde_json::json!({ "error": error })
    }

    /// What an internal fault answers: an opaque 500 (the cause is logged, never sent).
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "An internal error occurred. It has been logged.")
    }
}

/// A domain failure, classified: something to tell the caller, or a fault of ours (logged,
/// never shown).
#[derive(Debug, thiserror::Error)]
pub enum Classified {
    #[error(transparent)]
    Problem(#[from] Problem),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Implemented once per domain error: how it is told to the caller.
pub trait Classify {
    fn classify(self) -> Classified;
}

impl Classify for Classified {
    fn classify(self) -> Classified {
        self
    }
}

impl Classify for Problem {
    fn classify(self) -> Classified {
        Classified::Problem(self)
    }
}

/// A fault of ours: logged, never shown.
impl Classify for anyhow::Error {
    fn classify(self) -> Classified {
        Classified::Internal(self)
    }
}

/// "45 seconds", "14 minutes" (see [`app::error::human_duration`]).
pub fn wait(secs: u64) -> String {
    app::error::human_duration(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn every_code_is_snake_case_unique_and_an_error_status() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::iter() {
            let text = code.as_str();
            assert!(text.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{text}");
            assert!(seen.insert(text), "{text} twice");
            assert!(code.status().is_client_error() || code.status().is_server_error(), "{text}");
        }
        assert_eq!(ErrorCode::TooManyLoginAttempts.as_str(), "too_many_login_attempts");
        assert_eq!(ErrorCode::KvWatcherLimitReached.as_str(), "kv_watcher_limit_reached");
    }

    #[test]
    fn limits_tell_how_long_to_wait() {
        let problem = Problem::new(ErrorCode::RateLimited, "slow down").retry_after(3);
        assert_eq!(problem.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(problem.retry_after_secs, Some(3));
    }
}
