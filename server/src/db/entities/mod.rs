//! SeaORM entities, one module per table.
pub mod accounts;
pub mod login_failures;
