use gatewatch_rules::event::AlertEvent;

use super::*;
use crate::config::CorrelatorConfig;
use crate::domain::suppression::{NewSuppression, SuppressionRule};
use crate::ingest::Correlator;
use crate::store::blocks::{BlockFilter, BlockState, NewBlock};
use crate::store::{Status, Store};

/// An alert of a connection of its own (source port 40000 + `secs`: not a repeat).
fn alert(secs: i64, sid: u32, src: &str, dst: &str) -> AlertEvent {
    let ts = chrono::DateTime::<chrono::Utc>::from_timestamp(1_790_000_000 + secs, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.6f+0000")
        .to_string();
    serde_json::from_value(serde_json::json!({
        "timestamp": ts, "flow_id": 7 + secs, "event_type": "alert",
        "src_ip": src, "src_port": 40000 + secs, "dest_ip": dst, "dest_port": 80, "proto": "TCP",
        "alert": {"action": "allowed", "gid": 1, "signature_id": sid, "rev": 1,
                  "signature": format!("GW-TEST rule {sid}"),
                  "category": "Web Application Attack", "severity": 2}
    }))
    .unwrap()
}

/// A store with one incident of `alerts` alerts from 203.0.113.7 to 10.46.10.20,
/// acknowledged by `lan` with a note.
fn store_with_incident(alerts: usize) -> (Store, i64) {
    let mut c = Correlator::new(CorrelatorConfig::default(), Store::open_in_memory().unwrap());
    for i in 0..alerts {
        c.ingest(&alert(i as i64, 2_000_001, "203.0.113.7", "10.46.10.20")).unwrap();
    }
    c.flush().unwrap();
    let mut store = c.into_store();
    let id = store.list_incidents(10).unwrap()[0].id;
    store.transition(id, Status::Acknowledged, "lan", Some("xem xét"), None).unwrap();
    store.add_note(id, "lan", "đã gọi Sở Tài chính").unwrap();
    (store, id)
}

#[test]
fn times_are_vietnamese_local_time() {
    // 2026-09-21 14:13:20 UTC is 21:13:20 in Huế.
    assert_eq!(local_time(1_790_000_000_000_000), "2026-09-21 21:13:20");
    assert_eq!(local_time(i64::MAX), "?");
}

#[test]
fn the_incident_table_has_a_header_and_a_line_per_incident() {
    let (store, id) = store_with_incident(3);
    let rows = store.list_incidents(10).unwrap();
    let text = incident_table(&rows);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("  ID  SEVERITY  SCORE  ALERTS  STATUS"), "{text}");
    assert!(lines[1].starts_with(&format!("{id:>4}  ")), "{text}");
    assert!(lines[1].contains("acknowledged"), "{text}");
    assert!(lines[1].contains("2026-09-21 21:13:22"), "the last alert in ICT: {text}");
    assert!(lines[1].ends_with(&rows[0].title), "{text}");
}

#[test]
fn an_incidents_detail_shows_its_hosts_alerts_notes_and_audit() {
    let (store, id) = store_with_incident(25);
    let record = store.incident_record(id, 1000).unwrap().unwrap();
    let text = incident_detail(&record);
    assert!(text.starts_with(&format!("Incident {id}: ")), "{text}");
    assert!(text.contains("status acknowledged"), "{text}");
    assert!(text.contains("  alerts      25 over 1 rules"), "{text}");
    assert!(text.contains("25 × 1:2000001 GW-TEST rule 2000001"), "{text}");
    assert!(text.contains("entity   10.46.10.20"), "{text}");
    assert!(text.contains("source   203.0.113.7"), "{text}");
    assert!(text.contains("×1 203.0.113.7:40000 -> 10.46.10.20:80 TCP sid 2000001"), "{text}");
    // Twenty alerts listed, the rest counted.
    assert_eq!(text.matches(" sid 2000001").count(), 20, "{text}");
    assert!(text.contains("... 5 more (--json lists them all)"), "{text}");
    assert!(text.contains("lan: đã gọi Sở Tài chính"), "{text}");
    assert!(text.contains("lan        incident.transition"), "{text}");
    assert!(store.incident_record(id + 1, 10).unwrap().is_none());
}

#[test]
fn suppressions_show_their_state_and_what_they_match() {
    let (mut store, _) = store_with_incident(1);
    let rule = |sid, src: Option<&str>| SuppressionRule {
        gid: None,
        sid,
        src: src.map(str::to_string),
        dest: None,
        reason: "máy quét của Sở".into(),
        created_by: "lan".into(),
    };
    let now = chrono::Utc::now().timestamp_micros();
    let a = store.add_suppression(&NewSuppression { rule: rule(Some(7), None), expires_us: None });
    let b = NewSuppression { rule: rule(None, Some("10.46.0.9")), expires_us: Some(now + 1) };
    let b = store.add_suppression(&b).unwrap();
    store.remove_suppression(a.unwrap(), "lan").unwrap();
    let text = suppression_table(&store.suppressions().unwrap(), now + 10);
    let line = |id: i64| text.lines().find(|l| l.starts_with(&format!("{id:>4}  "))).unwrap();
    assert!(line(b).contains("expired   10.46.0.9"), "{text}");
    assert!(line(b).ends_with("máy quét của Sở (by lan)"), "{text}");
    assert!(text.contains("removed   *:7"), "{text}");
    assert!(text.contains("never"), "{text}");
}

#[test]
fn blocks_show_target_state_and_incident() {
    let (mut store, id) = store_with_incident(1);
    let b = NewBlock {
        incident_id: Some(id),
        policy: "scanners",
        action: "edge",
        action_kind: "nft",
        target_kind: "source",
        target: "203.0.113.7",
        mode: "approve",
        state: BlockState::Pending,
        reason: "rule 2000001",
        allowlist: None,
        ttl_secs: 3600,
        repeat: 0,
        auto_started: false,
        would_expire_us: None,
    };
    store.insert_block(&b, "lan").unwrap();
    let rows = store.blocks(&BlockFilter { limit: 10, ..Default::default() }).unwrap();
    let text = block_table(&rows);
    assert!(text.starts_with("   ID  STATE"), "{text}");
    let line = text.lines().nth(1).unwrap();
    assert!(line.contains("203.0.113.7"), "{text}");
    assert!(line.contains(&format!("#{id}")), "{text}");
    assert!(line.ends_with("rule 2000001"), "{text}");
}

#[test]
fn accounts_and_tokens_are_listed_with_role_and_state() {
    use crate::store::accounts::Role;
    let mut store = Store::open_in_memory().unwrap();
    store.add_user("lan", "Nguyễn Thị Lan", Role::Analyst, "mật-khẩu-dài-đủ", "cli:root").unwrap();
    store.add_user("minh", "Trần Minh", Role::Admin, "mật-khẩu-dài-khác", "cli:root").unwrap();
    store.set_user_disabled("minh", true, "cli:root").unwrap();
    let text = user_table(&store.users().unwrap());
    let line = |name: &str| text.lines().find(|l| l.starts_with(name)).unwrap().to_string();
    assert!(line("lan").ends_with("Nguyễn Thị Lan"), "{text}");
    assert!(line("lan").contains(" analyst "), "{text}");
    assert!(line("minh").contains("disabled"), "{text}");
    let (id, _secret) = store.create_token("soar", "lan", Role::Analyst, None, "cli:root").unwrap();
    store.revoke_token(id, "cli:root").unwrap();
    let text = token_table(&store.tokens().unwrap());
    assert!(text.starts_with(&format!("{id:>4} soar")), "{text}");
    assert!(text.contains("revoked "), "{text}");
}
