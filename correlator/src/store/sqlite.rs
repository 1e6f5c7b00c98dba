//! SQLite store (rusqlite, WAL): opening, migrations, and the queries analysts' tools
//! run. The engine's writes are in [`super::write`], analysts' changes in
//! [`super::lifecycle`].

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};
use serde::Serialize;

use super::migrations::MIGRATIONS;
use super::rows::{alert_from_row, incident_from_row, ALERT_COLS, INCIDENT_COLS};
pub use super::rows::{AlertRow, IncidentRow};

pub use super::error::StoreError;
use super::queue::incident_where;
pub use super::queue::{IncidentFilter, IncidentOrder};

/// A rule of an incident with its alert count.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IncidentRule {
    pub gid: u32,
    pub sid: u32,
    pub signature: String,
    pub severity: u8,
    pub alerts: u64,
    pub first_seen: String,
    pub last_seen: String,
}

/// A host an incident involves.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IncidentHost {
    pub ip: String,
    pub role: String,
    pub zone: String,
    pub agency: Option<String>,
}

/// Which alerts a search shows (newest first).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertFilter {
    /// The address as source or destination.
    pub ip: Option<String>,
    /// Signature id.
    pub sid: Option<u32>,
    /// From this time on (µs).
    pub since_us: Option<i64>,
    /// Before this time (µs).
    pub until_us: Option<i64>,
    /// Also the alerts suppression rules hid.
    pub include_suppressed: bool,
    /// At most this many.
    pub limit: usize,
}

/// Page cache of a connection (KiB) and memory-mapped window (bytes).
const CACHE_KB: u32 = 256 * 1024;
const MMAP_BYTES: i64 = 4 << 30;

/// The SQLite store of incidents, alerts, records, decisions, users and the audit trail: one file, one connection per `Store`.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

pub(crate) fn iso_utc(us: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(us)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// Restricts `path` (when it exists) to the service's own user.
fn private(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    if path.exists() {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Folder { path: dir.to_path_buf(), source: e })?;
        }
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Open { path: path.to_path_buf(), source: e })?;
        let mut s = Store { conn, path: path.to_path_buf() };
        s.setup()?;
        // Password hashes, sessions and incidents: readable by the service alone,
        // whatever the umask (the journal files too, once WAL made them).
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            private(std::path::Path::new(&p), 0o600);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private(dir, 0o700);
        }
        Ok(s)
    }

    /// Opens an existing store for reading only (the API's and the command line's
    /// queries; the schema must be current).
    pub fn open_reader(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Open { path: path.to_path_buf(), source: e })?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let s = Store { conn, path: path.to_path_buf() };
        s.tune()?;
        let (found, known) = (s.schema_version()?, MIGRATIONS.len() as i64);
        if found > known {
            return Err(StoreError::TooNew { path: path.to_path_buf(), found, known });
        }
        if found < known {
            return Err(StoreError::Refused(format!(
                "the store `{}` has schema version {found}; open it once with the correlator to upgrade it",
                path.display()
            )));
        }
        Ok(s)
    }

    /// A store in memory (tests and benchmarks).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()
            .map_err(|e| StoreError::Open { path: ":memory:".into(), source: e })?;
        let mut s = Store { conn, path: PathBuf::from(":memory:") };
        s.setup()?;
        Ok(s)
    }

    fn setup(&mut self) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is on disk before it is acknowledged (sensors delete what the
        // correlator acknowledged, so a power cut must not lose it).
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        self.conn.busy_timeout(std::time::Duration::from_secs(5))?;
        self.tune()?;
        self.migrate()
    }

    /// Page cache and memory-mapped reads: the indices of a store of millions of alerts
    /// do not fit SQLite's default 2 MB cache, and every insert then reads index pages
    /// back with system calls and spills dirty pages mid-transaction.
    fn tune(&self) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "cache_size", -(CACHE_KB as i64))?;
        self.conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        Ok(())
    }

    pub(crate) fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let current = self.schema_version()?;
        let known = MIGRATIONS.len() as i64;
        if current > known {
            return Err(StoreError::TooNew { path: self.path.clone(), found: current, known });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// A write transaction. `BEGIN IMMEDIATE`: it takes the write lock at once (waiting
    /// up to the busy timeout), so that the ingest thread, the console and the command
    /// line writing at the same time wait for each other instead of failing on the
    /// upgrade of a read into a write.
    pub fn transaction(&mut self) -> Result<Transaction<'_>, StoreError> {
        Ok(self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Incidents, merged ones included.
    pub fn incident_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT count(*) FROM incidents", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// Incidents analysts see (not merged into another).
    pub fn open_incident_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM incidents WHERE merged_into IS NULL",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Alert rows (repeats folded).
    pub fn alert_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT count(*) FROM alerts", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Alerts received, repeats and suppressed ones included.
    pub fn alerts_received(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT coalesce(sum(count), 0) FROM alerts", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// Incidents, most recently active first.
    pub fn list_incidents(&self, limit: usize) -> Result<Vec<IncidentRow>, StoreError> {
        self.find_incidents(&IncidentFilter { limit, ..Default::default() })
    }

    /// Incidents that pass a filter.
    pub fn find_incidents(&self, f: &IncidentFilter) -> Result<Vec<IncidentRow>, StoreError> {
        let (mut sql, mut args) = incident_where(f);
        sql.insert_str(0, &format!("SELECT {INCIDENT_COLS} FROM incidents WHERE 1 = 1"));
        sql.push_str(&f.order.sql(f.reverse));
        args.push(rusqlite::types::Value::Integer(f.limit.max(1) as i64));
        args.push(rusqlite::types::Value::Integer(f.offset as i64));
        sql.push_str(&format!(" LIMIT ?{} OFFSET ?{}", args.len() - 1, args.len()));
        let mut st = self.conn.prepare(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), incident_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// How many incidents pass a filter (its limit and offset ignored), counted up to
    /// `cap`: a queue shows "10,000+" rather than scanning a million rows per page.
    pub fn count_incidents(&self, f: &IncidentFilter, cap: u64) -> Result<u64, StoreError> {
        let (mut sql, mut args) = incident_where(f);
        args.push(rusqlite::types::Value::Integer(cap as i64));
        sql.insert_str(0, "SELECT count(*) FROM (SELECT 1 FROM incidents WHERE 1 = 1");
        sql.push_str(&format!(" LIMIT ?{})", args.len()));
        let n: i64 = self.conn.query_row(&sql, rusqlite::params_from_iter(args), |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Other incidents about the same entity, or sharing a host with incident `id`,
    /// newest first. Bounded work at any size: the newest `limit` of the entity's
    /// incidents, and the newest `limit` of each of the incident's first 16 hosts
    /// (a scanner's address is in a hundred thousand incidents of a big store).
    pub fn related_incidents(
        &self,
        id: i64,
        entity: &str,
        limit: usize,
    ) -> Result<Vec<IncidentRow>, StoreError> {
        let mut ids: Vec<i64> = Vec::new();
        let mut st = self.conn.prepare_cached(
            "SELECT id FROM incidents WHERE entity = ?1 AND id != ?2 ORDER BY last_seen_us DESC LIMIT ?3",
        )?;
        for r in st.query_map(params![entity, id, limit as i64], |r| r.get(0))? {
            ids.push(r?);
        }
        let mut hosts = self
            .conn
            .prepare_cached("SELECT ip FROM incident_hosts WHERE incident_id = ?1 LIMIT 16")?;
        let hosts: Vec<String> = hosts.query_map([id], |r| r.get(0))?.collect::<Result<_, _>>()?;
        let mut st = self.conn.prepare_cached(
            "SELECT incident_id FROM incident_hosts WHERE ip = ?1 AND incident_id != ?2
             ORDER BY incident_id DESC LIMIT ?3",
        )?;
        for ip in &hosts {
            for r in st.query_map(params![ip, id, limit as i64], |r| r.get(0))? {
                ids.push(r?);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let mut rows = Vec::with_capacity(ids.len());
        for i in ids {
            if let Some(row) = self.get_incident(i)?.filter(|r| r.merged_into.is_none()) {
                rows.push(row);
            }
        }
        rows.sort_by(|a, b| b.last_seen_us.cmp(&a.last_seen_us).then(b.id.cmp(&a.id)));
        rows.truncate(limit);
        Ok(rows)
    }

    /// One incident by id, `None` when there is none.
    pub fn get_incident(&self, id: i64) -> Result<Option<IncidentRow>, StoreError> {
        get_incident_on(&self.conn, id)
    }

    /// The alerts of an incident, oldest first.
    pub fn incident_alerts(&self, id: i64, limit: usize) -> Result<Vec<AlertRow>, StoreError> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {ALERT_COLS} FROM alerts WHERE incident_id = ?1 ORDER BY ts_us, id LIMIT ?2"
        ))?;
        let rows = st.query_map(params![id, limit as i64], alert_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The event alert `id` was stored from, as the sensor sent it (JSON).
    pub fn alert_raw(&self, id: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT raw FROM alerts WHERE id = ?1", [id], |r| r.get(0))
            .optional()?)
    }

    /// Alerts that pass a filter, newest first.
    pub fn find_alerts(&self, f: &AlertFilter) -> Result<Vec<AlertRow>, StoreError> {
        let since = f.since_us.unwrap_or(i64::MIN);
        let until = f.until_us.unwrap_or(i64::MAX);
        let limit = f.limit.max(1) as i64;
        let supp = if f.include_suppressed { "" } else { " AND suppressed_by IS NULL" };
        let rows = match (&f.ip, f.sid) {
            (Some(ip), _) => {
                // Two index ranges (source, destination), merged.
                let sql = format!(
                    "SELECT {ALERT_COLS} FROM (
                       SELECT * FROM (SELECT * FROM alerts WHERE src_ip = ?1 AND ts_us >= ?2 AND ts_us < ?3 ORDER BY ts_us DESC LIMIT ?4)
                       UNION
                       SELECT * FROM (SELECT * FROM alerts WHERE dest_ip = ?1 AND ts_us >= ?2 AND ts_us < ?3 ORDER BY ts_us DESC LIMIT ?4))
                     WHERE (?5 IS NULL OR sid = ?5){supp} ORDER BY ts_us DESC, id DESC LIMIT ?4"
                );
                let mut st = self.conn.prepare_cached(&sql)?;
                let r = st.query_map(params![ip, since, until, limit, f.sid], alert_from_row)?;
                r.collect::<Result<Vec<_>, _>>()?
            }
            (None, Some(sid)) => {
                let sql = format!(
                    "SELECT {ALERT_COLS} FROM alerts WHERE sid = ?1 AND ts_us >= ?2 AND ts_us < ?3{supp}
                     ORDER BY ts_us DESC, id DESC LIMIT ?4"
                );
                let mut st = self.conn.prepare_cached(&sql)?;
                let r = st.query_map(params![sid, since, until, limit], alert_from_row)?;
                r.collect::<Result<Vec<_>, _>>()?
            }
            (None, None) => {
                let sql = format!(
                    "SELECT {ALERT_COLS} FROM alerts WHERE ts_us >= ?1 AND ts_us < ?2{supp}
                     ORDER BY ts_us DESC, id DESC LIMIT ?3"
                );
                let mut st = self.conn.prepare_cached(&sql)?;
                let r = st.query_map(params![since, until, limit], alert_from_row)?;
                r.collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(rows)
    }

    /// The alerts a suppression silenced, newest first.
    pub fn suppressed_alerts(
        &self,
        suppression: i64,
        limit: usize,
    ) -> Result<Vec<AlertRow>, StoreError> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {ALERT_COLS} FROM alerts WHERE suppressed_by = ?1 ORDER BY ts_us DESC, id DESC LIMIT ?2"
        ))?;
        let rows = st.query_map(params![suppression, limit as i64], alert_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The rules of an incident, most alerts first.
    pub fn incident_rules(&self, id: i64) -> Result<Vec<IncidentRule>, StoreError> {
        incident_rules_on(&self.conn, id)
    }

    /// The hosts an incident involves.
    pub fn incident_hosts(&self, id: i64) -> Result<Vec<IncidentHost>, StoreError> {
        incident_hosts_on(&self.conn, id)
    }

    /// Deletes alerts last seen before `before_us`, and closed or merged incidents
    /// last active before it (with their rules, hosts and notes), `chunk` rows per
    /// transaction so that ingest is never held up long. Open incidents stay, even
    /// when their alerts are gone; the audit log is never deleted. Returns (alerts,
    /// incidents) deleted.
    pub fn apply_retention(
        &mut self,
        before_us: i64,
        chunk: usize,
    ) -> Result<(u64, u64), StoreError> {
        let alerts = self.delete_in_chunks(
            "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE ts_us < ?1 AND last_us < ?1 LIMIT ?2)",
            before_us,
            chunk,
        )?;
        let chunk = chunk.max(1) as i64;
        let mut incidents = 0u64;
        loop {
            let tx = self.conn.transaction()?;
            let ids: Vec<i64> = {
                let mut st = tx.prepare(
                    "SELECT id FROM incidents WHERE last_seen_us < ?1
                       AND (status IN ('resolved', 'false_positive') OR merged_into IS NOT NULL)
                       AND NOT EXISTS (SELECT 1 FROM alerts WHERE incident_id = incidents.id)
                       AND NOT EXISTS (SELECT 1 FROM incidents m WHERE m.merged_into = incidents.id)
                     LIMIT ?2",
                )?;
                let rows = st.query_map(params![before_us, chunk], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            for id in &ids {
                tx.execute("DELETE FROM incident_rules WHERE incident_id = ?1", [id])?;
                tx.execute("DELETE FROM incident_hosts WHERE incident_id = ?1", [id])?;
                tx.execute("DELETE FROM incident_observables WHERE incident_id = ?1", [id])?;
                tx.execute("DELETE FROM flow_incidents WHERE incident_id = ?1", [id])?;
                tx.execute("DELETE FROM incident_notes WHERE incident_id = ?1", [id])?;
                tx.execute("DELETE FROM incidents WHERE id = ?1", [id])?;
            }
            tx.commit()?;
            incidents += ids.len() as u64;
            if (ids.len() as i64) < chunk {
                break;
            }
        }
        Ok((alerts, incidents))
    }

    /// Deletes protocol records older than `before_us`, `chunk` per statement.
    pub fn delete_records_before(
        &mut self,
        before_us: i64,
        chunk: usize,
    ) -> Result<u64, StoreError> {
        self.delete_in_chunks(
            "DELETE FROM records WHERE id IN (SELECT id FROM records WHERE ts_us < ?1 AND event_type != 'stats' LIMIT ?2)",
            before_us,
            chunk,
        )
    }

    /// Deletes sensors' heartbeats (`stats` records) older than `before_us`: they are
    /// kept as long as alerts, for the monthly report's sensor health.
    pub fn delete_stats_before(&mut self, before_us: i64, chunk: usize) -> Result<u64, StoreError> {
        self.delete_in_chunks(
            "DELETE FROM records WHERE id IN (SELECT id FROM records WHERE ts_us < ?1 AND event_type = 'stats' LIMIT ?2)",
            before_us,
            chunk,
        )
    }

    /// Forgets ids of findings received before `before_us` (a sensor re-sending
    /// something older than that would be stored twice).
    pub fn forget_findings_before(
        &mut self,
        before_us: i64,
        chunk: usize,
    ) -> Result<u64, StoreError> {
        self.delete_in_chunks(
            "DELETE FROM findings_seen WHERE id IN (SELECT id FROM findings_seen WHERE received_us < ?1 LIMIT ?2)",
            before_us,
            chunk,
        )
    }

    /// Runs `sql` (a DELETE of at most `?2` rows older than `?1`) until it deletes
    /// fewer than `chunk`: each statement is short, so ingest is never held up long.
    fn delete_in_chunks(
        &mut self,
        sql: &str,
        before_us: i64,
        chunk: usize,
    ) -> Result<u64, StoreError> {
        let chunk = chunk.max(1);
        let mut n = 0u64;
        loop {
            let d = self.conn.execute(sql, params![before_us, chunk as i64])?;
            n += d as u64;
            if d < chunk {
                return Ok(n);
            }
        }
    }

    /// Protocol records of a flow (the evidence behind its alerts), oldest first.
    pub fn flow_records(
        &self,
        flow_id: i64,
        limit: usize,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT body FROM records WHERE flow_id = ?1 ORDER BY ts_us, id LIMIT ?2")?;
        let rows = st.query_map(params![flow_id, limit as i64], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for b in rows {
            out.push(serde_json::from_str(&b?).unwrap_or(serde_json::Value::Null));
        }
        Ok(out)
    }

    /// The remembered read position of a tailed file: (device, inode, offset).
    pub fn input_position(&self, source: &str) -> Result<Option<(u64, u64, u64)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT dev, ino, offset FROM input_positions WHERE source = ?1",
                [source],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                    ))
                },
            )
            .optional()?)
    }
}

/// Records the read position of a tailed file, in the transaction that stores what
/// was read up to it.
pub(crate) fn set_input_position(
    tx: &Transaction<'_>,
    source: &str,
    dev: u64,
    ino: u64,
    offset: u64,
    now_us: i64,
) -> Result<(), StoreError> {
    let mut st = tx.prepare_cached(
        "INSERT INTO input_positions (source, dev, ino, offset, updated_us) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (source) DO UPDATE SET dev = excluded.dev, ino = excluded.ino,
             offset = excluded.offset, updated_us = excluded.updated_us",
    )?;
    st.execute(params![source, dev as i64, ino as i64, offset as i64, now_us])?;
    Ok(())
}

/// [`Store::get_incident`] on a connection (or inside a transaction).
pub(crate) fn get_incident_on(
    conn: &Connection,
    id: i64,
) -> Result<Option<IncidentRow>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {INCIDENT_COLS} FROM incidents WHERE id = ?1"),
            [id],
            incident_from_row,
        )
        .optional()?)
}

/// [`Store::incident_rules`] on a connection.
pub(crate) fn incident_rules_on(
    conn: &Connection,
    id: i64,
) -> Result<Vec<IncidentRule>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT gid, sid, signature, severity, alerts, first_us, last_us FROM incident_rules
         WHERE incident_id = ?1 ORDER BY alerts DESC, sid",
    )?;
    let rows = st.query_map([id], |r| {
        Ok(IncidentRule {
            gid: r.get(0)?,
            sid: r.get(1)?,
            signature: r.get(2)?,
            severity: r.get(3)?,
            alerts: r.get::<_, i64>(4)? as u64,
            first_seen: iso_utc(r.get(5)?),
            last_seen: iso_utc(r.get(6)?),
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// [`Store::incident_hosts`] on a connection.
pub(crate) fn incident_hosts_on(
    conn: &Connection,
    id: i64,
) -> Result<Vec<IncidentHost>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT ip, role, zone, agency FROM incident_hosts WHERE incident_id = ?1
         ORDER BY CASE role WHEN 'entity' THEN 0 ELSE 1 END, ip",
    )?;
    let rows = st.query_map([id], |r| {
        Ok(IncidentHost { ip: r.get(0)?, role: r.get(1)?, zone: r.get(2)?, agency: r.get(3)? })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_a_file_database_once() {
        let dir = std::env::temp_dir().join(format!("gw-store-{}", std::process::id()));
        let path = dir.join("sub/gw.db");
        let s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.incident_count().unwrap(), 0);
        let mode: String = s.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        drop(s);
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        drop(c);
        assert!(matches!(Store::open(&path), Err(StoreError::TooNew { found: 99, .. })));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_version_2_store_with_data_upgrades() {
        let dir = std::env::temp_dir().join(format!("gw-store-v2-{}", std::process::id()));
        let path = dir.join("gw.db");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let c = Connection::open(&path).unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c.execute_batch(MIGRATIONS[1]).unwrap();
        c.pragma_update(None, "user_version", 2).unwrap();
        c.execute_batch(
            "INSERT INTO incidents (id, title, gid, sid, signature, category, src_ip, dest_ip, severity, score,
                 status, alert_count, first_seen_us, last_seen_us, created_at, updated_at)
             VALUES (1, 't', 1, 5, 'sig', 'cat', '203.0.113.7', '10.46.10.20', 1, 70, 'acknowledged', 2, 10, 20, 'x', 'x');
             INSERT INTO alerts (ts_us, timestamp, gid, sid, rev, signature, category, severity, src_ip, dest_ip, proto, incident_id, raw)
             VALUES (10, 'a', 1, 5, 1, 'sig', 'cat', 1, '203.0.113.7', '10.46.10.20', 'TCP', 1, '{}'),
                    (20, 'b', 1, 5, 1, 'sig', 'cat', 1, '203.0.113.7', '10.46.10.20', 'TCP', 1, '{}');",
        )
        .unwrap();
        drop(c);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let i = s.get_incident(1).unwrap().unwrap();
        assert_eq!(
            (i.entity.as_str(), i.status.as_str(), i.alert_count),
            ("10.46.10.20", "acknowledged", 2)
        );
        let alerts = s.incident_alerts(1, 10).unwrap();
        assert_eq!(alerts.len(), 2);
        assert_eq!(
            (alerts[0].count, alerts[1].last_seen.as_str()),
            (1, "1970-01-01T00:00:00.000020Z")
        );
        assert_eq!(s.incident_rules(1).unwrap()[0].alerts, 2);
        let _ = std::fs::remove_dir_all(dir);
    }
}
