//! The platform's command line, built inside the test crate so that whole-system tests can
//! start real separate processes (e.g. `node`) with `env!("CARGO_BIN_EXE_web4-server-under-test")`.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server::cli::main().await
}
