//! Whole-system tests: each one starts the real server on a random port with its own database.
mod accounts;
mod assets;
mod billing;
mod crash;
mod errors;
mod keys;
mod marketplace;
mod mesh;
mod metering;
mod migrations;
mod nodes;
mod openapi;
mod portal;
mod portal_crawl;
mod portal_marketplace;
mod readiness;
mod services;
