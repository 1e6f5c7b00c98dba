//! Host log events (Windows, Linux) through Sigma: detection by logsource, then the
//! correlation rules, then alerts for the incident builder.
//!
//! One [`HostLogDetector`] owns the correlation windows; it runs on one thread (the
//! correlator's detection thread), fed by the listeners. Sigma alerts that sensors
//! produce on network events feed the same correlation rules through
//! [`HostLogDetector::observe_alert`].
//!
//! An alert of a host log event is an EVE `alert` record: `src_ip` is the remote
//! address the event names (`IpAddress` of a logon, `SourceIp`, auditd's `addr`, …)
//! or, without one, the address the log came from; `dest_ip` is the address the log
//! came from; `host` is the computer the event names; `proto` is `LOG`; and
//! `hostlog` holds how it came (`via`, `peer`), the channel or program, and the event
//! itself (cut to [`MAX_EVENT_IN_ALERT`] bytes).

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use gatewatch_rules::event::{eve_timestamp, AlertEvent, AlertInfo};
use gatewatch_rules::sigma::correlation::{CorrelationLimits, SigmaCorrelation};
use gatewatch_rules::sigma::{SigmaHit, SigmaSet};
use serde::Serialize;
use serde_json::{json, Value};

/// Largest event copied into an alert (serialized JSON bytes).
pub const MAX_EVENT_IN_ALERT: usize = 16 * 1024;

/// How a host log event reached the correlator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// A UDP syslog datagram.
    SyslogUdp,
    /// A TCP syslog frame.
    SyslogTcp,
    /// An HTTPS `/logs` body.
    Https,
    /// A host log file read by the correlator.
    File,
}

/// One host log event as received.
#[derive(Clone, Debug)]
pub struct HostLogEvent {
    pub(crate) event: Value,
    pub(crate) received_us: i64,
    /// The address it came from (none for files).
    pub peer: Option<IpAddr>,
    /// The client certificate's name, for HTTPS.
    pub sender: Option<String>,
    pub(crate) via: Via,
    /// Forwarded by a log forwarder or over syslog: its content (addresses included)
    /// is whatever the sending host wrote, so responses to its alerts never run without
    /// an analyst (`hostlog.forwarded` in the alert).
    pub forwarded: bool,
}

/// Counters of host log detection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HostLogStats {
    pub(crate) events: u64,
    /// Events that are not JSON objects (counted, not evaluated).
    pub not_objects: u64,
    /// Events without a readable time of their own (the receive time was used).
    pub no_event_time: u64,
    pub(crate) detections: u64,
    /// Detections that feed only non-generating correlations (no alert of their own).
    pub detections_silent: u64,
    /// Times a correlation rule fired.
    pub correlations: u64,
    /// Alerts Sigma rules raised.
    pub alerts: u64,
    /// Sensor Sigma alerts fed to the correlation rules.
    pub sensor_sigma_alerts: u64,
}

/// Sigma detection and correlation over host logs.
pub struct HostLogDetector {
    sigma: Arc<SigmaSet>,
    correlation: SigmaCorrelation,
    limits: CorrelationLimits,
    local_offset: FixedOffset,
    /// Counters since it started.
    pub stats: HostLogStats,
}

impl std::fmt::Debug for HostLogDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostLogDetector")
            .field("sigma", &self.sigma)
            .field("correlation", &self.correlation)
            .field("stats", &self.stats)
            .finish()
    }
}

impl HostLogDetector {
    /// `local_offset`: the zone of event times written without one (nxlog's
    /// `EventTime`, BSD syslog).
    pub fn new(
        sigma: Arc<SigmaSet>,
        limits: CorrelationLimits,
        local_offset: FixedOffset,
    ) -> HostLogDetector {
        let correlation = sigma.correlation(&limits);
        HostLogDetector { sigma, correlation, limits, local_offset, stats: HostLogStats::default() }
    }

    /// Swaps in a reloaded rule set. Open correlation windows carry over to the
    /// correlations of the new set with the same id.
    pub fn replace_rules(&mut self, sigma: Arc<SigmaSet>) {
        let mut correlation = sigma.correlation(&self.limits);
        correlation.take_windows_from(&mut self.correlation);
        self.correlation = correlation;
        self.sigma = sigma;
    }

    /// The Sigma rules.
    pub fn rules(&self) -> &SigmaSet {
        &self.sigma
    }

    /// Correlation rules loaded, and their open windows.
    pub fn correlation_counts(&self) -> (usize, usize) {
        (self.correlation.len(), self.correlation.windows())
    }

    /// Detection and correlation of one event; returns its alerts.
    pub fn observe(&mut self, ev: &HostLogEvent) -> Vec<AlertEvent> {
        self.stats.events += 1;
        if !ev.event.is_object() {
            self.stats.not_objects += 1;
            return Vec::new();
        }
        let flat = self.sigma.host_event(&ev.event);
        let hits = self.sigma.evaluate_host_flat(&flat);
        if hits.is_empty() {
            return Vec::new();
        }
        let ts_us = match event_time_us(&flat, self.local_offset) {
            Some(t) => t,
            None => {
                self.stats.no_event_time += 1;
                ev.received_us
            }
        };
        self.stats.detections += hits.len() as u64;
        let mut alerts = Vec::new();
        for h in &hits {
            if self.correlation.surfaces(h) {
                alerts.push(host_alert(h.alert_info(), &flat, ev, ts_us));
            } else {
                self.stats.detections_silent += 1;
            }
        }
        for c in self.correlation.observe(&flat, &hits, ts_us.div_euclid(1_000_000)) {
            self.stats.correlations += 1;
            let mut a = host_alert(c.alert_info(), &flat, ev, ts_us);
            if let Some(ip) = group_ip(&c.group_key) {
                a.src_ip = ip.to_string();
            }
            alerts.push(a);
        }
        self.stats.alerts += alerts.len() as u64;
        alerts
    }

    /// Feeds a sensor's Sigma alert (gid 9300, `metadata.sigma_id`) to the correlation
    /// rules; the alert record is the event their `group-by` reads (`src_ip`,
    /// `dest_ip`, `dns.rrname`, …). Returns the correlations that fired, as alerts
    /// between the same hosts. Other alerts are ignored.
    pub fn observe_alert(&mut self, alert: &AlertEvent) -> Vec<AlertEvent> {
        if alert.alert.gid != gatewatch_rules::ids::GID_SIGMA || self.correlation.is_empty() {
            return Vec::new();
        }
        let Some(meta) = &alert.alert.metadata else { return Vec::new() };
        let Some(id) = meta.get("sigma_id").and_then(|v| v.first()) else { return Vec::new() };
        if meta.contains_key("sigma_correlation") {
            return Vec::new(); // one of ours, already correlated
        }
        self.stats.sensor_sigma_alerts += 1;
        let hit = SigmaHit {
            id: id.clone(),
            title: alert.alert.signature.clone(),
            level: None,
            tags: Vec::new(),
        };
        let Some(ts_us) = gatewatch_rules::event::parse_eve_timestamp(&alert.timestamp) else {
            return Vec::new();
        };
        let event = serde_json::to_value(alert).unwrap_or(Value::Null);
        let fired = self.correlation.observe(&event, &[hit], ts_us.div_euclid(1_000_000));
        fired
            .into_iter()
            .map(|c| {
                self.stats.correlations += 1;
                let mut a = alert.clone();
                a.alert = c.alert_info();
                a
            })
            .collect()
    }

    /// Closes correlation windows that ended before `now_us` (call on quiet streams).
    pub fn evict_expired(&mut self, now_us: i64) {
        self.correlation.evict_expired(now_us.div_euclid(1_000_000));
    }
}

/// Fields that name the remote end of a host event, most specific first.
const REMOTE_FIELDS: [&str; 8] = [
    "IpAddress",
    "SourceIp",
    "SourceAddress",
    "ClientAddress",
    "src_ip",
    "addr",
    "rhost",
    "RemoteAddress",
];

fn usable_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_start_matches("::ffff:");
    s.parse::<IpAddr>().ok().filter(|ip| !ip.is_unspecified() && !ip.is_loopback())
}

fn remote_ip(flat: &Value) -> Option<IpAddr> {
    REMOTE_FIELDS.iter().find_map(|f| flat.get(*f).and_then(Value::as_str).and_then(usable_ip))
}

/// The first address among a correlation's group values.
fn group_ip(group: &[(String, String)]) -> Option<IpAddr> {
    group.iter().find_map(|(_, v)| usable_ip(v))
}

fn str_field<'a>(flat: &'a Value, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| flat.get(*n).and_then(Value::as_str).filter(|s| !s.is_empty()))
}

/// The computer an event is about.
fn computer(flat: &Value) -> Option<String> {
    str_field(flat, &["Computer", "Hostname", "host", "hostname", "computer_name"])
        .map(str::to_string)
        .or_else(|| flat.pointer("/syslog/host").and_then(Value::as_str).map(str::to_string))
        .or_else(|| flat.pointer("/host/name").and_then(Value::as_str).map(str::to_string))
}

/// The time an event says it happened, in microseconds: `@timestamp`, `timestamp`,
/// Windows' `SystemTime` (of `TimeCreated`) or `UtcTime` (Sysmon), nxlog's
/// `EventTime` (local time, `local_offset`), auditd's `msg=audit(…)`.
pub fn event_time_us(flat: &Value, local_offset: FixedOffset) -> Option<i64> {
    let rfc3339 =
        |s: &str| DateTime::parse_from_rfc3339(s.trim()).ok().map(|d| d.timestamp_micros());
    let naive = |s: &str| {
        NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f")
            .or_else(|_| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f"))
            .ok()
    };
    for f in ["@timestamp", "timestamp", "SystemTime", "TimeCreated"] {
        if let Some(t) = flat.get(f).and_then(Value::as_str).and_then(rfc3339) {
            return Some(t);
        }
    }
    if let Some(n) = flat.get("UtcTime").and_then(Value::as_str).and_then(naive) {
        return Some(Utc.from_utc_datetime(&n).timestamp_micros());
    }
    if let Some(s) = flat.get("EventTime").and_then(Value::as_str) {
        if let Some(t) = rfc3339(s) {
            return Some(t);
        }
        if let Some(n) = naive(s) {
            return local_offset.from_local_datetime(&n).single().map(|d| d.timestamp_micros());
        }
    }
    None
}

fn host_alert(info: AlertInfo, flat: &Value, ev: &HostLogEvent, ts_us: i64) -> AlertEvent {
    let peer = ev.peer.map(|p| p.to_string());
    let src = remote_ip(flat).map(|ip| ip.to_string()).or_else(|| peer.clone()).unwrap_or_default();
    let mut meta = serde_json::Map::new();
    meta.insert("via".into(), json!(ev.via));
    if let Some(p) = &peer {
        meta.insert("peer".into(), p.clone().into());
    }
    if let Some(s) = &ev.sender {
        meta.insert("sender".into(), s.clone().into());
    }
    if ev.forwarded {
        meta.insert("forwarded".into(), true.into());
    }
    for (key, names) in [
        ("channel", &["Channel"][..]),
        ("event_id", &["EventID"][..]),
        ("program", &["program"][..]),
    ] {
        if let Some(v) = names.iter().find_map(|n| flat.get(*n)) {
            meta.insert(key.into(), v.clone());
        }
    }
    let text = serde_json::to_string(flat).unwrap_or_default();
    if text.len() <= MAX_EVENT_IN_ALERT {
        meta.insert("event".into(), flat.clone());
    } else {
        let mut cut = MAX_EVENT_IN_ALERT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        meta.insert("event_truncated".into(), text[..cut].into());
    }
    let mut app_metadata = serde_json::Map::new();
    app_metadata.insert("hostlog".into(), Value::Object(meta));
    AlertEvent {
        timestamp: eve_timestamp(ts_us),
        flow_id: None,
        pcap_cnt: None,
        event_type: "alert".into(),
        src_ip: src,
        src_port: None,
        dest_ip: peer.unwrap_or_default(),
        dest_port: None,
        proto: "LOG".into(),
        ip_v: None,
        icmp_type: None,
        icmp_code: None,
        pkt_src: None,
        in_iface: None,
        community_id: None,
        direction: None,
        alert: info,
        app_proto: Some("hostlog".into()),
        flow: None,
        app_metadata,
        host: computer(flat),
    }
}

#[cfg(test)]
mod tests;
