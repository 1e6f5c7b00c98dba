//! The queries of the monthly report ([`crate::report::figures`] computes from them):
//! the incidents of a period, their alerts and notes, the blocking steps, and sensors'
//! heartbeats. Times are microseconds since the epoch, periods `[from, to)`.

use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{incident_from_row, IncidentRow, INCIDENT_COLS};

/// Incidents first seen in `[from, to)`, not merged into another and not the
/// correlator's own (sensor down, response storms); for `agency`, those whose entity
/// is the agency's or that involve one of its hosts. By id.
pub fn incidents_for_period(
    conn: &Connection,
    from: i64,
    to: i64,
    agency: Option<&str>,
) -> rusqlite::Result<Vec<IncidentRow>> {
    let sql = format!(
        "SELECT {INCIDENT_COLS} FROM incidents
         WHERE merged_into IS NULL AND first_seen_us >= ?1 AND first_seen_us < ?2
           AND entity NOT LIKE 'sensor:%' AND entity NOT LIKE 'response:%'
           AND (?3 IS NULL OR agency = ?3
                OR id IN (SELECT incident_id FROM incident_hosts WHERE agency = ?3))
         ORDER BY id"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params![from, to, agency], incident_from_row)?;
    rows.collect()
}

/// An alert of a counted incident, as the report's top lists use it.
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentAlert {
    pub incident_id: i64,
    pub gid: u32,
    pub sid: u32,
    pub signature: String,
    pub src_ip: String,
    pub sensor: Option<String>,
    /// Repeats folded into the alert.
    pub count: u64,
}

/// The alerts of the incidents `ids`.
pub fn alerts_of_incidents(conn: &Connection, ids: &[i64]) -> rusqlite::Result<Vec<IncidentAlert>> {
    let ids = ids_json(ids);
    let mut st = conn.prepare_cached(
        "SELECT incident_id, gid, sid, signature, src_ip, sensor, count FROM alerts
         WHERE incident_id IN (SELECT value FROM json_each(?1))",
    )?;
    let rows = st.query_map([ids], |r| {
        Ok(IncidentAlert {
            incident_id: r.get("incident_id")?,
            gid: r.get("gid")?,
            sid: r.get("sid")?,
            signature: r.get("signature")?,
            src_ip: r.get("src_ip")?,
            sensor: r.get("sensor")?,
            count: r.get::<_, i64>("count")?.max(0) as u64,
        })
    })?;
    rows.collect()
}

/// The newest note on incident `id`.
pub fn latest_note(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT text FROM incident_notes WHERE incident_id = ?1 ORDER BY at_us DESC, id DESC LIMIT 1",
    )?
    .query_row([id], |r| r.get("text"))
    .optional()
}

/// One step of a block decision (`block.executed`, `block.dry-run`, ...) from the audit
/// log.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockStep {
    /// The audit action, `block.` and the step.
    pub action: String,
    pub target: String,
    pub target_kind: String,
    pub at_us: i64,
}

/// The steps of block decisions in `[from, to)`; with `incidents`, only those of
/// blocks decided on these incidents.
pub fn block_steps(
    conn: &Connection,
    from: i64,
    to: i64,
    incidents: Option<&[i64]>,
) -> rusqlite::Result<Vec<BlockStep>> {
    let only = incidents.map(ids_json);
    let mut st = conn.prepare_cached(
        "SELECT a.action, b.target, b.target_kind, a.at_us
         FROM audit_log a JOIN blocks b ON a.object = 'block:' || b.id
         WHERE a.at_us >= ?1 AND a.at_us < ?2 AND a.action LIKE 'block.%'
           AND (?3 IS NULL OR b.incident_id IN (SELECT value FROM json_each(?3)))",
    )?;
    let rows = st.query_map(params![from, to, only], |r| {
        Ok(BlockStep {
            action: r.get("action")?,
            target: r.get("target")?,
            target_kind: r.get("target_kind")?,
            at_us: r.get("at_us")?,
        })
    })?;
    rows.collect()
}

/// Alerts (repeats counted) whose source is `src_ip`, in `[from, to)`.
pub fn alerts_from_source(
    conn: &Connection,
    src_ip: &str,
    from: i64,
    to: i64,
) -> rusqlite::Result<u64> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT coalesce(sum(count), 0) FROM alerts WHERE src_ip = ?1 AND ts_us >= ?2 AND ts_us < ?3",
        )?
        .query_row(params![src_ip, from, to], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// The months (Vietnam time, `YYYY-MM`) in which incidents the report counts were
/// first seen, newest first, with how many.
pub fn months_with_incidents(conn: &Connection) -> rusqlite::Result<Vec<(String, u64)>> {
    let mut st = conn.prepare_cached(
        "SELECT strftime('%Y-%m', first_seen_us / 1000000 + 7 * 3600, 'unixepoch') AS month,
                count(*)
           FROM incidents
          WHERE merged_into IS NULL AND entity NOT LIKE 'sensor:%' AND entity NOT LIKE 'response:%'
          GROUP BY month ORDER BY month DESC",
    )?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?;
    rows.collect()
}

/// A sensor's heartbeat: its `stats` record.
#[derive(Clone, Debug, PartialEq)]
pub struct Heartbeat {
    pub sensor: String,
    pub ts_us: i64,
    /// The `stats` record (JSON).
    pub body: String,
}

/// Sensors' heartbeats in `[from, to)`, by sensor then time.
pub fn heartbeats(conn: &Connection, from: i64, to: i64) -> rusqlite::Result<Vec<Heartbeat>> {
    let mut st = conn.prepare_cached(
        "SELECT sensor, ts_us, body FROM records WHERE event_type = 'stats' AND sensor IS NOT NULL
           AND ts_us >= ?1 AND ts_us < ?2 ORDER BY sensor, ts_us",
    )?;
    let rows = st.query_map(params![from, to], |r| {
        Ok(Heartbeat { sensor: r.get("sensor")?, ts_us: r.get("ts_us")?, body: r.get("body")? })
    })?;
    rows.collect()
}

/// Ids as a JSON array, for `json_each` (one statement, however many ids).
fn ids_json(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}
