//! `gatewatch`: the command line of the sensor, the correlator and the analyst tools.
//! It parses flags, loads the configuration and calls the library crates.
//!
//! No `unsafe` here: the few system calls it makes go through `rustix`.

#![forbid(unsafe_code)]

mod commands;
mod config;
mod logging;
mod systemd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "gatewatch",
    version,
    about = "Security monitoring for a provincial government network"
)]
struct Cli {
    /// Configuration file (TOML); defaults apply when absent.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Override a configuration key: `--set section.key=value` (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Log lines as text, as JSON objects, or `auto`: JSON when systemd reads stderr.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    log_format: logging::LogFormat,
    /// Least level logged (`error`, `warn`, `info`, `debug`, `trace`), optionally per
    /// target: `info,gatewatch_correlator::elastic=debug`. `GATEWATCH_LOG` overrides it.
    #[arg(long, global = true, default_value = "info", value_name = "FILTER")]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the sensor offline over capture files and write EVE JSON.
    Replay(commands::replay::ReplayArgs),
    /// The live sensor: capture on network interfaces (`[live]`), detect, write EVE.
    Sensor(commands::sensor::SensorArgs),
    /// Sensor → correlator → store over capture files (rules from --rules or the config).
    Run(commands::replay::RunArgs),
    /// Rule sets: load and report.
    #[command(subcommand)]
    Rules(commands::rules::RulesCommand),
    /// Generate the demo capture and rules, run the whole pipeline, print the incidents.
    Demo(commands::demo::DemoArgs),
    /// The correlator service: host logs over syslog and HTTPS through Sigma, into
    /// incidents.
    Correlator(commands::correlator::CorrelatorArgs),
    /// Sigma rules over host log files (scan, regression data).
    #[command(subcommand)]
    Logs(commands::logs::LogsCommand),
    /// Incidents in the store.
    #[command(subcommand)]
    Incidents(commands::incidents::IncidentsCommand),
    /// Suppressions: silence noisy alerts (still stored and counted).
    #[command(subcommand)]
    Suppressions(commands::incidents::SuppressionsCommand),
    /// Automated blocking: decisions, approvals, undo.
    #[command(subcommand)]
    Blocks(commands::blocks::BlocksCommand),
    /// The monthly security compliance report (HTML, PDF, JSON; Vietnamese, English).
    Report(commands::report::ReportArgs),
    /// The analyst console (web UI and REST API) over the store, without ingest.
    Console(commands::console::ConsoleArgs),
    /// Accounts of the analyst console.
    #[command(subcommand)]
    Users(commands::console::UsersCommand),
    /// API tokens of the analyst console (for automations).
    #[command(subcommand)]
    Tokens(commands::console::TokensCommand),
    /// Kibana dashboards for deployments that index into Elasticsearch.
    #[command(subcommand)]
    Dashboards(commands::dashboards::DashboardsCommand),
    /// A CA and certificates for mutual TLS between the components.
    #[command(subcommand)]
    Pki(commands::pki::PkiCommand),
    /// Configuration file tools.
    #[command(subcommand)]
    Config(commands::config_cmd::ConfigCommand),
}

fn dispatch(command: Command, cfg: config::Config, sets: &[String]) -> anyhow::Result<ExitCode> {
    match command {
        Command::Replay(a) => commands::replay::replay(a, cfg),
        Command::Run(a) => commands::replay::run(a, cfg),
        Command::Sensor(a) => commands::sensor::run(a, cfg),
        Command::Rules(c) => commands::rules::run(c, cfg),
        Command::Demo(a) => commands::demo::run(a, cfg),
        Command::Incidents(c) => commands::incidents::run(c, cfg),
        Command::Suppressions(c) => commands::incidents::run_suppressions(c, cfg),
        Command::Logs(c) => commands::logs::run(c),
        Command::Correlator(a) => commands::correlator::run(a, cfg),
        Command::Blocks(c) => commands::blocks::run(c, cfg),
        Command::Report(a) => commands::report::run(a, cfg),
        Command::Console(a) => commands::console::run(a, cfg),
        Command::Users(c) => commands::console::run_users(c, cfg),
        Command::Tokens(c) => commands::console::run_tokens(c, cfg),
        Command::Config(c) => commands::config_cmd::run(c, sets),
        Command::Pki(c) => commands::pki::run(c),
        Command::Dashboards(c) => commands::dashboards::run(c),
    }
}

/// Everything Gatewatch writes (the store, spool, reports, file store, keys, EVE) is
/// its own: files 0600 and folders 0700, whatever umask it was started with. Readers
/// of its output (a log shipper) are given access by the operator, deliberately.
fn private_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

fn main() -> ExitCode {
    private_umask();
    let cli = Cli::parse();
    if let Err(e) = logging::init(cli.log_format, &cli.log_level) {
        eprintln!("gatewatch: error: {e:#}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        // `config check` validates a file of its own: the global config is not loaded.
        Command::Config(c) => commands::config_cmd::run(c, &cli.sets),
        Command::Pki(c) => commands::pki::run(c),
        Command::Dashboards(c) => commands::dashboards::run(c),
        command => config::load(cli.config.as_deref(), &cli.sets)
            .and_then(|cfg| dispatch(command, cfg, &cli.sets)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}
