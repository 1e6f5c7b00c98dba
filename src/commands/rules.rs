//! `gatewatch rules check PATH... [--json]`: loads rule files and folders of every kind
//! and prints one load report per kind.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use gatewatch_rules::load_report::LoadReport;

use crate::config::Config;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Load rule files and folders and print the load report of each kind: Suricata
    /// signatures (`.rules`), YARA (`.yar`, `.yara`), Sigma (`.yml`, `.yaml`),
    /// indicator lists (`.txt`,
    /// `.list`, `.csv`, MISP `.json`); a folder is of the kind of the files in it.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// One JSON object per kind: total, parsed, loaded, skipped, skipped_by_reason,
        /// skipped_rules.
        #[arg(long)]
        json: bool,
        /// Skipped rules listed under each reason (text form).
        #[arg(long, default_value_t = 3)]
        examples: usize,
    },
    /// Download the rule sources of `[[update.sources]]`, verify their published
    /// checksums and install each atomically in its `dest` folder.
    Update {
        /// Only the sources with these names.
        #[arg(long = "source")]
        sources: Vec<String>,
        /// Then make the running process reload its rules.
        #[arg(long)]
        reload: bool,
    },
    /// Make the running process (its pid file in `control.dir`) recompile its rules and
    /// swap them in; prints the outcome. A set that does not compile leaves the running
    /// one in place, and the command fails with the reason.
    Reload {
        /// Seconds to wait for the outcome.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
}

/// Reloads every process with a pid file in `dir` (sensor, correlator) and prints each
/// outcome; fails when one fails.
fn reload_running(dir: &Path, timeout: std::time::Duration) -> Result<ExitCode> {
    use gatewatch_rules::control::{request_reload_of, running, Process};
    let mut processes = running(dir);
    let named = processes.len() > 1;
    if processes.is_empty() {
        processes.push(Process::Sensor); // fails naming the missing pid file
    }
    let mut all_ok = true;
    for p in processes {
        let s = request_reload_of(dir, p, timeout)?;
        let verdict = if s.ok { "reloaded" } else { "reload FAILED" };
        let who = if named { format!("{}: ", p.name()) } else { String::new() };
        crate::commands::write_stdout(&format!(
            "{who}{verdict} in {:.2} s: {}\n",
            s.seconds, s.message
        ))?;
        all_ok &= s.ok;
    }
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub fn run(cmd: RulesCommand, cfg: Config) -> Result<ExitCode> {
    match cmd {
        RulesCommand::Update { sources, reload } => {
            let chosen: Vec<&gatewatch_rules::update::Source> = cfg
                .update
                .sources
                .iter()
                .filter(|s| sources.is_empty() || sources.contains(&s.name))
                .collect();
            if chosen.is_empty() {
                anyhow::bail!("no rule sources to update: add [[update.sources]] (name, url, dest) to the config");
            }
            let mut failed = 0;
            let mut text = String::new();
            for src in chosen {
                match gatewatch_rules::update::update_source(&cfg.update, src) {
                    Ok(i) => text.push_str(&format!(
                        "{}: installed {} files ({:.1} MB downloaded, {}) in `{}`\n",
                        src.name,
                        i.files,
                        i.bytes as f64 / 1e6,
                        i.checksum,
                        src.dest.display()
                    )),
                    Err(e) => {
                        failed += 1;
                        text.push_str(&format!("{}: FAILED, nothing installed: {e:#}\n", src.name));
                    }
                }
            }
            crate::commands::write_stdout(&text)?;
            if reload && failed == 0 {
                return reload_running(&cfg.control.dir, std::time::Duration::from_secs(600));
            }
            Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        RulesCommand::Reload { timeout } => {
            reload_running(&cfg.control.dir, std::time::Duration::from_secs(timeout))
        }
        RulesCommand::Check { paths, json, examples } => {
            let reports: Vec<(&str, LoadReport)> =
                gatewatch_rules::check::check_paths(&paths, &cfg.vars.to_vars())?
                    .into_iter()
                    .map(|(k, r)| (k.name(), r))
                    .collect();
            if json {
                let obj: serde_json::Map<String, serde_json::Value> =
                    reports.iter().map(|(k, r)| (k.to_string(), r.to_json())).collect();
                // One kind alone keeps the flat form of earlier versions.
                let out = match &reports[..] {
                    [(_, r)] => r.to_json(),
                    _ => serde_json::Value::Object(obj),
                };
                crate::commands::write_stdout(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&out)?
                ))?;
            } else {
                let mut text = String::new();
                for (i, (k, r)) in reports.iter().enumerate() {
                    if reports.len() > 1 || *k != "signatures" {
                        if i > 0 {
                            text.push('\n');
                        }
                        text.push_str(&format!("== {k}\n"));
                    }
                    text.push_str(&r.to_text(examples));
                }
                crate::commands::write_stdout(&text)?;
            }
            // Unreadable files fail the command; skipped rules do not.
            let ok = reports.iter().all(|(_, r)| r.file_errors.is_empty());
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
