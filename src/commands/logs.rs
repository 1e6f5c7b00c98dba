//! `gatewatch logs`: Sigma rules over host log files, as the correlator runs them on
//! the host events it receives.
//!
//! - `logs scan --sigma RULES... FILE...`: every event of the files (JSON lines,
//!   pretty-printed objects one after another, or arrays; Windows events in the
//!   shapes of `evtx_dump`, winlogbeat and nxlog) against every loaded rule of its
//!   logsource; one JSON line per hit on stdout, a summary with the rate on stderr.
//!   EVE records (`dns`, `http`, `tls`, `fileinfo`, `flow`) are network events and
//!   meet the network rules, as in the sensor.
//! - `logs regression --sigma RULES... DIR`: SigmaHQ's regression data (`info.yml` with
//!   the rule id and `match_count`, the events beside it as `.json`): each rule must
//!   fire (at least once); the tests where it fires a different number of times than
//!   `match_count` says are listed and counted apart.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Subcommand;
use gatewatch_rules::sigma::host::files::{self, read_file};
use gatewatch_rules::sigma::{self, SigmaSet};
use serde_json::json;

#[derive(Subcommand)]
pub enum LogsCommand {
    /// Run Sigma rules over host log files (and EVE files) and print the hits (JSON lines).
    Scan {
        /// Sigma rule files or folders.
        #[arg(long, required = true, num_args = 1..)]
        sigma: Vec<PathBuf>,
        /// Log files: JSON lines, JSON objects one after another, or JSON arrays.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print only the summary.
        #[arg(long)]
        quiet: bool,
    },
    /// Check Sigma rules against SigmaHQ-style regression data.
    Regression {
        /// Sigma rule files or folders.
        #[arg(long, required = true, num_args = 1..)]
        sigma: Vec<PathBuf>,
        /// The `regression_data` folder (its parent is where `path:` entries start).
        dir: PathBuf,
    },
}

pub fn run(cmd: LogsCommand) -> Result<ExitCode> {
    match cmd {
        LogsCommand::Scan { sigma, files, quiet } => scan(&sigma, &files, quiet),
        LogsCommand::Regression { sigma, dir } => regression(&sigma, &dir),
    }
}

fn load(paths: &[PathBuf]) -> Result<SigmaSet> {
    let (set, report) = sigma::load_paths(paths);
    if !report.file_errors.is_empty() {
        anyhow::bail!("{}", report.file_errors.join("; "));
    }
    tracing::info!(
        "sigma: {} of {} rules loaded, {} for host logs ({} skipped; `gatewatch rules check` lists them)",
        report.loaded,
        report.total,
        set.as_ref().map_or(0, SigmaSet::host_rule_count),
        report.skipped.len()
    );
    set.context("the Sigma rules did not compile")
}

fn scan(rules: &[PathBuf], files: &[PathBuf], quiet: bool) -> Result<ExitCode> {
    let set = load(rules)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut events, mut network, mut hits, mut bad) = (0u64, 0u64, 0u64, 0u64);
    let start = Instant::now();
    for file in files {
        let errors = read_file(file, |index, ev| {
            events += 1;
            let found = match sigma::network::event_from_eve(ev) {
                Some((event_type, flat)) => {
                    network += 1;
                    set.evaluate_network(event_type, &flat)
                }
                None => set.evaluate_host(ev),
            };
            for h in found {
                hits += 1;
                if !quiet {
                    let line = json!({"file": file.display().to_string(), "event": index,
                        "rule_id": h.id, "title": h.title, "level": h.level, "tags": h.tags});
                    let _ = writeln!(out, "{line}");
                }
            }
        })?;
        for e in &errors {
            tracing::warn!("{}: {e}", file.display());
        }
        bad += errors.len() as u64;
    }
    out.flush()?;
    let secs = start.elapsed().as_secs_f64();
    tracing::info!(
        "{events} events ({network} network, {} host; {bad} unreadable) in {secs:.2} s: {:.0} events/s including JSON parsing, one thread; {hits} hits",
        events - network,
        events as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}

fn regression(rules: &[PathBuf], dir: &Path) -> Result<ExitCode> {
    let set = load(rules)?;
    let cases = files::regression(&set, dir)?;
    for c in &cases {
        let want = c.match_count.map_or("at least 1".to_string(), |n| n.to_string());
        let (id, title, name, fired) = (&c.rule_id, &c.title, &c.name, c.fired);
        if !c.passed() {
            let detail = if c.errors.is_empty() {
                String::new()
            } else {
                format!("; {}", c.errors.join("; "))
            };
            println!("FAIL {id} ({title}) {name}: fired {fired} times, expected {want}{detail}");
        } else if !c.exact() {
            println!("COUNT {id} ({title}) {name}: fired {fired} times, the data says {want}");
        }
    }
    let total = cases.len();
    let passed = cases.iter().filter(|c| c.passed()).count();
    let exact = cases.iter().filter(|c| c.exact()).count();
    println!(
        "{passed} of {total} regression tests fire ({} do not); {exact} of {total} fire exactly `match_count` times",
        total - passed
    );
    Ok(if passed == total { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
