//! The platform's command line, built inside the test crate so that whole-system tests can
//! start real separate processes (e.g. `node`) with `env!("CARGO_BIN_EXE_web4-server-under-test")`.
//! It is exactly what `server/src/main.rs` runs.
#![forbid(unsafe_code)]

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = server::cli::Cli::parse();
    server::telemetry::init(cli.log_format);
    server::cli::run(cli).await
}
