//! Whole-system tests: each one starts the real server on a random port with its own database.
mod accounts;
mod errors;
mod mesh;
mod migrations;
mod nodes;
mod portal;
mod services;
