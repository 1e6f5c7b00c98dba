//! The Elasticsearch sink against the in-process stand-in (`support/es_mock.rs`),
//! which answers with Elasticsearch's documented `_bulk` shapes: per-item errors,
//! 429, 5xx, and outages.

#[path = "support/es_mock.rs"]
mod es_mock;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use es_mock::EsMock;
use gatewatch_correlator::config::CorrelatorConfig;
use gatewatch_correlator::elastic::{ElasticConfig, Sink};
use gatewatch_correlator::store::{Status, Store};
use gatewatch_correlator::Correlator;
use gatewatch_rules::event::AlertEvent;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("gw-es-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("dir");
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn alert(n: u32) -> AlertEvent {
    let ts = chrono::DateTime::<chrono::Utc>::from_timestamp(1_790_000_000 + n as i64, 0)
        .expect("time")
        .format("%Y-%m-%dT%H:%M:%S%.6f+0000")
        .to_string();
    serde_json::from_value(serde_json::json!({
        "timestamp": ts, "flow_id": n, "event_type": "alert",
        "src_ip": format!("203.0.113.{}", n % 50), "src_port": 40000 + n % 20000,
        "dest_ip": format!("10.46.{}.{}", n % 4, n % 30), "dest_port": 443, "proto": "TCP",
        "app_proto": "tls", "tls": {"sni": "portal.hue.gov.vn"}, "host": "hue-sensor-01",
        "alert": {"action": "allowed", "gid": 1, "signature_id": 2_000_000 + n % 9, "rev": 1,
                  "signature": format!("ET TEST rule {}", n % 9), "category": "Web Application Attack", "severity": 2,
                  "metadata": {"mitre_tactic_id": ["TA0001"], "mitre_technique_id": ["T1190"]}}
    }))
    .expect("alert")
}

fn record(n: u32, marker: &str) -> serde_json::Value {
    serde_json::json!({"timestamp": "2026-10-14T01:00:00.000000+0000", "event_type": "dns", "flow_id": n,
        "src_ip": "10.46.1.5", "src_port": 5353, "dest_ip": "10.46.1.53", "dest_port": 53, "proto": "UDP",
        "host": "hue-sensor-01", "dns": {"type": "query", "rrname": format!("host{n}.example{marker}"), "rrtype": "A"}})
}

fn config(mock: &EsMock, dir: &Dir) -> ElasticConfig {
    ElasticConfig {
        url: mock.url(),
        in_flight: 3,
        bulk_max_bytes: 64 * 1024,
        retry_initial_ms: 50,
        retry_max_ms: 400,
        request_timeout_secs: 5,
        dead_letter: dir.0.join("dead.jsonl"),
        ..Default::default()
    }
}

fn correlator(dir: &Dir) -> Correlator {
    let store = Store::open(&dir.0.join("gw.db")).expect("store");
    let cfg = CorrelatorConfig { batch_size: 500, ..Default::default() };
    Correlator::new(cfg, store)
}

fn wait(what: &str, secs: u64, done: impl Fn() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(t0.elapsed() < Duration::from_secs(secs), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn everything_arrives_once_with_item_errors_429s_and_5xx() {
    let dir = Dir::new("items");
    let mock = EsMock::start();
    mock.state.item_429_every.store(7, std::sync::atomic::Ordering::Relaxed);
    *mock.state.reject_marker.lock().unwrap() = Some("REJECT-ME".into());
    mock.state.fail_status.store(503, std::sync::atomic::Ordering::Relaxed);
    mock.state.fail_next.store(2, std::sync::atomic::Ordering::Relaxed);
    let mut c = correlator(&dir);
    for n in 0..2_000 {
        c.ingest(&alert(n)).expect("ingest");
    }
    for n in 0..300 {
        c.ingest_record(record(n, if n == 150 { "REJECT-ME" } else { "" })).expect("record");
    }
    c.flush().expect("flush");
    let alerts = c.store().alert_count().expect("count") as usize;
    let incidents = c.store().incident_count().expect("count") as usize;
    let sink = Sink::start(config(&mock, &dir), &dir.0.join("gw.db")).expect("sink");
    let st = mock.state.clone();
    let counts = || {
        (
            st.count("logs-gatewatch.alert"),
            st.count("logs-gatewatch.dns"),
            st.count("gatewatch-incidents"),
        )
    };
    let want = (alerts, 299, incidents);
    let t0 = Instant::now();
    while counts() != want {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{:?} of {want:?}: {:#?}",
            counts(),
            sink.snapshot()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // An analyst's change reaches the incident's document.
    let first = c.store().list_incidents(1).expect("list")[0].id;
    c.store_mut().transition(first, Status::Acknowledged, "lan", None, None).expect("ack");
    let id = {
        let docs = st.docs.lock().unwrap();
        docs["gatewatch-incidents-000001"]
            .keys()
            .find(|k| k.ends_with(&format!("-i{first}")))
            .cloned()
            .expect("doc")
    };
    wait("the acknowledged state", 30, || {
        st.doc("gatewatch-incidents-000001", &id)
            .is_some_and(|(_, d)| d["gatewatch"]["incident"]["status"] == "acknowledged")
    });
    let stats = sink.stop().expect("stop");
    assert_eq!(stats.docs_dead, 1, "{stats:#?}");
    assert!(stats.docs_retried > 0 && stats.request_failures >= 2, "{stats:#?}");
    assert!(stats.installed);
    let dead = std::fs::read_to_string(dir.0.join("dead.jsonl")).expect("dead letter");
    assert_eq!(dead.lines().count(), 1);
    assert!(dead.contains("mapper_parsing_exception") && dead.contains("REJECT-ME"), "{dead}");
    // ECS fields as the templates map them.
    let docs = st.docs.lock().unwrap();
    let (_, a) = docs["logs-gatewatch.alert-default"].values().next().expect("an alert");
    assert_eq!(a["event"]["kind"], "alert");
    assert_eq!(a["threat"]["tactic"]["name"][0], "Initial Access");
    assert_eq!(a["tls"]["client"]["server_name"], "portal.hue.gov.vn");
    assert!(st.templates.lock().unwrap().contains_key("gatewatch-alerts"));
    assert!(st.policies.lock().unwrap().contains_key("gatewatch-policy"));
}

#[test]
fn an_outage_and_a_restart_lose_nothing_and_duplicate_nothing() {
    let dir = Dir::new("outage");
    let mut mock = EsMock::start();
    let mut c = correlator(&dir);
    let mut sink = Sink::start(config(&mock, &dir), &dir.0.join("gw.db")).expect("sink");
    let total = 6_000u32;
    for n in 0..total {
        c.ingest(&alert(n)).expect("ingest");
        match n {
            1_000 => mock.down(),
            // Restart the sink while Elasticsearch is away: it resumes at its watermark.
            2_500 => {
                c.flush().expect("flush");
                sink.stop().expect("stop");
                sink = Sink::start(config(&mock, &dir), &dir.0.join("gw.db")).expect("sink again");
            }
            4_000 => mock.up(),
            _ => {}
        }
    }
    c.flush().expect("flush");
    let alerts = c.store().alert_count().expect("count") as usize;
    let st = mock.state.clone();
    wait("every alert after the outage", 60, || st.count("logs-gatewatch.alert") == alerts);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(st.count("logs-gatewatch.alert"), alerts, "no duplicates");
    let stats = sink.stop().expect("stop");
    assert_eq!(stats.docs_dead, 0, "{stats:#?}");
    // Restarted again after everything was sent: nothing more is sent.
    let before = st.items.load(std::sync::atomic::Ordering::Relaxed);
    let sink = Sink::start(config(&mock, &dir), &dir.0.join("gw.db")).expect("third start");
    std::thread::sleep(Duration::from_millis(500));
    let s = sink.stop().expect("stop");
    assert_eq!(s.docs_sent, 0, "{s:#?}");
    assert_eq!(st.items.load(std::sync::atomic::Ordering::Relaxed), before);
}
