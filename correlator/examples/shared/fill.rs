//! A month of alerts for the benchmarks (`console_latency`, `report_bench`): 1 million
//! alerts in 20,000 incidents, 500 hosts of 40 agencies, bursts of 50 alerts 18 h apart.

#![allow(dead_code)]

use gatewatch_rules::event::AlertEvent;

pub const ALERTS: u64 = 1_000_000;
pub const PER_INCIDENT: u64 = 50;
pub const HOSTS: u64 = 500;

pub fn inventory() -> String {
    let mut inv = String::new();
    for a in 0..40 {
        inv.push_str(&format!(
            "[[agencies]]\nid = \"ag{a}\"\nname = \"Agency {a}\"\n[[assets]]\naddress = \"10.46.{a}.0/24\"\nagency = \"ag{a}\"\nsecurity_level = {}\n",
            1 + a % 4
        ));
    }
    inv
}

/// Alert `n`: incident k = n / 50 is host k % 500's burst number k / 500, 18 h apart.
pub fn alert(n: u64, t0: i64) -> AlertEvent {
    let k = n / PER_INCIDENT;
    let host = k % HOSTS;
    let burst = (k / HOSTS) as i64;
    let ts = t0
        + burst * 18 * 3_600_000_000
        + (host as i64) * 60_000_000
        + (n % PER_INCIDENT) as i64 * 5_000_000;
    let sid = (k * 7 + n % 3) % 300;
    serde_json::from_value(serde_json::json!({
        "timestamp": chrono::DateTime::<chrono::Utc>::from_timestamp_micros(ts).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S%.6f+0000").to_string(),
        "flow_id": n, "event_type": "alert",
        "src_ip": format!("203.0.{}.{}", 113 + n % 3, 1 + (k % 250)), "src_port": 1024 + n % 60000,
        "dest_ip": format!("10.46.{}.{}", host % 40, 1 + host / 40), "dest_port": 443, "proto": "TCP", "host": "hue-sensor-01",
        "alert": {"action": "allowed", "gid": 1, "signature_id": 2_010_000 + sid, "rev": 1,
                  "signature": format!("ET TEST signature {sid}"), "category": "Web Application Attack", "severity": 1 + sid % 3}
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}
