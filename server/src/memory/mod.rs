//! The memory context: KV buckets per account, durable in the platform's SQLite, behind a
//! store shaped after NATS JetStream KV ([`store::KvStore`]) so another backend can be added
//! without touching callers. [`validation`] holds the limits, [`sqlite`] the embedded store,
//! [`sweeper`] the expiry tombstones, [`watch`] the live feed of changes watchers follow,
//! [`application`] the use cases.
//!
//! Decisions: revisions increase per bucket (as in JetStream); a delete is a tombstone kept in
//! history, a purge removes the key's history and leaves one marker; an expired value reads as
//! absent at once and the sweeper writes an `expire` tombstone soon after, so expiry is visible
//! in history; another account's bucket is "not found", never "forbidden".
pub mod application;
pub mod sqlite;
pub mod store;
pub mod sweeper;
pub mod validation;
pub mod watch;

pub use application::Memory;

use crate::error::{Classified, Classify, ErrorCode, Problem};
use sea_orm::DbErr;
use std::collections::BTreeMap;

/// Why a memory operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// Field (JSON path) → message.
    #[error("some fields are invalid")]
    Invalid(BTreeMap<String, String>),
    #[error("no such bucket")]
    BucketNotFound,
    #[error("no such key")]
    KeyNotFound,
    #[error("a bucket with this name exists")]
    BucketExists(String),
    /// Create-only on a key that holds a value.
    #[error("the key exists")]
    KeyExists { current_revision: u64 },
    /// Compare-and-swap on a revision that is not the key's current one.
    #[error("the key's revision is not the expected one")]
    RevisionMismatch { expected: u64, current_revision: u64 },
    /// The decoded value is larger than the bucket takes.
    #[error("the value is too large")]
    ValueTooLarge { size: usize, limit: u32 },
    #[error("an account has at most {0} buckets")]
    BucketLimitReached(u64),
    #[error("an account holds at most {0} live keys")]
    KeyLimitReached(u64),
    /// The account has as many watchers open as it may.
    #[error("an account has at most {0} watchers open")]
    WatcherLimitReached(u32),
    #[error("the cursor is not one this API returned")]
    BadCursor,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl MemoryError {
    /// One invalid field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        MemoryError::Invalid(BTreeMap::from([(field.to_owned(), message.into())]))
    }
}

/// A conflict that tells the caller the key's current revision (in `details`), so it can
/// read and retry without another round trip.
fn with_revision(problem: Problem, current: u64) -> Problem {
    Problem {
        fields: Some(BTreeMap::from([("current_revision".to_owned(), current.to_string())])),
        ..problem
    }
}

impl Classify for MemoryError {
    fn classify(self) -> Classified {
        use ErrorCode as C;
        let problem = match self {
            MemoryError::Invalid(fields) => Problem::invalid(fields),
            MemoryError::BucketNotFound => Problem::not_found("No such bucket."),
            MemoryError::KeyNotFound => Problem::not_found("No such key (or it was deleted or has expired)."),
            MemoryError::BucketExists(name) => {
                Problem::new(C::KvBucketExists, format!("You already have a bucket called {name:?}."))
            }
            MemoryError::KeyExists { current_revision } => with_revision(
                Problem::new(
                    C::KvKeyExists,
                    format!(
                        "The key already holds a value (revision {current_revision}): update it instead."
                    ),
                ),
                current_revision,
            ),
            MemoryError::RevisionMismatch { expected, current_revision } => with_revision(
                Problem::new(
                    C::KvRevisionMismatch,
                    format!(
                        "The key is at revision {current_revision}, not {expected}: read it again and retry."
                    ),
                ),
                current_revision,
            ),
            MemoryError::ValueTooLarge { size, limit } => Problem::new(
                C::PayloadTooLarge,
                format!("The value is {size} bytes; this bucket takes values of at most {limit} bytes."),
            ),
            MemoryError::BucketLimitReached(max) => {
                Problem::new(C::KvBucketLimitReached, format!("An account has at most {max} buckets."))
            }
            MemoryError::KeyLimitReached(max) => Problem::new(
                C::KvKeyLimitReached,
                format!("An account holds at most {max} live keys: delete or purge some first."),
            ),
            MemoryError::WatcherLimitReached(max) => Problem {
                retry_after_secs: Some(1),
                ..Problem::new(
                    C::KvWatcherLimitReached,
                    format!("An account has at most {max} KV watchers open: close one first."),
                )
            },
            MemoryError::BadCursor => {
                Problem::new(C::BadCursor, "That page link (cursor) is not one this API gave out.")
            }
            MemoryError::Internal(err) => return Classified::Internal(err),
        };
        problem.into()
    }
}

impl From<DbErr> for MemoryError {
    fn from(err: DbErr) -> Self {
        MemoryError::Internal(err.into())
    }
}
