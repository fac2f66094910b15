//! The events context: a durable, sequence-numbered log of messages on dot-separated topics
//! ([`topics`]), replayable by sequence number or time, with durable pull consumers that
//! acknowledge, ask again later or give up on each message, get it again after an ack wait and
//! a backoff schedule ([`consumers`]), and dead-letter it after too many deliveries. The store
//! is a trait shaped after NATS JetStream ([`store::EventStore`]); [`store::SqliteEvents`] is
//! the embedded backend on the platform's database. [`application`] is the use cases.
//!
//! Decisions: one sequence for the whole platform (an account's messages are a subsequence,
//! like a filtered JetStream consumer's); every message belongs to one account, which alone
//! reads it; an account publishes on `acct.<its id>.…`, and a filter naming another account
//! is refused, not answered empty.
pub mod application;
pub mod consumers;
pub mod store;
pub mod topics;

pub use application::{EventSettings, Events};

use crate::error::{Classified, Classify, ErrorCode, Problem};
use sea_orm::DbErr;
use std::collections::BTreeMap;

/// Why an events operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    /// Field → message.
    #[error("some fields are invalid")]
    Invalid(BTreeMap<String, String>),
    #[error("{0}")]
    TopicForbidden(String),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("a consumer with this name exists")]
    ConsumerExists,
    #[error("an account has at most {0} consumers")]
    ConsumerLimitReached(u64),
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl EventsError {
    /// One invalid field.
    pub fn field(field: &str, message: &str) -> Self {
        EventsError::Invalid(BTreeMap::from([(field.to_owned(), message.to_owned())]))
    }
}

impl From<DbErr> for EventsError {
    fn from(err: DbErr) -> Self {
        EventsError::Internal(err.into())
    }
}

impl Classify for EventsError {
    fn classify(self) -> Classified {
        use ErrorCode as C;
        let problem = match self {
            EventsError::Invalid(fields) => Problem::invalid(fields),
            EventsError::TopicForbidden(why) => Problem::new(C::TopicForbidden, why),
            EventsError::NotFound(what) => Problem::not_found(format!("No such {what}.")),
            EventsError::ConsumerExists => {
                Problem::new(C::ConsumerExists, "A consumer with this name exists: pick another name.")
            }
            EventsError::ConsumerLimitReached(max) => Problem::new(
                C::ConsumerLimitReached,
                format!("An account has at most {max} consumers: delete one first."),
            ),
            EventsError::TooLarge(why) => Problem::new(C::PayloadTooLarge, why),
            EventsError::Internal(err) => return Classified::Internal(err),
        };
        Classified::Problem(problem)
    }
}
