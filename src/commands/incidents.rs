//! `gatewatch incidents …` (list, show, and the lifecycle: acknowledge, assign, note,
//! resolve, false-positive, reopen) and `gatewatch suppressions …`. They work on the
//! store of `store.path`, also while the correlator runs (SQLite WAL).

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use gatewatch_correlator::domain::suppression::{NewSuppression, SuppressionRule};
use gatewatch_correlator::store::{IncidentFilter, IncidentRow, Status, Store};

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

/// Times for analysts: Asia/Ho_Chi_Minh (UTC+7, no daylight saving).
pub fn local_time(us: i64) -> String {
    let Some(tz) = chrono::FixedOffset::east_opt(7 * 3600) else { return "?".into() };
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(us)
        .map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "?".into())
}

pub fn print_table(rows: &[IncidentRow]) {
    println!(
        "{:>4}  {:<8}  {:>5}  {:>6}  {:<12}  {:<19}  TITLE",
        "ID", "SEVERITY", "SCORE", "ALERTS", "STATUS", "LAST SEEN (ICT)"
    );
    for r in rows {
        println!(
            "{:>4}  {:<8}  {:>5}  {:>6}  {:<12}  {:<19}  {}",
            r.id,
            r.severity,
            r.score,
            r.alert_count,
            r.status,
            local_time(r.last_seen_us),
            r.title
        );
    }
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
                sort_by_score: by_score,
                limit,
                ..Default::default()
            };
            let rows = store.find_incidents(&f)?;
            if json {
                super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&rows)?))?;
            } else if rows.is_empty() {
                println!("no incidents");
            } else {
                print_table(&rows);
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
    let Some(inc) = store.get_incident(id)? else { bail!("no incident {id}") };
    let alerts = store.incident_alerts(id, 1000)?;
    let rules = store.incident_rules(id)?;
    let hosts = store.incident_hosts(id)?;
    let notes = store.notes(id)?;
    let audit = store.audit(Some(id), 1000)?;
    if json {
        let v = serde_json::json!({ "incident": inc, "rules": rules, "hosts": hosts,
                                    "alerts": alerts, "notes": notes, "audit": audit });
        return Ok(super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&v)?))?);
    }
    println!("Incident {}: {}", inc.id, inc.title);
    println!(
        "  severity    {} (score {}), status {}, version {}",
        inc.severity, inc.score, inc.status, inc.version
    );
    println!("  entity      {} ({})", inc.entity, inc.entity_zone);
    if let Some(a) = &inc.agency_name {
        println!(
            "  agency      {a}{}{}",
            inc.system.as_deref().map(|s| format!(" · {s}")).unwrap_or_default(),
            inc.security_level.map(|l| format!(" · level {l}")).unwrap_or_default()
        );
    }
    println!("  class       {} (RSIT){}", inc.rsit, if inc.succeeded { ", succeeded" } else { "" });
    println!("  ATT&CK      {} {}", inc.tactics.join(","), inc.techniques.join(","));
    if !inc.correlations.is_empty() {
        println!("  correlated  {}", inc.correlations.join("; "));
    }
    if let Some(m) = inc.merged_into {
        println!("  merged into incident {m}");
    }
    println!("  assignee    {}", inc.assignee.as_deref().unwrap_or("-"));
    println!("  first seen  {} ICT", local_time(inc.first_seen_us));
    println!("  last seen   {} ICT", local_time(inc.last_seen_us));
    println!("  alerts      {} over {} rules", inc.alert_count, inc.rule_count);
    for r in rules.iter().take(10) {
        println!("    {:>6} × {}:{} {}", r.alerts, r.gid, r.sid, r.signature);
    }
    println!("  hosts");
    for h in hosts.iter().take(20) {
        println!(
            "    {:<8} {} ({}{})",
            h.role,
            h.ip,
            h.zone,
            h.agency.as_deref().map(|a| format!(", {a}")).unwrap_or_default()
        );
    }
    println!("  first alerts");
    for a in alerts.iter().take(20) {
        println!(
            "    {} ×{} {}:{} -> {}:{} {} sid {}",
            a.timestamp,
            a.count,
            a.src_ip,
            a.src_port.map(|p| p.to_string()).unwrap_or_default(),
            a.dest_ip,
            a.dest_port.map(|p| p.to_string()).unwrap_or_default(),
            a.proto,
            a.sid
        );
    }
    if alerts.len() > 20 {
        println!("    ... {} more (--json lists them all)", alerts.len() - 20);
    }
    for n in &notes {
        println!("  note        {} {}: {}", n.at, n.author, n.text);
    }
    println!("  audit");
    for r in audit.iter().rev() {
        println!("    {} {:<10} {} {}", r.at, r.actor, r.action, r.detail);
    }
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
            println!(
                "{:>4}  {:<8}  {:<18}  {:<18}  {:>6}  {:<19}  REASON",
                "ID", "STATE", "RULE / SOURCE", "DESTINATION", "HITS", "EXPIRES (ICT)"
            );
            let now = chrono::Utc::now().timestamp_micros();
            for s in list {
                let state = if s.removed_us.is_some() {
                    "removed"
                } else if s.expires_us.is_some_and(|e| e <= now) {
                    "expired"
                } else {
                    "active"
                };
                let r = &s.rule;
                let what = match (r.sid, &r.src) {
                    (Some(sid), Some(src)) => format!("{}:{sid} {src}", r.gid.unwrap_or(1)),
                    (Some(sid), None) => {
                        format!("{}:{sid}", r.gid.map_or("*".into(), |g| g.to_string()))
                    }
                    (None, Some(src)) => src.clone(),
                    (None, None) => "*".into(),
                };
                println!(
                    "{:>4}  {:<8}  {:<18}  {:<18}  {:>6}  {:<19}  {} (by {})",
                    s.id,
                    state,
                    what,
                    r.dest.as_deref().unwrap_or("*"),
                    s.hits,
                    s.expires_us.map_or("never".into(), local_time),
                    r.reason,
                    r.created_by
                );
            }
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
