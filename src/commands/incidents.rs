//! `gatewatch incidents list|show`.

use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Subcommand;
use gatewatch_correlator::store::{IncidentRow, Store};

use crate::config::Config;

#[derive(Subcommand)]
pub enum IncidentsCommand {
    /// Incidents, most recently active first.
    List {
        /// A JSON array (id, title, severity, score, status, agency, alert_count, first_seen, last_seen, ...).
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// One incident with its alerts.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
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
        "{:>4}  {:<6}  {:>5}  {:>6}  {:<8}  {:<19}  TITLE",
        "ID", "SEV", "SCORE", "ALERTS", "STATUS", "LAST SEEN (ICT)"
    );
    for r in rows {
        println!(
            "{:>4}  {:<6}  {:>5}  {:>6}  {:<8}  {:<19}  {}",
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

pub fn run(cmd: IncidentsCommand, cfg: Config) -> Result<ExitCode> {
    if !cfg.store.path.exists() {
        bail!(
            "no store at `{}`: run `gatewatch demo` (or `gatewatch run`) in this folder first",
            cfg.store.path.display()
        );
    }
    let store = Store::open(&cfg.store.path)?;
    match cmd {
        IncidentsCommand::List { json, limit } => {
            let rows = store.list_incidents(limit)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if rows.is_empty() {
                println!("no incidents");
            } else {
                print_table(&rows);
            }
        }
        IncidentsCommand::Show { id, json } => {
            let Some(inc) = store.get_incident(id)? else { bail!("no incident {id}") };
            let alerts = store.incident_alerts(id, 1000)?;
            if json {
                let v = serde_json::json!({ "incident": inc, "alerts": alerts });
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!("Incident {}: {}", inc.id, inc.title);
                println!("  rule        {}:{} {}", inc.gid, inc.sid, inc.signature);
                println!("  category    {}", inc.category);
                println!("  severity    {} (score {})", inc.severity, inc.score);
                println!("  status      {}", inc.status);
                println!("  source      {}", inc.src_ip);
                println!("  destination {}", inc.dest_ip);
                println!("  first seen  {} ICT", local_time(inc.first_seen_us));
                println!("  last seen   {} ICT", local_time(inc.last_seen_us));
                println!("  alerts      {}", inc.alert_count);
                for a in alerts.iter().take(20) {
                    println!(
                        "    {}  {}:{} -> {}:{} {}",
                        a.timestamp,
                        a.src_ip,
                        a.src_port.map(|p| p.to_string()).unwrap_or_default(),
                        a.dest_ip,
                        a.dest_port.map(|p| p.to_string()).unwrap_or_default(),
                        a.proto
                    );
                }
                if alerts.len() > 20 {
                    println!("    ... {} more (--json lists them all)", alerts.len() - 20);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
