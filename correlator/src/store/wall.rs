//! The figures of the SOC's wall screen: counter tiles (open, unacknowledged, high and
//! critical, overdue, median times to acknowledge and resolve this month), alerts and
//! new incidents per time bucket, and what the alerts of a period were about — top
//! sources, destination ports, signatures, agencies, systems, and ATT&CK tactic ×
//! technique pairs.
//!
//! Incidents are counted over the overview's covering index; the alerts of the period
//! are read once along `alerts_ts`. The console keeps an answer for a minute.

use std::collections::HashMap;

use rusqlite::params;
use serde::Serialize;

use super::overview::Counted;
use super::queue::Overdue;
use super::sqlite::{iso_utc, Store, StoreError};
use super::write::parse_list;

/// The period and the clock of a wall screen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WallQuery {
    /// Start of the period (µs, inclusive).
    pub from_us: i64,
    /// End of the period (µs, exclusive).
    pub to_us: i64,
    /// Width of one bucket of the time chart (µs).
    pub bucket_us: i64,
    /// The deadlines that make an open incident overdue, at the screen's clock.
    pub overdue: Overdue,
    /// The first instant of the month the handling times are of (µs).
    pub month_start_us: i64,
    /// Lines of each top list.
    pub top: usize,
}

/// The counters on top of the wall.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Tiles {
    /// Open incidents (new, acknowledged, in progress).
    pub open: u64,
    /// Open incidents nobody has acknowledged.
    pub unacknowledged: u64,
    /// Open incidents of high or critical severity.
    pub high_critical: u64,
    /// Open incidents past a handling deadline.
    pub overdue: u64,
    /// Median seconds from creation to acknowledgement, of the incidents acknowledged
    /// this month.
    pub tta_median_secs: Option<u64>,
    /// How many incidents were acknowledged this month.
    pub acknowledged: u64,
    /// Median seconds from creation to resolution, of the incidents resolved this month.
    pub ttr_median_secs: Option<u64>,
    /// How many incidents were resolved this month.
    pub resolved: u64,
}

/// One bucket of the time chart.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Bucket {
    /// Its start, RFC 3339 UTC.
    pub start: String,
    /// Alerts first seen in it (repeats counted).
    pub alerts: u64,
    /// Incidents first seen in it, by severity.
    pub critical: u64,
    /// High ones.
    pub high: u64,
    /// Medium ones.
    pub medium: u64,
    /// Low ones.
    pub low: u64,
}

/// A source address of the period's alerts.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SourceCount {
    /// The address.
    pub ip: String,
    /// Alerts from it (repeats counted).
    pub alerts: u64,
    /// Incidents they belong to.
    pub incidents: u64,
    /// Inside the monitored network (the console sets it from the inventory).
    pub internal: bool,
    /// Its country, when a GeoIP file is configured (the console sets it).
    pub country: Option<String>,
}

/// One cell of the ATT&CK heat map.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct AttackCell {
    /// `TA0011`.
    pub tactic: String,
    /// `T1071`; empty when the alerts name only the tactic.
    pub technique: String,
    /// Incidents with an alert of this pair in the period.
    pub incidents: u64,
    /// Alerts of this pair (repeats counted).
    pub alerts: u64,
}

/// Everything the wall screen shows of a period.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Wall {
    /// The period, RFC 3339 UTC: [from, to).
    pub from: String,
    /// Its end (exclusive).
    pub to: String,
    /// Width of a bucket of `buckets`: an hour, or a day past a month.
    pub bucket_secs: i64,
    /// The counters (whatever the period).
    pub tiles: Tiles,
    /// Oldest first, every bucket of the period (empty ones too).
    pub buckets: Vec<Bucket>,
    /// Source addresses by alerts.
    pub top_sources: Vec<SourceCount>,
    /// `445/tcp`: alerts to that destination port.
    pub top_ports: Vec<Counted>,
    /// `gid:sid` and its signature: alerts.
    pub top_signatures: Vec<Counted>,
    /// Agency id (the console names them): incidents active in the period.
    pub top_agencies: Vec<Counted>,
    /// The asset inventory's system: incidents active in the period.
    pub top_systems: Vec<Counted>,
    /// Tactic × technique, most incidents first.
    pub attack: Vec<AttackCell>,
    /// When the newest incident was last active, if there is one.
    pub newest_activity: Option<String>,
}

/// A tactic and technique, with alerts and the incidents they belong to.
type AttackTally = ((String, String), (u64, Vec<i64>));

/// What the alert pass collects, keyed as the lists are.
#[derive(Default)]
struct AlertTally {
    sources: HashMap<String, (u64, Vec<i64>)>,
    ports: HashMap<String, u64>,
    rules: HashMap<(i64, i64), u64>,
    /// The signature of each rule, as its first alert of the period says.
    signatures: HashMap<(i64, i64), String>,
    attack: Vec<AttackTally>,
}

/// Appends `id` unless it is the last one (alerts of an incident come in runs).
fn push_new(v: &mut Vec<i64>, id: i64) {
    if v.last() != Some(&id) {
        v.push(id);
    }
}

/// The (tactic, technique) pairs of an alert's lists: each tactic with each technique,
/// or alone (technique `""`) when the alert names none.
fn attack_pairs(tactics: &[String], techniques: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for tactic in tactics {
        if techniques.is_empty() {
            out.push((tactic.clone(), String::new()));
        }
        for tech in techniques {
            out.push((tactic.clone(), tech.clone()));
        }
    }
    out
}

fn distinct(v: &mut Vec<i64>) -> u64 {
    v.sort_unstable();
    v.dedup();
    v.len() as u64
}

/// The `n` largest of a tally, largest first, ties by key.
fn top_of<K: Ord + Clone>(m: HashMap<K, u64>, n: usize) -> Vec<(K, u64)> {
    let mut v: Vec<(K, u64)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

impl Store {
    /// The wall screen's figures of a period.
    pub fn wall(&self, q: &WallQuery) -> Result<Wall, StoreError> {
        let bucket_us = q.bucket_us.max(60_000_000);
        let n = ((q.to_us - q.from_us).max(0) + bucket_us - 1) / bucket_us;
        let mut buckets: Vec<Bucket> = (0..n.min(2_000))
            .map(|i| Bucket { start: iso_utc(q.from_us + i * bucket_us), ..Default::default() })
            .collect();
        let slot = |ts: i64| ((ts - q.from_us) / bucket_us) as usize;
        self.new_incidents_per_bucket(q, &mut buckets, &slot)?;
        let tally = self.alert_tally(q, &mut buckets, &slot)?;
        let (top_agencies, top_systems) = self.incident_tops(q)?;
        let newest: Option<i64> = self.conn().query_row(
            "SELECT max(last_seen_us) FROM incidents WHERE merged_into IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(Wall {
            from: iso_utc(q.from_us),
            to: iso_utc(q.to_us),
            bucket_secs: bucket_us / 1_000_000,
            tiles: self.wall_tiles(q)?,
            buckets,
            top_sources: top_sources(tally.sources, q.top),
            top_ports: top_of(tally.ports, q.top)
                .into_iter()
                .map(|(k, count)| Counted { label: k.clone(), key: k, count })
                .collect(),
            top_signatures: top_of(tally.rules, q.top)
                .into_iter()
                .map(|((gid, sid), count)| {
                    let key = format!("{gid}:{sid}");
                    let label =
                        tally.signatures.get(&(gid, sid)).cloned().unwrap_or_else(|| key.clone());
                    Counted { key, label, count }
                })
                .collect(),
            top_agencies,
            top_systems,
            attack: attack_cells(tally.attack),
            newest_activity: newest.map(iso_utc),
        })
    }

    /// The counter tiles alone (cheap: open incidents and this month's handling).
    pub fn wall_tiles(&self, q: &WallQuery) -> Result<Tiles, StoreError> {
        let (lo, _) = crate::domain::severity::band_of("high").unwrap_or((70, 100));
        let (over_sql, over_args) = q.overdue.sql(2);
        let mut args: Vec<i64> = vec![lo as i64];
        args.extend(over_args);
        let sql = format!(
            "SELECT count(*), coalesce(sum(status = 'new'), 0), coalesce(sum(score >= ?1), 0),
                    coalesce(sum({over_sql}), 0)
             FROM incidents WHERE status IN ('new', 'acknowledged', 'in_progress') AND merged_into IS NULL"
        );
        let (open, unack, hc, overdue): (i64, i64, i64, i64) =
            self.conn().prepare_cached(&sql)?.query_row(rusqlite::params_from_iter(args), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
        let durations = |sql: &str| -> Result<Vec<u64>, StoreError> {
            let mut st = self.conn().prepare_cached(sql)?;
            let rows = st.query_map([q.month_start_us], |r| r.get::<_, i64>(0))?;
            Ok(rows
                .map(|d| d.map(|d| (d.max(0) / 1_000_000) as u64))
                .collect::<Result<Vec<_>, _>>()?)
        };
        let tta = durations(
            "SELECT acknowledged_us - created_us FROM incidents
             WHERE acknowledged_us >= ?1 AND merged_into IS NULL",
        )?;
        let ttr = durations(
            "SELECT resolved_us - created_us FROM incidents
             WHERE resolved_us >= ?1 AND status = 'resolved' AND merged_into IS NULL",
        )?;
        Ok(Tiles {
            open: open.max(0) as u64,
            unacknowledged: unack.max(0) as u64,
            high_critical: hc.max(0) as u64,
            overdue: overdue.max(0) as u64,
            acknowledged: tta.len() as u64,
            tta_median_secs: median(tta),
            resolved: ttr.len() as u64,
            ttr_median_secs: median(ttr),
        })
    }

    /// Incidents first seen in each bucket, by the severity of their score.
    fn new_incidents_per_bucket(
        &self,
        q: &WallQuery,
        buckets: &mut [Bucket],
        slot: &dyn Fn(i64) -> usize,
    ) -> Result<(), StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT first_seen_us, score FROM incidents INDEXED BY incidents_overview
             WHERE first_seen_us >= ?1 AND first_seen_us < ?2 AND merged_into IS NULL",
        )?;
        let rows = st.query_map(params![q.from_us, q.to_us], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, u32>(1)?))
        })?;
        for row in rows {
            let (ts, score) = row?;
            let Some(b) = buckets.get_mut(slot(ts)) else { continue };
            match crate::domain::severity::severity_of(score) {
                "critical" => b.critical += 1,
                "high" => b.high += 1,
                "medium" => b.medium += 1,
                _ => b.low += 1,
            }
        }
        Ok(())
    }

    /// One pass over the period's alerts that belong to an incident (suppressed ones
    /// do not): per bucket, and by source, port, rule and ATT&CK pair. Strings are
    /// borrowed from the row and the ATT&CK lists parsed once per distinct value (a
    /// month's million alerts in about a second).
    fn alert_tally(
        &self,
        q: &WallQuery,
        buckets: &mut [Bucket],
        slot: &dyn Fn(i64) -> usize,
    ) -> Result<AlertTally, StoreError> {
        let mut t = AlertTally::default();
        // Per distinct (tactics, techniques) column pair: the cells it counts in.
        let mut memo: HashMap<String, Vec<usize>> = HashMap::new();
        let mut cells: Vec<AttackTally> = Vec::new();
        let mut ports: HashMap<String, HashMap<i64, u64>> = HashMap::new();
        let mut key = String::new();
        let mut st = self.conn().prepare_cached(
            "SELECT ts_us, count, src_ip, dest_port, proto, gid, sid, tactics, techniques, incident_id,
                    signature
             FROM alerts INDEXED BY alerts_ts
             WHERE ts_us >= ?1 AND ts_us < ?2 AND incident_id IS NOT NULL",
        )?;
        let mut rows = st.query(params![q.from_us, q.to_us])?;
        while let Some(r) = rows.next()? {
            let (ts, n): (i64, i64) = (r.get(0)?, r.get(1)?);
            let n = n.max(1) as u64;
            let incident: i64 = r.get(9)?;
            if let Some(b) = buckets.get_mut(slot(ts)) {
                b.alerts += n;
            }
            let src = r.get_ref(2)?.as_str().unwrap_or("");
            if !t.sources.contains_key(src) {
                t.sources.insert(src.to_string(), (0, Vec::new()));
            }
            if let Some(s) = t.sources.get_mut(src) {
                s.0 += n;
                push_new(&mut s.1, incident);
            }
            if let Some(port) = r.get::<_, Option<i64>>(3)? {
                let proto = r.get_ref(4)?.as_str().unwrap_or("");
                if !ports.contains_key(proto) {
                    ports.insert(proto.to_string(), HashMap::new());
                }
                if let Some(p) = ports.get_mut(proto) {
                    *p.entry(port).or_default() += n;
                }
            }
            let rule: (i64, i64) = (r.get(5)?, r.get(6)?);
            *t.rules.entry(rule).or_insert_with(|| {
                let sig = r.get_ref(10).ok().and_then(|v| v.as_str().ok()).unwrap_or("");
                t.signatures.insert(rule, sig.to_string());
                0
            }) += n;
            key.clear();
            key.push_str(r.get_ref(7)?.as_str().unwrap_or(""));
            key.push('\u{1}');
            key.push_str(r.get_ref(8)?.as_str().unwrap_or(""));
            if !memo.contains_key(&key) {
                let (tac, tec) = key.split_once('\u{1}').unwrap_or(("", ""));
                let idx = attack_pairs(&parse_list(tac), &parse_list(tec))
                    .into_iter()
                    .map(|pair| match cells.iter().position(|c| c.0 == pair) {
                        Some(i) => i,
                        None => {
                            cells.push((pair, (0, Vec::new())));
                            cells.len() - 1
                        }
                    })
                    .collect();
                memo.insert(key.clone(), idx);
            }
            for &i in memo.get(&key).map(Vec::as_slice).unwrap_or(&[]) {
                let c = &mut cells[i].1;
                c.0 += n;
                push_new(&mut c.1, incident);
            }
        }
        for (proto, by_port) in ports {
            for (port, count) in by_port {
                *t.ports.entry(format!("{port}/{}", proto.to_ascii_lowercase())).or_default() +=
                    count;
            }
        }
        t.attack = cells;
        Ok(t)
    }

    /// Agencies and systems by incidents active in the period.
    fn incident_tops(&self, q: &WallQuery) -> Result<(Vec<Counted>, Vec<Counted>), StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT agency, system FROM incidents INDEXED BY incidents_last_seen
             WHERE last_seen_us >= ?1 AND first_seen_us < ?2 AND merged_into IS NULL",
        )?;
        let mut rows = st.query(params![q.from_us, q.to_us])?;
        let (mut agencies, mut systems) = (HashMap::new(), HashMap::new());
        while let Some(r) = rows.next()? {
            if let Some(a) = r.get::<_, Option<String>>(0)?.filter(|a| !a.is_empty()) {
                *agencies.entry(a).or_insert(0u64) += 1;
            }
            if let Some(s) = r.get::<_, Option<String>>(1)?.filter(|s| !s.is_empty()) {
                *systems.entry(s).or_insert(0u64) += 1;
            }
        }
        let counted = |m: HashMap<String, u64>| {
            top_of(m, q.top)
                .into_iter()
                .map(|(k, count)| Counted { label: k.clone(), key: k, count })
                .collect()
        };
        Ok((counted(agencies), counted(systems)))
    }
}

fn top_sources(m: HashMap<String, (u64, Vec<i64>)>, n: usize) -> Vec<SourceCount> {
    let mut v: Vec<SourceCount> = m
        .into_iter()
        .map(|(ip, (alerts, mut inc))| SourceCount {
            incidents: distinct(&mut inc),
            ip,
            alerts,
            ..Default::default()
        })
        .collect();
    v.sort_by(|a, b| b.alerts.cmp(&a.alerts).then_with(|| a.ip.cmp(&b.ip)));
    v.truncate(n);
    v
}

fn attack_cells(m: Vec<AttackTally>) -> Vec<AttackCell> {
    let mut v: Vec<AttackCell> = m
        .into_iter()
        .map(|((tactic, technique), (alerts, mut inc))| AttackCell {
            incidents: distinct(&mut inc),
            tactic,
            technique,
            alerts,
        })
        .collect();
    v.sort_by(|a, b| {
        b.incidents
            .cmp(&a.incidents)
            .then_with(|| (&a.tactic, &a.technique).cmp(&(&b.tactic, &b.technique)))
    });
    v
}

/// The median (the lower middle of an even count), as the report's nearest rank.
fn median(mut v: Vec<u64>) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[(v.len() - 1) / 2])
}
