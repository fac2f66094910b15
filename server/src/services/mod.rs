//! The services context: the registry of services owned by accounts ([`application`] is its
//! use cases, [`registry`] their persistence, [`validation`] and [`views`] the rules and the
//! answers), placement on mesh nodes ([`placement`]), health checks run by the hosting nodes
//! ([`health`]), and the invoke path — the gateway at the entry node ([`gateway`]) and the
//! executor at the hosting node ([`executor`]), talking over the mesh in the [`wire`] format;
//! [`runtime`] runs placement, health and the gateway.
//!
//! Decisions: a service is deleted only once deactivated (deactivation stops invokes and
//! releases its placements at once, so a delete never pulls a placement from under a call);
//! every function that touches one service takes the caller's account id, and another
//! account's service is `NotFound`, never `Forbidden`.
pub mod application;
pub mod breaker;
pub mod catalog;
pub mod executor;
pub mod gateway;
pub mod headers;
pub mod health;
pub mod in_flight;
pub mod placement;
pub mod proxy_secret;
pub mod registry;
pub mod runtime;
pub mod validation;
pub mod views;
pub mod wire;

pub use application::{InvokeRequest, Services, Target};
pub use validation::{MIN_INTERVAL_PER_REPLICA_MS, Settings, Valid, is_slug, validate};
pub use views::{NodeNames, offered, placement_view};

use crate::error::{Classified, Classify, ErrorCode, Problem};
use sea_orm::DbErr;
use std::collections::BTreeMap;

/// Largest request body a service may accept: an invoke travels in one envelope, with room
/// for the method, path and headers.
pub const MAX_BODY_BYTES: u32 = 4_000_000;
/// Longest upstream timeout a service may set.
pub const MAX_TIMEOUT_MS: u32 = 60_000;
/// Most replicas a service may ask for.
pub const MAX_REPLICAS: u8 = 5;
/// Methods a service may allow.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

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
