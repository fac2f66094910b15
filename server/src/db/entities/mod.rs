//! SeaORM entities, one module per table.
pub mod accounts;
pub mod api_keys;
pub mod idempotency_records;
pub mod invoice_lines;
pub mod invoices;
pub mod join_tokens;
pub mod listings;
pub mod login_failures;
pub mod node_trust_events;
pub mod nodes;
pub mod plans;
pub mod reviews;
pub mod service_placements;
pub mod services;
pub mod subscriptions;
pub mod usage_events;
