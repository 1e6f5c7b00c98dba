//! Time to make the monthly report of a month with 1 million alerts in 20,000
//! incidents (the console benchmark's month: 500 hosts of 40 agencies), with lifecycles
//! (80% acknowledged, 60% resolved, 10% false positives), a sensor's heartbeats every
//! ten minutes, and 2,000 block decisions. Prints the time to compute the figures
//! (province-wide and for one agency) and to render HTML and PDF (medians of 5 runs).
//!
//! ```text
//! cargo run --release -p gatewatch-correlator --example report_bench -- /tmp/gw-report.db
//! ```
//! An existing DB with 1 million alerts is reused.

#[path = "shared/fill.rs"]
mod fill;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use gatewatch_correlator::config::CorrelatorConfig;
use gatewatch_correlator::incident::assets::Inventory;
use gatewatch_correlator::report::figures::Month;
use gatewatch_correlator::report::{self, Format, Lang, ReportConfig};
use gatewatch_correlator::store::blocks::{BlockState, NewBlock};
use gatewatch_correlator::store::write::{NewRecord, TxOps};
use gatewatch_correlator::store::Store;
use gatewatch_correlator::Correlator;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let path = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "/tmp/gw-report.db".into()));
    let month = Month::parse("2026-10").expect("month");
    let t0 = month.start_us();
    let inv = Inventory::from_toml(&fill::inventory(), "gen").expect("inventory");
    let mut store = Store::open(&path).expect("store");
    if store.alert_count().expect("count") < fill::ALERTS {
        let cfg = CorrelatorConfig {
            batch_size: 5_000,
            correlation_builtin: false,
            incident_window_secs: 1800,
            ..Default::default()
        };
        let have = store.alert_count().expect("count");
        let mut c = Correlator::new(cfg, store);
        c.engine.inventory = Arc::new(inv.clone());
        let t = Instant::now();
        for n in have..fill::ALERTS {
            c.ingest(&fill::alert(n, t0)).expect("ingest");
        }
        c.flush().expect("flush");
        eprintln!("filled {} alerts in {:.0} s", fill::ALERTS - have, t.elapsed().as_secs_f64());
        drop(c);
        // Lifecycles from the incident id: deterministic shares.
        rusqlite::Connection::open(&path)
            .expect("sqlite")
            .execute_batch(
                "UPDATE incidents SET created_us = first_seen_us + 60000000;
                 UPDATE incidents SET acknowledged_us = created_us + (id % 97) * 600000000, status = 'acknowledged' WHERE id % 10 < 8;
                 UPDATE incidents SET resolved_us = acknowledged_us + (id % 13) * 43200000000, status = 'resolved' WHERE id % 10 < 6;
                 UPDATE incidents SET status = 'false_positive' WHERE id % 10 = 0;",
            )
            .expect("lifecycles");
        store = Store::open(&path).expect("store");
        let tx = store.transaction().expect("tx");
        {
            let ops = TxOps::new(&tx).expect("ops");
            for k in 0..(31 * 144) {
                let body = format!(
                    r#"{{"event_type":"stats","stats":{{"capture":{{"received":{},"kernel_drops":{}}},"detect":{{"rules_generation":1,"rules_loaded":48000}}}},"heartbeat":{{"version":"0.1.0"}}}}"#,
                    k * 1_000_000,
                    k
                );
                ops.insert_record(&NewRecord {
                    ts_us: t0 + k * 600_000_000,
                    event_type: "stats",
                    sensor: Some("hue-sensor-01"),
                    flow_id: None,
                    src_ip: None,
                    dest_ip: None,
                    body: &body,
                })
                .expect("record");
            }
        }
        tx.commit().expect("commit");
        for i in 0..2000i64 {
            let target = format!("203.0.{}.{}", 113 + i % 3, 1 + i % 250);
            store
                .insert_block(
                    &NewBlock {
                        incident_id: Some(1 + i * 10),
                        policy: "p",
                        action: "fw",
                        action_kind: "nft",
                        target_kind: "source",
                        target: &target,
                        mode: "dry-run",
                        state: BlockState::DryRun,
                        reason: "bench",
                        allowlist: None,
                        ttl_secs: 3600,
                        repeat: 0,
                        auto_started: false,
                        would_expire_us: None,
                    },
                    "gatewatch",
                )
                .expect("block");
        }
    }
    println!(
        "store: {} alerts, {} incidents",
        store.alert_count().expect("count"),
        store.incident_count().expect("count")
    );
    drop(store);
    let store = Store::open_reader(&path).expect("reader");
    let cfg = ReportConfig::default();
    let now = month.end_us() + 86_400_000_000;
    let mut figures = Vec::new();
    let mut r = None;
    for _ in 0..5 {
        let t = Instant::now();
        r = Some(report::build(&store, &inv, &cfg, month, None, now).expect("report"));
        figures.push(t.elapsed().as_secs_f64());
    }
    let r = r.expect("a report");
    let mut agency = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        report::build(&store, &inv, &cfg, month, Some("ag7"), now).expect("report");
        agency.push(t.elapsed().as_secs_f64());
    }
    let time = |f: Format| {
        let mut v = Vec::new();
        let mut size = 0;
        for _ in 0..5 {
            let t = Instant::now();
            size = report::render(&r, f, Lang::Vi, &cfg).expect("render").len();
            v.push(t.elapsed().as_secs_f64());
        }
        (median(v), size)
    };
    let (html, html_size) = time(Format::Html);
    let (pdf, pdf_size) = time(Format::Pdf);
    println!(
        "month {}: {} incidents, {} alerts counted; {} serious incidents listed",
        r.month,
        r.incidents.total,
        r.incidents.alerts,
        r.serious.len()
    );
    println!("figures, province-wide: median {:.2} s", median(figures));
    println!("figures, one agency:    median {:.2} s", median(agency));
    println!("HTML: median {:.3} s, {} bytes", html, html_size);
    println!("PDF:  median {:.3} s, {} bytes", pdf, pdf_size);
}
