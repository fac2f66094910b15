//! Why an invoke produced no upstream answer, classified once for both front ends (its own
//! module: the gateway and the kv calls' parser both make these).
use super::{entitlements::Refusal, in_flight::Full};
use crate::error::{Classified, Classify, ErrorCode, Problem};
use app::types::ids::ListingId;

/// Why an invoke produced no upstream answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    #[error("no such service")]
    NotFound,
    #[error("the service is inactive; its owner can activate it again")]
    Inactive,
    #[error("the service has had no healthy placement for too long and is marked unavailable")]
    Unavailable,
    #[error("no healthy placement of the service is available right now")]
    NoHealthyPlacement,
    #[error("the service does not accept {method}; it accepts {}", allowed.join(", "))]
    MethodNotAllowed { method: String, allowed: Vec<String> },
    #[error("the request body is larger than the service's limit of {limit} bytes")]
    BodyTooLarge { limit: u32 },
    #[error("the request body did not arrive within {ms} ms")]
    BodyTimeout { ms: u128 },
    #[error("the upstream did not answer within {timeout_ms} ms")]
    Timeout { timeout_ms: u32 },
    #[error("{0}")]
    Unreachable(String),
    /// The upstream's address is one the platform's egress policy refuses.
    #[error("{0}")]
    EgressRefused(String),
    #[error("{0}")]
    ResponseTooLarge(String),
    #[error("the mesh is overloaded on the way to the service; retry shortly")]
    Backpressure,
    #[error(
        "every placement's circuit breaker is open after repeated failures; retry in {retry_after_secs} s"
    )]
    CircuitOpen { retry_after_secs: u64 },
    #[error("the mesh could not deliver the call: {0}")]
    Mesh(String),
    #[error("this platform runs no mesh node to enter the mesh from (serve --nodes 0)")]
    NoEntryNode,
    #[error("{0}")]
    BadRequest(String),
    /// The account has as many calls in flight as it may.
    #[error("this account has {limit} calls in flight, its limit; retry when one has finished")]
    AccountBusy { limit: u32 },
    /// The platform has as many calls in flight as it takes.
    #[error("the platform is running as many calls as it takes ({limit}); retry shortly")]
    PlatformBusy { limit: u32 },
    /// The upstream answered, but its usage could not be recorded, so the call is not
    /// acknowledged as a success.
    #[error("the call could not be metered ({0}); it was not billed, retry it")]
    Metering(String),
    /// Another account's listed service, and the caller has no subscription.
    #[error(
        "this service is listed in the marketplace as {title:?} (listing {listing}); subscribe to call it"
    )]
    NotSubscribed { listing: ListingId, title: String },
    #[error("your subscription to listing {listing} is waiting for the provider's approval")]
    SubscriptionPending { listing: ListingId },
    #[error("your subscription to listing {listing} is suspended by the provider")]
    SubscriptionSuspended { listing: ListingId },
    #[error("your plan's quota of {limit} calls this month is used up; it resets at {resets_at}")]
    QuotaExhausted { limit: i64, resets_at: chrono::DateTime<chrono::Utc> },
    #[error(
        "your subscription's spending cap of {cap_minor} (minor units) this month is reached; raise it to call again"
    )]
    SpendingCapReached { cap_minor: i64 },
    #[error("your plan allows {per_minute} calls a minute; retry in {retry_after_secs} s")]
    PlanRateLimited { per_minute: u32, retry_after_secs: u64 },
    #[error("the listing {listing} was deprecated and stopped serving at {at}")]
    ListingSunset { listing: ListingId, at: chrono::DateTime<chrono::Utc> },
}

impl From<Refusal> for InvokeError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotFound => Self::NotFound,
            Refusal::NotSubscribed(listed) => {
                Self::NotSubscribed { listing: listed.listing, title: listed.title }
            }
            Refusal::Pending { listing } => Self::SubscriptionPending { listing },
            Refusal::Suspended { listing } => Self::SubscriptionSuspended { listing },
            Refusal::QuotaExhausted { limit, resets_at } => Self::QuotaExhausted { limit, resets_at },
            Refusal::SpendingCapReached { cap_minor } => Self::SpendingCapReached { cap_minor },
            Refusal::Sunset { listing, at } => Self::ListingSunset { listing, at },
            Refusal::RateLimited { per_minute, retry_after_secs } => {
                Self::PlanRateLimited { per_minute, retry_after_secs }
            }
        }
    }
}

impl Classify for InvokeError {
    fn classify(self) -> Classified {
        use ErrorCode as C;
        let message = self.to_string();
        let (code, retry_after_secs) = match &self {
            InvokeError::NotFound => return Problem::not_found("No such service.").into(),
            InvokeError::MethodNotAllowed { allowed, .. } => {
                let allow = Some(allowed.join(", "));
                return Problem { allow, ..Problem::new(C::MethodNotAllowed, message) }.into();
            }
            InvokeError::Inactive => (C::ServiceInactive, None),
            InvokeError::Unavailable => (C::ServiceUnavailable, None),
            InvokeError::NoHealthyPlacement => (C::NoHealthyPlacement, Some(1)),
            InvokeError::BodyTooLarge { .. } => (C::BodyTooLarge, None),
            InvokeError::BodyTimeout { .. } => (C::BodyTimeout, None),
            InvokeError::Timeout { .. } => (C::UpstreamTimeout, None),
            InvokeError::Unreachable(_) => (C::UpstreamUnreachable, None),
            InvokeError::EgressRefused(_) => (C::EgressRefused, None),
            InvokeError::ResponseTooLarge(_) => (C::UpstreamResponseTooLarge, None),
            InvokeError::Backpressure => (C::Backpressure, Some(1)),
            InvokeError::CircuitOpen { retry_after_secs } => (C::CircuitOpen, Some(*retry_after_secs)),
            InvokeError::Mesh(_) => (C::MeshUndeliverable, None),
            InvokeError::NoEntryNode => (C::NoEntryNode, None),
            InvokeError::BadRequest(_) => (C::BadInvokeRequest, None),
            InvokeError::AccountBusy { .. } => (C::TooManyConcurrentCalls, Some(1)),
            InvokeError::PlatformBusy { .. } => (C::PlatformBusy, Some(1)),
            InvokeError::Metering(_) => (C::MeteringUnavailable, None),
            InvokeError::NotSubscribed { .. } => (C::NotSubscribed, None),
            InvokeError::SubscriptionPending { .. } => (C::SubscriptionPending, None),
            InvokeError::SubscriptionSuspended { .. } => (C::SubscriptionSuspended, None),
            InvokeError::QuotaExhausted { resets_at, .. } => {
                let wait = (*resets_at - chrono::Utc::now()).num_seconds().max(1);
                (C::QuotaExhausted, Some(u64::try_from(wait).unwrap_or(1)))
            }
            InvokeError::SpendingCapReached { .. } => (C::SpendingCapReached, None),
            InvokeError::ListingSunset { .. } => (C::ListingSunset, None),
            InvokeError::PlanRateLimited { retry_after_secs, .. } => {
                (C::RateLimited, Some(*retry_after_secs))
            }
        };
        Problem { retry_after_secs, ..Problem::new(code, message) }.into()
    }
}

impl InvokeError {
    /// The code of a refusal before the upstream is called (quota, spending cap, plan rate,
    /// concurrency): what `web4_invoke_refusals_total` counts.
    pub fn refusal_reason(&self) -> Option<&'static str> {
        use ErrorCode as C;
        let code = match self {
            InvokeError::QuotaExhausted { .. } => C::QuotaExhausted,
            InvokeError::SpendingCapReached { .. } => C::SpendingCapReached,
            InvokeError::PlanRateLimited { .. } => C::RateLimited,
            InvokeError::AccountBusy { .. } => C::TooManyConcurrentCalls,
            InvokeError::PlatformBusy { .. } => C::PlatformBusy,
            _ => return None,
        };
        Some(code.as_str())
    }
}

impl From<Full> for InvokeError {
    fn from(full: Full) -> Self {
        match full {
            Full::Platform { limit } => Self::PlatformBusy { limit },
            Full::Account { limit } => Self::AccountBusy { limit },
        }
    }
}
