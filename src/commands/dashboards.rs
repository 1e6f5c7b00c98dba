//! `gatewatch dashboards install --kibana URL`: imports the Kibana saved objects of
//! `dashboards/` (`gatewatch_correlator::elastic::kibana`); `gatewatch dashboards list`
//! names them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use gatewatch_correlator::elastic::kibana::{self, KibanaTarget};

#[derive(Subcommand)]
pub enum DashboardsCommand {
    /// Import every dashboard into Kibana (existing objects of the same ids are replaced).
    Install {
        /// Kibana's base URL (`https://kibana.soc.example:5601`).
        #[arg(long)]
        kibana: String,
        /// A Kibana space (default: the default space).
        #[arg(long)]
        space: Option<String>,
        /// A file holding an API key (`Authorization: ApiKey …`).
        #[arg(long)]
        api_key_file: Option<PathBuf>,
        /// A user for basic authentication, with --password-file.
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// CA certificate (PEM) Kibana's certificate is checked against (default: the
        /// system's roots).
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// The dashboards and their objects.
    List,
}

fn secret(path: &PathBuf) -> Result<String> {
    let s = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let s = s.trim().to_string();
    if s.is_empty() {
        bail!("`{}` is empty", path.display());
    }
    Ok(s)
}

pub fn run(cmd: DashboardsCommand) -> Result<ExitCode> {
    match cmd {
        DashboardsCommand::List => {
            for d in kibana::dashboards()? {
                println!("{:<18} {:<24} {}", d.file, d.id, d.title);
            }
        }
        DashboardsCommand::Install {
            kibana: url,
            space,
            api_key_file,
            user,
            password_file,
            ca,
        } => {
            let api_key = api_key_file.as_ref().map(secret).transpose()?;
            let basic = match (&api_key, user) {
                (None, Some(u)) => {
                    let pw = password_file.as_ref().map(secret).transpose()?;
                    Some((u, pw.context("--user needs --password-file")?))
                }
                _ => None,
            };
            let target = KibanaTarget { url, space, api_key, basic, ca };
            let imported = kibana::install(&target)?;
            let prefix = target.space.map(|s| format!("/s/{s}")).unwrap_or_default();
            println!(
                "imported {imported} objects ({} dashboards) into {}{prefix}",
                kibana::DASHBOARDS.len(),
                target.url.trim_end_matches('/')
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
