//! `gatewatch rules check FILE... [--json]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use gatewatch_rules::signature::file::load_files;

use crate::config::Config;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Load rule files and print the load report.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One JSON object: total, parsed, loaded, skipped, skipped_by_reason, skipped_rules.
        #[arg(long)]
        json: bool,
        /// Skipped rules listed under each reason (text form).
        #[arg(long, default_value_t = 3)]
        examples: usize,
    },
}

pub fn run(cmd: RulesCommand, cfg: Config) -> Result<ExitCode> {
    match cmd {
        RulesCommand::Check { files, json, examples } => {
            let (_, report) = load_files(&files, &cfg.vars.to_vars());
            if json {
                println!("{}", serde_json::to_string_pretty(&report.to_json())?);
            } else {
                print!("{}", report.to_text(examples));
            }
            // Unreadable files fail the command; skipped rules do not.
            Ok(if report.file_errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
