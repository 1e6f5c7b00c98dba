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
        let mut open = [0u64; 4];
        let mut st = self.conn().prepare(
            "SELECT score FROM incidents INDEXED BY incidents_overview
             WHERE status IN ('new', 'acknowledged', 'in_progress') AND merged_into IS NULL",
        )?;
        for score in st.query_map([], |r| r.get::<_, u32>(0))? {
            let i = match crate::domain::severity::severity_of(score?) {
                "critical" => 0,
                "high" => 1,
                "medium" => 2,
                _ => 3,
            };
            open[i] += 1;
        }
        let open_by_severity = ["critical", "high", "medium", "low"]
            .iter()
            .zip(open)
            .map(|(k, n)| Counted { key: k.to_string(), label: k.to_string(), count: n })
            .collect();
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

    /// The sensors that sent alerts: name, newest alert (µs), alert rows.
    pub fn alert_sensors(&self) -> Result<Vec<(String, i64, u64)>, StoreError> {
        let mut st = self
            .conn()
            .prepare("SELECT sensor, last_us, alerts FROM sensors_seen ORDER BY sensor")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The store's change number (bumped by every transaction that changes incidents).
    pub fn change_seq(&self) -> Result<i64, StoreError> {
        let v: String =
            self.conn().query_row("SELECT value FROM meta WHERE key = 'seq'", [], |r| r.get(0))?;
        Ok(v.parse().unwrap_or(0))
    }
}
