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

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Subcommand;
use gatewatch_rules::sigma::{self, SigmaSet};
use serde_json::{json, Value};

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
    eprintln!(
        "sigma: {} of {} rules loaded, {} for host logs ({} skipped; `gatewatch rules check` lists them)",
        report.loaded,
        report.total,
        set.as_ref().map_or(0, SigmaSet::host_rule_count),
        report.skipped.len()
    );
    set.context("the Sigma rules did not compile")
}

/// Calls `each(index, event)` for every event of `file`; returns the errors.
fn read_file(file: &Path, mut each: impl FnMut(usize, &Value)) -> Result<Vec<String>> {
    let f =
        std::fs::File::open(file).with_context(|| format!("cannot open `{}`", file.display()))?;
    let mut errors = Vec::new();
    let mut not_objects = Vec::new();
    let mut index = 0usize;
    sigma::host::for_each_event(
        BufReader::with_capacity(1 << 20, f),
        |v| {
            if v.is_object() {
                each(index, &v);
                index += 1;
            } else {
                not_objects
                    .push(format!("after event {index}: a JSON value that is not an object"));
            }
        },
        |e| errors.push(e),
    )
    .with_context(|| format!("reading `{}`", file.display()))?;
    errors.extend(not_objects);
    Ok(errors)
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
            eprintln!("{}: {e}", file.display());
        }
        bad += errors.len() as u64;
    }
    out.flush()?;
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{events} events ({network} network, {} host; {bad} unreadable) in {secs:.2} s: {:.0} events/s including JSON parsing, one thread; {hits} hits",
        events - network,
        events as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Deserialize)]
struct Info {
    #[serde(default)]
    rule_metadata: Vec<RuleMeta>,
    #[serde(default)]
    regression_tests_info: Vec<TestInfo>,
}

#[derive(serde::Deserialize)]
struct RuleMeta {
    id: String,
    #[serde(default)]
    title: String,
}

#[derive(serde::Deserialize)]
struct TestInfo {
    #[serde(default)]
    name: String,
    path: String,
    match_count: Option<usize>,
}

fn info_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read `{}`", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            info_files(&p, out)?;
        } else if p.file_name().is_some_and(|n| n == "info.yml") {
            out.push(p);
        }
    }
    Ok(())
}

fn regression(rules: &[PathBuf], dir: &Path) -> Result<ExitCode> {
    let set = load(rules)?;
    let root = dir.parent().unwrap_or(dir);
    let mut infos = Vec::new();
    info_files(dir, &mut infos)?;
    let (mut passed, mut failed, mut other_count) = (0usize, 0usize, 0usize);
    for info_path in &infos {
        let text = std::fs::read_to_string(info_path)?;
        let info: Info = yaml_serde::from_str(&text)
            .with_context(|| format!("`{}` is not a regression info file", info_path.display()))?;
        let Some(rule) = info.rule_metadata.first() else { continue };
        for t in &info.regression_tests_info {
            let json_path = root.join(&t.path).with_extension("json");
            let json_path = if json_path.exists() {
                json_path
            } else {
                let name = Path::new(&t.path).with_extension("json");
                info_path.with_file_name(name.file_name().unwrap_or_default())
            };
            let mut count = 0usize;
            let errors = read_file(&json_path, |_, ev| {
                count += set.evaluate_host(ev).iter().filter(|h| h.id == rule.id).count();
            })?;
            let want = t.match_count.map_or("at least 1".to_string(), |n| n.to_string());
            let detail =
                if errors.is_empty() { String::new() } else { format!("; {}", errors.join("; ")) };
            if count == 0 || !errors.is_empty() {
                failed += 1;
                println!(
                    "FAIL {} ({}) {}: fired {count} times, expected {want}{detail}",
                    rule.id, rule.title, t.name
                );
                continue;
            }
            passed += 1;
            if t.match_count.is_some_and(|n| n != count) {
                other_count += 1;
                println!(
                    "COUNT {} ({}) {}: fired {count} times, the data says {want}",
                    rule.id, rule.title, t.name
                );
            }
        }
    }
    let total = passed + failed;
    println!(
        "{passed} of {total} regression tests fire ({failed} do not); {} of {total} fire exactly `match_count` times",
        passed - other_count
    );
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
