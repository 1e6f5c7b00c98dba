//! Plain-text views for a terminal, as `gatewatch incidents`, `suppressions` and
//! `blocks` print them: column tables and an incident's detail. Times are Vietnam's
//! (UTC+7, no daylight saving) unless a column says UTC.

use std::fmt::Write;

use crate::domain::suppression::Suppression;
use crate::report::figures::VN_OFFSET_SECS;
use crate::store::accounts::{ApiToken, User};
use crate::store::blocks::BlockRow;
use crate::store::{IncidentRecord, IncidentRow};

/// Alerts, hosts and rules an incident's detail lists before "… more".
const DETAIL_ALERTS: usize = 20;
const DETAIL_HOSTS: usize = 20;
const DETAIL_RULES: usize = 10;

/// A time for analysts: Asia/Ho_Chi_Minh, `2026-10-05 08:00:00`; `?` when out of range.
pub fn local_time(us: i64) -> String {
    let Some(tz) = chrono::FixedOffset::east_opt(VN_OFFSET_SECS) else { return "?".into() };
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(us)
        .map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "?".into())
}

/// Incidents, one per line, under a header.
pub fn incident_table(rows: &[IncidentRow]) -> String {
    let mut out = format!(
        "{:>4}  {:<8}  {:>5}  {:>6}  {:<12}  {:<19}  TITLE\n",
        "ID", "SEVERITY", "SCORE", "ALERTS", "STATUS", "LAST SEEN (ICT)"
    );
    for r in rows {
        let _ = writeln!(
            out,
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
    out
}

/// One incident: what it is, whom it touches, its rules, hosts, first alerts, notes
/// and audit trail (oldest first).
pub fn incident_detail(r: &IncidentRecord) -> String {
    let inc = &r.incident;
    let mut out = String::new();
    let o = &mut out;
    let _ = writeln!(o, "Incident {}: {}", inc.id, inc.title);
    let _ = writeln!(
        o,
        "  severity    {} (score {}), status {}, version {}",
        inc.severity, inc.score, inc.status, inc.version
    );
    let _ = writeln!(o, "  entity      {} ({})", inc.entity, inc.entity_zone);
    if let Some(a) = &inc.agency_name {
        let system = inc.system.as_deref().map(|s| format!(" · {s}")).unwrap_or_default();
        let level = inc.security_level.map(|l| format!(" · level {l}")).unwrap_or_default();
        let _ = writeln!(o, "  agency      {a}{system}{level}");
    }
    let succeeded = if inc.succeeded { ", succeeded" } else { "" };
    let _ = writeln!(o, "  class       {} (RSIT){succeeded}", inc.rsit);
    let _ = writeln!(o, "  ATT&CK      {} {}", inc.tactics.join(","), inc.techniques.join(","));
    if !inc.correlations.is_empty() {
        let _ = writeln!(o, "  correlated  {}", inc.correlations.join("; "));
    }
    if let Some(m) = inc.merged_into {
        let _ = writeln!(o, "  merged into incident {m}");
    }
    let _ = writeln!(o, "  assignee    {}", inc.assignee.as_deref().unwrap_or("-"));
    let _ = writeln!(o, "  first seen  {} ICT", local_time(inc.first_seen_us));
    let _ = writeln!(o, "  last seen   {} ICT", local_time(inc.last_seen_us));
    let _ = writeln!(o, "  alerts      {} over {} rules", inc.alert_count, inc.rule_count);
    for rule in r.rules.iter().take(DETAIL_RULES) {
        let _ =
            writeln!(o, "    {:>6} × {}:{} {}", rule.alerts, rule.gid, rule.sid, rule.signature);
    }
    detail_evidence(o, r);
    out
}

/// The hosts, first alerts, notes and audit trail of an incident's detail.
fn detail_evidence(o: &mut String, r: &IncidentRecord) {
    let _ = writeln!(o, "  hosts");
    for h in r.hosts.iter().take(DETAIL_HOSTS) {
        let agency = h.agency.as_deref().map(|a| format!(", {a}")).unwrap_or_default();
        let _ = writeln!(o, "    {:<8} {} ({}{agency})", h.role, h.ip, h.zone);
    }
    let _ = writeln!(o, "  first alerts");
    let port = |p: Option<u16>| p.map(|p| p.to_string()).unwrap_or_default();
    for a in r.alerts.iter().take(DETAIL_ALERTS) {
        let _ = writeln!(
            o,
            "    {} ×{} {}:{} -> {}:{} {} sid {}",
            a.timestamp,
            a.count,
            a.src_ip,
            port(a.src_port),
            a.dest_ip,
            port(a.dest_port),
            a.proto,
            a.sid
        );
    }
    if r.alerts.len() > DETAIL_ALERTS {
        let more = r.alerts.len() - DETAIL_ALERTS;
        let _ = writeln!(o, "    ... {more} more (--json lists them all)");
    }
    for n in &r.notes {
        let _ = writeln!(o, "  note        {} {}: {}", n.at, n.author, n.text);
    }
    let _ = writeln!(o, "  audit");
    for a in r.audit.iter().rev() {
        let _ = writeln!(o, "    {} {:<10} {} {}", a.at, a.actor, a.action, a.detail);
    }
}

/// Suppressions with their state at `now_us` (active, expired, removed) and hits.
pub fn suppression_table(list: &[Suppression], now_us: i64) -> String {
    let mut out = format!(
        "{:>4}  {:<8}  {:<18}  {:<18}  {:>6}  {:<19}  REASON\n",
        "ID", "STATE", "RULE / SOURCE", "DESTINATION", "HITS", "EXPIRES (ICT)"
    );
    for s in list {
        let state = if s.removed_us.is_some() {
            "removed"
        } else if s.expires_us.is_some_and(|e| e <= now_us) {
            "expired"
        } else {
            "active"
        };
        let r = &s.rule;
        let what = match (r.sid, &r.src) {
            (Some(sid), Some(src)) => format!("{}:{sid} {src}", r.gid.unwrap_or(1)),
            (Some(sid), None) => format!("{}:{sid}", r.gid.map_or("*".into(), |g| g.to_string())),
            (None, Some(src)) => src.clone(),
            (None, None) => "*".into(),
        };
        let _ = writeln!(
            out,
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
    out
}

/// Blocks, one per line, under a header (expiry in UTC, as the store keeps it).
pub fn block_table(rows: &[BlockRow]) -> String {
    let mut out = format!(
        "{:>5}  {:<17}  {:<25}  {:<11}  {:<14}  {:>8}  {:<19}  REASON\n",
        "ID", "STATE", "TARGET", "KIND", "ACTION", "INCIDENT", "EXPIRES (UTC)"
    );
    for b in rows {
        let _ = writeln!(
            out,
            "{:>5}  {:<17}  {:<25}  {:<11}  {:<14}  {:>8}  {:<19}  {}",
            b.id,
            b.state,
            b.target,
            b.target_kind,
            b.action,
            b.incident_id.map(|i| format!("#{i}")).unwrap_or_default(),
            b.expires_at.as_deref().map(|e| e.get(..19).unwrap_or(e)).unwrap_or(""),
            b.reason
        );
    }
    out
}

/// Console accounts: name, role, whether disabled, display name.
pub fn user_table(users: &[User]) -> String {
    let mut out = String::new();
    for u in users {
        let disabled = if u.disabled { "disabled" } else { "" };
        let _ = writeln!(
            out,
            "{:<20} {:<8} {:<9} {}",
            u.name,
            u.role.as_str(),
            disabled,
            u.display_name
        );
    }
    out
}

/// API tokens: id, name, user, role, and when revoked.
pub fn token_table(tokens: &[ApiToken]) -> String {
    let mut out = String::new();
    for t in tokens {
        let revoked = t.revoked.as_ref().map(|r| format!("revoked {r}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "{:>4} {:<20} {:<16} {:<8} {revoked}",
            t.id,
            t.name,
            t.user,
            t.role.as_str()
        );
    }
    out
}

#[cfg(test)]
mod tests;
