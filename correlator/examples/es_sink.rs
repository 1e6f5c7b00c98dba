//! Benchmark of the Elasticsearch sink against the in-process stand-in
//! (`tests/support/es_mock.rs`): documents per second, and an outage during a stream
//! of alerts (nothing lost, nothing duplicated).
//!
//! ```text
//! cargo run --release -p gatewatch-correlator --example es_sink -- [ALERTS] [OUTAGE_SECS]
//! ```
//! Defaults: 100,000 alerts, a 60-second outage.

#[path = "../tests/support/es_mock.rs"]
mod es_mock;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use gatewatch_correlator::config::CorrelatorConfig;
use gatewatch_correlator::elastic::{ElasticConfig, Sink};
use gatewatch_correlator::store::Store;
use gatewatch_correlator::Correlator;
use gatewatch_rules::event::AlertEvent;

fn alert(n: u32) -> AlertEvent {
    let ts = chrono::DateTime::<chrono::Utc>::from_timestamp(
        1_790_000_000 + (n / 20) as i64,
        (n % 20) * 50_000_000,
    )
    .expect("time")
    .format("%Y-%m-%dT%H:%M:%S%.6f+0000")
    .to_string();
    serde_json::from_value(serde_json::json!({
        "timestamp": ts, "flow_id": n, "event_type": "alert",
        "src_ip": format!("203.0.{}.{}", 113 + n % 3, n % 200), "src_port": 40000 + n % 20000,
        "dest_ip": format!("10.46.{}.{}", n % 40, n % 250), "dest_port": 443, "proto": "TCP",
        "app_proto": "http", "http": {"hostname": "portal.hue.gov.vn", "url": format!("/?id={n}"), "status": 404},
        "host": "hue-sensor-01",
        "alert": {"action": "allowed", "gid": 1, "signature_id": 2_000_000 + n % 97, "rev": 1,
                  "signature": format!("ET WEB_SERVER test rule {}", n % 97), "category": "Web Application Attack",
                  "severity": 1 + (n % 3) as u8, "metadata": {"mitre_tactic_id": ["TA0001"], "mitre_technique_id": ["T1190"]}}
    }))
    .expect("alert")
}

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("gw-es-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    d
}

fn config(url: String, d: &std::path::Path) -> ElasticConfig {
    ElasticConfig {
        url,
        dead_letter: d.join("dead.jsonl"),
        retry_max_ms: 5_000,
        ..Default::default()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let outage = Duration::from_secs(args.get(2).and_then(|a| a.parse().ok()).unwrap_or(60));

    // 1. Throughput: the store holds n alerts; how fast does the sink drain it?
    let d = dir("throughput");
    let mut c = Correlator::new(
        CorrelatorConfig { batch_size: 2_000, correlation_builtin: false, ..Default::default() },
        Store::open(&d.join("gw.db")).expect("store"),
    );
    for i in 0..n {
        c.ingest(&alert(i)).expect("ingest");
    }
    c.flush().expect("flush");
    let rows = c.store().alert_count().expect("count") as usize;
    let incidents = c.store().incident_count().expect("count") as usize;
    let mock = es_mock::EsMock::start();
    let t0 = Instant::now();
    let sink = Sink::start(config(mock.url(), &d), &d.join("gw.db")).expect("sink");
    while mock.state.count("logs-gatewatch.alert") < rows
        || mock.state.count("gatewatch-incidents") < incidents
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let secs = t0.elapsed().as_secs_f64();
    let s = sink.stop().expect("stop");
    println!(
        "throughput: {rows} alerts + {incidents} incidents in {secs:.2} s = {:.0} documents/s ({} bulk requests, {} in flight, {} MB bulk limit)",
        (rows + incidents) as f64 / secs,
        s.requests,
        ElasticConfig::default().in_flight,
        ElasticConfig::default().bulk_max_bytes >> 20
    );
    let _ = std::fs::remove_dir_all(&d);

    // 2. An outage while alerts keep coming.
    let d = dir("outage");
    let mut mock = es_mock::EsMock::start();
    let mut c = Correlator::new(
        CorrelatorConfig { batch_size: 500, correlation_builtin: false, ..Default::default() },
        Store::open(&d.join("gw.db")).expect("store"),
    );
    let sink = Sink::start(config(mock.url(), &d), &d.join("gw.db")).expect("sink");
    // The stream lasts about outage + 20 s: the outage starts at 10 % of it.
    let pace = Duration::from_secs_f64((outage.as_secs_f64() + 20.0) / n as f64);
    let t0 = Instant::now();
    let mut down_at = None;
    let mut up_at = None;
    for i in 0..n {
        c.ingest(&alert(i)).expect("ingest");
        if i == n / 10 {
            c.flush().expect("flush");
            mock.down();
            down_at = Some(Instant::now());
        }
        if let Some(t) = down_at {
            if up_at.is_none() && t.elapsed() >= outage {
                mock.up();
                up_at = Some(Instant::now());
            }
        }
        let due = t0 + pace * (i + 1);
        if let Some(w) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(w);
        }
    }
    c.flush().expect("flush");
    if up_at.is_none() {
        let left = outage.saturating_sub(down_at.map_or(Duration::ZERO, |t| t.elapsed()));
        std::thread::sleep(left);
        mock.up();
        up_at = Some(Instant::now());
    }
    let rows = c.store().alert_count().expect("count") as usize;
    let back = up_at.expect("up");
    while mock.state.count("logs-gatewatch.alert") < rows {
        std::thread::sleep(Duration::from_millis(5));
    }
    let catch_up = back.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(1));
    let stored = mock.state.count("logs-gatewatch.alert");
    let s = sink.stop().expect("stop");
    println!(
        "outage: {n} alerts over {:.0} s with Elasticsearch away for {} s: {rows} alert rows, {stored} documents (lost {}, duplicated {}), caught up {catch_up:.1} s after it came back; {} whole requests failed, {} create conflicts answered, {} dead-lettered",
        t0.elapsed().as_secs_f64(),
        outage.as_secs(),
        rows.saturating_sub(stored),
        stored.saturating_sub(rows) + mock.state.created.load(Ordering::Relaxed) as usize - stored,
        s.request_failures,
        mock.state.conflicts.load(Ordering::Relaxed),
        s.docs_dead
    );
    let _ = std::fs::remove_dir_all(&d);
}
