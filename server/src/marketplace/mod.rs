//! The marketplace context: providers list their services ([`validation`] holds the rules,
//! [`markdown`] renders descriptions safely), with one to four plans; visitors browse and
//! search ([`search`] turns their words into a full-text query); consumers subscribe, and the
//! invoke path admits their calls from the grants this context gives the service runtime
//! (`services::entitlements`). [`application`] is the use cases.
//!
//! Decisions: a listing's or subscription's id of another account is "not found", never
//! "forbidden"; a draft listing is seen by its provider only; a private plan is reached only
//! with its invitation, and a wrong invitation is told exactly like a missing plan.
mod activity;
mod application;
pub mod browse;
pub mod grants;
pub mod markdown;
mod notices;
pub mod reviews;
pub mod search;
pub mod validation;
pub mod views;

pub use application::Marketplace;

use crate::error::{Classified, Classify, ErrorCode, Problem};
use sea_orm::DbErr;
use std::collections::BTreeMap;

/// Why a marketplace operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MarketplaceError {
    /// Field (JSON path) → message.
    #[error("some fields are invalid")]
    Invalid(BTreeMap<String, String>),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("the service already has a listing")]
    ListingExists,
    #[error("{0}")]
    NotReady(String),
    #[error("{0}")]
    BadTransition(String),
    #[error("the listing takes no new subscriptions")]
    NotOpen,
    #[error("this is your own listing: call your service directly")]
    OwnListing,
    #[error("you already subscribe to this listing")]
    AlreadySubscribed,
    #[error("a listing has at most {0} plans")]
    PlanLimitReached(usize),
    #[error("the cursor is not one this API returned")]
    BadCursor,
    #[error("only subscribers who have called the service may review it")]
    NotVerified,
    /// The client address searched faster than its limit; try again after this many seconds.
    #[error("too many searches from this address")]
    TooManySearches(u64),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl MarketplaceError {
    /// One invalid field.
    pub fn field(field: &str, message: &str) -> Self {
        MarketplaceError::Invalid(BTreeMap::from([(field.to_owned(), message.to_owned())]))
    }
}

impl Classify for MarketplaceError {
    fn classify(self) -> Classified {
        use ErrorCode as C;
        let problem = match self {
            MarketplaceError::Invalid(fields) => Problem::invalid(fields),
            MarketplaceError::NotFound(what) => Problem::not_found(format!("No such {what}.")),
            MarketplaceError::ListingExists => {
                Problem::new(C::ListingExists, "This service already has a listing: change that one instead.")
            }
            MarketplaceError::NotReady(why) => Problem::new(C::ListingNotReady, why),
            MarketplaceError::BadTransition(why) => Problem::new(C::ListingStateConflict, why),
            MarketplaceError::NotOpen => Problem::new(
                C::ListingNotOpen,
                "This listing takes no new subscriptions (it is not published, or it is deprecated).",
            ),
            MarketplaceError::OwnListing => {
                Problem::new(C::OwnListing, "This is your own listing: call your service directly.")
            }
            MarketplaceError::AlreadySubscribed => Problem::new(
                C::AlreadySubscribed,
                "You already subscribe to this listing; change or cancel that subscription instead.",
            ),
            MarketplaceError::PlanLimitReached(max) => {
                Problem::new(C::PlanLimitReached, format!("A listing has at most {max} plans."))
            }
            MarketplaceError::BadCursor => {
                Problem::new(C::BadCursor, "That page link (cursor) is not one this API gave out.")
            }
            MarketplaceError::NotVerified => Problem::new(
                C::ReviewNotVerified,
                "Only subscribers who have called the service may review it: subscribe and make a call first.",
            ),
            MarketplaceError::TooManySearches(secs) => Problem::new(
                C::RateLimited,
                format!(
                    "Too many searches from this address. Try again in {}.",
                    app::error::human_duration(secs)
                ),
            )
            .retry_after(secs),
            MarketplaceError::Internal(err) => return Classified::Internal(err),
        };
        problem.into()
    }
}

impl From<DbErr> for MarketplaceError {
    fn from(err: DbErr) -> Self {
        MarketplaceError::Internal(err.into())
    }
}
