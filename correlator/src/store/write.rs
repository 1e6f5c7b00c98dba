//! The writes of the incident engine, inside one ingest transaction.

use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use super::StoreError;

/// The fields of a new alert row.
pub struct NewAlert<'a> {
    /// Event time, microseconds since the Unix epoch.
    pub ts_us: i64,
    /// The event time as EVE writes it.
    pub timestamp: &'a str,
    /// The sensor that saw it (its certificate name), when known.
    pub sensor: Option<&'a str>,
    /// The flow id shared by every event of the flow.
    pub flow_id: Option<u64>,
    /// Generator id (1 for rules; see `gatewatch_rules::ids`).
    pub gid: u32,
    /// Signature id.
    pub sid: u32,
    /// Rule revision.
    pub rev: u32,
    /// The rule's message (`msg`).
    pub signature: &'a str,
    /// The rule's classification text.
    pub category: &'a str,
    /// EVE severity: 1 (high) to 4.
    pub severity: u8,
    /// Source address.
    pub src_ip: &'a str,
    /// Source port (TCP, UDP, SCTP).
    pub src_port: Option<u16>,
    /// Destination address.
    pub dest_ip: &'a str,
    /// Destination port (TCP, UDP, SCTP).
    pub dest_port: Option<u16>,
    /// Transport protocol, as EVE names it (`TCP`, `UDP`, `ICMP`, …).
    pub proto: &'a str,
    pub(crate) tactics: &'a [String],
    /// MITRE ATT&CK technique ids from the rule's metadata.
    pub techniques: &'a [String],
    pub(crate) rsit: &'a str,
    /// Evidence that the attack worked (a `gatewatch.success` correlation).
    pub succeeded: bool,
    pub(crate) dedup_key: i64,
    pub(crate) raw: &'a str,
}

/// The fields of a new protocol record row.
#[derive(Clone, Copy)]
pub struct NewRecord<'a> {
    /// Event time, microseconds since the Unix epoch.
    pub ts_us: i64,
    /// EVE `event_type` (`alert`, `dns`, `http`, …).
    pub event_type: &'a str,
    /// The sensor that saw it (its certificate name), when known.
    pub sensor: Option<&'a str>,
    /// The flow id shared by every event of the flow.
    pub flow_id: Option<u64>,
    /// Source address.
    pub src_ip: Option<&'a str>,
    /// Destination address.
    pub dest_ip: Option<&'a str>,
    /// The record, as the EVE JSON line it came as.
    pub body: &'a str,
}

/// The aggregate state of an incident that the engine keeps up to date.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IncidentState {
    /// The incident's id.
    pub id: i64,
    /// Its title (`ET SCAN … from 10.1.2.3`).
    pub title: String,
    /// What the incident is about (fixed at creation; see [`IncidentEntity`]).
    pub entity: String,
    /// The leading rule: the first of the gravest severity.
    pub gid: u32,
    /// Signature id.
    pub sid: u32,
    /// The rule's message (`msg`).
    pub signature: String,
    /// The rule's classification text.
    pub category: String,
    /// Source address.
    pub src_ip: String,
    /// Destination address.
    pub dest_ip: String,
    /// EVE severity of the gravest alert (1 is the highest).
    pub severity: u8,
    pub(crate) score: u32,
    pub(crate) alert_count: u64,
    pub(crate) first_us: i64,
    pub(crate) last_us: i64,
    pub(crate) rsit: String,
    pub(crate) tactics: Vec<String>,
    /// MITRE ATT&CK technique ids from the rule's metadata.
    pub techniques: Vec<String>,
    pub(crate) rule_count: u64,
    /// Evidence that the attack worked (a `gatewatch.success` correlation).
    pub succeeded: bool,
    /// Names of the correlation rules that fired on it.
    pub correlations: Vec<String>,
}

/// Who and what an incident is about, fixed when it is created.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncidentEntity {
    /// What the incident is about (`src:10.1.2.3`, a campaign, a host).
    pub entity: String,
    pub(crate) zone: String,
    /// The agency id, from the asset inventory.
    pub agency: Option<String>,
    /// The agency's name, from the asset inventory.
    pub agency_name: Option<String>,
    /// The information system, from the asset inventory.
    pub system: Option<String>,
    /// The system's security level (Decree 85/2016, 1–5), from the asset inventory.
    pub security_level: Option<u8>,
    pub(crate) criticality: Option<String>,
}

pub(crate) fn json_list(v: &[String]) -> String {
    if v.is_empty() {
        String::new()
    } else {
        serde_json::to_string(v).unwrap_or_default()
    }
}

pub(crate) fn parse_list(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        serde_json::from_str(s).unwrap_or_default()
    }
}

const STATE_COLS: &str = "id, title, gid, sid, signature, category, src_ip, dest_ip, severity, score, alert_count, first_seen_us, last_seen_us, rsit, tactics, techniques, rule_count, succeeded, correlations, entity";

fn state_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentState> {
    Ok(IncidentState {
        id: r.get(0)?,
        title: r.get(1)?,
        gid: r.get(2)?,
        sid: r.get(3)?,
        signature: r.get(4)?,
        category: r.get(5)?,
        src_ip: r.get(6)?,
        dest_ip: r.get(7)?,
        severity: r.get(8)?,
        score: r.get(9)?,
        alert_count: r.get::<_, i64>(10)? as u64,
        first_us: r.get(11)?,
        last_us: r.get(12)?,
        rsit: r.get(13)?,
        tactics: parse_list(&r.get::<_, String>(14)?),
        techniques: parse_list(&r.get::<_, String>(15)?),
        rule_count: r.get::<_, i64>(16)? as u64,
        succeeded: r.get(17)?,
        correlations: parse_list(&r.get::<_, String>(18)?),
        entity: r.get(19)?,
    })
}

/// Takes the next change number (see migration 4): call once per transaction that
/// changes incidents.
pub(crate) fn next_seq(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    Ok(tx.query_row(
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'seq' RETURNING CAST(value AS INTEGER)",
        [],
        |r| r.get(0),
    )?)
}

/// Operations inside one ingest transaction.
pub struct TxOps<'a> {
    pub(crate) tx: &'a Transaction<'a>,
    /// The change number of this transaction.
    pub seq: i64,
}

impl<'a> TxOps<'a> {
    /// Operations in `tx`, numbered with the store's next change number.
    pub fn new(tx: &'a Transaction<'a>) -> Result<TxOps<'a>, StoreError> {
        Ok(TxOps { tx, seq: next_seq(tx)? })
    }

    /// An incident's version and the incident it was merged into, if any.
    pub fn version_and_merge(&self, id: i64) -> Result<(i64, Option<i64>), StoreError> {
        self.tx
            .query_row("SELECT version, merged_into FROM incidents WHERE id = ?1", [id], |r| {
                Ok((r.get("version")?, r.get("merged_into")?))
            })
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("incident {id}")))
    }

    /// Counts a change of incident `id` made outside `TxOps::update_incident`; its new
    /// version.
    pub fn bump_version(&self, id: i64) -> Result<i64, StoreError> {
        self.tx.execute("UPDATE incidents SET version = version + 1 WHERE id = ?1", [id])?;
        Ok(self.tx.query_row("SELECT version FROM incidents WHERE id = ?1", [id], |r| r.get(0))?)
    }

    /// Stores a protocol record (EVE `dns`, `http`, `flow` …).
    pub fn insert_record(&self, r: &NewRecord<'_>) -> Result<(), StoreError> {
        let NewRecord { ts_us, event_type, sensor, flow_id, src_ip, dest_ip, body } = *r;
        let mut st = self.tx.prepare_cached(
            "INSERT INTO records (ts_us, event_type, sensor, flow_id, src_ip, dest_ip, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        st.execute(params![
            ts_us,
            event_type,
            sensor,
            flow_id.map(|f| f as i64),
            src_ip,
            dest_ip,
            body
        ])?;
        Ok(())
    }

    /// The latest open incident of `entity` whose last alert is at or after
    /// `active_since_us` and whose first is at or after `span_since_us`.
    pub fn open_incident(
        &self,
        entity: &str,
        active_since_us: i64,
        span_since_us: i64,
    ) -> Result<Option<IncidentState>, StoreError> {
        let mut st = self.tx.prepare_cached(&format!(
            "SELECT {STATE_COLS} FROM incidents
             WHERE entity = ?1 AND last_seen_us >= ?2 AND first_seen_us >= ?3
               AND status IN ('new', 'acknowledged', 'in_progress') AND merged_into IS NULL
             ORDER BY last_seen_us DESC LIMIT 1"
        ))?;
        Ok(st
            .query_row(params![entity, active_since_us, span_since_us], state_from_row)
            .optional()?)
    }

    pub(crate) fn incident_state(&self, id: i64) -> Result<Option<IncidentState>, StoreError> {
        let mut st =
            self.tx.prepare_cached(&format!("SELECT {STATE_COLS} FROM incidents WHERE id = ?1"))?;
        Ok(st.query_row([id], state_from_row).optional()?)
    }

    pub(crate) fn insert_incident(
        &self,
        s: &IncidentState,
        e: &IncidentEntity,
        now_us: i64,
        now: &str,
    ) -> Result<i64, StoreError> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO incidents (title, gid, sid, signature, category, src_ip, dest_ip, severity, score, status,
                 agency, alert_count, first_seen_us, last_seen_us, created_at, updated_at, entity, entity_zone,
                 agency_name, system, security_level, criticality, rsit, tactics, techniques, rule_count,
                 succeeded, correlations, created_us, updated_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'new', ?10, ?11, ?12, ?13, ?14, ?14, ?15, ?16, ?17,
                     ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
        )?;
        st.execute(params![
            s.title,
            s.gid,
            s.sid,
            s.signature,
            s.category,
            s.src_ip,
            s.dest_ip,
            s.severity,
            s.score,
            e.agency,
            s.alert_count as i64,
            s.first_us,
            s.last_us,
            now,
            e.entity,
            e.zone,
            e.agency_name,
            e.system,
            e.security_level,
            e.criticality,
            s.rsit,
            json_list(&s.tactics),
            json_list(&s.techniques),
            s.rule_count as i64,
            s.succeeded,
            json_list(&s.correlations),
            now_us,
            self.seq,
        ])?;
        Ok(self.tx.last_insert_rowid())
    }

    pub(crate) fn update_incident(&self, s: &IncidentState, now: &str) -> Result<(), StoreError> {
        let mut st = self.tx.prepare_cached(
            "UPDATE incidents SET title = ?2, gid = ?3, sid = ?4, signature = ?5, category = ?6, severity = ?7,
                 score = ?8, alert_count = ?9, first_seen_us = ?10, last_seen_us = ?11, rsit = ?12,
                 tactics = ?13, techniques = ?14, rule_count = ?15, succeeded = ?16, correlations = ?17,
                 updated_at = ?18, updated_seq = ?19
             WHERE id = ?1",
        )?;
        st.execute(params![
            s.id,
            s.title,
            s.gid,
            s.sid,
            s.signature,
            s.category,
            s.severity,
            s.score,
            s.alert_count as i64,
            s.first_us,
            s.last_us,
            s.rsit,
            json_list(&s.tactics),
            json_list(&s.techniques),
            s.rule_count as i64,
            s.succeeded,
            json_list(&s.correlations),
            now,
            self.seq,
        ])?;
        Ok(())
    }

    /// The row of an earlier identical alert in the same incident (or under the same
    /// suppression).
    pub fn find_repeat(
        &self,
        a: &NewAlert<'_>,
        incident: Option<i64>,
        suppressed_by: Option<i64>,
    ) -> Result<Option<i64>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT id FROM alerts WHERE dedup_key = ?1 AND incident_id IS ?2 AND suppressed_by IS ?3
               AND sid = ?4 AND src_ip = ?5 AND dest_ip = ?6 LIMIT 1",
        )?;
        Ok(st
            .query_row(
                params![a.dedup_key, incident, suppressed_by, a.sid, a.src_ip, a.dest_ip],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Counts a repeat `a` of alert row `id`.
    pub fn add_repeat(&self, id: i64, a: &NewAlert<'_>) -> Result<(), StoreError> {
        let mut st = self.tx.prepare_cached(
            "UPDATE alerts SET count = count + 1, ts_us = min(ts_us, ?2), last_us = max(last_us, ?2),
                 succeeded = max(succeeded, ?3), severity = min(severity, ?4) WHERE id = ?1",
        )?;
        st.execute(params![id, a.ts_us, a.succeeded, a.severity])?;
        Ok(())
    }

    pub(crate) fn insert_alert(
        &self,
        a: &NewAlert<'_>,
        incident: Option<i64>,
        suppressed_by: Option<i64>,
    ) -> Result<i64, StoreError> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO alerts (ts_us, last_us, count, dedup_key, timestamp, sensor, flow_id, gid, sid, rev,
                 signature, category, severity, src_ip, src_port, dest_ip, dest_port, proto, tactics,
                 techniques, rsit, succeeded, incident_id, suppressed_by, raw)
             VALUES (?1, ?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                     ?19, ?20, ?21, ?22, ?23)",
        )?;
        st.execute(params![
            a.ts_us,
            a.dedup_key,
            a.timestamp,
            a.sensor,
            a.flow_id.map(|f| f as i64),
            a.gid,
            a.sid,
            a.rev,
            a.signature,
            a.category,
            a.severity,
            a.src_ip,
            a.src_port,
            a.dest_ip,
            a.dest_port,
            a.proto,
            json_list(a.tactics),
            json_list(a.techniques),
            a.rsit,
            a.succeeded,
            incident,
            suppressed_by,
            a.raw
        ])?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Counts an alert of a rule in an incident; true when the rule is new to it.
    pub fn add_rule(&self, incident: i64, a: &NewAlert<'_>) -> Result<bool, StoreError> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO incident_rules (incident_id, gid, sid, signature, severity, alerts, first_us, last_us)
             VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)
             ON CONFLICT (incident_id, gid, sid) DO UPDATE SET alerts = alerts + 1,
                 first_us = min(first_us, excluded.first_us), last_us = max(last_us, excluded.last_us)
             RETURNING alerts",
        )?;
        let n: i64 = st
            .query_row(params![incident, a.gid, a.sid, a.signature, a.severity, a.ts_us], |r| {
                r.get(0)
            })?;
        Ok(n == 1)
    }

    /// Records a host an incident involves (once).
    pub fn add_host(
        &self,
        incident: i64,
        ip: &str,
        role: &str,
        zone: &str,
        agency: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut st = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO incident_hosts (incident_id, ip, role, zone, agency) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        st.execute(params![incident, ip, role, zone, agency])?;
        Ok(())
    }

    /// Records what incident `incident` can be found by (once each): (kind, value),
    /// as `incident::observables` reads them.
    pub fn add_observables(
        &self,
        incident: i64,
        found: &[(&'static str, String)],
    ) -> Result<(), StoreError> {
        let mut st = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO incident_observables (value, incident_id, kind) VALUES (?1, ?2, ?3)",
        )?;
        for (kind, value) in found {
            st.execute(params![value, incident, kind])?;
        }
        Ok(())
    }

    /// Ties flow `flow` to incident `incident`; true the first time.
    pub fn link_flow(&self, flow: u64, incident: i64) -> Result<bool, StoreError> {
        let mut st = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO flow_incidents (flow_id, incident_id) VALUES (?1, ?2)",
        )?;
        Ok(st.execute(params![flow as i64, incident])? == 1)
    }

    /// The incidents flow `flow` is tied to.
    pub fn flow_incidents(&self, flow: u64) -> Result<Vec<i64>, StoreError> {
        let mut st =
            self.tx.prepare_cached("SELECT incident_id FROM flow_incidents WHERE flow_id = ?1")?;
        let ids = st.query_map([flow as i64], |r| r.get(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }

    /// The stored protocol records of flow `flow` (at most 64; JSON).
    pub fn flow_records(&self, flow: u64) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .tx
            .prepare_cached("SELECT body FROM records WHERE flow_id = ?1 ORDER BY id LIMIT 64")?;
        let bodies = st.query_map([flow as i64], |r| r.get(0))?;
        Ok(bodies.collect::<Result<_, _>>()?)
    }

    pub(crate) fn count_suppressed(&self, suppression: i64, at_us: i64) -> Result<(), StoreError> {
        let mut st = self.tx.prepare_cached(
            "UPDATE suppressions SET hits = hits + 1, last_hit_us = max(coalesce(last_hit_us, ?2), ?2) WHERE id = ?1",
        )?;
        st.execute(params![suppression, at_us])?;
        Ok(())
    }

    /// Records that finding `id` was received; false when it already had been.
    pub fn claim_finding(&self, id: &str, received_us: i64) -> Result<bool, StoreError> {
        let mut st = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO findings_seen (id, received_us) VALUES (?1, ?2)",
        )?;
        Ok(st.execute(params![id, received_us])? == 1)
    }

    /// Appends to the audit log.
    pub fn audit(
        &self,
        at_us: i64,
        actor: &str,
        action: &str,
        incident: Option<i64>,
        object: Option<&str>,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        super::lifecycle::append_audit(self.tx, at_us, actor, action, incident, object, detail)
    }

    /// Open incidents still `new` whose every alert comes from `src`, active since
    /// `since_us`, other than `except`: what a campaign incident of `src` absorbs.
    pub fn incidents_only_from(
        &self,
        src: &str,
        since_us: i64,
        except: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT DISTINCT a.incident_id FROM alerts a JOIN incidents i ON i.id = a.incident_id
             WHERE a.src_ip = ?1 AND a.ts_us >= ?2 AND i.status = 'new' AND i.merged_into IS NULL
               AND i.id != ?3
               AND NOT EXISTS (SELECT 1 FROM alerts b WHERE b.incident_id = i.id AND b.src_ip != ?1)",
        )?;
        let rows = st.query_map(params![src, since_us, except], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<i64>, _>>()?)
    }

    /// Moves the alerts, rules, hosts and observables of incident `from` into `into` and marks
    /// `from` merged. The caller recomputes `into`'s state.
    pub fn move_incident(&self, from: i64, into: i64, now: &str) -> Result<(), StoreError> {
        self.tx
            .execute("UPDATE alerts SET incident_id = ?2 WHERE incident_id = ?1", [from, into])?;
        self.tx.execute(
            "INSERT INTO incident_rules (incident_id, gid, sid, signature, severity, alerts, first_us, last_us)
             SELECT ?2, gid, sid, signature, severity, alerts, first_us, last_us FROM incident_rules WHERE incident_id = ?1
             ON CONFLICT (incident_id, gid, sid) DO UPDATE SET alerts = alerts + excluded.alerts,
                 severity = min(severity, excluded.severity),
                 first_us = min(first_us, excluded.first_us), last_us = max(last_us, excluded.last_us)",
            [from, into],
        )?;
        self.tx.execute("DELETE FROM incident_rules WHERE incident_id = ?1", [from])?;
        self.tx.execute(
            "INSERT OR IGNORE INTO incident_hosts (incident_id, ip, role, zone, agency)
             SELECT ?2, ip, CASE role WHEN 'entity' THEN 'target' ELSE role END, zone, agency
             FROM incident_hosts WHERE incident_id = ?1",
            [from, into],
        )?;
        self.tx.execute(
            "INSERT OR IGNORE INTO incident_observables (value, incident_id, kind)
             SELECT value, ?2, kind FROM incident_observables WHERE incident_id = ?1",
            [from, into],
        )?;
        self.tx.execute(
            "INSERT OR IGNORE INTO flow_incidents (flow_id, incident_id)
             SELECT flow_id, ?2 FROM flow_incidents WHERE incident_id = ?1",
            [from, into],
        )?;
        self.tx.execute(
            "UPDATE incidents SET merged_into = ?2, alert_count = 0, updated_at = ?3, version = version + 1,
                 updated_seq = ?4 WHERE id = ?1",
            params![from, into, now, self.seq],
        )?;
        Ok(())
    }

    /// The aggregates of an incident recomputed from its alerts and rules: count,
    /// first and last seen, gravest severity, tactics, techniques, success, rules.
    pub fn recompute(&self, s: &mut IncidentState) -> Result<(), StoreError> {
        let (count, first, last, sev, succeeded): (i64, Option<i64>, Option<i64>, Option<u8>, bool) =
            self.tx.query_row(
                "SELECT coalesce(sum(count), 0), min(ts_us), max(last_us), min(severity), coalesce(max(succeeded), 0)
                 FROM alerts WHERE incident_id = ?1",
                [s.id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
        s.alert_count = count as u64;
        s.first_us = first.unwrap_or(s.first_us);
        s.last_us = last.unwrap_or(s.last_us);
        s.severity = sev.unwrap_or(s.severity);
        s.succeeded = s.succeeded || succeeded;
        let mut st = self.tx.prepare_cached(
            "SELECT DISTINCT tactics, techniques, rsit FROM alerts WHERE incident_id = ?1",
        )?;
        let rows = st.query_map([s.id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?;
        let mut rsit = Vec::new();
        for row in rows {
            let (t, q, c) = row?;
            for x in parse_list(&t) {
                if !s.tactics.contains(&x) {
                    s.tactics.push(x);
                }
            }
            for x in parse_list(&q) {
                if !s.techniques.contains(&x) {
                    s.techniques.push(x);
                }
            }
            rsit.push(c);
        }
        s.rule_count = self.tx.query_row(
            "SELECT count(*) FROM incident_rules WHERE incident_id = ?1",
            [s.id],
            |r| r.get::<_, i64>(0),
        )? as u64;
        for c in rsit {
            s.rsit = crate::domain::rsit::graver_class(&s.rsit, &c).to_string();
        }
        Ok(())
    }
}
