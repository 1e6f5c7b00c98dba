use super::*;
use gatewatch_rules::load_report::LoadReport;
use gatewatch_rules::sigma::{compile, parse_text, Parsed, NETWORK_PIPELINE};

const RULES: &str = r#"
title: Failed logon
name: failed_logon
id: 0e95725d-7320-415d-80f7-004da920fc11
logsource: { product: windows, service: security }
detection:
    selection: { EventID: 4625 }
    condition: selection
level: low
---
title: Logon brute force
id: 5b1f4b8e-0000-4000-8000-000000000001
correlation:
    type: event_count
    rules: [failed_logon]
    group-by: [IpAddress]
    timespan: 5m
    condition: { gte: 3 }
level: high
---
title: SSH root login failure
id: 5b1f4b8e-0000-4000-8000-000000000002
logsource: { product: linux, service: sshd }
detection:
    keywords:
        - 'Failed password for root'
    condition: keywords
level: medium
---
title: DNS query for a paste site
name: paste_dns
id: 5b1f4b8e-0000-4000-8000-000000000003
logsource: { category: dns }
detection:
    selection: { query|endswith: 'pastebin.com' }
    condition: selection
---
title: Repeated paste-site lookups
correlation:
    type: event_count
    rules: [paste_dns]
    group-by: [src_ip]
    timespan: 1h
    condition: { gte: 2 }
    generate: true
"#;

fn detector() -> HostLogDetector {
    let mut report = LoadReport::default();
    let mut parsed = Parsed::default();
    parse_text(RULES, "t.yml", &mut report, &mut parsed);
    let set = compile(parsed, NETWORK_PIPELINE, &mut report).expect("compiles");
    assert!(
        report.skipped.is_empty() && report.notes.iter().all(|n| !n.contains('`')),
        "{report:?}"
    );
    HostLogDetector::new(
        Arc::new(set),
        CorrelationLimits::default(),
        FixedOffset::east_opt(7 * 3600).expect("tz"),
    )
}

fn failed_logon(secs: u32, ip: &str) -> HostLogEvent {
    HostLogEvent {
        event: json!({"Event": {"System": {"EventID": 4625, "Channel": "Security", "Computer": "dc1.hue.gov.vn",
                                           "TimeCreated": {"#attributes": {"SystemTime": format!("2026-11-23T01:00:{secs:02}.000Z")}}},
                                "EventData": {"IpAddress": ip, "TargetUserName": "admin"}}}),
        received_us: 1_800_000_000_000_000,
        peer: "10.46.1.10".parse().ok(),
        sender: Some("wec01".into()),
        via: Via::Https,
        forwarded: false,
    }
}

#[test]
fn windows_failures_become_one_correlation_alert_between_attacker_and_host() {
    let mut d = detector();
    let mut alerts = Vec::new();
    for (s, ip) in [(1, "203.0.113.7"), (2, "203.0.113.7"), (3, "198.51.100.2"), (4, "203.0.113.7")]
    {
        alerts.extend(d.observe(&failed_logon(s, ip)));
    }
    // The detections only feed a non-generating correlation.
    assert_eq!(d.stats.detections_silent, 4);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.alert.signature, "SIGMA correlation Logon brute force");
    assert_eq!((a.src_ip.as_str(), a.dest_ip.as_str()), ("203.0.113.7", "10.46.1.10"));
    assert_eq!(a.host.as_deref(), Some("dc1.hue.gov.vn"));
    assert_eq!(a.timestamp, "2026-11-23T01:00:04.000000+0000", "the event's own time");
    assert_eq!(a.proto, "LOG");
    assert_eq!(a.app_metadata["hostlog"]["via"], "https");
    assert_eq!(a.app_metadata["hostlog"]["sender"], "wec01");
    assert_eq!(a.app_metadata["hostlog"]["event_id"], 4625);
    assert_eq!(a.app_metadata["hostlog"]["event"]["TargetUserName"], "admin");
    assert_eq!(d.stats.correlations, 1);
}

#[test]
fn syslog_events_run_linux_rules_and_fall_back_to_the_receive_time() {
    let mut d = detector();
    let ev = HostLogEvent {
        event: json!({"program": "sshd", "host": "gw01", "message": "Failed password for root from 203.0.113.9 port 2 ssh2"}),
        received_us: 1_795_400_000_000_000,
        peer: "10.46.2.1".parse().ok(),
        sender: None,
        via: Via::SyslogUdp,
        forwarded: true,
    };
    let alerts = d.observe(&ev);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].alert.signature, "SIGMA SSH root login failure");
    assert_eq!(alerts[0].src_ip, "10.46.2.1", "no remote field: the sender");
    assert_eq!(alerts[0].timestamp, eve_timestamp(1_795_400_000_000_000));
    assert_eq!(d.stats.no_event_time, 1);
    // A Windows event does not run Linux rules, a non-object is counted.
    assert!(d.observe(&HostLogEvent { event: json!([1, 2]), ..ev.clone() }).is_empty());
    assert_eq!(d.stats.not_objects, 1);
}

#[test]
fn sensor_sigma_alerts_feed_correlations() {
    let mut d = detector();
    let hit = SigmaHit {
        id: "5b1f4b8e-0000-4000-8000-000000000003".into(),
        title: "DNS query for a paste site".into(),
        level: None,
        tags: vec![],
    };
    let alert = |secs: i64| AlertEvent {
        timestamp: eve_timestamp(1_795_400_000_000_000 + secs * 1_000_000),
        flow_id: Some(1),
        pcap_cnt: None,
        event_type: "alert".into(),
        src_ip: "10.46.7.7".into(),
        src_port: Some(5353),
        dest_ip: "10.46.0.53".into(),
        dest_port: Some(53),
        proto: "UDP".into(),
        ip_v: Some(4),
        icmp_type: None,
        icmp_code: None,
        pkt_src: None,
        in_iface: None,
        community_id: None,
        direction: None,
        alert: hit.alert_info(),
        app_proto: Some("dns".into()),
        flow: None,
        app_metadata: Default::default(),
        host: Some("sensor-hue-1".into()),
    };
    assert!(d.observe_alert(&alert(0)).is_empty());
    let fired = d.observe_alert(&alert(60));
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].alert.signature, "SIGMA correlation Repeated paste-site lookups");
    assert_eq!(fired[0].src_ip, "10.46.7.7");
    // A correlation alert is not fed back.
    assert!(d.observe_alert(&fired[0]).is_empty());
    assert_eq!(d.stats.sensor_sigma_alerts, 2);
}

#[test]
fn windows_carry_over_a_reload() {
    let mut d = detector();
    for s in [1, 2] {
        assert!(d.observe(&failed_logon(s, "203.0.113.7")).is_empty());
    }
    let mut report = LoadReport::default();
    let mut parsed = Parsed::default();
    parse_text(RULES, "t.yml", &mut report, &mut parsed);
    d.replace_rules(Arc::new(compile(parsed, NETWORK_PIPELINE, &mut report).expect("compiles")));
    assert_eq!(
        d.observe(&failed_logon(3, "203.0.113.7")).len(),
        1,
        "the third failure after the reload completes the window"
    );
}

#[test]
fn event_times() {
    let vn = FixedOffset::east_opt(7 * 3600).expect("tz");
    let t = |v: Value| event_time_us(&v, vn).map(eve_timestamp);
    assert_eq!(
        t(json!({"@timestamp": "2026-11-23T01:02:03.5Z"})).as_deref(),
        Some("2026-11-23T01:02:03.500000+0000")
    );
    assert_eq!(
        t(json!({"UtcTime": "2026-11-23 01:02:03.456"})).as_deref(),
        Some("2026-11-23T01:02:03.456000+0000")
    );
    assert_eq!(
        t(json!({"EventTime": "2026-11-23 08:02:03"})).as_deref(),
        Some("2026-11-23T01:02:03.000000+0000"),
        "local time +07:00"
    );
    assert_eq!(t(json!({"EventTime": "yesterday"})), None);
}
