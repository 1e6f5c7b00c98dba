//! The SQLite store at scale: fills a store with generated alerts through the incident
//! engine (a province-like mix over 40 agencies), then times the queries the analyst
//! console runs (medians and 99th percentiles of repeated runs).
//!
//! ```text
//! cargo run --release -p gatewatch-correlator --example store_scale -- DB ALERTS
//! ```
//! An existing DB with at least ALERTS alerts is reused (filling 10 million takes
//! minutes).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use gatewatch_correlator::config::CorrelatorConfig;
use gatewatch_correlator::incident::assets::Inventory;
use gatewatch_correlator::store::{AlertFilter, IncidentFilter, IncidentOrder, Store};
use gatewatch_correlator::Correlator;
use gatewatch_rules::event::AlertEvent;

const CATS: [&str; 7] = [
    "Web Application Attack",
    "Attempted Administrator Privilege Gain",
    "A Network Trojan was detected",
    "Attempted Information Leak",
    "Potentially Bad Traffic",
    "Misc activity",
    "Detection of a Network Scan",
];

/// A small deterministic generator (xorshift), so that runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn alert(r: &mut Rng, n: u64, t0: i64) -> AlertEvent {
    let host = format!("10.46.{}.{}", r.next(40), 1 + r.next(200));
    let ext = format!("203.0.{}.{}", 113 + r.next(3), 1 + r.next(250));
    let sid = r.next(300) as u32;
    let (src, dst) = if sid % 7 == 2 { (host, ext) } else { (ext, host) };
    // 30 days of alerts.
    let ts = t0 + (n as i64 * 2_592_000_000_000 / 10_000_000);
    serde_json::from_value(serde_json::json!({
        "timestamp": chrono::DateTime::<chrono::Utc>::from_timestamp_micros(ts).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S%.6f+0000").to_string(),
        "flow_id": n, "event_type": "alert", "src_ip": src, "src_port": 1024 + n % 60000,
        "dest_ip": dst, "dest_port": 80, "proto": "TCP", "host": "hue-sensor-01",
        "alert": {"action": "allowed", "gid": 1, "signature_id": 2_010_000 + sid, "rev": 1,
                  "signature": format!("ET TEST signature {sid}"), "category": CATS[sid as usize % CATS.len()],
                  "severity": 1 + sid % 3}
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(f());
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    (ms[ms.len() / 2], ms[(ms.len() * 99 / 100).min(ms.len() - 1)])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = PathBuf::from(args.get(1).map_or("/tmp/gw-scale.db", String::as_str));
    let want: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let store = Store::open(&path).expect("store");
    let have = store.alert_count().expect("count");
    if have < want {
        let mut inv = String::new();
        for a in 0..40 {
            inv.push_str(&format!("[[agencies]]\nid = \"ag{a}\"\nname = \"Agency {a}\"\n[[assets]]\naddress = \"10.46.{a}.0/24\"\nagency = \"ag{a}\"\nsecurity_level = {}\n", 1 + a % 4));
        }
        let cfg = CorrelatorConfig {
            batch_size: 5_000,
            correlation_builtin: false,
            incident_window_secs: 1800,
            ..Default::default()
        };
        let mut c = Correlator::new(cfg, store);
        c.engine.inventory = Arc::new(Inventory::from_toml(&inv, "gen").expect("inventory"));
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let t = Instant::now();
        for n in have..want {
            c.ingest(&alert(&mut r, n, 1_790_000_000_000_000)).expect("ingest");
            if n % 1_000_000 == 999_999 {
                eprintln!(
                    "{} alerts, {:.0}/s",
                    n + 1,
                    (n + 1 - have) as f64 / t.elapsed().as_secs_f64()
                );
            }
        }
        c.flush().expect("flush");
        println!(
            "filled: {} alerts through the engine in {:.0} s = {:.0} alerts/s (SQLite synchronous=FULL, batches of 5,000)",
            want - have,
            t.elapsed().as_secs_f64(),
            (want - have) as f64 / t.elapsed().as_secs_f64()
        );
    }
    let s = Store::open_reader(&path).expect("reader");
    let alerts = s.alert_count().expect("count");
    let incidents = s.incident_count().expect("count");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("store: {alerts} alerts, {incidents} incidents, {:.1} GB", size as f64 / 1e9);
    let s = &s;
    let q = |f: IncidentFilter| move || s.find_incidents(&f).expect("query");
    let base = IncidentFilter { limit: 50, ..Default::default() };
    let report = |name: &str, (p50, p99): (f64, f64)| {
        println!("  {name:<48} p50 {p50:>7.2} ms   p99 {p99:>7.2} ms")
    };
    report("queue: newest 50", time(200, q(base.clone())));
    report(
        "queue: status new, newest 50",
        time(200, q(IncidentFilter { status: vec!["new".into()], ..base.clone() })),
    );
    report(
        "queue: page 20 (offset 1,000)",
        time(100, q(IncidentFilter { offset: 1_000, ..base.clone() })),
    );
    report(
        "agency ag7, newest 50",
        time(200, q(IncidentFilter { agency: Some("ag7".into()), ..base.clone() })),
    );
    report(
        "by score, highest 50",
        time(200, q(IncidentFilter { order: IncidentOrder::Score, ..base.clone() })),
    );
    report(
        "score ≥ 60, newest 50",
        time(200, q(IncidentFilter { min_score: Some(60), ..base.clone() })),
    );
    report(
        "tactic TA0011, newest 50",
        time(100, q(IncidentFilter { tactic: Some("TA0011".into()), ..base.clone() })),
    );
    report(
        "text \"signature 17\", newest 50",
        time(50, q(IncidentFilter { text: Some("signature 17".into()), ..base.clone() })),
    );
    let big = s
        .find_incidents(&IncidentFilter {
            order: IncidentOrder::Score,
            limit: 1,
            ..Default::default()
        })
        .expect("q")[0]
        .id;
    report(
        "incident detail (row, rules, hosts, 500 alerts)",
        time(200, || {
            (
                s.get_incident(big).expect("i"),
                s.incident_rules(big).expect("r"),
                s.incident_hosts(big).expect("h"),
                s.incident_alerts(big, 500).expect("a"),
            )
        }),
    );
    report(
        "alerts of 10.46.7.9, newest 100",
        time(200, || {
            s.find_alerts(&AlertFilter {
                ip: Some("10.46.7.9".into()),
                limit: 100,
                ..Default::default()
            })
            .expect("a")
        }),
    );
    report(
        "alerts of rule 2010017, newest 100",
        time(200, || {
            s.find_alerts(&AlertFilter { sid: Some(2_010_017), limit: 100, ..Default::default() })
                .expect("a")
        }),
    );
    report(
        "newest 100 alerts",
        time(200, || s.find_alerts(&AlertFilter { limit: 100, ..Default::default() }).expect("a")),
    );
}
