//! Correlation rules over alerts, in Sigma correlation syntax.
//!
//! Every alert the engine places becomes an event (see [`alert_event`] and the header
//! of `correlator/correlation/builtin.yml` for its fields) that Sigma detection rules
//! of logsource `product: gatewatch, category: alert` select from; Sigma correlation
//! rules (`event_count` for thresholds, `value_count` for one-to-many, `temporal` and
//! `temporal_ordered` for kill chains, with `aliases` where the host is the target
//! of one stage and the source of the next) count and order their hits. The shipped
//! rules ([`BUILTIN`]) cover threshold, one-to-many (hosts and agencies) and the
//! exploit-then-call-out kill chain; sensor-down is built into the correlator
//! (`ingest.sensor_down_secs`), as it has no alert to start from.

use std::collections::HashMap;
use std::path::PathBuf;

use gatewatch_rules::event::AlertEvent;
use gatewatch_rules::load_report::LoadReport;
use gatewatch_rules::sigma::correlation::{CorrelationHit, CorrelationLimits, SigmaCorrelation};
use gatewatch_rules::sigma::{self, SigmaSet};
use serde_json::{json, Value};

use super::assets::{Inventory, Zone};
use super::attack::Meaning;

/// The shipped correlation rules.
pub const BUILTIN: &str = include_str!("../../correlation/builtin.yml");

/// Routes the alert rules to alert events.
pub const PIPELINE: &str = include_str!("../../correlation/alert-pipeline.yml");

/// The tag that marks a correlation as evidence that the attack worked.
pub const SUCCESS_TAG: &str = "gatewatch.success";

/// The event type alert rules are routed to.
const ALERT_EVENT: &str = "alert";

/// Correlation rule files that could not be read or compiled, each naming the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .file_errors.join("; "))]
pub struct CorrelationError {
    /// One message per file.
    pub file_errors: Vec<String>,
}

/// The alert rules and their windows.
pub struct AlertCorrelation {
    set: SigmaSet,
    windows: SigmaCorrelation,
    /// (correlation, group) → until when (µs) it stays quiet after firing: a
    /// correlation fires once per timespan and group, not on every event past its
    /// threshold.
    quiet_until: HashMap<(String, Vec<(String, String)>), i64>,
    /// What loaded (detection and correlation rules), for `rules check` and the logs.
    pub report: LoadReport,
}

impl std::fmt::Debug for AlertCorrelation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertCorrelation").field("windows", &self.windows).finish()
    }
}

impl AlertCorrelation {
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// Loads the shipped rules (when `builtin`) and those under `paths`. A file that
    /// does not read is an error; a rule that does not compile is skipped and
    /// reported.
    pub fn load(
        builtin: bool,
        paths: &[PathBuf],
        limits: &CorrelationLimits,
    ) -> Result<AlertCorrelation, CorrelationError> {
        let mut report =
            LoadReport { unit: "alert correlation rules".into(), ..Default::default() };
        let mut parsed = sigma::parse_paths(paths, &mut report);
        if builtin {
            sigma::parse_text(BUILTIN, "builtin.yml", &mut report, &mut parsed);
        }
        if !report.file_errors.is_empty() {
            return Err(CorrelationError { file_errors: report.file_errors });
        }
        let set = sigma::compile(parsed, PIPELINE, &mut report)
            .ok_or_else(|| CorrelationError { file_errors: report.file_errors.clone() })?;
        let mut corr_report = LoadReport::default();
        let windows = SigmaCorrelation::new(
            &set.rules,
            &set.correlations,
            &set.correlation_files,
            limits,
            &mut corr_report,
        );
        for s in corr_report.skipped {
            report.notes.push(format!("{}: {}", s.file, s.message));
        }
        Ok(AlertCorrelation { set, windows, quiet_until: HashMap::new(), report })
    }

    /// Correlation rules loaded.
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// Open windows.
    pub fn windows(&self) -> usize {
        self.windows.windows()
    }

    /// Feeds one alert's event at `ts_us`; returns the correlations that fired.
    pub fn observe(&mut self, event: &Value, ts_us: i64) -> Vec<CorrelationHit> {
        if self.windows.is_empty() {
            return Vec::new();
        }
        let hits = self.set.evaluate_network(ALERT_EVENT, event);
        let mut fired = self.windows.observe(event, &hits, ts_us.div_euclid(1_000_000));
        fired.retain(|h| {
            let key = (h.id.clone(), h.group_key.clone());
            let until = ts_us.saturating_add(
                h.timespan_secs.min(i64::MAX as u64 / 2_000_000) as i64 * 1_000_000,
            );
            match self.quiet_until.get_mut(&key) {
                Some(u) if ts_us < *u => false,
                Some(u) => {
                    *u = until;
                    true
                }
                None => {
                    self.quiet_until.insert(key, until);
                    true
                }
            }
        });
        fired
    }

    /// Drops windows that ended before `now_us`.
    pub fn evict_expired(&mut self, now_us: i64) {
        self.windows.evict_expired(now_us.div_euclid(1_000_000));
        self.quiet_until.retain(|_, u| *u > now_us);
    }
}

fn side(zone: &Zone<'_>) -> Value {
    match zone.asset() {
        Some(a) => {
            json!({"zone": zone.name(), "agency": a.agency_id, "security_level": a.security_level})
        }
        None => json!({"zone": zone.name()}),
    }
}

/// The event alert rules see (fields in `correlator/correlation/builtin.yml`).
pub fn alert_event(a: &AlertEvent, m: &Meaning, entity: &str, inv: &Inventory) -> Value {
    let mut ev = json!({
        "event_type": "alert",
        "timestamp": a.timestamp,
        "src_ip": a.src_ip,
        "src_port": a.src_port,
        "dest_ip": a.dest_ip,
        "dest_port": a.dest_port,
        "proto": a.proto,
        "app_proto": a.app_proto,
        "sensor": a.host,
        "alert": {
            "gid": a.alert.gid,
            "signature_id": a.alert.signature_id,
            "signature": a.alert.signature,
            "category": a.alert.category,
            "severity": a.alert.severity,
            "tactic": m.tactics,
            "technique": m.techniques,
            "rsit": m.rsit_or_other().as_str(),
        },
        "src": side(&inv.zone(&a.src_ip)),
        "dest": side(&inv.zone(&a.dest_ip)),
        "entity": entity,
    });
    if let Some(obj) = ev.as_object_mut() {
        for k in ["http", "dns", "tls", "fileinfo", "smtp", "ssh", "files"] {
            if let Some(v) = a.app_metadata.get(k) {
                obj.insert(k.to_string(), v.clone());
            }
        }
    }
    ev
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::attack::classify;

    fn alert(src: &str, dst: &str, category: &str, sid: u32) -> AlertEvent {
        serde_json::from_value(json!({
            "timestamp": "2026-10-14T01:00:00.000000+0000", "event_type": "alert",
            "src_ip": src, "dest_ip": dst, "proto": "TCP",
            "alert": {"action": "allowed", "gid": 1, "signature_id": sid, "rev": 1,
                      "signature": "x", "category": category, "severity": 2}
        }))
        .unwrap()
    }

    fn feed(c: &mut AlertCorrelation, a: &AlertEvent, t: i64) -> Vec<CorrelationHit> {
        let inv = Inventory::default();
        let m = classify(&a.alert.category, None);
        c.observe(&alert_event(a, &m, &a.dest_ip, &inv), t * 1_000_000)
    }

    #[test]
    fn the_builtin_rules_load() {
        let c = AlertCorrelation::load(true, &[], &CorrelationLimits::default()).unwrap();
        assert_eq!(c.len(), 4, "{:?}", c.report);
        assert!(c.report.skipped.is_empty() && c.report.notes.is_empty(), "{:?}", c.report);
    }

    #[test]
    fn one_source_against_ten_hosts_fires_once() {
        let mut c = AlertCorrelation::load(true, &[], &CorrelationLimits::default()).unwrap();
        let mut fired = Vec::new();
        for i in 0..12 {
            let a =
                alert("203.0.113.45", &format!("10.46.1.{i}"), "Detection of a Network Scan", 1);
            fired.extend(feed(&mut c, &a, 1_000 + i));
        }
        assert_eq!(fired.len(), 1, "{fired:?}");
        assert_eq!(fired[0].kind, "value_count");
        assert_eq!(fired[0].group_key, vec![("src_ip".to_string(), "203.0.113.45".to_string())]);
        assert!(fired[0].tags.iter().any(|t| t == "attack.t1595"));
    }

    #[test]
    fn the_kill_chain_follows_the_host_from_target_to_source() {
        let mut c = AlertCorrelation::load(true, &[], &CorrelationLimits::default()).unwrap();
        // C2 before the exploit: out of order, nothing.
        assert!(feed(
            &mut c,
            &alert("10.46.120.15", "198.51.100.200", "A Network Trojan was detected", 5),
            100
        )
        .is_empty());
        assert!(feed(
            &mut c,
            &alert("203.0.113.77", "10.46.120.15", "Web Application Attack", 3),
            200
        )
        .is_empty());
        // Another host calling out: not this chain.
        assert!(feed(
            &mut c,
            &alert("10.46.120.16", "198.51.100.200", "A Network Trojan was detected", 5),
            300
        )
        .is_empty());
        let fired = feed(
            &mut c,
            &alert("10.46.120.15", "198.51.100.200", "A Network Trojan was detected", 5),
            400,
        );
        assert_eq!(fired.len(), 1, "{fired:?}");
        assert_eq!(fired[0].kind, "temporal_ordered");
        assert_eq!(
            fired[0].group_key,
            vec![("internal_host".to_string(), "10.46.120.15".to_string())]
        );
        assert!(fired[0].tags.iter().any(|t| t == SUCCESS_TAG));
        // More than an hour later: the window has closed.
        let mut c = AlertCorrelation::load(true, &[], &CorrelationLimits::default()).unwrap();
        assert!(feed(
            &mut c,
            &alert("203.0.113.77", "10.46.120.15", "Web Application Attack", 3),
            0
        )
        .is_empty());
        assert!(feed(
            &mut c,
            &alert("10.46.120.15", "198.51.100.200", "A Network Trojan was detected", 5),
            3_700
        )
        .is_empty());
    }

    #[test]
    fn a_bad_rule_file_is_reported_by_name() {
        let dir = std::env::temp_dir().join(format!("gw-corr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bad.yml");
        std::fs::write(&f, "title: [unclosed\n").unwrap();
        let c = AlertCorrelation::load(false, &[f], &CorrelationLimits::default()).unwrap();
        let said = format!("{:?} {:?}", c.report.skipped, c.report.file_errors);
        assert!(said.contains("bad.yml"), "{said}");
        assert!(c.is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }
}
