//! The figures of a monthly report, computed from the store.
//!
//! Which incidents count: those first seen in the month (Vietnam time, UTC+7), not
//! merged into another, and not the correlator's own (sensor down, blocking storm: those
//! are in the sensor health and response parts). For an agency: those whose entity is
//! the agency's, or that involve one of its hosts. Alerts, signatures and sources are
//! those of the counted incidents; handling times run from an incident's creation
//! (when the SOC could know) to its acknowledgement and resolution.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, TimeZone};
use serde::Serialize;

use super::{geoip::GeoIp, Milestone, ReportConfig, ReportError};
use crate::domain::severity::severity_of;
use crate::incident::assets::Inventory;
use crate::incident::attack::RsitClass;
use crate::response::config::parse_duration as parse_duration_secs;
use crate::store::monthly;
use crate::store::sqlite::iso_utc;
use crate::store::Store;

/// Vietnam's offset (no daylight saving).
pub const VN_OFFSET_SECS: i32 = 7 * 3600;

/// Vietnam's time zone: UTC+7.
pub fn vietnam() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(VN_OFFSET_SECS)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("UTC"))
}

/// A calendar month in Vietnam time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Month {
    pub(crate) year: i32,
    /// 1 to 12.
    pub month: u32,
}

impl Month {
    /// `2026-10`.
    pub fn parse(s: &str) -> Result<Month, ReportError> {
        let bad = || ReportError::Input(format!("month `{s}`: expected YYYY-MM, like 2026-10"));
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let (year, month): (i32, u32) =
            (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if !(2000..=2200).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }

    /// The month before the one containing `us` (what the schedule reports on).
    pub fn previous_of(us: i64) -> Month {
        Month::containing(us).minus(1)
    }

    /// The month holding `us` (µs since the epoch) in Vietnam time.
    pub fn containing(us: i64) -> Month {
        let tz = vietnam();
        let d = chrono::DateTime::from_timestamp_micros(us).unwrap_or_default().with_timezone(&tz);
        Month { year: d.year(), month: d.month() }
    }

    pub(crate) fn minus(self, n: u32) -> Month {
        let idx = self.year * 12 + self.month as i32 - 1 - n as i32;
        Month { year: idx.div_euclid(12), month: idx.rem_euclid(12) as u32 + 1 }
    }

    pub(crate) fn next(self) -> Month {
        let idx = self.year * 12 + self.month as i32;
        Month { year: idx.div_euclid(12), month: idx.rem_euclid(12) as u32 + 1 }
    }

    /// Its first instant (µs).
    pub fn start_us(self) -> i64 {
        let tz = vietnam();
        tz.with_ymd_and_hms(self.year, self.month, 1, 0, 0, 0)
            .single()
            .map(|d| d.timestamp_micros())
            .unwrap_or(0)
    }

    /// Its end: the first microsecond of the next month.
    pub fn end_us(self) -> i64 {
        self.next().start_us()
    }

    /// `2026-10`.
    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// The report of one month (and agency): every figure, for the renderings and for
/// other tools (`--format json`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    pub(crate) schema: &'static str,
    /// The month reported, `2026-10`.
    pub month: String,
    /// The period, RFC 3339 in Vietnam time: [from, to).
    pub from: String,
    pub(crate) to: String,
    pub(crate) generated_at: String,
    pub(crate) province: String,
    pub(crate) province_en: String,
    pub(crate) issuer: String,
    pub(crate) issuer_en: String,
    /// The agency reported on; none: province-wide.
    pub agency: Option<AgencyRef>,
    pub(crate) scope: Scope,
    /// The incidents active in the month.
    pub incidents: IncidentFigures,
    pub(crate) handling: Handling,
    pub(crate) top_signatures: Vec<SignatureLine>,
    pub(crate) top_sources: Vec<SourceLine>,
    pub(crate) top_targets: Vec<TargetLine>,
    pub(crate) response: ResponseFigures,
    pub(crate) sensors: Vec<SensorHealth>,
    /// High and critical incidents, one line each.
    pub serious: Vec<SeriousLine>,
}

/// The agency a report is about.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AgencyRef {
    /// Its id in the asset inventory.
    pub id: String,
    /// Its (Vietnamese) name.
    pub name: String,
    pub(crate) name_en: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub(crate) struct Scope {
    pub agencies: Vec<AgencyScope>,
    /// Systems monitored by security level (1–5): how many.
    pub systems_by_level: BTreeMap<u8, u64>,
    pub(crate) sensors: Vec<SensorCoverage>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub(crate) struct AgencyScope {
    pub id: String,
    pub name: String,
    pub(crate) name_en: Option<String>,
    pub(crate) systems: Vec<SystemScope>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub(crate) struct SystemScope {
    pub system: String,
    pub(crate) network: String,
    pub security_level: u8,
    pub(crate) criticality: String,
}

/// A sensor, with what it saw of the counted incidents.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SensorCoverage {
    /// The sensor's name.
    pub name: String,
    /// Alerts it raised in the counted incidents.
    pub alerts: u64,
    /// Agencies whose incidents it raised alerts for.
    pub agencies: Vec<String>,
}

/// The counts of the incidents of the period.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct IncidentFigures {
    /// Incidents active in the period.
    pub total: u64,
    /// By ENISA RSIT class (every class, zeros included).
    pub by_class: BTreeMap<String, u64>,
    /// By severity band of the score: critical, high, medium, low.
    pub by_severity: BTreeMap<String, u64>,
    /// By status now: new, acknowledged, in_progress, resolved, false_positive.
    pub by_status: BTreeMap<String, u64>,
    /// By the agency of the entity, most first (`-` for none).
    pub by_agency: Vec<AgencyCount>,
    /// Alerts in them (repeats included).
    pub alerts: u64,
    /// This month and the months before it, oldest first.
    pub trend: Vec<MonthCount>,
}

/// The incidents of one agency.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AgencyCount {
    /// The agency's id (`-` for none).
    pub id: String,
    /// Its name.
    pub name: String,
    pub(crate) name_en: Option<String>,
    /// Incidents whose entity belongs to it.
    pub incidents: u64,
    pub(crate) critical_high: u64,
}

/// The incidents of one month of the trend.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MonthCount {
    /// `2026-10`.
    pub month: String,
    /// Incidents active in it.
    pub total: u64,
    pub(crate) by_severity: BTreeMap<String, u64>,
}

/// Median and 90th percentile of durations (seconds).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct DurationStats {
    /// How many durations.
    pub count: u64,
    pub(crate) median_secs: Option<u64>,
    pub(crate) p90_secs: Option<u64>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub(crate) struct Handling {
    pub(crate) time_to_acknowledge: DurationStats,
    pub(crate) time_to_resolve: DurationStats,
    pub(crate) deadlines: Vec<DeadlineFigure>,
    /// Closed (resolved or false positive), false positives, and their share.
    pub closed: u64,
    pub(crate) false_positives: u64,
    pub(crate) false_positive_rate: Option<f64>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub(crate) struct DeadlineFigure {
    pub(crate) event: Milestone,
    pub(crate) within_secs: u64,
    pub label: String,
    pub(crate) label_en: String,
    /// Done within the deadline; done late or overdue and not done; not due yet.
    pub met: u64,
    pub(crate) missed: u64,
    pub(crate) pending: u64,
    /// met / (met + missed).
    pub share_met: Option<f64>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub(crate) struct SignatureLine {
    pub gid: u32,
    pub sid: u32,
    pub signature: String,
    pub alerts: u64,
    pub incidents: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub(crate) struct SourceLine {
    pub ip: String,
    /// ISO 3166 code, when a GeoIP file is configured and knows it.
    pub country: Option<String>,
    pub alerts: u64,
    pub incidents: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub(crate) struct TargetLine {
    pub entity: String,
    pub agency: Option<String>,
    pub system: Option<String>,
    pub incidents: u64,
    pub alerts: u64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub(crate) struct ResponseFigures {
    /// Decision steps in the month, by step (`executed`, `dry-run`, `skipped-allowlist`,
    /// `undone`, `expired`, `rate-limited`, `awaiting-approval`, `approved`, `denied`,
    /// `failed`), from the audit log.
    pub steps: BTreeMap<String, u64>,
    pub(crate) executed: u64,
    pub(crate) dry_run: u64,
    pub(crate) skipped_allowlist: u64,
    pub(crate) undone: u64,
    /// Sources blocked in the month, and their alerts in the 24 hours before and after
    /// each block.
    pub blocked_sources: u64,
    pub(crate) alerts_before_24h: u64,
    pub(crate) alerts_after_24h: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub(crate) struct SensorHealth {
    pub name: String,
    pub(crate) heartbeats: u64,
    /// Share of the month's 10-minute slots with a heartbeat (until now, for the month
    /// in progress).
    pub uptime: f64,
    pub(crate) packets: u64,
    pub(crate) drops: u64,
    pub(crate) drop_rate: Option<f64>,
    pub version: Option<String>,
    pub(crate) rules_loaded: Option<u64>,
    /// Rule set generations seen, with when each was first seen.
    pub rule_updates: Vec<RuleUpdate>,
    pub(crate) last_heartbeat: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub(crate) struct RuleUpdate {
    pub(crate) generation: u64,
    pub(crate) first_seen: String,
}

/// A high or critical incident, one line of the report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SeriousLine {
    /// The incident's id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// The severity band of its score (`critical`, `high`).
    pub severity: String,
    pub(crate) score: u32,
    /// The agency id, from the asset inventory.
    pub agency: Option<String>,
    pub(crate) first_seen: String,
    /// Its status now.
    pub status: String,
    pub(crate) resolved_at: Option<String>,
    /// The last note, or the status.
    pub resolution: String,
}

const SLOT_US: i64 = 600_000_000;

/// Median and 90th percentile (nearest rank) of `v` (seconds).
pub fn duration_stats(mut v: Vec<u64>) -> DurationStats {
    v.sort_unstable();
    let rank = |q: f64| -> Option<u64> {
        if v.is_empty() {
            return None;
        }
        let k = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        Some(v[k - 1])
    };
    DurationStats { count: v.len() as u64, median_secs: rank(0.5), p90_secs: rank(0.9) }
}

fn share(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Computes the report of `month` (and `agency`) at `now_us`.
pub fn build(
    store: &Store,
    inv: &Inventory,
    cfg: &ReportConfig,
    month: Month,
    agency: Option<&str>,
    now_us: i64,
) -> Result<Report, ReportError> {
    let (from, to) = (month.start_us(), month.end_us());
    let agency_ref = match agency {
        None => None,
        Some(id) => {
            let a = inv.agencies.get(id).ok_or_else(|| {
                ReportError::Input(format!("agency `{id}` is not in the asset inventory"))
            })?;
            Some(AgencyRef { id: a.id.clone(), name: a.name.clone(), name_en: a.name_en.clone() })
        }
    };
    let rows = monthly::incidents_for_period(store.conn(), from, to, agency)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let geo = match &cfg.geoip_csv {
        Some(p) => Some(GeoIp::load(p)?),
        None => None,
    };

    // Incidents by class, severity, status, agency.
    let mut f = IncidentFigures::default();
    for c in RsitClass::ALL {
        f.by_class.insert(c.as_str().to_string(), 0);
    }
    for s in ["critical", "high", "medium", "low"] {
        f.by_severity.insert(s.to_string(), 0);
    }
    for s in ["new", "acknowledged", "in_progress", "resolved", "false_positive"] {
        f.by_status.insert(s.to_string(), 0);
    }
    let mut by_agency: BTreeMap<String, AgencyCount> = BTreeMap::new();
    for r in &rows {
        f.total += 1;
        f.alerts += r.alert_count;
        *f.by_class.entry(r.rsit.clone()).or_default() += 1;
        let sev = severity_of(r.score);
        *f.by_severity.entry(sev.to_string()).or_default() += 1;
        *f.by_status.entry(r.status.clone()).or_default() += 1;
        let key = r.agency.clone().unwrap_or_else(|| "-".into());
        let e = by_agency.entry(key.clone()).or_insert_with(|| AgencyCount {
            id: key.clone(),
            name: r.agency_name.clone().unwrap_or_else(|| "-".into()),
            name_en: inv.agencies.get(&key).and_then(|a| a.name_en.clone()),
            incidents: 0,
            critical_high: 0,
        });
        e.incidents += 1;
        e.critical_high += matches!(sev, "critical" | "high") as u64;
    }
    f.by_agency = by_agency.into_values().collect();
    f.by_agency.sort_by(|a, b| b.incidents.cmp(&a.incidents).then(a.id.cmp(&b.id)));
    for k in (0..cfg.trend_months.max(1)).rev() {
        let m = month.minus(k);
        let mut mc = MonthCount { month: m.label(), total: 0, by_severity: BTreeMap::new() };
        for s in ["critical", "high", "medium", "low"] {
            mc.by_severity.insert(s.to_string(), 0);
        }
        let rs = if k == 0 {
            None
        } else {
            Some(monthly::incidents_for_period(store.conn(), m.start_us(), m.end_us(), agency)?)
        };
        for r in rs.as_ref().unwrap_or(&rows) {
            mc.total += 1;
            *mc.by_severity.entry(severity_of(r.score).to_string()).or_default() += 1;
        }
        f.trend.push(mc);
    }

    // Handling: times from creation, deadlines, false positives.
    let secs = |from: i64, to: i64| ((to - from).max(0) / 1_000_000) as u64;
    let mut h = Handling {
        time_to_acknowledge: duration_stats(
            rows.iter().filter_map(|r| r.acknowledged_us.map(|a| secs(r.created_us, a))).collect(),
        ),
        time_to_resolve: duration_stats(
            rows.iter()
                .filter(|r| r.status == "resolved")
                .filter_map(|r| r.resolved_us.map(|a| secs(r.created_us, a)))
                .collect(),
        ),
        ..Default::default()
    };
    for d in &cfg.deadlines {
        let within = parse_duration_secs(&d.within)
            .map_err(|e| ReportError::Input(format!("report.deadlines `{}`: {e}", d.label)))?;
        let mut fig = DeadlineFigure {
            event: d.event,
            within_secs: within,
            label: d.label.clone(),
            label_en: d.label_en.clone(),
            met: 0,
            missed: 0,
            pending: 0,
            share_met: None,
        };
        for r in &rows {
            // A false positive needs acknowledging but not resolving.
            let at = match d.event {
                Milestone::Acknowledge => r.acknowledged_us,
                Milestone::Resolve if r.status == "false_positive" => continue,
                Milestone::Resolve => r.resolved_us.filter(|_| r.status == "resolved"),
            };
            let due = r.created_us + within as i64 * 1_000_000;
            match at {
                Some(t) if t <= due => fig.met += 1,
                Some(_) => fig.missed += 1,
                None if now_us > due => fig.missed += 1,
                None => fig.pending += 1,
            }
        }
        fig.share_met = share(fig.met, fig.met + fig.missed);
        h.deadlines.push(fig);
    }
    h.false_positives = rows.iter().filter(|r| r.status == "false_positive").count() as u64;
    h.closed =
        rows.iter().filter(|r| r.status == "resolved" || r.status == "false_positive").count()
            as u64;
    h.false_positive_rate = share(h.false_positives, h.closed);

    // Alerts of the counted incidents: signatures, sources, sensors.
    let mut sigs: HashMap<(u32, u32), (String, u64, Vec<i64>)> = HashMap::new();
    let mut sources: HashMap<String, (u64, Vec<i64>)> = HashMap::new();
    let mut sensors_seen: BTreeMap<String, (u64, std::collections::BTreeSet<String>)> =
        BTreeMap::new();
    let agency_of: HashMap<i64, Option<String>> =
        rows.iter().map(|r| (r.id, r.agency_name.clone())).collect();
    for a in monthly::alerts_of_incidents(store.conn(), &ids)? {
        let (inc, n) = (a.incident_id, a.count);
        let e = sigs.entry((a.gid, a.sid)).or_insert_with(|| (String::new(), 0, Vec::new()));
        if e.0.is_empty() {
            e.0 = a.signature;
        }
        e.1 += n;
        e.2.push(inc);
        let s = sources.entry(a.src_ip).or_insert_with(|| (0, Vec::new()));
        s.0 += n;
        s.1.push(inc);
        if let Some(name) = a.sensor {
            let e = sensors_seen.entry(name).or_default();
            e.0 += n;
            if let Some(Some(a)) = agency_of.get(&inc) {
                e.1.insert(a.clone());
            }
        }
    }
    let distinct = |v: &mut Vec<i64>| {
        v.sort_unstable();
        v.dedup();
        v.len() as u64
    };
    let mut top_signatures: Vec<SignatureLine> = sigs
        .into_iter()
        .map(|((gid, sid), (signature, alerts, mut inc))| SignatureLine {
            gid,
            sid,
            signature,
            alerts,
            incidents: distinct(&mut inc),
        })
        .collect();
    top_signatures
        .sort_by(|a, b| b.alerts.cmp(&a.alerts).then((a.gid, a.sid).cmp(&(b.gid, b.sid))));
    top_signatures.truncate(cfg.top);
    let mut top_sources: Vec<SourceLine> = sources
        .into_iter()
        .filter(|(ip, _)| !inv.zone(ip).is_internal() && ip.parse::<std::net::IpAddr>().is_ok())
        .map(|(ip, (alerts, mut inc))| SourceLine {
            country: geo.as_ref().and_then(|g| g.country(&ip)),
            ip,
            alerts,
            incidents: distinct(&mut inc),
        })
        .collect();
    top_sources.sort_by(|a, b| b.alerts.cmp(&a.alerts).then(a.ip.cmp(&b.ip)));
    top_sources.truncate(cfg.top);

    // Targets: internal entities.
    let mut targets: BTreeMap<String, TargetLine> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.entity_zone != "external") {
        let t = targets.entry(r.entity.clone()).or_insert_with(|| TargetLine {
            entity: r.entity.clone(),
            agency: r.agency_name.clone(),
            system: r.system.clone(),
            incidents: 0,
            alerts: 0,
        });
        t.incidents += 1;
        t.alerts += r.alert_count;
    }
    let mut top_targets: Vec<TargetLine> = targets.into_values().collect();
    top_targets.sort_by(|a, b| {
        b.incidents.cmp(&a.incidents).then(b.alerts.cmp(&a.alerts)).then(a.entity.cmp(&b.entity))
    });
    top_targets.truncate(cfg.top);

    let response = response(store, from, to, agency.is_some().then_some(&ids[..]))?;
    let sensors = sensor_health(store, from, to.min(now_us.max(from + 1)))?;
    let scope = scope(inv, agency, sensors_seen);

    // High and critical incidents.
    let mut serious = Vec::new();
    for r in rows.iter().filter(|r| r.score >= 50) {
        let note = monthly::latest_note(store.conn(), r.id)?;
        serious.push(SeriousLine {
            id: r.id,
            title: r.title.clone(),
            severity: severity_of(r.score).to_string(),
            score: r.score,
            agency: r.agency_name.clone(),
            first_seen: iso_utc(r.first_seen_us),
            status: r.status.clone(),
            resolved_at: r.resolved_us.map(iso_utc),
            resolution: note
                .map(|n| n.chars().take(300).collect())
                .unwrap_or_else(|| r.status.clone()),
        });
    }
    serious.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));

    let tz = vietnam();
    let local = |us: i64| {
        chrono::DateTime::from_timestamp_micros(us)
            .unwrap_or_default()
            .with_timezone(&tz)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };
    Ok(Report {
        schema: "gatewatch.report/1",
        month: month.label(),
        from: local(from),
        to: local(to),
        generated_at: local(now_us),
        province: cfg.province.clone(),
        province_en: cfg.province_en.clone(),
        issuer: cfg.issuer.clone(),
        issuer_en: cfg.issuer_en.clone(),
        agency: agency_ref,
        scope,
        incidents: f,
        handling: h,
        top_signatures,
        top_sources,
        top_targets,
        response,
        sensors,
        serious,
    })
}

/// Block decisions' steps in the month (for an agency: those of its incidents), and the
/// effect of the blocks executed.
fn response(
    store: &Store,
    from: i64,
    to: i64,
    only: Option<&[i64]>,
) -> Result<ResponseFigures, ReportError> {
    let mut r = ResponseFigures::default();
    let mut executed_sources: Vec<(String, i64)> = Vec::new();
    for b in monthly::block_steps(store.conn(), from, to, only)? {
        let step = b.action.trim_start_matches("block.").to_string();
        if step == "executed" && b.target_kind == "source" {
            executed_sources.push((b.target, b.at_us));
        }
        *r.steps.entry(step).or_default() += 1;
    }
    let n = |k: &str| r.steps.get(k).copied().unwrap_or(0);
    (r.executed, r.dry_run, r.skipped_allowlist, r.undone) =
        (n("executed"), n("dry-run"), n("skipped-allowlist"), n("undone"));
    let mut distinct: Vec<&String> = executed_sources.iter().map(|(t, _)| t).collect();
    distinct.sort();
    distinct.dedup();
    r.blocked_sources = distinct.len() as u64;
    for (target, at) in &executed_sources {
        let day = 86_400_000_000;
        r.alerts_before_24h += monthly::alerts_from_source(store.conn(), target, at - day, *at)?;
        r.alerts_after_24h += monthly::alerts_from_source(store.conn(), target, *at, at + day)?;
    }
    Ok(r)
}

/// Counter deltas across heartbeats: a counter that went down restarted from zero.
fn counter_total(values: &[u64]) -> u64 {
    let mut total = 0;
    let mut prev: Option<u64> = None;
    for &v in values {
        total += match prev {
            Some(p) if v >= p => v - p,
            Some(_) => v,
            None => 0,
        };
        prev = Some(v);
    }
    total
}

/// Sensors' health from their heartbeats (`stats` records) in [from, to).
fn sensor_health(store: &Store, from: i64, to: i64) -> Result<Vec<SensorHealth>, ReportError> {
    let mut by: BTreeMap<String, Vec<(i64, serde_json::Value)>> = BTreeMap::new();
    for beat in monthly::heartbeats(store.conn(), from, to)? {
        let v: serde_json::Value = serde_json::from_str(&beat.body).unwrap_or_default();
        by.entry(beat.sensor).or_default().push((beat.ts_us, v));
    }
    let slots = ((to - from + SLOT_US - 1) / SLOT_US).max(1);
    let mut out = Vec::new();
    for (name, beats) in by {
        let n = |v: &serde_json::Value, path: &[&str]| -> Option<u64> {
            path.iter().try_fold(v, |v, k| v.get(*k)).and_then(|x| x.as_u64())
        };
        let mut covered: Vec<i64> = beats.iter().map(|(t, _)| (t - from) / SLOT_US).collect();
        covered.dedup();
        let packets: Vec<u64> = beats
            .iter()
            .filter_map(|(_, v)| {
                n(v, &["stats", "capture", "received"]).or(n(v, &["stats", "decoder", "pkts"]))
            })
            .collect();
        let drops: Vec<u64> = beats
            .iter()
            .map(|(_, v)| {
                n(v, &["stats", "capture", "kernel_drops"]).unwrap_or(0)
                    + n(v, &["stats", "capture", "queue_drops"]).unwrap_or(0)
            })
            .collect();
        let (p, d) = (counter_total(&packets), counter_total(&drops));
        let mut rule_updates: Vec<RuleUpdate> = Vec::new();
        for (t, v) in &beats {
            if let Some(g) = n(v, &["stats", "detect", "rules_generation"]) {
                if rule_updates.last().is_none_or(|u| u.generation != g) {
                    rule_updates.push(RuleUpdate { generation: g, first_seen: iso_utc(*t) });
                }
            }
        }
        let last = beats.last().map(|(t, v)| (*t, v.clone()));
        out.push(SensorHealth {
            name,
            heartbeats: beats.len() as u64,
            uptime: covered.len() as f64 / slots as f64,
            packets: p,
            drops: d,
            drop_rate: share(d, p + d),
            version: last
                .as_ref()
                .and_then(|(_, v)| v["heartbeat"]["version"].as_str().map(str::to_string)),
            rules_loaded: last
                .as_ref()
                .and_then(|(_, v)| n(v, &["stats", "detect", "rules_loaded"])),
            rule_updates,
            last_heartbeat: last.map(|(t, _)| iso_utc(t)).unwrap_or_default(),
        });
    }
    Ok(out)
}

fn scope(
    inv: &Inventory,
    agency: Option<&str>,
    sensors: BTreeMap<String, (u64, std::collections::BTreeSet<String>)>,
) -> Scope {
    let mut s = Scope::default();
    let mut by_agency: BTreeMap<String, Vec<SystemScope>> = BTreeMap::new();
    for a in inv.assets() {
        if agency.is_some_and(|id| id != a.agency_id) {
            continue;
        }
        *s.systems_by_level.entry(a.security_level).or_default() += 1;
        by_agency.entry(a.agency_id.clone()).or_default().push(SystemScope {
            system: a.system.clone(),
            network: a.network.clone(),
            security_level: a.security_level,
            criticality: a.criticality.as_str().to_string(),
        });
    }
    for (id, mut systems) in by_agency {
        systems.sort_by(|a, b| {
            b.security_level.cmp(&a.security_level).then(a.network.cmp(&b.network))
        });
        let (name, name_en) = inv
            .agencies
            .get(&id)
            .map(|a| (a.name.clone(), a.name_en.clone()))
            .unwrap_or((id.clone(), None));
        s.agencies.push(AgencyScope { id, name, name_en, systems });
    }
    s.sensors = sensors
        .into_iter()
        .map(|(name, (alerts, agencies))| SensorCoverage {
            name,
            alerts,
            agencies: agencies.into_iter().collect(),
        })
        .collect();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_in_vietnam_time() {
        let m = Month::parse("2026-10").unwrap();
        assert_eq!(iso_utc(m.start_us()), "2026-09-30T17:00:00.000000Z");
        assert_eq!(iso_utc(m.end_us()), "2026-10-31T17:00:00.000000Z");
        assert_eq!(Month::parse("2026-01").unwrap().minus(1).label(), "2025-12");
        assert_eq!(Month::parse("2026-12").unwrap().next().label(), "2027-01");
        assert_eq!(Month::previous_of(m.end_us()).label(), "2026-10");
        for bad in ["2026-13", "26-10", "2026/10", "x"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn percentiles_by_nearest_rank_and_counters_across_restarts() {
        let s = duration_stats((1..=10).collect());
        assert_eq!((s.count, s.median_secs, s.p90_secs), (10, Some(5), Some(9)));
        assert_eq!(duration_stats(vec![]).median_secs, None);
        assert_eq!(counter_total(&[100, 150, 20, 50]), 50 + 20 + 30);
    }
}
