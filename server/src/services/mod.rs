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
pub mod entitlements;
pub mod error;
pub mod executor;
pub mod gateway;
pub mod headers;
pub mod health;
pub mod in_flight;
pub mod invoke_error;
pub mod kv_call;
pub mod limits;
mod missed;
pub mod placement;
pub mod proxy_secret;
pub mod registry;
pub mod runtime;
pub mod validation;
pub mod views;
pub mod wire;

pub use application::{InvokeRequest, Services, Target};
pub use error::ServicesError;
pub use limits::{MAX_BODY_BYTES, MAX_REPLICAS, MAX_TIMEOUT_MS, METHODS};
pub use validation::{MIN_INTERVAL_PER_REPLICA_MS, Settings, Valid, is_slug, validate, validate_tags};
pub use views::{NodeNames, offered, placement_view};
