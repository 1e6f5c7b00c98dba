//! The report's figures against a month whose answers are known: eight counted incidents
//! (and one of September, one of November, one merged, one about a sensor, which must
//! not count), their lifecycles, four block decisions, ten days of heartbeats with a
//! sensor restart. Every number of the JSON report is checked.

use std::sync::Arc;

use serde_json::{json, Value};

use super::figures::Month;
use super::{build, render, Format, Lang, ReportConfig};
use crate::config::CorrelatorConfig;
use crate::incident::assets::Inventory;
use crate::store::blocks::{audit_block, insert_block, BlockState, NewBlock};
use crate::store::write::{NewRecord, TxOps};
use crate::store::Store;
use crate::Correlator;

const H: i64 = 3_600_000_000;
const D: i64 = 24 * H;

/// October 2026, day `d` at `h`:`m` Vietnam time, in µs.
fn oct(d: u32, h: u32, m: u32) -> i64 {
    Month::parse("2026-10").unwrap().start_us()
        + (d as i64 - 1) * D
        + h as i64 * H
        + m as i64 * 60_000_000
}

fn alert(src: &str, dst: &str, ts: i64, sid: u32, port: u16) -> gatewatch_rules::event::AlertEvent {
    serde_json::from_value(json!({
        "timestamp": gatewatch_rules::event::eve_timestamp(ts), "event_type": "alert",
        "src_ip": src, "src_port": port, "dest_ip": dst, "dest_port": 80, "proto": "TCP", "host": "hue-01",
        "alert": {"action": "allowed", "gid": 1, "signature_id": sid, "rev": 1,
                  "signature": format!("GW-TEST rule {sid}"), "category": "Misc Attack", "severity": 2}
    }))
    .unwrap()
}

const INVENTORY: &str = r#"
[[agencies]]
id = "stc"
name = "Sở Tài chính"
name_en = "Department of Finance"
[[agencies]]
id = "syt"
name = "Sở Y tế"
[[assets]]
address = "10.46.10.0/24"
agency = "stc"
system = "Cổng thông tin"
security_level = 3
[[assets]]
address = "10.46.20.0/24"
agency = "syt"
system = "Hệ thống thông tin y tế"
security_level = 4
criticality = "critical"
"#;

/// An incident: its alerts (source, destination, time, sid), then what the test sets.
struct Seed {
    alerts: Vec<(&'static str, &'static str, i64, u32)>,
    score: u32,
    rsit: &'static str,
    status: &'static str,
    created: i64,
    ack_after: Option<i64>,
    resolved_after: Option<i64>,
}

fn seeds() -> Vec<Seed> {
    let s = |alerts, score, rsit, status, created, ack_after, resolved_after| Seed {
        alerts,
        score,
        rsit,
        status,
        created,
        ack_after,
        resolved_after,
    };
    vec![
        // 1: stc, critical, resolved in 2 days.
        s(
            vec![
                ("203.0.113.1", "10.46.10.1", oct(2, 7, 30), 100),
                ("203.0.113.1", "10.46.10.1", oct(2, 7, 40), 100),
                ("203.0.113.1", "10.46.10.1", oct(2, 7, 50), 100),
            ],
            80,
            "intrusions",
            "resolved",
            oct(2, 8, 0),
            Some(H),
            Some(2 * D),
        ),
        // 2: stc, high, resolved late (6 days).
        s(
            vec![("203.0.113.1", "10.46.10.2", oct(2, 20, 0), 100)],
            60,
            "intrusion-attempts",
            "resolved",
            oct(2, 20, 5),
            Some(3 * H),
            Some(6 * D),
        ),
        // 3: stc, medium, false positive, acknowledged late (30 h).
        s(
            vec![
                ("203.0.113.2", "10.46.10.3", oct(8, 10, 0), 101),
                ("203.0.113.2", "10.46.10.3", oct(8, 10, 5), 101),
            ],
            40,
            "information-gathering",
            "false_positive",
            oct(8, 10, 10),
            Some(30 * H),
            Some(31 * H),
        ),
        // 4: syt, critical, in progress, never resolved.
        s(
            vec![("198.51.100.7", "10.46.20.1", oct(5, 9, 0), 102)],
            90,
            "malicious-code",
            "in_progress",
            oct(5, 9, 5),
            Some(2 * H),
            None,
        ),
        // 5: syt, low, acknowledged.
        s(
            vec![
                ("198.51.100.7", "10.46.20.2", oct(10, 1, 0), 100),
                ("198.51.100.7", "10.46.20.2", oct(10, 1, 1), 100),
                ("198.51.100.7", "10.46.20.2", oct(10, 1, 2), 100),
                ("198.51.100.7", "10.46.20.2", oct(10, 1, 3), 100),
            ],
            20,
            "intrusion-attempts",
            "acknowledged",
            oct(10, 1, 5),
            Some(10 * H),
            None,
        ),
        // 6: syt, high, new: nobody acknowledged it.
        s(
            vec![("203.0.113.3", "10.46.20.3", oct(30, 12, 0), 103)],
            55,
            "availability",
            "new",
            oct(30, 12, 1),
            None,
            None,
        ),
        // 7: no agency (an internal address not in the inventory), medium, resolved in a day.
        s(
            vec![("203.0.113.4", "10.46.99.1", oct(15, 12, 0), 104)],
            30,
            "other",
            "resolved",
            oct(15, 12, 1),
            Some(20 * H),
            Some(D),
        ),
        // 8: stc, low, false positive.
        s(
            vec![("203.0.113.5", "10.46.10.4", oct(20, 12, 0), 101)],
            10,
            "information-gathering",
            "false_positive",
            oct(20, 12, 1),
            Some(5 * H),
            Some(5 * H),
        ),
    ]
}

/// The store of the month, its inventory, and the ids of the eight counted incidents.
fn seeded() -> (Store, Inventory, Vec<i64>) {
    let inv = Inventory::from_toml(INVENTORY, "t").unwrap();
    let mut c = Correlator::new(
        CorrelatorConfig { correlation_builtin: false, ..Default::default() },
        Store::open_in_memory().unwrap(),
    );
    c.engine.inventory = Arc::new(inv.clone());
    let mut ids = Vec::new();
    let mut port = 40_000;
    let mut place = |c: &mut Correlator, alerts: &[(&str, &str, i64, u32)]| -> i64 {
        for (s, d, ts, sid) in alerts {
            port += 1;
            c.ingest(&alert(s, d, *ts, *sid, port)).unwrap();
        }
        c.flush().unwrap();
        c.store().conn().query_row("SELECT max(id) FROM incidents", [], |r| r.get(0)).unwrap()
    };
    for s in seeds() {
        let id = place(&mut c, &s.alerts);
        c.store()
            .conn()
            .execute(
                "UPDATE incidents SET score = ?2, rsit = ?3, status = ?4, created_us = ?5, acknowledged_us = ?6, resolved_us = ?7 WHERE id = ?1",
                rusqlite::params![id, s.score, s.rsit, s.status, s.created, s.ack_after.map(|a| s.created + a), s.resolved_after.map(|a| s.created + a)],
            )
            .unwrap();
        ids.push(id);
    }
    // Not counted: September (two, for the trend), November, merged, a sensor's.
    let sep = |d: u32| Month::parse("2026-09").unwrap().start_us() + d as i64 * D;
    for (dst, ts, score) in [("10.46.10.50", sep(3), 80), ("10.46.10.51", sep(20), 10)] {
        let id = place(&mut c, &[("203.0.113.9", dst, ts, 105)]);
        c.store()
            .conn()
            .execute("UPDATE incidents SET score = ?2 WHERE id = ?1", rusqlite::params![id, score])
            .unwrap();
    }
    place(
        &mut c,
        &[("203.0.113.9", "10.46.10.60", Month::parse("2026-11").unwrap().start_us() + D, 105)],
    );
    let merged = place(&mut c, &[("203.0.113.9", "10.46.10.61", oct(3, 0, 0), 105)]);
    c.store()
        .conn()
        .execute(
            "UPDATE incidents SET merged_into = ?2 WHERE id = ?1",
            rusqlite::params![merged, ids[0]],
        )
        .unwrap();
    let mut down = alert("10.46.1.20", "10.46.1.20", oct(4, 0, 0), 1, 1);
    down.alert.gid = crate::incident::entity::GID_SENSOR_HEALTH;
    c.ingest(&down).unwrap();
    c.flush().unwrap();

    let mut store = c.into_store();
    store.add_note(ids[0], "lan", "Đã chặn nguồn tấn công tại tường lửa").unwrap();
    blocks(&mut store, &ids);
    heartbeats(&mut store);
    (store, inv, ids)
}

/// Four decisions, with their audit steps in October.
fn blocks(store: &mut Store, ids: &[i64]) {
    let tx = store.transaction().unwrap();
    let nb = |target: &'static str, state, incident| NewBlock {
        incident_id: Some(incident),
        policy: "p",
        action: "fw",
        action_kind: "nft",
        target_kind: "source",
        target,
        mode: "enforce",
        state,
        reason: "test",
        allowlist: None,
        ttl_secs: 3600,
        repeat: 0,
        auto_started: false,
        would_expire_us: None,
    };
    let b1 = insert_block(
        &tx,
        &nb("203.0.113.1", BlockState::Pending, ids[0]),
        oct(2, 8, 59),
        "gatewatch",
    )
    .unwrap();
    audit_block(&tx, oct(2, 9, 0), "gatewatch", b1, Some(ids[0]), "executed", &json!({})).unwrap();
    insert_block(&tx, &nb("198.51.100.7", BlockState::DryRun, ids[3]), oct(5, 10, 0), "gatewatch")
        .unwrap();
    insert_block(
        &tx,
        &nb("10.46.1.53", BlockState::SkippedAllowlist, ids[0]),
        oct(2, 8, 59),
        "gatewatch",
    )
    .unwrap();
    let b4 = insert_block(
        &tx,
        &nb("203.0.113.2", BlockState::Pending, ids[2]),
        oct(8, 11, 59),
        "gatewatch",
    )
    .unwrap();
    audit_block(&tx, oct(8, 12, 0), "gatewatch", b4, Some(ids[2]), "executed", &json!({})).unwrap();
    audit_block(&tx, oct(8, 13, 0), "lan", b4, Some(ids[2]), "undo-requested", &json!({})).unwrap();
    audit_block(&tx, oct(8, 13, 0), "gatewatch", b4, Some(ids[2]), "undone", &json!({})).unwrap();
    // A block of November is not counted.
    insert_block(
        &tx,
        &nb("203.0.113.9", BlockState::DryRun, ids[0]),
        Month::parse("2026-11").unwrap().start_us() + H,
        "gatewatch",
    )
    .unwrap();
    tx.commit().unwrap();
}

/// Ten days of heartbeats every 10 minutes (1,440), the sensor restarting half-way
/// (its counters start again), rules generation 2 from day 6.
fn heartbeats(store: &mut Store) {
    let tx = store.transaction().unwrap();
    let ops = TxOps::new(&tx).unwrap();
    for k in 0..1440i64 {
        let ts = oct(1, 0, 0) + k * 600_000_000;
        let run = if k < 720 { k + 1 } else { k - 719 };
        let generation = if ts >= oct(6, 0, 0) { 2 } else { 1 };
        let body = json!({"event_type": "stats", "host": "hue-01",
            "stats": {"capture": {"received": run * 1000, "kernel_drops": run, "queue_drops": 0},
                      "detect": {"rules_generation": generation, "rules_loaded": 48_000}},
            "heartbeat": {"version": "0.1.0"}})
        .to_string();
        ops.insert_record(&NewRecord {
            ts_us: ts,
            event_type: "stats",
            sensor: Some("hue-01"),
            flow_id: None,
            src_ip: None,
            dest_ip: None,
            body: &body,
        })
        .unwrap();
    }
    tx.commit().unwrap();
}

fn cfg() -> ReportConfig {
    ReportConfig { trend_months: 3, ..Default::default() }
}

fn now() -> i64 {
    Month::parse("2026-11").unwrap().start_us() + 19 * D
}

#[test]
fn every_figure_of_a_known_month() {
    let (store, inv, ids) = seeded();
    let dir = std::env::temp_dir().join(format!("gw-report-geo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let geo = dir.join("country.csv");
    std::fs::write(&geo, "198.51.100.0,198.51.100.255,VN\n203.0.113.0/24,US\n").unwrap();
    let cfg = ReportConfig { geoip: Some(geo), ..cfg() };
    let r = build(&store, &inv, &cfg, Month::parse("2026-10").unwrap(), None, now()).unwrap();
    let v = serde_json::to_value(&r).unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(v["month"], "2026-10");
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some("2026-10-01T00:00:00+07:00"), Some("2026-11-01T00:00:00+07:00"))
    );
    let i = &v["incidents"];
    assert_eq!((i["total"].as_u64(), i["alerts"].as_u64()), (Some(8), Some(14)));
    assert_eq!(
        i["by_class"],
        json!({"abusive-content": 0, "availability": 1, "fraud": 0, "information-content-security": 0,
               "information-gathering": 2, "intrusion-attempts": 2, "intrusions": 1, "malicious-code": 1,
               "other": 1, "vulnerable": 0})
    );
    assert_eq!(i["by_severity"], json!({"critical": 2, "high": 2, "low": 2, "medium": 2}));
    assert_eq!(
        i["by_status"],
        json!({"acknowledged": 1, "false_positive": 2, "in_progress": 1, "new": 1, "resolved": 3})
    );
    assert_eq!(
        i["by_agency"],
        json!([{"id": "stc", "name": "Sở Tài chính", "name_en": "Department of Finance", "incidents": 4, "critical_high": 2},
               {"id": "syt", "name": "Sở Y tế", "name_en": null, "incidents": 3, "critical_high": 2},
               {"id": "-", "name": "-", "name_en": null, "incidents": 1, "critical_high": 0}])
    );
    assert_eq!(
        i["trend"],
        json!([{"month": "2026-08", "total": 0, "by_severity": {"critical": 0, "high": 0, "low": 0, "medium": 0}},
               {"month": "2026-09", "total": 2, "by_severity": {"critical": 1, "high": 0, "low": 1, "medium": 0}},
               {"month": "2026-10", "total": 8, "by_severity": {"critical": 2, "high": 2, "low": 2, "medium": 2}}])
    );

    let h = &v["handling"];
    assert_eq!(
        h["time_to_acknowledge"],
        json!({"count": 7, "median_secs": 18_000, "p90_secs": 108_000})
    );
    assert_eq!(
        h["time_to_resolve"],
        json!({"count": 3, "median_secs": 172_800, "p90_secs": 518_400})
    );
    let d = &h["deadlines"];
    assert_eq!(
        (d[0]["event"].as_str(), d[0]["within_secs"].as_u64()),
        (Some("acknowledge"), Some(86_400))
    );
    assert_eq!(
        (d[0]["met"].as_u64(), d[0]["missed"].as_u64(), d[0]["pending"].as_u64()),
        (Some(6), Some(2), Some(0))
    );
    assert_eq!(d[0]["share_met"], 0.75);
    assert_eq!(
        (d[1]["event"].as_str(), d[1]["within_secs"].as_u64()),
        (Some("resolve"), Some(432_000))
    );
    assert_eq!(
        (d[1]["met"].as_u64(), d[1]["missed"].as_u64(), d[1]["pending"].as_u64()),
        (Some(2), Some(4), Some(0))
    );
    assert!((d[1]["share_met"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(
        (h["closed"].as_u64(), h["false_positives"].as_u64(), h["false_positive_rate"].as_f64()),
        (Some(5), Some(2), Some(0.4))
    );

    let sigs: Vec<(u64, u64, u64)> = v["top_signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["sid"].as_u64().unwrap(),
                s["alerts"].as_u64().unwrap(),
                s["incidents"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(sigs, [(100, 8, 3), (101, 3, 2), (102, 1, 1), (103, 1, 1), (104, 1, 1)]);
    assert_eq!(
        v["top_sources"],
        json!([{"ip": "198.51.100.7", "country": "VN", "alerts": 5, "incidents": 2},
               {"ip": "203.0.113.1", "country": "US", "alerts": 4, "incidents": 2},
               {"ip": "203.0.113.2", "country": "US", "alerts": 2, "incidents": 1},
               {"ip": "203.0.113.3", "country": "US", "alerts": 1, "incidents": 1},
               {"ip": "203.0.113.4", "country": "US", "alerts": 1, "incidents": 1},
               {"ip": "203.0.113.5", "country": "US", "alerts": 1, "incidents": 1}])
    );
    let targets: Vec<(&str, u64, u64)> = v["top_targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["entity"].as_str().unwrap(),
                x["incidents"].as_u64().unwrap(),
                x["alerts"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        targets,
        [
            ("10.46.20.2", 1, 4),
            ("10.46.10.1", 1, 3),
            ("10.46.10.3", 1, 2),
            ("10.46.10.2", 1, 1),
            ("10.46.10.4", 1, 1),
            ("10.46.20.1", 1, 1),
            ("10.46.20.3", 1, 1),
            ("10.46.99.1", 1, 1)
        ]
    );
    assert_eq!(v["top_targets"][1]["system"], "Cổng thông tin");

    assert_eq!(
        v["response"],
        json!({"steps": {"dry-run": 1, "executed": 2, "pending": 2, "skipped-allowlist": 1, "undo-requested": 1, "undone": 1},
               "executed": 2, "dry_run": 1, "skipped_allowlist": 1, "undone": 1,
               "blocked_sources": 2, "alerts_before_24h": 5, "alerts_after_24h": 1})
    );

    // The summary page compares the month with September (two incidents, one
    // critical, one alert each — as the trend counts them).
    let (h, p) = (&v["headline"], &v["previous"]);
    assert_eq!((h["month"].as_str(), p["month"].as_str()), (Some("2026-10"), Some("2026-09")));
    assert_eq!(h["incidents"], v["incidents"]["total"]);
    assert_eq!(h["alerts"], v["incidents"]["alerts"]);
    assert_eq!(h["blocks_executed"], 2);
    assert_eq!(
        (p["incidents"].as_u64(), p["critical_high"].as_u64(), p["alerts"].as_u64()),
        (Some(2), Some(1), Some(2)),
        "{p}"
    );

    let s = &v["sensors"][0];
    assert_eq!(v["sensors"].as_array().unwrap().len(), 1);
    assert_eq!((s["name"].as_str(), s["heartbeats"].as_u64()), (Some("hue-01"), Some(1440)));
    assert_eq!(s["uptime"].as_f64(), Some(1440.0 / (31.0 * 144.0)));
    assert_eq!((s["packets"].as_u64(), s["drops"].as_u64()), (Some(1_439_000), Some(1439)));
    assert_eq!(s["drop_rate"].as_f64(), Some(1439.0 / (1_439_000.0 + 1439.0)));
    assert_eq!((s["version"].as_str(), s["rules_loaded"].as_u64()), (Some("0.1.0"), Some(48_000)));
    let updates: Vec<u64> = s["rule_updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["generation"].as_u64().unwrap())
        .collect();
    assert_eq!(updates, [1, 2]);
    assert_eq!(s["rule_updates"][1]["first_seen"], "2026-10-05T17:00:00.000000Z");

    assert_eq!(v["scope"]["systems_by_level"], json!({"3": 1, "4": 1}));
    assert_eq!(v["scope"]["agencies"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["scope"]["sensors"],
        json!([{"name": "hue-01", "alerts": 14, "agencies": ["Sở Tài chính", "Sở Y tế"]}])
    );

    let serious: Vec<(i64, &str)> = v["serious"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["id"].as_i64().unwrap(), x["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        serious,
        [(ids[3], "critical"), (ids[0], "critical"), (ids[1], "high"), (ids[5], "high")]
    );
    assert_eq!(v["serious"][1]["resolution"], "Đã chặn nguồn tấn công tại tường lửa");
    assert_eq!(v["serious"][0]["resolution"], "in_progress");
}

#[test]
fn an_agency_report_counts_only_its_incidents() {
    let (store, inv, _) = seeded();
    let r =
        build(&store, &inv, &cfg(), Month::parse("2026-10").unwrap(), Some("stc"), now()).unwrap();
    let v: Value = serde_json::to_value(&r).unwrap();
    assert_eq!(
        v["agency"],
        json!({"id": "stc", "name": "Sở Tài chính", "name_en": "Department of Finance"})
    );
    assert_eq!(
        (v["incidents"]["total"].as_u64(), v["incidents"]["alerts"].as_u64()),
        (Some(4), Some(7))
    );
    assert_eq!(v["incidents"]["trend"][1]["total"], 2, "September's two were stc's");
    assert_eq!(
        v["response"]["steps"],
        json!({"executed": 2, "pending": 2, "skipped-allowlist": 1, "undo-requested": 1, "undone": 1})
    );
    assert_eq!(v["scope"]["agencies"].as_array().unwrap().len(), 1);
    let e = build(&store, &inv, &cfg(), Month::parse("2026-10").unwrap(), Some("nope"), now())
        .unwrap_err();
    assert!(e.to_string().contains("agency `nope` is not in the asset inventory"), "{e}");
}

#[test]
fn renderings_carry_the_figures_in_both_languages() {
    let (store, inv, _) = seeded();
    let r = build(&store, &inv, &cfg(), Month::parse("2026-10").unwrap(), None, now()).unwrap();
    let vi = String::from_utf8(render(&r, Format::Html, Lang::Vi, &cfg()).unwrap()).unwrap();
    assert!(
        vi.contains("BÁO CÁO TÌNH HÌNH AN TOÀN THÔNG TIN") && vi.contains("THÁNG 10/2026"),
        "vi heading"
    );
    assert!(vi.contains("75,0%") && vi.contains("40,0%"), "Vietnamese percentages");
    assert!(vi.contains("<svg") && vi.contains("Xu hướng các tháng"));
    assert!(
        !vi.contains("src=\"http") && !vi.contains("href=") && !vi.contains("<script"),
        "self-contained"
    );
    let en = String::from_utf8(render(&r, Format::Html, Lang::En, &cfg()).unwrap()).unwrap();
    assert!(
        en.contains("INFORMATION SECURITY SITUATION REPORT")
            && en.contains("75.0%")
            && en.contains("Department of Finance")
    );
    let pdf = render(&r, Format::Pdf, Lang::Vi, &cfg()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    assert!(
        pdf.len() > 10_000 && pdf.len() < 600_000,
        "a subset of the font, not the whole: {} bytes",
        pdf.len()
    );
    let json: Value =
        serde_json::from_slice(&render(&r, Format::Json, Lang::Vi, &cfg()).unwrap()).unwrap();
    assert_eq!(json["incidents"]["total"], 8);
}

/// A 2×2 PNG (red, green, blue, white), written by hand (a stored zlib block).
fn tiny_png() -> Vec<u8> {
    fn crc(data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in data {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc(&body).to_be_bytes());
    }
    let raw: Vec<u8> = [[0u8, 255, 0, 0, 0, 255, 0], [0, 0, 0, 255, 255, 255, 255]].concat();
    // zlib, one stored block.
    let mut z = vec![0x78, 0x01, 0x01, raw.len() as u8, 0, !(raw.len() as u8), 0xff];
    z.extend(&raw);
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    z.extend(((b << 16) | a).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &[0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
    chunk(&mut png, b"IDAT", &z);
    chunk(&mut png, b"IEND", &[]);
    png
}

#[test]
fn the_logo_is_in_both_renderings() {
    let (store, inv, _) = seeded();
    let dir = std::env::temp_dir().join(format!("gw-report-logo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let logo = dir.join("logo.png");
    std::fs::write(&logo, tiny_png()).unwrap();
    let cfg = ReportConfig { logo: Some(logo), ..cfg() };
    let r = build(&store, &inv, &cfg, Month::parse("2026-10").unwrap(), None, now()).unwrap();
    let html = String::from_utf8(render(&r, Format::Html, Lang::En, &cfg).unwrap()).unwrap();
    assert!(html.contains("<img src=\"data:image/png;base64,iVBORw0KGgo"), "the logo inline");
    let pdf = render(&r, Format::Pdf, Lang::En, &cfg).unwrap();
    let without =
        render(&r, Format::Pdf, Lang::En, &ReportConfig { logo: None, ..cfg.clone() }).unwrap();
    // The image object is in a compressed object stream: `tests/e2e/report.rs` finds it
    // with `pdfimages`; here, the logo adds to the file.
    assert!(pdf.len() > without.len(), "{} vs {}", pdf.len(), without.len());
    let _ = std::fs::remove_dir_all(&dir);
}
