//! Latency of the console's API at scale: fills a store with 1 million alerts in
//! 20,000 incidents through the incident engine (500 hosts of 40 agencies, a burst of
//! 50 alerts per incident), serves the console over HTTPS in this process, and times
//! the requests the UI makes (medians and 99th percentiles of repeated requests, over
//! one keep-alive connection, as a browser tab does).
//!
//! ```text
//! cargo run --release -p gatewatch-correlator --example console_latency -- DB
//! ```
//! An existing DB with 1 million alerts is reused.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gatewatch_correlator::config::CorrelatorConfig;
use gatewatch_correlator::console::{self, Console, ConsoleConfig};
use gatewatch_correlator::incident::assets::Inventory;
use gatewatch_correlator::incident::engine::{IncidentEngine, Windows};
use gatewatch_correlator::store::accounts::Role;
use gatewatch_correlator::store::Store;
use gatewatch_correlator::Correlator;

#[path = "shared/fill.rs"]
mod fill;
use fill::{alert, inventory, ALERTS};

fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    (ms[ms.len() / 2], ms[(ms.len() * 99 / 100).min(ms.len() - 1)])
}

fn main() {
    let path =
        PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "/tmp/gw-console.db".into()));
    let mut store = Store::open(&path).expect("store");
    let have = store.alert_count().expect("count");
    let t0 = 1_790_000_000_000_000;
    if have < ALERTS {
        let cfg = CorrelatorConfig {
            batch_size: 5_000,
            correlation_builtin: false,
            incident_window_secs: 1800,
            ..Default::default()
        };
        let mut c = Correlator::new(cfg, store);
        c.engine.inventory =
            Arc::new(Inventory::from_toml(&inventory(), "gen").expect("inventory"));
        let t = Instant::now();
        for n in have..ALERTS {
            c.ingest(&alert(n, t0)).expect("ingest");
        }
        c.flush().expect("flush");
        eprintln!("filled {} alerts in {:.0} s", ALERTS - have, t.elapsed().as_secs_f64());
        drop(c);
        store = Store::open(&path).expect("store");
    }
    let (alerts, incidents) =
        (store.alert_count().expect("count"), store.incident_count().expect("count"));
    println!("store: {alerts} alerts, {incidents} incidents");
    if store.user("bench").expect("user").is_none() {
        store.add_user("bench", "", Role::Analyst, "benchmark password", "bench").expect("user");
    }
    let (_, token) =
        store.create_token("latency", "bench", Role::Viewer, None, "bench").expect("token");
    drop(store);

    // A certificate for localhost.
    let dir = std::env::temp_dir().join(format!("gw-console-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    std::fs::write(dir.join("c.crt"), cert.pem()).expect("write");
    std::fs::write(dir.join("c.key"), key.serialize_pem()).expect("write");
    let ccfg = ConsoleConfig {
        listen: "127.0.0.1:0".into(),
        tls_cert: dir.join("c.crt"),
        tls_key: dir.join("c.key"),
        ..Default::default()
    };
    let windows = Windows { inactivity_us: 1_800_000_000, max_span_us: 86_400_000_000 };
    let engine = IncidentEngine::new(
        windows,
        Arc::new(Inventory::from_toml(&inventory(), "gen").expect("inventory")),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let serving = rt.block_on(async {
        let c = Console::new(ccfg, path.clone(), Arc::new(engine), None, Default::default(), None)
            .expect("console");
        console::start(c).await.expect("serve")
    });
    let base = format!("https://localhost:{}", serving.addr.port());
    let http = reqwest::blocking::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert.pem().as_bytes()).expect("ca"))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let get = |p: &str| {
        let r = http
            .get(format!("{base}{p}"))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .expect("request");
        assert!(r.status().is_success(), "{p}: {}", r.status());
        r.bytes().expect("body").len()
    };
    let report = |name: &str, runs: usize, p: &dyn Fn(usize) -> String| {
        get(&p(0));
        let mut ms = Vec::with_capacity(runs);
        let mut bytes = 0;
        for i in 0..runs {
            let t = Instant::now();
            bytes = get(&p(i));
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let (p50, p99) = percentiles(ms);
        println!("  {name:<52} p50 {p50:>7.2} ms   p99 {p99:>7.2} ms   ({bytes} bytes)");
    };
    println!("console API over HTTPS (one keep-alive connection, bearer token):");
    report("queue: open, default order, 50 (+ total)", 300, &|_| {
        "/api/v1/incidents?status=open".into()
    });
    report("queue: all, newest 50, page 10", 300, &|_| "/api/v1/incidents?status=&page=10".into());
    report("queue: critical+high, by score", 300, &|_| {
        "/api/v1/incidents?status=&severity=critical,high&sort=score".into()
    });
    report("queue: agency ag7", 300, &|_| "/api/v1/incidents?status=&agency=ag7".into());
    report("queue: asset 10.46.7.3", 300, &|_| "/api/v1/incidents?status=&asset=10.46.7.3".into());
    report("queue: text \"signature 17\"", 100, &|_| {
        "/api/v1/incidents?status=&q=signature%2017".into()
    });
    // The queue's orders and the search for observables (#25); a build without them
    // answers 400, and `GW_LATENCY_BASE=1` leaves them out.
    if std::env::var_os("GW_LATENCY_BASE").is_none() {
        report("queue: open, by last activity", 300, &|_| {
            "/api/v1/incidents?status=open&sort=last_seen".into()
        });
        report("queue: all, by title, page 10", 300, &|_| {
            "/api/v1/incidents?status=&sort=title&page=10".into()
        });
        report("queue: all, by status reversed", 300, &|_| {
            "/api/v1/incidents?status=&sort=status&dir=reverse".into()
        });
        report("queue: all, by agency", 300, &|_| "/api/v1/incidents?status=&sort=agency".into());
        report("search: attacker address 203.0.114.17", 300, &|i| {
            format!("/api/v1/incidents?status=&q=203.0.{}.{}", 113 + i % 3, 1 + i % 250)
        });
    }
    // The wall screen and the queue filters its lists link to (#25).
    if std::env::var_os("GW_LATENCY_BASE").is_none() {
        report("queue: destination port 443 (a wall link)", 300, &|_| {
            "/api/v1/incidents?status=&port=443".into()
        });
        report("queue: rule 1:2010017 (a wall link)", 300, &|_| {
            "/api/v1/incidents?status=&rule=1:2010017".into()
        });
        report("queue: technique T1190 (a wall link)", 300, &|_| {
            "/api/v1/incidents?status=&technique=T1190".into()
        });
        report("queue: overdue (a wall link)", 300, &|_| {
            "/api/v1/incidents?status=open&overdue=1".into()
        });
        // Each run another minute: computed, never from the minute's cache.
        report("wall: 24 hours, computed", 30, &|i| {
            format!(
                "/api/v1/wall?from=2026-10-14T00:{:02}:00Z&to=2026-10-15T00:{:02}:00Z",
                i % 60,
                i % 60
            )
        });
        report("wall: 30 days (every alert of the store), computed", 10, &|i| {
            format!(
                "/api/v1/wall?from=2026-09-21T00:{:02}:00Z&to=2026-10-21T00:{:02}:00Z",
                i % 60,
                i % 60
            )
        });
        report("wall: 30 days, cached (tiles counted afresh)", 100, &|_| {
            "/api/v1/wall?from=2026-09-21T00:00:00Z&to=2026-10-21T00:00:00Z".into()
        });
    }
    report("incident detail (50 alerts, evidence, related)", 500, &|i| {
        format!("/api/v1/incidents/{}", 1 + (i * 37) % incidents as usize)
    });
    let t = Instant::now();
    get("/api/v1/overview?days=30&until=2026-10-31");
    println!(
        "  {:<52} {:>7.2} ms (computed; then cached for a minute)",
        "overview (30 days), first request",
        t.elapsed().as_secs_f64() * 1000.0
    );
    report("overview (30 days), cached", 50, &|_| {
        "/api/v1/overview?days=30&until=2026-10-31".into()
    });
    serving.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
