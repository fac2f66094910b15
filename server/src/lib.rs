//! Web4 Platform server library: everything the `server` binary runs, importable by tests.
#![forbid(unsafe_code)]

pub mod auth;
pub mod billing;
pub mod cli;
pub mod config;
pub mod db;
pub mod egress;
pub mod error;

pub mod events;
pub mod histogram;
pub mod http;
pub mod keys;
pub mod liveness;
pub mod marketplace;
pub mod memory;
// The mesh runtime is a crate of its own (`mesh/`); re-exported so `server::mesh::…` paths hold.
pub use web4_mesh as mesh;
pub mod metering;
pub mod nodes;
pub mod observability;
pub mod pagination;
pub mod ratelimit;
pub mod secrets;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod webhooks;

pub use config::Config;
pub use startup::Application;
pub use state::AppState;
