use std::collections::HashMap;
use std::sync::Arc;

use gatewatch_rules::event::AlertEvent;
use proptest::prelude::*;

use super::*;
use crate::domain::suppression::{NewSuppression, SuppressionRule};
use crate::incident::assets::Inventory;
use crate::store::{IncidentFilter, IncidentOrder, IncidentRow, Status};

const INVENTORY: &str = r#"
    [[agencies]]
    id = "stc"
    name = "Sở Tài chính"
    [[agencies]]
    id = "syt"
    name = "Sở Y tế"
    [[agencies]]
    id = "phu-hoi"
    name = "UBND phường Phú Hội"
    [[assets]]
    address = "10.46.10.0/24"
    agency = "stc"
    system = "Cổng thông tin"
    security_level = 3
    criticality = "high"
    [[assets]]
    address = "10.46.20.0/24"
    agency = "syt"
    system = "HIS"
    security_level = 4
    [[assets]]
    address = "10.46.120.0/24"
    agency = "phu-hoi"
    security_level = 1
"#;

pub(crate) fn alert(ts: &str, sid: u32, src: &str, dst: &str) -> AlertEvent {
    alert_of(ts, sid, src, dst, "Web Application Attack", 2)
}

fn alert_of(ts: &str, sid: u32, src: &str, dst: &str, category: &str, severity: u8) -> AlertEvent {
    serde_json::from_value(serde_json::json!({
        "timestamp": ts, "flow_id": sid as u64 * 7 + dst.len() as u64, "event_type": "alert",
        "src_ip": src, "src_port": 40000, "dest_ip": dst, "dest_port": 80, "proto": "TCP",
        "alert": {"action": "allowed", "gid": 1, "signature_id": sid, "rev": 1,
                  "signature": format!("rule {sid}"), "category": category, "severity": severity}
    }))
    .unwrap()
}

fn ts(secs: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(1_790_000_000 + secs, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.6f+0000")
        .to_string()
}

fn correlator(window: u32, builtin: bool) -> Correlator {
    let cfg = CorrelatorConfig {
        incident_window_secs: window,
        batch_size: 3,
        correlation_builtin: builtin,
        ..Default::default()
    };
    let mut c = Correlator::new(cfg, Store::open_in_memory().unwrap());
    c.engine.inventory = Arc::new(Inventory::from_toml(INVENTORY, "t").unwrap());
    c
}

fn incidents(c: &Correlator) -> Vec<IncidentRow> {
    c.store().list_incidents(10_000).unwrap()
}

fn by_entity<'a>(rows: &'a [IncidentRow], e: &str) -> &'a IncidentRow {
    rows.iter().find(|i| i.entity == e).unwrap_or_else(|| panic!("no incident of {e}: {rows:#?}"))
}

#[test]
fn alerts_about_one_asset_make_one_incident_until_it_goes_quiet() {
    let mut c = correlator(600, false);
    c.ingest(&alert(&ts(0), 1, "203.0.113.7", "10.46.10.20")).unwrap();
    // Another rule and another attacker, same target: same incident.
    c.ingest(&alert_of(
        &ts(60),
        2,
        "198.51.100.9",
        "10.46.10.20",
        "Attempted Administrator Privilege Gain",
        1,
    ))
    .unwrap();
    // Another target: another incident.
    c.ingest(&alert(&ts(60), 1, "203.0.113.7", "10.46.20.5")).unwrap();
    // Eleven minutes of silence: the window closed.
    c.ingest(&alert(&ts(60 + 660), 1, "203.0.113.7", "10.46.10.20")).unwrap();
    // A bad timestamp: stored at the ingest time, counted.
    c.ingest(&alert("yesterday", 3, "203.0.113.7", "10.46.99.1")).unwrap();
    c.flush().unwrap();
    assert_eq!(c.stats.bad_timestamps, 1);
    let rows = incidents(&c);
    assert_eq!(rows.len(), 4, "{rows:#?}");
    let first = rows.iter().find(|i| i.entity == "10.46.10.20" && i.alert_count == 2).unwrap();
    assert_eq!(first.first_seen, "2026-09-21T14:13:20.000000Z");
    assert_eq!(first.rule_count, 2);
    // The gravest alert leads: severity 1, rule 2.
    assert_eq!((first.sid, first.severity_level), (2, 1));
    assert_eq!(first.title, "rule 2 and 1 more rule — 10.46.10.20 (Sở Tài chính · Cổng thông tin)");
    assert_eq!(first.agency.as_deref(), Some("stc"));
    assert_eq!((first.security_level, first.criticality.as_deref()), (Some(3), Some("high")));
    assert_eq!(first.rsit, "intrusion-attempts");
    assert_eq!(first.tactics, ["TA0001"]);
    // 40 (severity 1) + 12 + 8 (level 3, high) + 1 (two alerts).
    assert_eq!((first.score, first.severity.as_str()), (61, "high"));
    let hosts = c.store().incident_hosts(first.id).unwrap();
    let ips: Vec<_> = hosts.iter().map(|h| (h.ip.as_str(), h.role.as_str())).collect();
    assert_eq!(
        ips,
        [("10.46.10.20", "entity"), ("198.51.100.9", "source"), ("203.0.113.7", "source")]
    );
    assert_eq!(by_entity(&rows, "10.46.99.1").entity_zone, "unknown_internal");
}

#[test]
fn identical_alerts_are_counted_as_repeats_of_one_row() {
    let mut c = correlator(3600, false);
    for i in 0..5 {
        c.ingest(&alert(&ts(i), 1, "203.0.113.7", "10.46.10.20")).unwrap();
    }
    // Same rule and hosts, another flow: a row of its own.
    let mut other = alert(&ts(9), 1, "203.0.113.7", "10.46.10.20");
    other.flow_id = Some(999);
    c.ingest(&other).unwrap();
    c.flush().unwrap();
    assert_eq!(c.store().alert_count().unwrap(), 2);
    assert_eq!(c.store().alerts_received().unwrap(), 6);
    assert_eq!(c.stats.repeats, 4);
    let inc = &incidents(&c)[0];
    assert_eq!((inc.alert_count, inc.rule_count), (6, 1));
    let rows = c.store().incident_alerts(inc.id, 10).unwrap();
    assert_eq!(
        (rows[0].count, rows[0].timestamp.as_str(), rows[0].last_seen.as_str()),
        (5, "2026-09-21T14:13:20.000000Z", "2026-09-21T14:13:24.000000Z")
    );
    assert_eq!(c.store().incident_rules(inc.id).unwrap()[0].alerts, 6);
}

#[test]
fn suppressed_alerts_are_stored_and_counted_but_make_no_incident() {
    let mut c = correlator(3600, false);
    let sup = c
        .store_mut()
        .add_suppression(&NewSuppression {
            rule: SuppressionRule {
                sid: Some(7),
                src: Some("203.0.113.0/24".into()),
                reason: "the SOC's own vulnerability scanner".into(),
                created_by: "lan".into(),
                ..Default::default()
            },
            expires_us: Some(crate::ingest::parse_eve_timestamp(&ts(100)).unwrap()),
        })
        .unwrap();
    c.reload_suppressions().unwrap();
    for i in 0..3 {
        c.ingest(&alert(&ts(i), 7, "203.0.113.7", "10.46.10.20")).unwrap();
    }
    c.ingest(&alert(&ts(5), 7, "198.51.100.1", "10.46.10.20")).unwrap(); // other source
    c.ingest(&alert(&ts(200), 7, "203.0.113.7", "10.46.10.20")).unwrap(); // after expiry
    c.flush().unwrap();
    assert_eq!(c.stats.suppressed, 3);
    let rows = incidents(&c);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].alert_count, 2);
    let s = &c.store().suppressions().unwrap()[0];
    assert_eq!((s.id, s.hits), (sup, 3));
    let silenced = c.store().suppressed_alerts(sup, 10).unwrap();
    assert_eq!((silenced.len(), silenced[0].count, silenced[0].incident_id), (1, 3, None));
    let audit = c.store().audit(None, 10).unwrap();
    assert!(audit.iter().any(|r| r.action == "suppression.add" && r.actor == "lan"));
}

#[test]
fn a_scan_of_many_hosts_becomes_one_campaign_incident() {
    let mut c = correlator(3600, true);
    for i in 0..15 {
        let dst = format!("10.46.{}.{}", [10, 20, 120][i % 3], 10 + i);
        c.ingest(&alert_of(
            &ts(i as i64),
            9,
            "203.0.113.45",
            &dst,
            "Detection of a Network Scan",
            3,
        ))
        .unwrap();
    }
    c.flush().unwrap();
    let rows = incidents(&c);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let camp = &rows[0];
    assert_eq!((camp.entity.as_str(), camp.entity_zone.as_str()), ("203.0.113.45", "external"));
    // 15 scan alerts and the two correlation alerts (10 hosts; 3 agencies).
    assert_eq!(camp.alert_count, 17);
    assert_eq!(camp.correlations.len(), 2, "{:?}", camp.correlations);
    assert_eq!(camp.rsit, "information-gathering");
    // The third host was of a third agency: the agencies correlation fired first, and
    // the three single-host incidents until then merged into the campaign.
    assert_eq!(c.stats.incidents_merged, 3);
    let all = c
        .store()
        .find_incidents(&IncidentFilter { include_merged: true, limit: 100, ..Default::default() })
        .unwrap();
    assert_eq!(all.iter().filter(|i| i.merged_into == Some(camp.id)).count(), 3);
    assert!(camp.correlations[0].contains("several agencies"), "{:?}", camp.correlations);
    assert_eq!(c.store().incident_alerts(camp.id, 100).unwrap().len(), 17);
    assert_eq!(c.store().incident_hosts(camp.id).unwrap().len(), 16);
    let merges = c.store().audit(None, 100).unwrap();
    assert_eq!(merges.iter().filter(|r| r.action == "incident.merge").count(), 3);
}

#[test]
fn an_exploit_then_a_callout_from_the_same_host_is_a_successful_kill_chain() {
    let mut c = correlator(3600, true);
    c.ingest(&alert_of(&ts(0), 3, "203.0.113.77", "10.46.120.15", "Web Application Attack", 1))
        .unwrap();
    c.ingest(&alert_of(
        &ts(600),
        5,
        "10.46.120.15",
        "198.51.100.200",
        "A Network Trojan was detected",
        1,
    ))
    .unwrap();
    c.flush().unwrap();
    let rows = incidents(&c);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let i = &rows[0];
    assert_eq!(i.entity, "10.46.120.15");
    assert!(i.succeeded);
    assert_eq!(i.correlations.len(), 1);
    assert!(i.correlations[0].starts_with("Kill chain"), "{:?}", i.correlations);
    assert_eq!(i.rsit, "malicious-code");
    assert_eq!(i.tactics, ["TA0001", "TA0011"]);
    // 40 + (4 + 4: level 1, medium) + 6 (two stages) + 15 (worked) + 1 (three alerts).
    assert_eq!((i.score, i.severity.as_str()), (70, "high"));
}

#[test]
fn an_http_200_to_an_attack_is_success_and_intrusion() {
    let mut c = correlator(3600, false);
    let mut a = alert_of(&ts(0), 3, "203.0.113.77", "10.46.10.20", "Web Application Attack", 1);
    a.app_metadata.insert("http".into(), serde_json::json!({"status": 200, "url": "/x"}));
    c.ingest(&a).unwrap();
    let mut b = alert_of(&ts(0), 4, "203.0.113.77", "10.46.20.20", "Web Application Attack", 1);
    b.app_metadata.insert("http".into(), serde_json::json!({"status": 404}));
    c.ingest(&b).unwrap();
    c.flush().unwrap();
    let rows = incidents(&c);
    let hit = by_entity(&rows, "10.46.10.20");
    assert!(hit.succeeded);
    assert_eq!(
        (hit.rsit.as_str(), hit.score, hit.severity.as_str()),
        ("intrusions", 75, "critical")
    );
    let miss = by_entity(&rows, "10.46.20.20");
    assert!(!miss.succeeded);
    assert_eq!(miss.rsit, "intrusion-attempts");
}

#[test]
fn resolved_incidents_take_no_more_alerts_and_the_lifecycle_is_audited() {
    let mut c = correlator(3600, false);
    c.ingest(&alert(&ts(0), 1, "203.0.113.7", "10.46.10.20")).unwrap();
    c.flush().unwrap();
    let id = incidents(&c)[0].id;
    let store = c.store_mut();
    let v = store.transition(id, Status::Acknowledged, "lan", None, Some(1)).unwrap();
    assert_eq!(v, 2);
    let stale = store.transition(id, Status::Resolved, "minh", None, Some(1)).unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { expected: 1, found: 2, .. }), "{stale}");
    store.assign(id, Some("minh"), "lan", Some(2)).unwrap();
    store.add_note(id, "minh", "Chặn IP tại tường lửa").unwrap();
    let bad = store.transition(id, Status::New, "minh", None, None).unwrap_err();
    assert!(bad.to_string().contains("cannot become new"), "{bad}");
    store.transition(id, Status::Resolved, "minh", Some("blocked upstream"), None).unwrap();
    let row = store.get_incident(id).unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.assignee.as_deref(), row.version),
        ("resolved", Some("minh"), 5)
    );
    assert!(row.acknowledged_at.is_some() && row.resolved_at.is_some());
    assert_eq!(store.notes(id).unwrap().len(), 2);
    let actions: Vec<String> =
        store.audit(Some(id), 100).unwrap().into_iter().rev().map(|r| r.action).collect();
    assert_eq!(
        actions,
        [
            "incident.create",
            "incident.transition",
            "incident.assign",
            "incident.note",
            "incident.transition"
        ]
    );
    // A new alert of the same entity opens a new incident.
    c.ingest(&alert(&ts(10), 1, "203.0.113.7", "10.46.10.20")).unwrap();
    c.flush().unwrap();
    assert_eq!(incidents(&c).len(), 2);
    // Reopening clears the resolution time.
    c.store_mut().transition(id, Status::InProgress, "lan", None, None).unwrap();
    assert!(c.store().get_incident(id).unwrap().unwrap().resolved_at.is_none());
}

#[test]
fn the_audit_log_cannot_be_changed() {
    let mut c = correlator(3600, false);
    c.ingest(&alert(&ts(0), 1, "203.0.113.7", "10.46.10.20")).unwrap();
    c.flush().unwrap();
    let conn = c.store().conn();
    let e = conn.execute("UPDATE audit_log SET actor = 'x'", []).unwrap_err().to_string();
    assert!(e.contains("append-only"), "{e}");
    let e = conn.execute("DELETE FROM audit_log", []).unwrap_err().to_string();
    assert!(e.contains("append-only"), "{e}");
}

#[test]
fn retention_deletes_old_alerts_and_closed_incidents_only() {
    let mut c = correlator(60, false);
    c.ingest(&alert(&ts(0), 1, "203.0.113.7", "10.46.10.20")).unwrap();
    c.ingest(&alert(&ts(0), 1, "203.0.113.7", "10.46.20.20")).unwrap();
    c.ingest(&alert(&ts(100_000), 1, "203.0.113.7", "10.46.10.21")).unwrap();
    c.flush().unwrap();
    let rows = incidents(&c);
    let closed = by_entity(&rows, "10.46.10.20").id;
    c.store_mut().transition(closed, Status::FalsePositive, "lan", None, None).unwrap();
    let cutoff = crate::ingest::parse_eve_timestamp(&ts(50_000)).unwrap();
    let (a, i) = c.store_mut().apply_retention(cutoff, 1).unwrap();
    assert_eq!((a, i), (2, 1));
    let left: Vec<String> = incidents(&c).into_iter().map(|i| i.entity).collect();
    assert_eq!(left.len(), 2, "the open old incident stays: {left:?}");
    assert!(!left.contains(&"10.46.10.20".to_string()));
    assert!(c.store().audit(Some(closed), 10).unwrap().len() >= 2, "the audit log stays");
}

#[test]
fn findings_are_stored_once() {
    let mut c = correlator(3600, false);
    c.ingest_finding("s1/1".into(), Some(alert(&ts(0), 1, "203.0.113.7", "10.46.10.20")));
    c.ingest_finding("s1/2".into(), None);
    c.flush().unwrap();
    c.ingest_finding("s1/1".into(), Some(alert(&ts(0), 1, "203.0.113.7", "10.46.10.20")));
    c.ingest_finding("s1/2".into(), None);
    c.flush().unwrap();
    assert_eq!((c.stats.findings, c.stats.duplicate_findings, c.stats.alerts), (2, 2, 1));
}

#[test]
fn timestamps() {
    assert_eq!(parse_eve_timestamp("1970-01-01T00:00:01.000002+0000"), Some(1_000_002));
    assert_eq!(parse_eve_timestamp("1970-01-01T07:00:01.5+0700"), Some(1_500_000));
    assert_eq!(parse_eve_timestamp("nope"), None);
}

/// The aggregates the engine keeps up alert by alert equal those recomputed from the
/// stored alerts.
fn assert_aggregates_match(c: &Correlator) -> Result<(), TestCaseError> {
    let conn = c.store().conn();
    for i in incidents(c) {
        let (count, first, last, sev): (i64, i64, i64, u8) = conn
            .query_row(
                "SELECT sum(count), min(ts_us), max(last_us), min(severity) FROM alerts WHERE incident_id = ?1",
                [i.id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        prop_assert_eq!(i.alert_count, count as u64);
        prop_assert_eq!((i.first_seen_us, i.last_seen_us, i.severity_level), (first, last, sev));
        let rules: i64 = conn
            .query_row(
                "SELECT count(DISTINCT sid) FROM alerts WHERE incident_id = ?1",
                [i.id],
                |r| r.get(0),
            )
            .unwrap();
        prop_assert_eq!(i.rule_count, rules as u64);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Model check of the grouping windows: alerts in time order, grouped by entity
    /// (the internal target); a gap longer than the window starts a new incident.
    #[test]
    fn incident_windows_match_the_model(alerts in proptest::collection::vec((1u32..4, 0usize..3, 0usize..3, 0i64..1_300), 1..60)) {
        let window = 600i64;
        let mut c = correlator(window as u32, false);
        let mut now = 0i64;
        let mut model: HashMap<usize, (i64, Vec<u64>)> = HashMap::new();
        let srcs = ["203.0.113.1", "203.0.113.2", "198.51.100.3"];
        let dsts = ["10.46.10.1", "10.46.20.2", "10.46.120.3"];
        for (sid, s, d, gap) in alerts {
            now += gap;
            c.ingest(&alert(&ts(now), sid, srcs[s], dsts[d])).unwrap();
            let e = model.entry(d).or_insert((i64::MIN, Vec::new()));
            if e.1.is_empty() || now - e.0 > window {
                e.1.push(1);
            } else if let Some(last) = e.1.last_mut() {
                *last += 1;
            }
            e.0 = now;
        }
        c.flush().unwrap();
        let mut want: Vec<u64> = model.into_values().flat_map(|(_, v)| v).collect();
        want.sort_unstable();
        let mut got: Vec<u64> = incidents(&c).iter().map(|i| i.alert_count).collect();
        got.sort_unstable();
        prop_assert_eq!(got, want);
        assert_aggregates_match(&c)?;
    }

    /// With correlation on (campaigns and merges) and repeats, every incident's
    /// aggregates still equal what its alerts say, and no alert is lost.
    #[test]
    fn aggregates_survive_merges(alerts in proptest::collection::vec((1u32..3, 0usize..2, 0u8..14, 0i64..30, 1u8..4), 1..80)) {
        let mut c = correlator(3600, true);
        let srcs = ["203.0.113.45", "198.51.100.9"];
        let mut now = 0;
        let mut n = 0u64;
        for (sid, s, host, gap, sev) in alerts {
            now += gap;
            c.ingest(&alert_of(&ts(now), sid, srcs[s], &format!("10.46.10.{host}"), "Detection of a Network Scan", sev)).unwrap();
            n += 1;
        }
        c.flush().unwrap();
        assert_aggregates_match(&c)?;
        let total: u64 = incidents(&c).iter().map(|i| i.alert_count).sum();
        prop_assert_eq!(total, n + c.stats.correlations);
    }
}

#[test]
fn alert_search_by_address_rule_and_time() {
    use crate::store::AlertFilter;
    let mut c = correlator(3600, false);
    c.ingest(&alert(&ts(0), 1, "203.0.113.7", "10.46.10.20")).unwrap();
    c.ingest(&alert(&ts(10), 2, "10.46.10.20", "198.51.100.1")).unwrap();
    c.ingest(&alert(&ts(20), 1, "203.0.113.8", "10.46.20.20")).unwrap();
    c.flush().unwrap();
    let s = c.store();
    let by_ip = s
        .find_alerts(&AlertFilter {
            ip: Some("10.46.10.20".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        by_ip.iter().map(|a| a.sid).collect::<Vec<_>>(),
        [2, 1],
        "newest first, as source or destination"
    );
    let by_sid =
        s.find_alerts(&AlertFilter { sid: Some(1), limit: 10, ..Default::default() }).unwrap();
    assert_eq!(by_sid.len(), 2);
    let since = crate::ingest::parse_eve_timestamp(&ts(15)).unwrap();
    let recent = s
        .find_alerts(&AlertFilter { since_us: Some(since), limit: 10, ..Default::default() })
        .unwrap();
    assert_eq!(recent.len(), 1);
    let both = s
        .find_alerts(&AlertFilter {
            ip: Some("10.46.10.20".into()),
            sid: Some(1),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(both.len(), 1);
}

#[test]
fn old_finding_ids_and_records_are_forgotten() {
    let mut c = correlator(3600, false);
    c.ingest_finding("s1/1".into(), None);
    c.ingest_record(serde_json::json!({"event_type": "dns", "timestamp": ts(0), "flow_id": 5}))
        .unwrap();
    c.ingest_record(serde_json::json!({"event_type": "dhcp"})).unwrap();
    c.flush().unwrap();
    assert_eq!((c.stats.records, c.stats.records_not_kept), (1, 1));
    let now = chrono::Utc::now().timestamp_micros();
    assert_eq!(c.store_mut().forget_findings_before(now + 1, 1).unwrap(), 1);
    assert_eq!(c.store().flow_records(5, 10).unwrap().len(), 1);
    assert_eq!(
        c.store_mut()
            .delete_records_before(crate::ingest::parse_eve_timestamp(&ts(1)).unwrap(), 1)
            .unwrap(),
        1
    );
    // Forgotten: the same id is stored again.
    c.ingest_finding("s1/1".into(), None);
    c.flush().unwrap();
    assert_eq!(c.stats.duplicate_findings, 0);
}

#[test]
fn an_analyst_merges_two_incidents_into_one() {
    let mut c = correlator(3600, false);
    for i in 0..3 {
        c.ingest(&alert(&ts(i), 2_000_001, "203.0.113.5", "10.46.10.5")).unwrap();
    }
    for i in 0..2 {
        c.ingest(&alert(&ts(10 + i), 2_000_002, "203.0.113.9", "10.46.20.7")).unwrap();
    }
    c.flush().unwrap();
    let rows = incidents(&c);
    let (a, b) = (by_entity(&rows, "10.46.10.5").clone(), by_entity(&rows, "10.46.20.7").clone());
    let engine =
        std::mem::replace(&mut c.engine, IncidentEngine::new(windows_of(&c.cfg), Arc::default()));
    let store = c.store_mut();
    assert!(matches!(
        engine.merge_incidents(store, b.id, b.id, "lan", None),
        Err(StoreError::Refused(_))
    ));
    assert!(matches!(
        engine.merge_incidents(store, b.id, a.id, "lan", Some(b.version + 5)),
        Err(StoreError::Conflict { .. })
    ));
    engine.merge_incidents(store, b.id, a.id, "lan", Some(b.version)).unwrap();
    let merged = store.get_incident(b.id).unwrap().unwrap();
    let into = store.get_incident(a.id).unwrap().unwrap();
    assert_eq!(merged.merged_into, Some(a.id));
    assert_eq!(into.alert_count, 5);
    assert_eq!(into.rule_count, 2);
    assert!(into.version > a.version);
    let rows = store.incident_alerts(a.id, 10).unwrap();
    assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), 5, "repeats folded in rows: {rows:?}");
    let hosts: Vec<String> =
        store.incident_hosts(a.id).unwrap().into_iter().map(|h| h.ip).collect();
    assert!(hosts.contains(&"10.46.20.7".to_string()), "{hosts:?}");
    for id in [a.id, b.id] {
        let audit = store.audit(Some(id), 10).unwrap();
        assert!(
            audit.iter().any(|r| r.action == "incident.merge" && r.actor == "lan"),
            "{id}: {audit:?}"
        );
    }
    assert!(
        matches!(
            engine.merge_incidents(store, b.id, a.id, "lan", None),
            Err(StoreError::Refused(_))
        ),
        "merged once"
    );
    let open = store.find_incidents(&IncidentFilter { limit: 10, ..Default::default() }).unwrap();
    assert_eq!(open.len(), 1, "the merged one leaves the queue");
}

#[test]
fn one_ipv6_host_in_suricata_and_sensor_spelling_is_one_incident() {
    let mut c = correlator(600, false);
    // Suricata writes IPv6 in full; Gatewatch's sensors compressed.
    c.ingest(&alert(&ts(0), 1, "203.0.113.7", "2001:0db8:0046:0010:0000:0000:0000:0020")).unwrap();
    c.ingest(&alert(&ts(30), 1, "203.0.113.7", "2001:db8:46:10::20")).unwrap();
    c.flush().unwrap();
    let rows = incidents(&c);
    assert_eq!((rows.len(), rows[0].alert_count), (1, 2), "{rows:#?}");
    let hosts = c.store().incident_hosts(rows[0].id).unwrap();
    let ips: Vec<&str> = hosts.iter().map(|h| h.ip.as_str()).collect();
    assert!(ips.contains(&"2001:db8:46:10::20"), "{ips:?}");
    assert!(!ips.iter().any(|ip| ip.contains("0db8")), "one spelling: {ips:?}");
}

/// Observables of an alert and of its flow's records (stored before the alert or
/// arriving after it) find the incident; a merge carries them over.
#[test]
fn a_search_finds_incidents_by_the_observables_behind_them() {
    let mut c = correlator(3600, false);
    let find = |c: &Correlator, q: &str| -> Vec<i64> {
        let f = IncidentFilter { text: Some(q.into()), limit: 10, ..Default::default() };
        c.store().find_incidents(&f).unwrap().iter().map(|i| i.id).collect()
    };
    // The DNS answer of the flow is stored first, then the alert on the question.
    c.ingest_record(serde_json::json!({"timestamp": ts(0), "event_type": "dns", "flow_id": 77,
        "src_ip": "10.46.120.15", "dest_ip": "10.46.1.53",
        "dns": {"version": 3, "type": "response", "queries": [{"rrname": "update.hue-gov-portal.top", "rrtype": "A"}],
                "answers": [{"rrname": "update.hue-gov-portal.top", "rrtype": "A", "rdata": "198.51.100.200"}]}}))
        .unwrap();
    let mut a = alert(&ts(1), 9_000_005, "10.46.120.15", "10.46.1.53");
    a.flow_id = Some(77);
    c.ingest(&a).unwrap();
    // An HTTP alert, then (later, same flow) the file it downloaded.
    let mut b = alert(&ts(5), 9_000_003, "203.0.113.45", "10.46.10.20");
    b.flow_id = Some(88);
    b.app_metadata.insert(
        "http".into(),
        serde_json::json!({"hostname": "10.46.10.20", "url": "/cgi-bin/x.sh?id=1", "http_user_agent": "curl"}),
    );
    c.ingest(&b).unwrap();
    c.ingest_record(
        serde_json::json!({"timestamp": ts(6), "event_type": "fileinfo", "flow_id": 88,
        "src_ip": "10.46.10.20", "dest_ip": "203.0.113.45",
        "fileinfo": {"filename": "/payload/Miner.ELF", "sha256": "AB12CD", "size": 10}}),
    )
    .unwrap();
    c.flush().unwrap();
    let rows = incidents(&c);
    let of = |sid: u32| rows.iter().find(|r| r.sid == sid).expect("its incident").id;
    let (dns, http) = (of(9_000_005), of(9_000_003));
    assert_eq!(find(&c, "update.hue-gov-portal.top"), [dns], "the question");
    assert_eq!(find(&c, "HUE-GOV-PORTAL.TOP"), [dns], "its registered domain, any case");
    assert_eq!(find(&c, "198.51.100.200"), [dns], "the answer, from the flow's record");
    assert_eq!(find(&c, "miner.elf"), [http], "a file name from a record that came later");
    assert_eq!(find(&c, "ab12cd"), [http], "its hash");
    assert_eq!(find(&c, "http://10.46.10.20/cgi-bin/x.sh?id=1"), [http], "the URL, scheme or not");
    assert_eq!(find(&c, "x.sh"), [http]);
    assert!(find(&c, "hue-gov-portal").is_empty(), "whole observables only, not parts");
    assert!(find(&c, "curl").is_empty(), "a user agent is not an observable");
    // Merged, the HTTP incident's observables find the one it went into.
    let engine =
        std::mem::replace(&mut c.engine, IncidentEngine::new(windows_of(&c.cfg), Arc::default()));
    engine.merge_incidents(c.store_mut(), http, dns, "lan", None).unwrap();
    assert_eq!(find(&c, "miner.elf"), [dns]);
}

/// Every order of the queue, each way round: the triage order (severity, score, then
/// waiting longest), by status along the lifecycle, by assignee with nobody last.
#[test]
fn the_queue_orders() {
    let mut c = correlator(60, false);
    // Four incidents (four destinations), of scores that differ by severity.
    for (i, (dst, sev)) in
        [("10.46.10.1", 3), ("10.46.20.1", 1), ("10.46.10.2", 1), ("10.46.120.1", 2)]
            .into_iter()
            .enumerate()
    {
        let a = alert_of(
            &ts(i as i64 * 10),
            3_000_000 + i as u32,
            "203.0.113.5",
            dst,
            "Attempted Administrator Privilege Gain",
            sev,
        );
        c.ingest(&a).unwrap();
    }
    c.flush().unwrap();
    let rows = incidents(&c);
    let id = |dst: &str| by_entity(&rows, dst).id;
    let (a, b, cc, d) = (id("10.46.10.1"), id("10.46.20.1"), id("10.46.10.2"), id("10.46.120.1"));
    let store = c.store_mut();
    store.transition(d, Status::Acknowledged, "lan", None, None).unwrap();
    store.assign(cc, Some("minh"), "lan", None).unwrap();
    let order = |order: IncidentOrder, reverse: bool| -> Vec<i64> {
        let f = IncidentFilter { order, reverse, limit: 10, ..Default::default() };
        c.store().find_incidents(&f).unwrap().iter().map(|i| i.id).collect()
    };
    let rows = incidents(&c);
    let score = |i: i64| rows.iter().find(|r| r.id == i).unwrap().score;
    let mut want = vec![a, b, cc, d];
    want.sort_by(|x, y| score(*y).cmp(&score(*x)).then(x.cmp(y)));
    assert_eq!(order(IncidentOrder::Priority, false), want, "highest score, then oldest");
    want.reverse();
    assert_eq!(order(IncidentOrder::Priority, true), want);
    let by_status = order(IncidentOrder::Status, false);
    assert_eq!(by_status.last(), Some(&d), "new ones before the acknowledged one");
    assert_eq!(order(IncidentOrder::Assignee, false)[0], cc, "assigned first, nobody last");
    assert_eq!(order(IncidentOrder::Assignee, true).last(), Some(&cc));
    assert_eq!(order(IncidentOrder::FirstSeen, false), [d, cc, b, a], "newest first");
    assert_eq!(order(IncidentOrder::Title, false).len(), 4);
}

/// The wall screen counts what the queue would list: tiles equal the queue's counts
/// with the same filters, alerts and incidents land in their hour, and the top lists
/// and the ATT&CK cells come from the period's alerts.
#[test]
fn the_wall_screen() {
    use crate::store::{Overdue, WallQuery};
    let mut c = correlator(60, false);
    let web = |secs, dst: &str| {
        alert_of(&ts(secs), 4_000_001, "203.0.113.9", dst, "Web Application Attack", 1)
    };
    let c2 = alert_of(
        &ts(3_700),
        4_000_002,
        "10.46.20.7",
        "198.51.100.4",
        "A Network Trojan was detected",
        1,
    );
    for a in [web(0, "10.46.10.1"), web(5, "10.46.10.1"), web(10, "10.46.20.1"), c2] {
        c.ingest(&a).unwrap();
    }
    c.flush().unwrap();
    let rows = incidents(&c);
    let first = by_entity(&rows, "10.46.10.1").id;
    c.store_mut().transition(first, Status::Acknowledged, "lan", None, None).unwrap();
    let base = ts(0).parse::<chrono::DateTime<chrono::Utc>>().map(|t| t.timestamp_micros());
    let from = base.unwrap();
    let hour = 3_600_000_000;
    let now = chrono::Utc::now().timestamp_micros();
    // Deadlines run from the incident's creation (now): an hour to acknowledge, looked at two hours later.
    let overdue = Overdue { now_us: now + 2 * hour, acknowledge_us: Some(hour), resolve_us: None };
    let q = WallQuery {
        from_us: from,
        to_us: from + 3 * hour,
        bucket_us: hour,
        overdue,
        month_start_us: 0,
        top: 10,
    };
    let w = c.store().wall(&q).unwrap();
    // Tiles: the queue's own counts.
    let count = |f: IncidentFilter| c.store().count_incidents(&f, 1000).unwrap();
    let open = || IncidentFilter {
        status: ["new", "acknowledged", "in_progress"].map(String::from).to_vec(),
        ..Default::default()
    };
    assert_eq!(w.tiles.open, count(open()));
    assert_eq!(w.tiles.open, 3);
    assert_eq!(w.tiles.unacknowledged, 2);
    let hc = IncidentFilter { severity: vec!["critical".into(), "high".into()], ..open() };
    assert_eq!(w.tiles.high_critical, count(hc));
    // The two unacknowledged ones are past the hour.
    assert_eq!(w.tiles.overdue, 2);
    assert_eq!(w.tiles.overdue, count(IncidentFilter { overdue: Some(overdue), ..open() }));
    assert_eq!((w.tiles.acknowledged, w.tiles.resolved), (1, 0));
    assert!(w.tiles.tta_median_secs.is_some() && w.tiles.ttr_median_secs.is_none());
    // Three hourly buckets: three web alerts in the first, the C2 one in the second.
    assert_eq!(w.buckets.len(), 3);
    assert_eq!(w.buckets.iter().map(|b| b.alerts).collect::<Vec<_>>(), [3, 1, 0]);
    let new: Vec<u64> = w.buckets.iter().map(|b| b.critical + b.high + b.medium + b.low).collect();
    assert_eq!(new, [2, 1, 0], "incidents in the hour they were first seen");
    assert_eq!(w.top_sources[0].ip, "203.0.113.9");
    assert_eq!((w.top_sources[0].alerts, w.top_sources[0].incidents), (3, 2));
    assert_eq!(w.top_ports[0].key, "80/tcp");
    assert_eq!(w.top_signatures[0].key, "1:4000001");
    assert_eq!(w.top_signatures[0].label, "rule 4000001");
    let agencies: Vec<(&str, u64)> =
        w.top_agencies.iter().map(|a| (a.key.as_str(), a.count)).collect();
    assert_eq!(agencies, [("syt", 2), ("stc", 1)]);
    assert!(w.top_systems.iter().any(|s| s.key == "HIS" && s.count == 2));
    let cell = |tactic: &str| w.attack.iter().find(|a| a.tactic == tactic).unwrap();
    assert_eq!((cell("TA0001").technique.as_str(), cell("TA0001").incidents), ("T1190", 2));
    assert_eq!((cell("TA0011").technique.as_str(), cell("TA0011").alerts), ("T1071", 1));
    // Every click-through of the wall finds incidents.
    let port = IncidentFilter { port: Some(80), ..Default::default() };
    assert_eq!(count(port), 3);
    assert_eq!(count(IncidentFilter { rule: Some((1, 4_000_002)), ..Default::default() }), 1);
    assert_eq!(count(IncidentFilter { system: Some("HIS".into()), ..Default::default() }), 2);
    assert_eq!(count(IncidentFilter { technique: Some("T1190".into()), ..Default::default() }), 2);
    // Outside the period: nothing but the tiles.
    let later = WallQuery { from_us: from + 10 * hour, to_us: from + 11 * hour, ..q };
    let w = c.store().wall(&later).unwrap();
    assert!(w.top_sources.is_empty() && w.attack.is_empty());
    assert_eq!(w.tiles.open, 3);
}
