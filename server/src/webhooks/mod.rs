//! The webhooks context: an account's endpoints receive the messages of the event log its
//! filters match, by HTTP POST signed after the Standard Webhooks specification ([`signing`]),
//! retried on a backoff schedule with jitter ([`retry`]) by a background [`dispatcher`], every
//! attempt logged; an endpoint failing continuously is disabled, and can be re-enabled with
//! what it missed delivered. [`application`] is the use cases.
//!
//! Decisions: the context reads the log through the events façade (`Events::after`,
//! `Events::seq_before`) and its topic rules (`events::topics::readable`); the events context
//! knows nothing of webhooks. Signing secrets are derived, never stored (HMAC of the endpoint
//! id and a generation under a master key file, like proxy secrets). A delivery keeps the exact
//! body it sends, so retries and replays send the same bytes even after retention has taken
//! the message; `webhook-id` is `evt_<seq>`, the same for every delivery of a message.
pub mod application;
pub mod dispatcher;
mod in_flight;
pub mod retry;
pub mod signing;

pub use application::{WebhookSettings, Webhooks};

use crate::error::{Classified, Classify, ErrorCode, Problem};
use crate::events::EventsError;
use sea_orm::DbErr;
use std::collections::BTreeMap;

/// Why a webhooks operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhooksError {
    /// Field → message.
    #[error("some fields are invalid")]
    Invalid(BTreeMap<String, String>),
    #[error("{0}")]
    TopicForbidden(String),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("an account has at most {0} webhook endpoints")]
    LimitReached(u64),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl WebhooksError {
    /// One invalid field.
    pub fn field(field: &str, message: &str) -> Self {
        WebhooksError::Invalid(BTreeMap::from([(field.to_owned(), message.to_owned())]))
    }
}

impl From<DbErr> for WebhooksError {
    fn from(err: DbErr) -> Self {
        WebhooksError::Internal(err.into())
    }
}

/// The events context's answers, as this context's (its filters are checked there).
impl From<EventsError> for WebhooksError {
    fn from(err: EventsError) -> Self {
        match err {
            EventsError::Invalid(fields) => WebhooksError::Invalid(fields),
            EventsError::TopicForbidden(why) => WebhooksError::TopicForbidden(why),
            EventsError::NotFound(what) => WebhooksError::NotFound(what),
            EventsError::Internal(err) => WebhooksError::Internal(err),
            other => WebhooksError::Internal(anyhow::anyhow!("unexpected from the event log: {other}")),
        }
    }
}

impl Classify for WebhooksError {
    fn classify(self) -> Classified {
        use ErrorCode as C;
        let problem = match self {
            WebhooksError::Invalid(fields) => Problem::invalid(fields),
            WebhooksError::TopicForbidden(why) => Problem::new(C::TopicForbidden, why),
            WebhooksError::NotFound(what) => Problem::not_found(format!("No such {what}.")),
            WebhooksError::LimitReached(max) => Problem::new(
                C::WebhookLimitReached,
                format!("An account has at most {max} webhook endpoints: delete one first."),
            ),
            WebhooksError::Internal(err) => return Classified::Internal(err),
        };
        Classified::Problem(problem)
    }
}
