use serde_json::json;

use super::*;

fn set_from(text: &str) -> (SigmaSet, LoadReport) {
    let mut report = LoadReport::default();
    let mut parsed = Parsed::default();
    parse_text(text, "t.yml", &mut report, &mut parsed);
    let set = compile(parsed, NETWORK_PIPELINE, &mut report).expect("pipeline compiles");
    (set, report)
}

const PROXY_RULE: &str = r#"
title: Suspicious download of a script from a raw paste site
id: 11111111-2222-3333-4444-555555555555
logsource:
    category: proxy
detection:
    selection:
        c-uri|contains: '/raw/'
        cs-host|endswith: 'pastebin.com'
        c-useragent|contains:
            - 'PowerShell'
            - 'curl'
    condition: selection
level: high
tags:
    - attack.t1105
"#;

fn http_event(host: &str, uri: &str, ua: &str) -> serde_json::Value {
    json!({"event_type": "http", "src_ip": "10.0.0.5", "dest_ip": "203.0.113.9",
           "http.host": host, "http.uri": uri, "http.url": format!("http://{host}{uri}"),
           "http.user_agent": ua, "http.method": "GET", "http.status": 200})
}

#[test]
fn a_proxy_rule_runs_on_http_events_through_the_field_mapping() {
    let (set, report) = set_from(PROXY_RULE);
    assert_eq!((report.total, report.loaded), (1, 1), "{:?}", report.skipped);
    assert_eq!(report.breakdown.get("network: http events"), Some(&1));
    let hits = set
        .evaluate_network("http", &http_event("pastebin.com", "/raw/abc", "WindowsPowerShell/5.1"));
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].title, "Suspicious download of a script from a raw paste site");
    assert_eq!(hits[0].level.as_deref(), Some("high"));
    assert_eq!(hits[0].tags, ["attack.t1105"]);
    assert!(set
        .evaluate_network("http", &http_event("pastebin.com", "/raw/abc", "Mozilla/5.0"))
        .is_empty());
    assert!(
        set.evaluate_network("dns", &http_event("pastebin.com", "/raw/abc", "curl/8")).is_empty(),
        "other event types do not see proxy rules"
    );
    assert!(set.wants("http") && !set.wants("tls"));
}

#[test]
fn dns_rules_and_host_rules_are_routed_apart() {
    let text = r#"
title: DNS query for a dynamic DNS zone
logsource:
    category: dns
detection:
    selection:
        query|endswith: '.duckdns.org'
    condition: selection
---
title: Whoami
id: 22222222-2222-3333-4444-555555555555
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\whoami.exe'
    condition: selection
"#;
    let (set, report) = set_from(text);
    assert_eq!(report.loaded, 2);
    assert_eq!(report.breakdown.get("host logs: product windows"), Some(&1));
    let hits =
        set.evaluate_network("dns", &json!({"event_type": "dns", "dns.query": "x.DuckDNS.org"}));
    assert_eq!(hits.len(), 1, "Sigma string matching is case-insensitive");
    assert!(hits[0].id.starts_with("gw-"), "a rule without id gets one: {}", hits[0].id);
    let host = set.evaluate_host(&json!({"Image": "C:\\Windows\\System32\\whoami.exe"}));
    assert_eq!(host.len(), 1);
}

#[test]
fn null_means_absent_or_null_and_keywords_search_all_values() {
    let text = r#"
title: No user agent
logsource:
    category: proxy
detection:
    selection:
        c-useragent: null
    condition: selection
---
title: Keyword anywhere
logsource:
    category: proxy
detection:
    keywords:
        - 'cmd.exe'
    condition: keywords
"#;
    let (set, _) = set_from(text);
    let titles = |ev: &serde_json::Value| -> Vec<String> {
        let mut t: Vec<String> =
            set.evaluate_network("http", ev).into_iter().map(|h| h.title).collect();
        t.sort();
        t
    };
    let mut ev = http_event("a.example", "/x?c=cmd.exe", "");
    ev.as_object_mut().unwrap().remove("http.user_agent");
    assert_eq!(titles(&ev), ["Keyword anywhere", "No user agent"]);
    assert!(titles(&http_event("a.example", "/", "Mozilla")).is_empty());
}

#[test]
fn bad_documents_are_reported_and_the_rest_loads() {
    let text = "title: broken\nlogsource: [\n";
    let (_, report) = set_from(text);
    assert_eq!(report.loaded, 0);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].file, "t.yml");
    let text = format!("{PROXY_RULE}---\ntitle: no detection\nlogsource:\n    category: proxy\n");
    let (_, report) = set_from(&text);
    assert_eq!(report.loaded, 1);
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
}

/// rsigma 0.23: a `?` wildcard in a `startswith`/`endswith` value.
#[test]
fn question_mark_wildcard_with_startswith_and_endswith() {
    let text = r#"
title: starts
logsource:
    category: proxy
detection:
    selection:
        c-useragent|startswith: 'Go?http'
    condition: selection
---
title: ends
logsource:
    category: proxy
detection:
    selection:
        c-useragent|endswith: 'bot?1'
    condition: selection
"#;
    let (set, _) = set_from(text);
    let titles = |ua: &str| -> Vec<String> {
        let mut t: Vec<String> = set
            .evaluate_network("http", &http_event("h.example", "/", ua))
            .into_iter()
            .map(|h| h.title)
            .collect();
        t.sort();
        t
    };
    assert_eq!(titles("Go-http-client/1.1"), ["starts"]);
    assert_eq!(titles("x Go-http"), Vec::<String>::new());
    assert_eq!(titles("scanner evilbot/1"), ["ends"]);
    assert_eq!(titles("bot/1 scanner"), Vec::<String>::new());
}

#[test]
fn the_shipped_pipeline_parses_and_routes_every_event_type() {
    let routes = parse_routes(NETWORK_PIPELINE).expect("routes");
    let mut events: Vec<&str> = routes.iter().map(|r| r.event.as_str()).collect();
    events.sort();
    events.dedup();
    assert_eq!(events, ["dns", "fileinfo", "flow", "http", "tls"]);
    assert!(rsigma_eval::parse_pipeline(NETWORK_PIPELINE).is_ok());
}

/// The upstream defect the workaround above exists for: without
/// [`fix_wildcard_anchors`], rsigma 0.23 matches `startswith: 'Go?http'` at the wrong
/// end. When this test fails after an upgrade, rsigma has fixed it and the workaround
/// can go.
#[test]
fn rsigma_0_23_still_swaps_wildcard_anchors() {
    let text = "title: starts\nlogsource:\n    category: proxy\ndetection:\n    selection:\n        c-useragent|startswith: 'Go?http'\n    condition: selection\n";
    let c = rsigma_parser::parse_sigma_yaml(text).expect("parses");
    let mut engine = rsigma_eval::Engine::new();
    engine.add_rules(c.rules.iter());
    let hit = |ua: &str| {
        let ev = json!({ "c-useragent": ua });
        !engine.evaluate(&rsigma_eval::event::JsonEvent::borrow(&ev)).is_empty()
    };
    assert!(!hit("Go-http-client/1.1"), "rsigma fixed the anchors: remove fix_wildcard_anchors");
    let mut fixed = c.rules[0].clone();
    assert_eq!(fix_wildcard_anchors(&mut fixed), 1);
    let mut engine = rsigma_eval::Engine::new();
    engine.add_rules([&fixed]);
    let ev = json!({ "c-useragent": "Go-http-client/1.1" });
    assert_eq!(engine.evaluate(&rsigma_eval::event::JsonEvent::borrow(&ev)).len(), 1);
}

const LOGON_RULES: &str = r#"
title: Failed logon
name: failed_logon
id: 0e95725d-7320-415d-80f7-004da920fc11
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4625
    condition: selection
level: low
---
title: Successful logon
name: successful_logon
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4624
    condition: selection
level: informational
"#;

fn logon(id: u32, ip: &str, user: &str) -> serde_json::Value {
    json!({"Event": {"System": {"EventID": id, "Channel": "Security", "Computer": "dc1.hue.gov.vn"},
                     "EventData": {"IpAddress": ip, "TargetUserName": user}}})
}

/// A correlation that fired: kind, title, group-by fields and values, value.
type Fired = (String, String, Vec<(String, String)>, f64);

/// Feeds `(event, seconds)` through host detection and correlation; returns the
/// correlations that fired and the detections surfaced.
fn correlate(correlation: &str, events: &[(serde_json::Value, i64)]) -> (Vec<Fired>, usize) {
    let (set, report) = set_from(&format!("{LOGON_RULES}---\n{correlation}"));
    assert!(report.notes.iter().all(|n| !n.contains("correlation `")), "{:?}", report.notes);
    assert_eq!(report.breakdown.get("correlation rules (run by the correlator)"), Some(&1));
    let mut corr = set.correlation(&correlation::CorrelationLimits::default());
    let mut fired = Vec::new();
    let mut surfaced = 0;
    for (ev, ts) in events {
        let flat = set.host_event(ev);
        let hits = set.evaluate_host_flat(&flat);
        surfaced += hits.iter().filter(|h| corr.surfaces(h)).count();
        for c in corr.observe(&flat, &hits, *ts) {
            fired.push((c.kind, c.title, c.group_key, c.value));
        }
    }
    (fired, surfaced)
}

#[test]
fn event_count_fires_per_group_within_the_timespan() {
    let rule = r#"
title: Logon brute force
correlation:
    type: event_count
    rules: [failed_logon]
    group-by: [IpAddress]
    timespan: 5m
    condition:
        gte: 3
level: high
"#;
    let t0 = 1_790_000_000;
    let events = [
        (logon(4625, "203.0.113.7", "a"), t0),
        (logon(4625, "203.0.113.8", "a"), t0 + 1),
        (logon(4625, "203.0.113.7", "b"), t0 + 60),
        // Another group does not count toward 203.0.113.7.
        (logon(4625, "203.0.113.8", "b"), t0 + 61),
        (logon(4625, "203.0.113.7", "c"), t0 + 120),
        // 203.0.113.8's third is outside its 5-minute window.
        (logon(4625, "203.0.113.8", "c"), t0 + 400),
    ];
    let (fired, surfaced) = correlate(rule, &events);
    assert_eq!(fired.len(), 1, "{fired:?}");
    let (kind, title, group, value) = &fired[0];
    assert_eq!((kind.as_str(), title.as_str(), *value), ("event_count", "Logon brute force", 3.0));
    assert_eq!(group, &[("IpAddress".to_string(), "203.0.113.7".to_string())]);
    // `failed_logon` only feeds a correlation that does not generate: no alerts of its own.
    assert_eq!(surfaced, 0);
}

#[test]
fn value_count_counts_distinct_values_and_generate_keeps_the_rule_alerts() {
    let rule = r#"
title: Password spraying
correlation:
    type: value_count
    rules: [failed_logon]
    group-by: [IpAddress]
    timespan: 10m
    condition:
        field: TargetUserName
        gte: 3
    generate: true
"#;
    let t0 = 1_790_000_000;
    let same_user: Vec<_> =
        (0..5).map(|i| (logon(4625, "198.51.100.1", "admin"), t0 + i)).collect();
    let (fired, surfaced) = correlate(rule, &same_user);
    assert!(fired.is_empty(), "one user five times is not spraying: {fired:?}");
    assert_eq!(surfaced, 5, "generate: true keeps the detections");
    let users: Vec<_> = ["an", "binh", "chi"]
        .iter()
        .enumerate()
        .map(|(i, u)| (logon(4625, "198.51.100.1", u), t0 + i as i64))
        .collect();
    let (fired, _) = correlate(rule, &users);
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!((fired[0].0.as_str(), fired[0].3), ("value_count", 3.0));
}

#[test]
fn temporal_needs_every_rule_and_temporal_ordered_their_order() {
    let temporal = |kind: &str| {
        format!(
            r#"
title: Logon after failures
correlation:
    type: {kind}
    rules: [failed_logon, successful_logon]
    group-by: [IpAddress]
    timespan: 10m
"#
        )
    };
    let t0 = 1_790_000_000;
    let fail_then_success =
        [(logon(4625, "192.0.2.4", "x"), t0), (logon(4624, "192.0.2.4", "x"), t0 + 30)];
    let success_then_fail =
        [(logon(4624, "192.0.2.4", "x"), t0), (logon(4625, "192.0.2.4", "x"), t0 + 30)];
    let too_far = [(logon(4625, "192.0.2.4", "x"), t0), (logon(4624, "192.0.2.4", "x"), t0 + 900)];
    let other_hosts =
        [(logon(4625, "192.0.2.4", "x"), t0), (logon(4624, "192.0.2.5", "x"), t0 + 30)];
    let count =
        |kind: &str, evs: &[(serde_json::Value, i64)]| correlate(&temporal(kind), evs).0.len();
    assert_eq!(count("temporal", &fail_then_success), 1);
    assert_eq!(count("temporal", &success_then_fail), 1);
    assert_eq!(count("temporal", &too_far), 0);
    assert_eq!(count("temporal", &other_hosts), 0);
    assert_eq!(count("temporal_ordered", &fail_then_success), 1);
    assert_eq!(count("temporal_ordered", &success_then_fail), 0);
}

#[test]
fn correlation_alerts_name_the_correlation_and_its_group() {
    let hit = correlation::CorrelationHit {
        id: "c1".into(),
        title: "Logon brute force".into(),
        level: Some("high".into()),
        tags: vec![],
        kind: "event_count".into(),
        group_key: vec![("IpAddress".into(), "203.0.113.7".into())],
        value: 3.0,
        timespan_secs: 300,
    };
    let a = hit.alert_info();
    assert_eq!(a.signature, "SIGMA correlation Logon brute force");
    assert_eq!(a.severity, 1);
    let meta = a.metadata.expect("metadata");
    assert_eq!(meta["sigma_group"], ["IpAddress=203.0.113.7"]);
    assert_eq!(meta["sigma_correlation"], ["event_count"]);
}

#[test]
fn a_broken_correlation_is_reported_and_the_rules_still_load() {
    let text = format!(
        "{LOGON_RULES}---\ntitle: Broken\ncorrelation:\n    type: event_count\n    rules: [failed_logon]\n    timespan: 5m\n    condition:\n        frobnicate: 3\n"
    );
    let (set, report) = set_from(&text);
    assert_eq!(report.loaded, 2);
    assert!(set.correlation(&correlation::CorrelationLimits::default()).is_empty());
    assert!(
        report.notes.iter().any(|n| n.contains("Broken"))
            || report
                .skipped
                .iter()
                .any(|s| s.message.contains("Broken") || s.reason == "parse error"),
        "{:?} {:?}",
        report.notes,
        report.skipped
    );
}

#[test]
fn rsigma_0_23_still_reads_temporal_default_as_any() {
    // When this fails, rsigma reads the default itself: drop `fix_temporal_default`.
    let text =
        "title: T\ncorrelation:\n    type: temporal\n    rules: [a, b, c]\n    timespan: 1m\n";
    let c = rsigma_parser::parse_sigma_yaml(text).expect("parses").correlations.remove(0);
    let mut fixed = c.clone();
    assert!(correlation::fix_temporal_default(&mut fixed), "{:?}", c.condition);
    match fixed.condition {
        rsigma_parser::CorrelationCondition::Threshold { predicates, .. } => {
            assert_eq!(predicates, [(rsigma_parser::ConditionOperator::Gte, 3)])
        }
        other => panic!("{other:?}"),
    }
}
