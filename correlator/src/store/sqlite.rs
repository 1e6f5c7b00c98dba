//! SQLite store (rusqlite, WAL).

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use super::migrations::MIGRATIONS;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("cannot open the store `{path}`: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("cannot create the folder of the store `{path}`: {source}")]
    Folder { path: PathBuf, source: std::io::Error },
    #[error("the store `{path}` has schema version {found}; this gatewatch knows up to {known}")]
    TooNew { path: PathBuf, found: i64, known: i64 },
    #[error("store query failed: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// An incident as stored.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IncidentRow {
    pub id: i64,
    pub title: String,
    pub gid: u32,
    pub sid: u32,
    pub signature: String,
    pub category: String,
    pub src_ip: String,
    pub dest_ip: String,
    /// EVE severity, 1 (highest) to 4.
    pub severity_level: u8,
    /// `critical`/`high`/`medium`/`low`.
    pub severity: String,
    pub score: u32,
    pub status: String,
    pub agency: Option<String>,
    pub alert_count: u64,
    pub first_seen: String,
    pub last_seen: String,
    #[serde(skip)]
    pub first_seen_us: i64,
    #[serde(skip)]
    pub last_seen_us: i64,
}

/// An alert as stored.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AlertRow {
    pub id: i64,
    pub timestamp: String,
    pub sid: u32,
    pub signature: String,
    pub severity: u8,
    pub src_ip: String,
    pub src_port: Option<u16>,
    pub dest_ip: String,
    pub dest_port: Option<u16>,
    pub proto: String,
    pub sensor: Option<String>,
}

/// The fields of a new alert row.
pub struct NewAlert<'a> {
    pub ts_us: i64,
    pub timestamp: &'a str,
    pub sensor: Option<&'a str>,
    pub flow_id: Option<u64>,
    pub gid: u32,
    pub sid: u32,
    pub rev: u32,
    pub signature: &'a str,
    pub category: &'a str,
    pub severity: u8,
    pub src_ip: &'a str,
    pub src_port: Option<u16>,
    pub dest_ip: &'a str,
    pub dest_port: Option<u16>,
    pub proto: &'a str,
    pub raw: &'a str,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// The severity word of an EVE severity level.
pub fn severity_word(level: u8) -> &'static str {
    match level {
        0 | 1 => "high",
        2 => "medium",
        3 => "low",
        _ => "info",
    }
}

pub(crate) fn iso_utc(us: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(us)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
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
        Ok(s)
    }

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
        self.migrate()
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
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

    pub fn transaction(&mut self) -> Result<Transaction<'_>, StoreError> {
        Ok(self.conn.transaction()?)
    }

    pub fn incident_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT count(*) FROM incidents", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    pub fn alert_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT count(*) FROM alerts", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Incidents, most recently active first.
    pub fn list_incidents(&self, limit: usize) -> Result<Vec<IncidentRow>, StoreError> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {INCIDENT_COLS} FROM incidents ORDER BY last_seen_us DESC, id DESC LIMIT ?1"
        ))?;
        let rows = st.query_map([limit as i64], incident_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    pub fn get_incident(&self, id: i64) -> Result<Option<IncidentRow>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {INCIDENT_COLS} FROM incidents WHERE id = ?1"),
                [id],
                incident_from_row,
            )
            .optional()?)
    }

    pub fn incident_alerts(&self, id: i64, limit: usize) -> Result<Vec<AlertRow>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT id, timestamp, sid, signature, severity, src_ip, src_port, dest_ip, dest_port, proto, sensor
             FROM alerts WHERE incident_id = ?1 ORDER BY ts_us, id LIMIT ?2",
        )?;
        let rows = st.query_map(params![id, limit as i64], |r| {
            Ok(AlertRow {
                id: r.get(0)?,
                timestamp: r.get(1)?,
                sid: r.get(2)?,
                signature: r.get(3)?,
                severity: r.get(4)?,
                src_ip: r.get(5)?,
                src_port: r.get(6)?,
                dest_ip: r.get(7)?,
                dest_port: r.get(8)?,
                proto: r.get(9)?,
                sensor: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

const INCIDENT_COLS: &str = "id, title, gid, sid, signature, category, src_ip, dest_ip, severity, score, status, agency, alert_count, first_seen_us, last_seen_us";

fn incident_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentRow> {
    let level: u8 = r.get(8)?;
    let first: i64 = r.get(13)?;
    let last: i64 = r.get(14)?;
    Ok(IncidentRow {
        id: r.get(0)?,
        title: r.get(1)?,
        gid: r.get(2)?,
        sid: r.get(3)?,
        signature: r.get(4)?,
        category: r.get(5)?,
        src_ip: r.get(6)?,
        dest_ip: r.get(7)?,
        severity_level: level,
        severity: severity_word(level).to_string(),
        score: r.get(9)?,
        status: r.get(10)?,
        agency: r.get(11)?,
        alert_count: r.get::<_, i64>(12)? as u64,
        first_seen: iso_utc(first),
        last_seen: iso_utc(last),
        first_seen_us: first,
        last_seen_us: last,
    })
}

/// Operations inside one ingest transaction.
pub(crate) struct TxOps<'a> {
    pub tx: &'a Transaction<'a>,
}

impl TxOps<'_> {
    /// The latest incident of a grouping key still open at `since_us`.
    pub fn open_incident(
        &self,
        gid: u32,
        sid: u32,
        src: &str,
        dst: &str,
        since_us: i64,
    ) -> Result<Option<(i64, u64, i64, i64)>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT id, alert_count, first_seen_us, last_seen_us FROM incidents
             WHERE gid = ?1 AND sid = ?2 AND src_ip = ?3 AND dest_ip = ?4 AND last_seen_us >= ?5
               AND status NOT IN ('resolved', 'false_positive')
             ORDER BY last_seen_us DESC LIMIT 1",
        )?;
        Ok(st
            .query_row(params![gid, sid, src, dst, since_us], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?, r.get(3)?))
            })
            .optional()?)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn insert_incident(
        &self,
        title: &str,
        a: &NewAlert<'_>,
        score: u32,
        now: &str,
    ) -> Result<i64, StoreError> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO incidents (title, gid, sid, signature, category, src_ip, dest_ip, severity, score, status,
                                    alert_count, first_seen_us, last_seen_us, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'new', 1, ?10, ?10, ?11, ?11)",
        )?;
        st.execute(params![
            title,
            a.gid,
            a.sid,
            a.signature,
            a.category,
            a.src_ip,
            a.dest_ip,
            a.severity,
            score,
            a.ts_us,
            now
        ])?;
        Ok(self.tx.last_insert_rowid())
    }

    pub fn update_incident(
        &self,
        id: i64,
        count: u64,
        first: i64,
        last: i64,
        score: u32,
        now: &str,
    ) -> Result<(), StoreError> {
        let mut st = self.tx.prepare_cached(
            "UPDATE incidents SET alert_count = ?2, first_seen_us = ?3, last_seen_us = ?4, score = ?5, updated_at = ?6 WHERE id = ?1",
        )?;
        st.execute(params![id, count as i64, first, last, score, now])?;
        Ok(())
    }

    /// Records that finding `id` was received; false when it already had been.
    pub fn claim_finding(&self, id: &str, received_us: i64) -> Result<bool, StoreError> {
        let mut st = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO findings_seen (id, received_us) VALUES (?1, ?2)",
        )?;
        Ok(st.execute(params![id, received_us])? == 1)
    }

    pub fn insert_alert(&self, a: &NewAlert<'_>, incident: i64) -> Result<i64, StoreError> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO alerts (ts_us, timestamp, sensor, flow_id, gid, sid, rev, signature, category, severity,
                                 src_ip, src_port, dest_ip, dest_port, proto, incident_id, raw)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )?;
        st.execute(params![
            a.ts_us,
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
            incident,
            a.raw
        ])?;
        Ok(self.tx.last_insert_rowid())
    }
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
}
