//! How each part of the report is counted from the store (see the parent module for
//! which incidents count).

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::domain::heartbeat::Beat;
use crate::domain::severity::severity_of;
use crate::incident::assets::Inventory;
use crate::incident::attack::RsitClass;
use crate::response::config::parse_duration as parse_duration_secs;
use crate::store::monthly;
use crate::store::sqlite::iso_utc;
use crate::store::{IncidentRow, Store};

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

pub(super) fn share(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Incidents by class, severity, status and agency, and the trend of the months before.
pub(super) fn incident_figures(
    store: &Store,
    inv: &Inventory,
    cfg: &ReportConfig,
    month: Month,
    agency: Option<&str>,
    rows: &[IncidentRow],
) -> Result<IncidentFigures, ReportError> {
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
    for r in rows {
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
        for r in rs.as_deref().unwrap_or(rows) {
            mc.total += 1;
            *mc.by_severity.entry(severity_of(r.score).to_string()).or_default() += 1;
        }
        f.trend.push(mc);
    }
    Ok(f)
}

/// Handling: times from creation, deadlines, false positives.
pub(super) fn handling(
    cfg: &ReportConfig,
    rows: &[IncidentRow],
    now_us: i64,
) -> Result<Handling, ReportError> {
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
        for r in rows {
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
    Ok(h)
}

/// What each sensor saw of the counted incidents: alerts, and the agencies they were about.
pub(super) type SensorsSeen = BTreeMap<String, (u64, std::collections::BTreeSet<String>)>;

/// The alerts of the counted incidents: top signatures, top external sources, and what
/// each sensor saw.
pub(super) fn alert_figures(
    store: &Store,
    inv: &Inventory,
    cfg: &ReportConfig,
    rows: &[IncidentRow],
    geo: Option<&GeoIp>,
) -> Result<(Vec<SignatureLine>, Vec<SourceLine>, SensorsSeen), ReportError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut sigs: HashMap<(u32, u32), (String, u64, Vec<i64>)> = HashMap::new();
    let mut sources: HashMap<String, (u64, Vec<i64>)> = HashMap::new();
    let mut sensors_seen: SensorsSeen = BTreeMap::new();
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
            country: geo.and_then(|g| g.country(&ip)),
            ip,
            alerts,
            incidents: distinct(&mut inc),
        })
        .collect();
    top_sources.sort_by(|a, b| b.alerts.cmp(&a.alerts).then(a.ip.cmp(&b.ip)));
    top_sources.truncate(cfg.top);
    Ok((top_signatures, top_sources, sensors_seen))
}

/// The internal entities most attacked.
pub(super) fn top_targets(cfg: &ReportConfig, rows: &[IncidentRow]) -> Vec<TargetLine> {
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
    top_targets
}

/// High and critical incidents, gravest first, with their latest note.
pub(super) fn serious(
    store: &Store,
    rows: &[IncidentRow],
) -> Result<Vec<SeriousLine>, ReportError> {
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
    Ok(serious)
}

/// Block decisions' steps in the month (for an agency: those of its incidents), and the
/// effect of the blocks executed.
pub(super) fn response(
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

/// A counter's growth across heartbeats, each `(uptime, value)`: a sensor that
/// restarted (its uptime went back, or the counter did) counts again from zero. With
/// `from_zero`, the first value counts whole (the sensor started within the period).
pub(super) fn counter_total(samples: &[(Option<u64>, u64)], from_zero: bool) -> u64 {
    let mut total = 0;
    let mut prev: Option<(Option<u64>, u64)> = from_zero.then_some((None, 0));
    for &(up, v) in samples {
        total += match prev {
            Some((Some(pu), _)) if up.is_some_and(|u| u < pu) => v,
            Some((_, p)) if v >= p => v - p,
            Some(_) => v,
            None => 0,
        };
        prev = Some((up, v));
    }
    total
}

/// Sensors' health from their heartbeats (`stats` records) in [from, to).
pub(super) fn sensor_health(
    store: &Store,
    from: i64,
    to: i64,
) -> Result<Vec<SensorHealth>, ReportError> {
    let mut by: BTreeMap<String, Vec<(i64, serde_json::Value)>> = BTreeMap::new();
    for beat in monthly::heartbeats(store.conn(), from, to)? {
        let v: serde_json::Value = serde_json::from_str(&beat.body).unwrap_or_default();
        by.entry(beat.sensor).or_default().push((beat.ts_us, v));
    }
    Ok(by.into_iter().map(|(name, beats)| one_sensor(name, &beats, from, to)).collect())
}

pub(super) fn one_sensor(
    name: String,
    beats: &[(i64, serde_json::Value)],
    from: i64,
    to: i64,
) -> SensorHealth {
    let beats: Vec<(i64, Beat)> = beats.iter().map(|(t, v)| (*t, Beat::of(v))).collect();
    // A sensor whose first heartbeat of the period says it started within the period
    // counted its first packets there too.
    let started_within = beats.first().is_some_and(|(t, b)| {
        b.uptime.is_some_and(|up| t - (up as i64).saturating_mul(1_000_000) >= from)
    });
    let packets: Vec<(Option<u64>, u64)> =
        beats.iter().filter_map(|(_, b)| b.packets.map(|p| (b.uptime, p))).collect();
    let drops: Vec<(Option<u64>, u64)> = beats.iter().map(|(_, b)| (b.uptime, b.drops())).collect();
    let (p, d) = (counter_total(&packets, started_within), counter_total(&drops, started_within));
    let mut rule_updates: Vec<RuleUpdate> = Vec::new();
    for (t, b) in &beats {
        if let Some(g) = b.rules_generation {
            if rule_updates.last().is_none_or(|u| u.generation != g) {
                rule_updates.push(RuleUpdate { generation: g, first_seen: iso_utc(*t) });
            }
        }
    }
    let last = beats.last();
    let reads_files = last.is_some_and(|(_, b)| b.reads_files);
    SensorHealth {
        name,
        heartbeats: beats.len() as u64,
        uptime: (!reads_files).then(|| running_share(&beats, from, to)),
        reads_files,
        packets: p,
        drops: d,
        drop_rate: share(d, p + d),
        version: last.and_then(|(_, b)| b.version.clone()),
        rules_loaded: last.and_then(|(_, b)| b.rules_loaded),
        rule_updates,
        last_heartbeat: last.map(|(t, _)| iso_utc(*t)).unwrap_or_default(),
    }
}

/// The share of [from, to) the sensor ran: each heartbeat vouches for the time since
/// the sensor started (its `uptime`), or, without one, for its 10-minute slot.
fn running_share(beats: &[(i64, Beat)], from: i64, to: i64) -> f64 {
    let mut spans: Vec<(i64, i64)> = beats
        .iter()
        .map(|(t, b)| match b.uptime {
            Some(up) => (t.saturating_sub((up as i64).saturating_mul(1_000_000)), *t),
            None => {
                let slot = from + (t - from) / SLOT_US * SLOT_US;
                (slot, slot + SLOT_US)
            }
        })
        .map(|(a, b)| (a.max(from), b.min(to)))
        .filter(|(a, b)| a < b)
        .collect();
    spans.sort_unstable();
    let (mut covered, mut reach) = (0i64, from);
    for (a, b) in spans {
        let a = a.max(reach);
        if b > a {
            covered += b - a;
            reach = b;
        }
    }
    covered as f64 / (to - from).max(1) as f64
}

pub(super) fn scope(
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
