//! The `server` binary: parses the command line, sets up logging, hands over to the library.
#![forbid(unsafe_code)]

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = server::cli::Cli::parse();
    server::telemetry::init(cli.log_format);
    server::cli::run(cli).await
}
