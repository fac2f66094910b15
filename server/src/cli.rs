//! The command line: `serve` (the default), `migrate`, `node`, and the operator's tools
//! `status` (how a running platform is) and `demo` (the Cloud API flow, end to end).
pub mod demo;
pub mod status;
pub mod table;

use crate::{
    config::{Config, ServeArgs},
    startup::Application,
    telemetry::LogFormat,
};
use clap::{Parser, Subcommand};

/// Web4 Platform server.
#[derive(Debug, Parser)]
#[command(name = "server", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Log line format
    #[arg(long, env = "WEB4_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand: the options of `serve`
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the platform: portal, Cloud API and its subsystems (the default)
    Serve(ServeArgs),
    /// Apply pending database migrations and exit
    Migrate(ServeArgs),
    /// Run a hosted mesh node that joins a platform with a join token
    Node(crate::nodes::agent::NodeArgs),
    /// Show a running platform's nodes and services; exit 0 healthy, 1 unhealthy, 2 unreachable
    Status(status::StatusArgs),
    /// Start a throwaway platform with two accounts, a listed service and metered calls
    Demo(demo::DemoArgs),
}

/// The whole program: parses the command line, sets up logging, runs the command. Shared by
/// the `server` binary and the test suite's copy of it.
pub async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        // Their output is for people and scripts on stdout: logs go to stderr, warnings only
        // unless RUST_LOG says otherwise.
        Some(Command::Status(_) | Command::Demo(_)) => quiet_logs(cli.log_format),
        _ => crate::telemetry::init(cli.log_format),
    }
    run(cli).await
}

fn quiet_logs(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => logs.json().try_init(),
        LogFormat::Text => logs.try_init(),
    };
}

/// Writes the user-facing `text` to stdout. A reader that went away (`status | head`) is not
/// an error worth a panic: the rest is dropped.
pub fn print_out(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Ends the process with `code` when it is not 0: `status` and `demo` answer in exit codes
/// (their messages are already printed, and whatever they started has been stopped).
fn exit_with(code: u8) -> anyhow::Result<()> {
    if code == 0 { Ok(()) } else { std::process::exit(code.into()) }
}

/// Runs the parsed command line to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::Node(args)) => crate::nodes::agent::run(args, crate::startup::shutdown_signal()).await,
        Some(Command::Status(args)) => exit_with(status::run(args).await),
        Some(Command::Demo(args)) => exit_with(demo::run(args).await?),
        Some(Command::Migrate(args)) => {
            let config = Config::resolve(args)?;
            std::fs::create_dir_all(&config.data_dir)?;
            let db = crate::db::connect(&config.database_url).await?;
            let applied = crate::startup::migrate(&db).await?;
            tracing::info!(applied, database = %config.database_url, "migrations applied");
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::resolve(args)?;
    let app = Application::build(config).await?;
    tracing::info!(address = %app.local_addr(), "Web4 Platform is listening: http://{}", app.local_addr());
    app.run_until_stopped(crate::startup::shutdown_signal()).await
}
