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
