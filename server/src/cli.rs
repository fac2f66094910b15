//! The command line: `serve` (the default) and `migrate`.
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
}

/// The whole program: parses the command line, sets up logging, runs the command. Shared by
/// the `server` binary and the test suite's copy of it.
pub async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    crate::telemetry::init(cli.log_format);
    run(cli).await
}

/// Runs the parsed command line to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::Node(args)) => crate::nodes::agent::run(args, crate::startup::shutdown_signal()).await,
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
