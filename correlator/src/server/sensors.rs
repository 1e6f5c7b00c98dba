//! Sensor health from heartbeats: every `stats` record a sensor ships is its
//! heartbeat (the sensor adds its version and spool counters). A sensor silent for
//! `ingest.sensor_down_secs` is marked down and raises a "sensor down" alert (and so
//! an incident) naming it; its next heartbeat marks it up again.

use std::collections::BTreeMap;

use gatewatch_rules::event::AlertEvent;
use serde::Serialize;
use serde_json::Value;

pub use crate::incident::entity::GID_SENSOR_HEALTH;

/// What the correlator knows of one sensor.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SensorHealth {
    pub name: String,
    /// Address it last connected from.
    pub address: String,
    pub last_heartbeat_us: i64,
    pub up: bool,
    pub version: Option<String>,
    pub rules_generation: Option<u64>,
    pub rules_loaded: Option<u64>,
    pub rules_skipped: Option<u64>,
    pub uptime: Option<u64>,
    pub packets: Option<u64>,
    pub kernel_drops: Option<u64>,
    pub queue_drops: Option<u64>,
    pub spool_bytes: Option<u64>,
    /// Times it was marked down.
    pub down_count: u64,
    /// True when the sensor read capture files (`gatewatch replay`, the demo) rather
    /// than an interface: it is not expected to keep sending heartbeats.
    pub reads_files: bool,
}

impl SensorHealth {
    /// What a stored heartbeat (a `stats` record written at `ts_us`) says of `name`;
    /// `up` stays unknown (false) — only a running correlator hears heartbeats arrive.
    pub fn from_heartbeat(name: &str, ts_us: i64, record: &Value) -> SensorHealth {
        let mut h =
            SensorHealth { name: name.to_string(), last_heartbeat_us: ts_us, ..Default::default() };
        h.read(record);
        h
    }

    /// Takes the version, rule, capture and spool counters of a heartbeat.
    fn read(&mut self, record: &Value) {
        let b = crate::domain::heartbeat::Beat::of(record);
        self.version = b.version.or(self.version.take());
        self.rules_generation = b.rules_generation;
        self.rules_loaded = b.rules_loaded;
        self.rules_skipped = b.rules_skipped;
        self.uptime = b.uptime;
        self.packets = b.packets;
        self.kernel_drops = b.kernel_drops;
        self.queue_drops = b.queue_drops;
        self.spool_bytes = b.spool_bytes;
        self.reads_files = b.reads_files;
    }
}

/// The registry of sensors, by certificate name.
#[derive(Debug, Default)]
pub struct Sensors {
    pub by_name: BTreeMap<String, SensorHealth>,
}

impl Sensors {
    /// Records a heartbeat (a shipped `stats` record); true if the sensor was down.
    pub fn heartbeat(&mut self, name: &str, address: &str, record: &Value, now_us: i64) -> bool {
        let h = self
            .by_name
            .entry(name.to_string())
            .or_insert_with(|| SensorHealth { name: name.to_string(), ..Default::default() });
        let was_down = h.last_heartbeat_us != 0 && !h.up;
        h.address = address.to_string();
        h.last_heartbeat_us = now_us;
        h.up = true;
        h.read(record);
        was_down
    }

    /// Sensors silent since before `now_us - silence_us` that were up: marked down now,
    /// and returned with the alert each raises.
    pub fn sweep(&mut self, now_us: i64, silence_us: i64) -> Vec<AlertEvent> {
        let mut out = Vec::new();
        for h in self.by_name.values_mut() {
            if h.up && now_us - h.last_heartbeat_us > silence_us {
                h.up = false;
                h.down_count += 1;
                out.push(down_alert(h, now_us));
            }
        }
        out
    }
}

fn down_alert(h: &SensorHealth, now_us: i64) -> AlertEvent {
    let ip = h.address.rsplit_once(':').map_or(h.address.as_str(), |(ip, _)| ip);
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    crate::incident::entity::own_alert(
        GID_SENSOR_HEALTH,
        1,
        format!("GATEWATCH sensor down: {} (no heartbeat)", h.name),
        "Sensor health",
        2,
        &h.name,
        ip,
        now_us,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_marks_down_once_and_a_heartbeat_brings_it_back() {
        let mut s = Sensors::default();
        let beat = serde_json::json!({"event_type": "stats", "stats": {"uptime": 60,
            "detect": {"rules_generation": 2, "rules_loaded": 100, "rules_skipped": 7},
            "capture": {"received": 5000, "kernel_drops": 1, "queue_drops": 0}},
            "heartbeat": {"version": "0.1.0", "spool": {"bytes": 4096}}});
        assert!(!s.heartbeat("hue-sensor-01", "10.46.1.20:40000", &beat, 1_000_000));
        assert!(s.sweep(2_000_000, 5_000_000).is_empty(), "not silent long enough");
        let down = s.sweep(7_000_000, 5_000_000);
        assert_eq!(down.len(), 1);
        assert_eq!(down[0].alert.signature, "GATEWATCH sensor down: hue-sensor-01 (no heartbeat)");
        assert_eq!(down[0].src_ip, "10.46.1.20");
        assert!(s.sweep(20_000_000, 5_000_000).is_empty(), "raised once per outage");
        let h = &s.by_name["hue-sensor-01"];
        assert_eq!(
            (
                h.up,
                h.down_count,
                h.spool_bytes,
                h.rules_generation,
                h.rules_loaded,
                h.rules_skipped
            ),
            (false, 1, Some(4096), Some(2), Some(100), Some(7))
        );
        assert!(s.heartbeat("hue-sensor-01", "10.46.1.20:40001", &beat, 21_000_000), "was down");
        assert!(s.by_name["hue-sensor-01"].up);
    }
}
