//! What analysts do to incidents, with the audit log that records it.
//!
//! ```text
//!  new ──▶ acknowledged ──▶ in_progress ──▶ resolved
//!   │           │                │      └──▶ false_positive
//!   └───────────┴────────────────┴─▶ resolved | false_positive
//!  resolved | false_positive ──reopen──▶ in_progress
//! ```
//!
//! The first move out of `new` sets `acknowledged_us` (time to acknowledge is measured
//! from `created_us`); a move to `resolved` or `false_positive` sets `resolved_us`
//! (time to resolve), and reopening clears it. Every change bumps the incident's
//! `version`: a caller that passes the version it saw gets
//! [`StoreError::Conflict`] when someone changed the incident in between. Every change
//! is appended to `audit_log`, which SQLite triggers keep append-only.

use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use super::sqlite::{iso_utc, IncidentHost, IncidentRule};
use super::{AlertRow, IncidentRow};
use super::{Store, StoreError};
use crate::domain::suppression::{NewSuppression, Suppression, SuppressionRule};

/// The states of an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not looked at yet.
    New,
    /// An analyst has seen it.
    Acknowledged,
    /// Being worked on.
    InProgress,
    /// Handled.
    Resolved,
    /// Not an attack (closing it so lifts its blocks).
    FalsePositive,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::Acknowledged,
        Status::InProgress,
        Status::Resolved,
        Status::FalsePositive,
    ];

    /// `new`, `acknowledged`, `in_progress`, `resolved` or `false_positive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Acknowledged => "acknowledged",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::FalsePositive => "false_positive",
        }
    }

    /// The status of its stored name.
    pub fn parse(s: &str) -> Option<Status> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub(crate) fn is_closed(self) -> bool {
        matches!(self, Status::Resolved | Status::FalsePositive)
    }

    /// Whether an incident in this state may move to `to`.
    pub fn can_go(self, to: Status) -> bool {
        use Status::*;
        match self {
            New => to != New,
            Acknowledged => matches!(to, InProgress | Resolved | FalsePositive),
            InProgress => matches!(to, Resolved | FalsePositive),
            Resolved | FalsePositive => to == InProgress,
        }
    }
}

/// A note on an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Note {
    pub id: i64,
    pub incident_id: i64,
    pub at: String,
    pub author: String,
    pub text: String,
}

/// One record of the audit log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: String,
    #[serde(skip)]
    pub at_us: i64,
    pub actor: String,
    pub action: String,
    pub incident_id: Option<i64>,
    pub object: Option<String>,
    pub detail: serde_json::Value,
}

/// An incident with its rules, hosts, first alerts, notes and audit trail: what the
/// REST API's incident answer and `gatewatch incidents show` give.
#[derive(Clone, Debug, Serialize)]
pub struct IncidentRecord {
    /// The incident.
    pub incident: IncidentRow,
    /// Its rules with their alert counts.
    pub rules: Vec<IncidentRule>,
    /// The hosts it involves.
    pub hosts: Vec<IncidentHost>,
    /// Its first alerts.
    pub alerts: Vec<AlertRow>,
    /// Its notes, oldest first.
    pub notes: Vec<Note>,
    /// Its audit trail.
    pub audit: Vec<AuditRecord>,
}

/// Longest note kept.
pub const MAX_NOTE_BYTES: usize = 16 * 1024;

pub(crate) fn append_audit(
    tx: &Transaction<'_>,
    at_us: i64,
    actor: &str,
    action: &str,
    incident: Option<i64>,
    object: Option<&str>,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    let mut st = tx.prepare_cached(
        "INSERT INTO audit_log (at_us, actor, action, incident_id, object, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    st.execute(params![at_us, actor, action, incident, object, detail.to_string()])?;
    Ok(())
}

/// An audit record from `SELECT id, at_us, actor, action, incident_id, object, detail`.
pub(crate) fn audit_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRecord> {
    let at_us: i64 = r.get(1)?;
    let detail: String = r.get(6)?;
    Ok(AuditRecord {
        id: r.get(0)?,
        at: iso_utc(at_us),
        at_us,
        actor: r.get(2)?,
        action: r.get(3)?,
        incident_id: r.get(4)?,
        object: r.get(5)?,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
    })
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn check_actor(actor: &str) -> Result<(), StoreError> {
    if actor.trim().is_empty() || actor.len() > 256 {
        return Err(StoreError::Refused("the actor (user name) is empty or too long".into()));
    }
    Ok(())
}

/// The status and version of an incident, or NotFound; Conflict when `expected`
/// differs from the version.
fn current(
    tx: &Transaction<'_>,
    id: i64,
    expected: Option<i64>,
) -> Result<(Status, i64), StoreError> {
    let row: Option<(String, i64, Option<i64>)> = tx
        .query_row("SELECT status, version, merged_into FROM incidents WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((status, version, merged)) = row else {
        return Err(StoreError::NotFound(format!("incident {id}")));
    };
    if let Some(into) = merged {
        return Err(StoreError::Refused(format!("incident {id} was merged into incident {into}")));
    }
    if let Some(e) = expected {
        if e != version {
            return Err(StoreError::Conflict { id, expected: e, found: version });
        }
    }
    let status = Status::parse(&status).ok_or_else(|| {
        StoreError::Refused(format!("incident {id} has unknown status `{status}`"))
    })?;
    Ok((status, version))
}

impl Store {
    /// Moves an incident to `to`, with an optional note; returns the new version.
    pub fn transition(
        &mut self,
        id: i64,
        to: Status,
        actor: &str,
        note: Option<&str>,
        expected_version: Option<i64>,
    ) -> Result<i64, StoreError> {
        check_actor(actor)?;
        let tx = self.transaction()?;
        let (from, version) = current(&tx, id, expected_version)?;
        if !from.can_go(to) {
            return Err(StoreError::Refused(format!(
                "incident {id} is {}: it cannot become {}",
                from.as_str(),
                to.as_str()
            )));
        }
        let at = now_us();
        tx.execute(
            "UPDATE incidents SET status = ?2, version = version + 1, updated_at = ?3, updated_seq = ?8,
                 acknowledged_us = CASE WHEN acknowledged_us IS NULL AND ?4 THEN ?5 ELSE acknowledged_us END,
                 resolved_us = CASE WHEN ?6 THEN ?5 WHEN ?7 THEN NULL ELSE resolved_us END
             WHERE id = ?1",
            params![
                id,
                to.as_str(),
                iso_utc(at),
                from == Status::New,
                at,
                to.is_closed(),
                from.is_closed(),
                super::write::next_seq(&tx)?
            ],
        )?;
        let action = if from.is_closed() { "incident.reopen" } else { "incident.transition" };
        append_audit(
            &tx,
            at,
            actor,
            action,
            Some(id),
            None,
            &serde_json::json!({"from": from.as_str(), "to": to.as_str(), "note": note}),
        )?;
        if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
            insert_note(&tx, id, at, actor, n)?;
        }
        tx.commit()?;
        Ok(version + 1)
    }

    /// Appends one record to the audit log in a transaction of its own (an event that
    /// changes nothing else, like a refused sign-in).
    pub fn append_audit_record(
        &mut self,
        action: &str,
        actor: &str,
        incident: Option<i64>,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let tx = self.transaction()?;
        append_audit(&tx, now_us(), actor, action, incident, None, detail)?;
        tx.commit()?;
        Ok(())
    }

    /// Assigns an incident (`None`: unassigns); returns the new version.
    pub fn assign(
        &mut self,
        id: i64,
        assignee: Option<&str>,
        actor: &str,
        expected_version: Option<i64>,
    ) -> Result<i64, StoreError> {
        check_actor(actor)?;
        let tx = self.transaction()?;
        let (_, version) = current(&tx, id, expected_version)?;
        let before: Option<String> =
            tx.query_row("SELECT assignee FROM incidents WHERE id = ?1", [id], |r| r.get(0))?;
        let at = now_us();
        tx.execute(
            "UPDATE incidents SET assignee = ?2, version = version + 1, updated_at = ?3, updated_seq = ?4 WHERE id = ?1",
            params![id, assignee, iso_utc(at), super::write::next_seq(&tx)?],
        )?;
        append_audit(
            &tx,
            at,
            actor,
            "incident.assign",
            Some(id),
            None,
            &serde_json::json!({"from": before, "to": assignee}),
        )?;
        tx.commit()?;
        Ok(version + 1)
    }

    /// Adds a note; returns its id.
    pub fn add_note(&mut self, id: i64, author: &str, text: &str) -> Result<i64, StoreError> {
        check_actor(author)?;
        if text.trim().is_empty() || text.len() > MAX_NOTE_BYTES {
            return Err(StoreError::Refused(format!(
                "a note has 1 to {MAX_NOTE_BYTES} bytes of text"
            )));
        }
        let tx = self.transaction()?;
        current(&tx, id, None)?;
        let at = now_us();
        let note = insert_note(&tx, id, at, author, text)?;
        tx.execute(
            "UPDATE incidents SET version = version + 1, updated_at = ?2, updated_seq = ?3 WHERE id = ?1",
            params![id, iso_utc(at), super::write::next_seq(&tx)?],
        )?;
        append_audit(
            &tx,
            at,
            author,
            "incident.note",
            Some(id),
            Some(&format!("note:{note}")),
            &serde_json::json!({"bytes": text.len()}),
        )?;
        tx.commit()?;
        Ok(note)
    }

    /// Incident `id` with at most `limit` alerts and audit records; `None` when there
    /// is no such incident.
    pub fn incident_record(
        &self,
        id: i64,
        limit: usize,
    ) -> Result<Option<IncidentRecord>, StoreError> {
        let Some(incident) = self.get_incident(id)? else { return Ok(None) };
        Ok(Some(IncidentRecord {
            incident,
            rules: self.incident_rules(id)?,
            hosts: self.incident_hosts(id)?,
            alerts: self.incident_alerts(id, limit)?,
            notes: self.notes(id)?,
            audit: self.audit(Some(id), limit)?,
        }))
    }

    /// An incident's notes, oldest first.
    pub fn notes(&self, id: i64) -> Result<Vec<Note>, StoreError> {
        let mut st = self.conn().prepare(
            "SELECT id, incident_id, at_us, author, text FROM incident_notes WHERE incident_id = ?1 ORDER BY at_us, id",
        )?;
        let rows = st.query_map([id], |r| {
            Ok(Note {
                id: r.get(0)?,
                incident_id: r.get(1)?,
                at: iso_utc(r.get(2)?),
                author: r.get(3)?,
                text: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The audit records of an incident (or all, newest first, when `None`).
    pub fn audit(
        &self,
        incident: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        // Two statements: `?1 IS NULL OR incident_id = ?1` would read the whole log
        // through the time index (1.5 s at 1.5 million incidents) instead of the
        // incident's few records.
        let sql = if incident.is_some() {
            "SELECT id, at_us, actor, action, incident_id, object, detail FROM audit_log
             WHERE incident_id = ?1 ORDER BY at_us DESC, id DESC LIMIT ?2"
        } else {
            "SELECT id, at_us, actor, action, incident_id, object, detail FROM audit_log
             WHERE ?1 IS NULL ORDER BY at_us DESC, id DESC LIMIT ?2"
        };
        let mut st = self.conn().prepare_cached(sql)?;
        let rows = st.query_map(params![incident, limit as i64], audit_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Adds a suppression; returns its id.
    pub fn add_suppression(&mut self, new: &NewSuppression) -> Result<i64, StoreError> {
        new.validate().map_err(|e| StoreError::Refused(e.to_string()))?;
        let (s, expires_us) = (&new.rule, new.expires_us);
        check_actor(&s.created_by)?;
        let tx = self.transaction()?;
        let at = now_us();
        tx.execute(
            "INSERT INTO suppressions (gid, sid, src, dest, reason, created_by, created_us, expires_us)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![s.gid, s.sid, s.src, s.dest, s.reason, s.created_by, at, expires_us],
        )?;
        let id = tx.last_insert_rowid();
        append_audit(
            &tx,
            at,
            &s.created_by,
            "suppression.add",
            None,
            Some(&format!("suppression:{id}")),
            &serde_json::json!({"gid": s.gid, "sid": s.sid, "src": s.src, "dest": s.dest,
                                "reason": s.reason, "expires": expires_us.map(iso_utc)}),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Ends a suppression (it stays listed, with its counts).
    pub fn remove_suppression(&mut self, id: i64, actor: &str) -> Result<(), StoreError> {
        check_actor(actor)?;
        let tx = self.transaction()?;
        let at = now_us();
        let n = tx.execute(
            "UPDATE suppressions SET removed_us = ?2, removed_by = ?3 WHERE id = ?1 AND removed_us IS NULL",
            params![id, at, actor],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("active suppression {id}")));
        }
        append_audit(
            &tx,
            at,
            actor,
            "suppression.remove",
            None,
            Some(&format!("suppression:{id}")),
            &serde_json::json!({}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every suppression, newest first.
    pub fn suppressions(&self) -> Result<Vec<Suppression>, StoreError> {
        let mut st = self.conn().prepare(
            "SELECT id, gid, sid, src, dest, reason, created_by, created_us, expires_us, removed_us, hits, last_hit_us
             FROM suppressions ORDER BY id DESC",
        )?;
        let rows = st.query_map([], |r| {
            let rule = SuppressionRule {
                gid: r.get("gid")?,
                sid: r.get("sid")?,
                src: r.get("src")?,
                dest: r.get("dest")?,
                reason: r.get("reason")?,
                created_by: r.get("created_by")?,
            };
            Ok(Suppression {
                id: r.get("id")?,
                rule,
                created_us: r.get("created_us")?,
                expires_us: r.get("expires_us")?,
                removed_us: r.get("removed_us")?,
                hits: r.get::<_, i64>("hits")? as u64,
                last_hit_us: r.get("last_hit_us")?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

fn insert_note(
    tx: &Transaction<'_>,
    id: i64,
    at: i64,
    author: &str,
    text: &str,
) -> Result<i64, StoreError> {
    tx.execute(
        "INSERT INTO incident_notes (incident_id, at_us, author, text) VALUES (?1, ?2, ?3, ?4)",
        params![id, at, author, text],
    )?;
    Ok(tx.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transition_table() {
        use Status::*;
        assert!(New.can_go(Acknowledged) && New.can_go(FalsePositive) && !New.can_go(New));
        assert!(Acknowledged.can_go(InProgress) && !Acknowledged.can_go(New));
        assert!(InProgress.can_go(Resolved) && !InProgress.can_go(Acknowledged));
        assert!(Resolved.can_go(InProgress) && !Resolved.can_go(FalsePositive));
        assert_eq!(Status::parse("False-Positive"), Some(FalsePositive));
        assert_eq!(Status::parse("in progress"), Some(InProgress));
        assert_eq!(Status::parse("done"), None);
    }
}
