//! The aggregates of the console's overview: incidents by day and severity, by
//! status, the top signatures and the most attacked agencies of a period.

use rusqlite::params;
use serde::Serialize;

use super::sqlite::{Store, StoreError};

/// Vietnam's offset from UTC: days of the overview are days in Huế.
const DAY_OFFSET_US: i64 = 7 * 3_600_000_000;
const DAY_US: i64 = 86_400_000_000;

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct DayCount {
    /// `YYYY-MM-DD` in Asia/Ho_Chi_Minh.
    pub day: String,
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Counted {
    pub key: String,
    pub label: String,
    pub count: u64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Overview {
    pub since: String,
    /// The last day of the period (`YYYY-MM-DD`, Asia/Ho_Chi_Minh).
    pub until_day: String,
    /// When the newest incident was last active, if there is one.
    pub newest_activity: Option<String>,
    /// One entry per day of the period, oldest first (days without incidents too).
    pub by_day: Vec<DayCount>,
    /// Incidents (not merged) by status, all time.
    pub by_status: Vec<Counted>,
    /// Rules by alerts in the period.
    pub top_signatures: Vec<Counted>,
    /// Agencies by incidents active in the period.
    pub top_agencies: Vec<Counted>,
    /// Open incidents by severity.
    pub open_by_severity: Vec<Counted>,
}

fn day_of(us: i64) -> i64 {
    (us + DAY_OFFSET_US).div_euclid(DAY_US)
}

fn day_name(day: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(day * DAY_US)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

impl Store {
    /// The overview of the `days` days up to `now_us` (days in Vietnam).
    pub fn overview(&self, now_us: i64, days: u32) -> Result<Overview, StoreError> {
        let days = days.clamp(1, 366) as i64;
        let last = day_of(now_us);
        let first = last - days + 1;
        let since_us = first * DAY_US - DAY_OFFSET_US;
        let mut by_day: Vec<DayCount> =
            (first..=last).map(|d| DayCount { day: day_name(d), ..Default::default() }).collect();
        // Every aggregate reads the covering index `incidents_overview` (migration 6),
        // never the incidents table.
        let mut st = self.conn().prepare(
            "SELECT (first_seen_us + ?2) / ?3, score FROM incidents INDEXED BY incidents_overview
             WHERE first_seen_us >= ?1 AND merged_into IS NULL",
        )?;
        let rows = st.query_map(params![since_us, DAY_OFFSET_US, DAY_US], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, u32>(1)?))
        })?;
        for row in rows {
            let (d, score) = row?;
            if let Some(slot) = by_day.get_mut((d - first) as usize) {
                match crate::domain::severity::severity_of(score) {
                    "critical" => slot.critical += 1,
                    "high" => slot.high += 1,
                    "medium" => slot.medium += 1,
                    _ => slot.low += 1,
                }
            }
        }
        let counted = |sql: &str,
                       args: &[&dyn rusqlite::ToSql]|
         -> Result<Vec<Counted>, StoreError> {
            let mut st = self.conn().prepare(sql)?;
            let rows = st.query_map(args, |r| {
                Ok(Counted { key: r.get(0)?, label: r.get(1)?, count: r.get::<_, i64>(2)? as u64 })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        };
        let by_status = counted(
            "SELECT status, status, count(*) FROM incidents INDEXED BY incidents_overview
             WHERE merged_into IS NULL GROUP BY status ORDER BY 3 DESC",
            &[],
        )?;
        let mut top_signatures = counted(
            "SELECT gid || ':' || sid, '', sum(alerts) FROM incident_rules INDEXED BY incident_rules_recent
             WHERE last_us >= ?1 GROUP BY gid, sid ORDER BY 3 DESC LIMIT 10",
            &[&since_us],
        )?;
        for c in &mut top_signatures {
            let (gid, sid) = c.key.split_once(':').unwrap_or(("1", "0"));
            c.label = self
                .conn()
                .query_row(
                    "SELECT signature FROM incident_rules WHERE gid = ?1 AND sid = ?2 AND last_us >= ?3 LIMIT 1",
                    params![gid.parse::<i64>().unwrap_or(1), sid.parse::<i64>().unwrap_or(0), since_us],
                    |r| r.get(0),
                )
                .unwrap_or_else(|_| c.key.clone());
        }
        // Labels are agency ids here; the console names them from the inventory.
        let top_agencies = counted(
            "SELECT agency, agency, count(*) FROM incidents INDEXED BY incidents_overview
             WHERE last_seen_us >= ?1 AND agency IS NOT NULL AND merged_into IS NULL
             GROUP BY agency ORDER BY 3 DESC LIMIT 10",
            &[&since_us],
        )?;
        let open_by_severity = self.open_by_severity()?;
        let newest: Option<i64> = self.conn().query_row(
            "SELECT max(last_seen_us) FROM incidents WHERE merged_into IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(Overview {
            since: super::sqlite::iso_utc(since_us),
            until_day: day_name(last),
            newest_activity: newest.map(super::sqlite::iso_utc),
            by_day,
            by_status,
            top_signatures,
            top_agencies,
            open_by_severity,
        })
    }

    /// Open incidents (new, acknowledged, in progress) by severity, gravest first.
    pub fn open_by_severity(&self) -> Result<Vec<Counted>, StoreError> {
        // The bands of `domain::severity`, counted in SQL over the overview index.
        const WORDS: [&str; 4] = ["critical", "high", "medium", "low"];
        let sums: Vec<String> = WORDS
            .iter()
            .map(|w| {
                let (lo, hi) = crate::domain::severity::band_of(w).unwrap_or((1, 0));
                format!("coalesce(sum(score BETWEEN {lo} AND {hi}), 0)")
            })
            .collect();
        let open: [i64; 4] = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {} FROM incidents INDEXED BY incidents_overview
                  WHERE status IN ('new', 'acknowledged', 'in_progress') AND merged_into IS NULL",
                sums.join(", ")
            ))?
            .query_row([], |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]))?;
        Ok(WORDS
            .iter()
            .zip(open)
            .map(|(k, n)| Counted {
                key: k.to_string(),
                label: k.to_string(),
                count: n.max(0) as u64,
            })
            .collect())
    }

    /// The sensors that sent alerts: name, newest alert (µs), alert rows.
    pub fn alert_sensors(&self) -> Result<Vec<(String, i64, u64)>, StoreError> {
        let mut st = self
            .conn()
            .prepare("SELECT sensor, last_us, alerts FROM sensors_seen ORDER BY sensor")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Each sensor's newest stored heartbeat, by sensor name (a skip-scan of the
    /// `records_stats` index: one probe per sensor, however many heartbeats are kept).
    pub fn latest_heartbeats(&self) -> Result<Vec<super::monthly::Heartbeat>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "WITH RECURSIVE names(name) AS (
                 SELECT min(sensor) FROM records WHERE event_type = 'stats' AND sensor IS NOT NULL
                 UNION ALL
                 SELECT (SELECT min(sensor) FROM records
                          WHERE event_type = 'stats' AND sensor > names.name)
                   FROM names WHERE names.name IS NOT NULL)
             SELECT r.sensor, r.ts_us, r.body FROM names
               JOIN records r ON r.rowid = (SELECT rowid FROM records
                   WHERE event_type = 'stats' AND sensor = names.name
                   ORDER BY ts_us DESC LIMIT 1)",
        )?;
        let rows = st.query_map([], |r| {
            Ok(super::monthly::Heartbeat { sensor: r.get(0)?, ts_us: r.get(1)?, body: r.get(2)? })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// What incident `id` can be found by (see `incident::observables`): (kind,
    /// value), by kind then value, at most `limit`.
    pub fn incident_observables(
        &self,
        id: i64,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT kind, value FROM incident_observables WHERE incident_id = ?1
             ORDER BY kind, value LIMIT ?2",
        )?;
        let rows = st.query_map(params![id, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The store's change number (bumped by every transaction that changes incidents).
    pub fn change_seq(&self) -> Result<i64, StoreError> {
        let v: String =
            self.conn().query_row("SELECT value FROM meta WHERE key = 'seq'", [], |r| r.get(0))?;
        Ok(v.parse().unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::write::{NewRecord, TxOps};

    #[test]
    fn each_sensors_newest_heartbeat() {
        let mut store = Store::open_in_memory().unwrap();
        assert!(store.latest_heartbeats().unwrap().is_empty());
        let tx = store.transaction().unwrap();
        {
            let ops = TxOps::new(&tx).unwrap();
            let beats = [
                ("stats", Some("hue-02"), 5),
                ("stats", Some("hue-01"), 9),
                ("stats", Some("hue-01"), 7),
                ("dns", Some("hue-01"), 99),
                ("stats", None, 50),
                ("stats", Some("hue-02"), 3),
                ("stats", Some("hue-03"), 1),
            ];
            for (event_type, sensor, ts_us) in beats {
                let body = format!("{{\"n\":{ts_us}}}");
                let r = NewRecord {
                    ts_us,
                    event_type,
                    sensor,
                    flow_id: None,
                    src_ip: None,
                    dest_ip: None,
                    body: &body,
                };
                ops.insert_record(&r).unwrap();
            }
        }
        tx.commit().unwrap();
        let got: Vec<(String, i64, String)> = store
            .latest_heartbeats()
            .unwrap()
            .into_iter()
            .map(|b| (b.sensor, b.ts_us, b.body))
            .collect();
        let want = [("hue-01", 9), ("hue-02", 5), ("hue-03", 1)]
            .map(|(s, t)| (s.to_string(), t, format!("{{\"n\":{t}}}")));
        assert_eq!(got, want, "the newest `stats` of each named sensor; other records ignored");
    }
}
