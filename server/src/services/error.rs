//! Why a registry operation failed, classified once for both front ends.
use crate::error::{Classified, Classify, ErrorCode, Problem};
use sea_orm::DbErr;
use std::collections::BTreeMap;

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ServicesError {
    /// Field (JSON path, e.g. `http.upstream_url`) → message.
    #[error("some fields are invalid")]
    Invalid(BTreeMap<String, String>),
    #[error("no such service")]
    NotFound,
    #[error("you already have a service with the slug {0:?}")]
    SlugTaken(String),
    #[error("the service is active: deactivate it before deleting it")]
    Active,
    #[error("the cursor is not one this API returned")]
    BadCursor,
    #[error("the service has calls not invoiced yet: it can be deleted once this month's invoices are final")]
    UnbilledUsage,
    #[error("the account has {0} services, the most it may register; delete one first")]
    LimitReached(u64),
    /// A `kv` service's bucket could not be made (the account's bucket quota, say).
    #[error(transparent)]
    Memory(#[from] crate::memory::MemoryError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Classify for ServicesError {
    fn classify(self) -> Classified {
        use ErrorCode as C;
        let problem = match self {
            ServicesError::Invalid(fields) => Problem::invalid(fields),
            ServicesError::NotFound => Problem::not_found("No such service."),
            ServicesError::SlugTaken(slug) => Problem {
                fields: Some(
                    [("slug".to_owned(), format!("You already have a service called {slug:?}."))].into(),
                ),
                ..Problem::new(C::SlugTaken, format!("You already have a service with the slug {slug:?}."))
            },
            ServicesError::Active => {
                Problem::new(C::ServiceActive, "The service is active: deactivate it before deleting it.")
            }
            ServicesError::BadCursor => {
                Problem::new(C::BadCursor, "That page link (cursor) is not one this API gave out.")
            }
            ServicesError::UnbilledUsage => Problem::new(
                C::UnbilledUsage,
                "This service has calls that are not invoiced yet; delete it once this month's invoices are final.",
            ),
            ServicesError::LimitReached(limit) => Problem::new(
                C::ServiceLimitReached,
                format!("The account has {limit} services, the most it may register; delete one first."),
            ),
            ServicesError::Memory(err) => return err.classify(),
            ServicesError::Internal(err) => return Classified::Internal(err),
        };
        problem.into()
    }
}

impl From<DbErr> for ServicesError {
    fn from(err: DbErr) -> Self {
        ServicesError::Internal(err.into())
    }
}
