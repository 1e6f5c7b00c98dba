//! Cost of the automated response's decisions: a store on disk with 20,000 incidents
//! (one external attacker each, against 500 hosts), four policies (enforce with a rate
//! limit, approve, dry-run on sources and on hosts), an allowlist of 10,000 networks,
//! and a responder whose action is `/bin/true` (a real program, no shell). Prints the
//! incidents evaluated per second on the first pass, the decisions by state, the cost
//! of one allowlist check, and of a step with nothing new.
//!
//! ```text
//! cargo run --release -p gatewatch-correlator --example response_bench -- /tmp/gw-response.db
//! ```

use std::time::Instant;

use gatewatch_correlator::config::CorrelatorConfig;
use gatewatch_correlator::response::allowlist::TargetValue;
use gatewatch_correlator::response::{Responder, ResponseConfig};
use gatewatch_correlator::store::Store;
use gatewatch_correlator::Correlator;

const INCIDENTS: u32 = 20_000;

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "/tmp/gw-response.db".into());
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{s}"));
    }
    let ccfg = CorrelatorConfig { correlation_builtin: false, ..Default::default() };
    let mut c =
        Correlator::new(ccfg.clone(), Store::open(std::path::Path::new(&path)).expect("store"));
    let mut allow = String::from("[allowlists]\nncsc = [");
    for i in 0..10_000u32 {
        // 100.64.0.0/10 networks: never an attacker below.
        allow.push_str(&format!("\"100.{}.{}.0/24\",", 64 + (i >> 8) % 64, i & 255));
    }
    allow.push_str("\"203.0.113.0/28\"]\n");
    let cfg: ResponseConfig = toml::from_str(&format!(
        r#"max_blocks_per_minute = 100
{allow}
[actions.fw]
kind = "program"
block = ["/bin/true"]
unblock = ["/bin/true"]
[[policies]]
name = "enforce-sources"
mode = "enforce"
action = "fw"
min_score = 0
[[policies]]
name = "approve-sources"
mode = "approve"
action = "fw"
[[policies]]
name = "dry-run-sources"
mode = "dry-run"
action = "fw"
[[policies]]
name = "quarantine"
mode = "dry-run"
action = "fw"
target = "host"
"#
    ))
    .expect("config");
    let mut r = Responder::new(&cfg, &ccfg).expect("responder");
    r.attach(c.store_mut(), true).expect("attach");
    let t0 = Instant::now();
    for i in 0..INCIDENTS {
        let src = std::net::Ipv4Addr::from(0xC633_0000 + i); // 198.51.x.y and up
        let dst = format!("10.46.{}.{}", (i % 500) / 250, (i % 250) + 1);
        let ts = 1_800_000_000_000_000i64 + (i as i64 / 500) * 7_200_000_000;
        let a: gatewatch_rules::event::AlertEvent = serde_json::from_value(serde_json::json!({
            "timestamp": gatewatch_rules::event::eve_timestamp(ts), "event_type": "alert",
            "src_ip": src.to_string(), "src_port": 40000, "dest_ip": dst, "dest_port": 80, "proto": "TCP",
            "alert": {"action": "allowed", "gid": 1, "signature_id": 1 + i % 50, "rev": 1,
                      "signature": "ET EXPLOIT bench", "category": "Attempted Administrator Privilege Gain", "severity": 1}
        }))
        .expect("alert");
        c.ingest(&a).expect("ingest");
    }
    c.flush().expect("flush");
    let incidents = c.store().incident_count().expect("count");
    println!("store: {incidents} incidents in {:.1} s", t0.elapsed().as_secs_f64());

    let now = chrono::Utc::now().timestamp_micros();
    let t = Instant::now();
    let rep = r.step(c.store_mut(), now).expect("step");
    let dt = t.elapsed().as_secs_f64();
    println!(
        "first pass: {} incidents evaluated, {} decisions, {} actions run, in {:.2} s: {:.0} incidents/s, {:.0} decisions/s",
        rep.incidents,
        rep.decisions,
        rep.actions,
        dt,
        rep.incidents as f64 / dt,
        rep.decisions as f64 / dt
    );
    let counts = c.store().block_counts().expect("counts");
    println!("decisions by state: {counts:?}");

    let mut quiet = Vec::new();
    for k in 0..21 {
        let t = Instant::now();
        r.step(c.store_mut(), now + 1_000_000 + k).expect("step");
        quiet.push(t.elapsed().as_secs_f64() * 1e3);
    }
    quiet.sort_by(f64::total_cmp);
    println!("a step with nothing new: median {:.2} ms", quiet[10]);

    let list = r.allowlist();
    let inv = Default::default();
    let targets: Vec<TargetValue> = (0..100_000u32)
        .map(|i| {
            TargetValue::parse(&std::net::Ipv4Addr::from(0xC633_0000 + i).to_string()).expect("ip")
        })
        .collect();
    let t = Instant::now();
    let hits = targets.iter().filter(|x| list.check(x, &inv).is_some()).count();
    let per = t.elapsed().as_secs_f64() / targets.len() as f64;
    println!(
        "allowlist check, {} entries, an address on no list: {:.1} µs ({hits} hits)",
        list.configured_entries(),
        per * 1e6
    );
}
