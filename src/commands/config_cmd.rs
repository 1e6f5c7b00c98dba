//! `gatewatch config check FILE`, `gatewatch config show`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use crate::config;

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration file; names the bad key.
    Check { file: PathBuf },
    /// Print the default configuration (every key, with its default).
    Show,
}

pub fn run(cmd: ConfigCommand, sets: &[String]) -> Result<ExitCode> {
    match cmd {
        ConfigCommand::Check { file } => {
            config::load(Some(&file), sets)?;
            println!("{}: ok", file.display());
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Show => {
            if sets.is_empty() {
                print!("{}", config::default_toml());
            } else {
                let cfg = config::load(None, sets)?;
                print!("{}", toml::to_string_pretty(&cfg)?);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
