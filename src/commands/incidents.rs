//! `gatewatch incidents …` (list, show, and the lifecycle: acknowledge, assign, note,
//! resolve, false-positive, reopen) and `gatewatch suppressions …`. They work on the
//! store of `store.path`, also while the correlator runs (SQLite WAL).

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use gatewatch_correlator::domain::suppression::{NewSuppression, SuppressionRule};
use gatewatch_correlator::store::{IncidentFilter, IncidentOrder, Status, Store};
use gatewatch_correlator::terminal;

use crate::config::Config;

#[derive(Subcommand)]
pub enum IncidentsCommand {
    /// Incidents, most recently active first.
    List {
        /// A JSON array (id, title, severity, score, status, agency, alert_count,
        /// first_seen, last_seen, entity, rsit, tactics, ...).
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Only these statuses (comma-separated: new,acknowledged,in_progress,...).
        #[arg(long, value_delimiter = ',')]
        status: Vec<String>,
        /// Only this agency (inventory id).
        #[arg(long)]
        agency: Option<String>,
        /// Only incidents scoring at least this.
        #[arg(long)]
        min_score: Option<u32>,
        /// Highest score first instead of most recent first.
        #[arg(long)]
        by_score: bool,
    },
    /// One incident with its rules, hosts, alerts, notes and audit trail.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// new → acknowledged.
    Ack(Change),
    /// → in_progress (also reopens a resolved or false-positive incident).
    Start(Change),
    /// → resolved.
    Resolve(Change),
    /// → false_positive.
    FalsePositive(Change),
    /// Assign to an analyst (`--to ''` unassigns).
    Assign {
        #[command(flatten)]
        change: Change,
        #[arg(long)]
        to: String,
    },
    /// Add a note.
    Note {
        id: i64,
        text: String,
        #[arg(long)]
        by: Option<String>,
    },
}

#[derive(Args)]
pub struct Change {
    pub id: i64,
    /// Who does it (audit log); defaults to the login name.
    #[arg(long)]
    pub by: Option<String>,
    /// A note recorded with the change.
    #[arg(long)]
    pub note: Option<String>,
    /// Refuse if the incident's version is not this one (someone changed it meanwhile).
    #[arg(long)]
    pub expect_version: Option<i64>,
}

#[derive(Subcommand)]
pub enum SuppressionsCommand {
    /// Every suppression with its hits.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Silence alerts: by rule, source and/or destination network, with a reason.
    Add {
        /// Signature id (and `--gid`, default any).
        #[arg(long)]
        sid: Option<u32>,
        #[arg(long)]
        gid: Option<u32>,
        /// Source address or CIDR.
        #[arg(long)]
        src: Option<String>,
        /// Destination address or CIDR.
        #[arg(long)]
        dest: Option<String>,
        #[arg(long)]
        reason: String,
        /// How long: `30m`, `12h`, `7d`; none: until removed.
        #[arg(long)]
        expires: Option<String>,
        #[arg(long)]
        by: Option<String>,
    },
    /// End a suppression (it stays listed with its counts).
    Remove {
        id: i64,
        #[arg(long)]
        by: Option<String>,
    },
}

/// Who is acting: `--by`, else the login name.
pub fn actor(by: &Option<String>) -> String {
    by.clone()
        .or_else(|| std::env::var("SUDO_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "cli".into())
}

/// `30m`, `12h`, `7d`, `90s` → µs; a bare number is days.
pub fn parse_duration_us(s: &str) -> Result<i64> {
    let s = s.trim();
    let days = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let secs = gatewatch_correlator::response::config::parse_duration(&if days {
        format!("{s}d")
    } else {
        s.to_string()
    })
    .with_context(|| format!("duration `{s}`"))?;
    i64::try_from(secs)
        .ok()
        .and_then(|s| s.checked_mul(1_000_000))
        .with_context(|| format!("duration `{s}` is too long"))
}

pub fn open_store(cfg: &Config) -> Result<Store> {
    if !cfg.store.path.exists() {
        bail!(
            "no store at `{}`: run `gatewatch demo` (or `gatewatch run`) in this folder first",
            cfg.store.path.display()
        );
    }
    Ok(Store::open(&cfg.store.path)?)
}

fn change(store: &mut Store, c: &Change, to: Status) -> Result<()> {
    let v = store.transition(c.id, to, &actor(&c.by), c.note.as_deref(), c.expect_version)?;
    println!("incident {} is now {} (version {v})", c.id, to.as_str());
    Ok(())
}

pub fn run(cmd: IncidentsCommand, cfg: Config) -> Result<ExitCode> {
    let mut store = open_store(&cfg)?;
    match cmd {
        IncidentsCommand::List { json, limit, status, agency, min_score, by_score } => {
            for s in &status {
                if Status::parse(s).is_none() {
                    bail!("--status `{s}`: new, acknowledged, in_progress, resolved or false_positive");
                }
            }
            let f = IncidentFilter {
                status: status
                    .iter()
                    .filter_map(|s| Status::parse(s))
                    .map(|s| s.as_str().to_string())
                    .collect(),
                agency,
                min_score,
                order: if by_score { IncidentOrder::Score } else { IncidentOrder::LastSeen },
                limit,
                ..Default::default()
            };
            let rows = store.find_incidents(&f)?;
            if json {
                super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&rows)?))?;
            } else if rows.is_empty() {
                println!("no incidents");
            } else {
                print!("{}", terminal::incident_table(&rows));
            }
        }
        IncidentsCommand::Show { id, json } => show(&store, id, json)?,
        IncidentsCommand::Ack(c) => change(&mut store, &c, Status::Acknowledged)?,
        IncidentsCommand::Start(c) => change(&mut store, &c, Status::InProgress)?,
        IncidentsCommand::Resolve(c) => change(&mut store, &c, Status::Resolved)?,
        IncidentsCommand::FalsePositive(c) => change(&mut store, &c, Status::FalsePositive)?,
        IncidentsCommand::Assign { change, to } => {
            let to = Some(to.trim()).filter(|t| !t.is_empty());
            let v = store.assign(change.id, to, &actor(&change.by), change.expect_version)?;
            if let Some(n) = change.note.as_deref() {
                store.add_note(change.id, &actor(&change.by), n)?;
            }
            println!("incident {} assigned to {} (version {v})", change.id, to.unwrap_or("nobody"));
        }
        IncidentsCommand::Note { id, text, by } => {
            let n = store.add_note(id, &actor(&by), &text)?;
            println!("note {n} added to incident {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(store: &Store, id: i64, json: bool) -> Result<()> {
    let Some(record) = store.incident_record(id, 1000)? else { bail!("no incident {id}") };
    if json {
        return Ok(super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&record)?))?);
    }
    print!("{}", terminal::incident_detail(&record));
    Ok(())
}

pub fn run_suppressions(cmd: SuppressionsCommand, cfg: Config) -> Result<ExitCode> {
    let mut store = open_store(&cfg)?;
    match cmd {
        SuppressionsCommand::List { json } => {
            let list = store.suppressions()?;
            if json {
                super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&list)?))?;
                return Ok(ExitCode::SUCCESS);
            }
            let now = chrono::Utc::now().timestamp_micros();
            print!("{}", terminal::suppression_table(&list, now));
        }
        SuppressionsCommand::Add { sid, gid, src, dest, reason, expires, by } => {
            let expires_us = match expires {
                Some(e) => Some(chrono::Utc::now().timestamp_micros() + parse_duration_us(&e)?),
                None => None,
            };
            let rule = SuppressionRule { gid, sid, src, dest, reason, created_by: actor(&by) };
            let s = NewSuppression { rule, expires_us };
            let id = store.add_suppression(&s)?;
            println!("suppression {id} added; the correlator applies it within 5 seconds");
        }
        SuppressionsCommand::Remove { id, by } => {
            store.remove_suppression(id, &actor(&by))?;
            println!("suppression {id} removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_us("90s").unwrap(), 90_000_000);
        assert_eq!(parse_duration_us("7d").unwrap(), 7 * 86_400_000_000);
        assert_eq!(parse_duration_us("2").unwrap(), 2 * 86_400_000_000);
        assert!(parse_duration_us("3w").is_err());
        assert!(parse_duration_us("h").is_err());
        assert!(parse_duration_us("99999999999999d").is_err());
    }
}
