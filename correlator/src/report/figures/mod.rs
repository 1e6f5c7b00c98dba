//! The figures of a monthly report, computed from the store.
//!
//! Which incidents count: those first seen in the month (Vietnam time, UTC+7), not
//! merged into another, and not the correlator's own (sensor down, blocking storm: those
//! are in the sensor health and response parts). For an agency: those whose entity is
//! the agency's, or that involve one of its hosts. Alerts, signatures and sources are
//! those of the counted incidents; handling times run from an incident's creation
//! (when the SOC could know) to its acknowledgement and resolution.

use std::collections::BTreeMap;

use chrono::{Datelike, TimeZone};

mod count;

#[cfg(test)]
use count::counter_total;
pub use count::duration_stats;
use count::{
    alert_figures, handling, incident_figures, response, scope, sensor_health, serious, top_targets,
};
use serde::Serialize;

use super::{geoip::GeoIp, Milestone, ReportConfig, ReportError};
use crate::incident::assets::Inventory;
use crate::store::monthly;
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
    /// The headline figures of the month, and of the month before (for the
    /// comparison the summary page opens with).
    pub headline: Headline,
    pub(crate) previous: Headline,
    /// What the SOC lead recommends (written from the console); none: lines to write on.
    pub recommendations: Option<crate::store::recommendations::Recommendations>,
}

/// The figures a summary page compares month to month.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Headline {
    /// `2026-10`.
    pub month: String,
    /// Incidents first seen in the month.
    pub incidents: u64,
    /// Of which high or critical.
    pub critical_high: u64,
    /// Alerts in them (repeats included).
    pub alerts: u64,
    /// Median time to acknowledge and to resolve (seconds).
    pub tta_median_secs: Option<u64>,
    pub(crate) ttr_median_secs: Option<u64>,
    /// Share of the last configured deadline (handle and report) met.
    pub deadline_met: Option<f64>,
    pub(crate) false_positive_rate: Option<f64>,
    /// Blocks carried out.
    pub blocks_executed: u64,
}

impl Headline {
    fn of(month: Month, f: &IncidentFigures, h: &Handling, r: &ResponseFigures) -> Headline {
        let sev = |k: &str| f.by_severity.get(k).copied().unwrap_or(0);
        Headline {
            month: month.label(),
            incidents: f.total,
            critical_high: sev("critical") + sev("high"),
            alerts: f.alerts,
            tta_median_secs: h.time_to_acknowledge.median_secs,
            ttr_median_secs: h.time_to_resolve.median_secs,
            deadline_met: h.deadlines.last().and_then(|d| d.share_met),
            false_positive_rate: h.false_positive_rate,
            blocks_executed: r.executed,
        }
    }
}

/// The headline figures of `month` alone (the month before a report's).
fn headline(
    store: &Store,
    inv: &Inventory,
    cfg: &ReportConfig,
    month: Month,
    agency: Option<&str>,
    now_us: i64,
) -> Result<Headline, ReportError> {
    let (from, to) = (month.start_us(), month.end_us());
    let rows = monthly::incidents_for_period(store.conn(), from, to, agency)?;
    let f = incident_figures(
        store,
        inv,
        &ReportConfig { trend_months: 1, ..cfg.clone() },
        month,
        agency,
        &rows,
    )?;
    let h = handling(cfg, &rows, now_us)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let r = response(store, from, to, agency.is_some().then_some(&ids[..]))?;
    Ok(Headline::of(month, &f, &h, &r))
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
    /// Share of the month (until now, for the month in progress) the sensor ran, from
    /// its heartbeats; none for a sensor that read capture files.
    pub uptime: Option<f64>,
    /// The sensor read capture files (a replay), not an interface.
    pub(crate) reads_files: bool,
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
    let geo = match &cfg.geoip {
        Some(p) => Some(GeoIp::load(p)?),
        None => None,
    };

    let f = incident_figures(store, inv, cfg, month, agency, &rows)?;
    let h = handling(cfg, &rows, now_us)?;
    let (top_signatures, top_sources, sensors_seen) =
        alert_figures(store, inv, cfg, &rows, geo.as_ref())?;
    let top_targets = top_targets(cfg, &rows);
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let response = response(store, from, to, agency.is_some().then_some(&ids[..]))?;
    let sensors = sensor_health(store, from, to.min(now_us.max(from + 1)))?;
    let scope = scope(inv, agency, sensors_seen);

    let serious = serious(store, &rows)?;
    let headline = Headline::of(month, &f, &h, &response);
    let previous = self::headline(store, inv, cfg, month.minus(1), agency, now_us)?;
    let recommendations = store.recommendations(&month.label(), agency.unwrap_or(""))?;

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
        headline,
        previous,
        recommendations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::iso_utc;

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
        let plain = [100, 150, 20, 50].map(|v| (None, v));
        assert_eq!(counter_total(&plain, false), 50 + 20 + 30);
        assert_eq!(counter_total(&plain, true), 100 + 50 + 20 + 30);
        // The uptime going back is a restart even when the counter grew meanwhile.
        assert_eq!(counter_total(&[(Some(60), 10), (Some(30), 15)], false), 15);
    }

    #[test]
    fn a_sensors_running_time_and_packets_from_its_uptime() {
        const S: i64 = 1_000_000;
        let (from, to) = (0, 1000 * S);
        let beat = |up: u64, received: u64| serde_json::json!({"stats": {"uptime": up, "capture": {"received": received, "kernel_drops": 1}}});
        // Started at 100 s: beats at 200 s and 300 s; restarted at 600 s, beat at 700 s.
        let beats = [(200 * S, beat(100, 40)), (300 * S, beat(200, 90)), (700 * S, beat(100, 30))];
        let h = count::one_sensor("hue-01".into(), &beats, from, to);
        assert_eq!(h.uptime, Some(0.3), "100–300 s and 600–700 s of 1,000 s");
        assert_eq!(
            (h.packets, h.drops),
            (40 + 50 + 30, 2),
            "from zero at the start and the restart"
        );
        assert!(!h.reads_files);
        // A sensor already running when the period began counts from its first beat.
        let h = count::one_sensor(
            "hue-01".into(),
            &[(50 * S, beat(500, 40)), (150 * S, beat(600, 90))],
            from,
            to,
        );
        assert_eq!((h.uptime, h.packets), (Some(0.15), 50));
        // A replay of capture files: its packets, no share of the month.
        let replay = serde_json::json!({"stats": {"uptime": 1800, "capture": {"files": 1},
                                                   "decoder": {"pkts": 1427}}});
        let h = count::one_sensor("hue-01".into(), &[(3600 * S, replay)], from, 10_000 * S);
        assert_eq!((h.uptime, h.packets, h.reads_files), (None, 1427, true));
    }
}
