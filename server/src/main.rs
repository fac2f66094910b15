//! The `server` binary: parsing, logging and the commands all live in the library
//! (`server::cli`), so tests can run exactly the same program.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server::cli::main().await
}
