//! Sigma end to end: the load report, rules on the sensor's network events in
//! `gatewatch replay`, and `gatewatch logs` on host logs and regression data.

use super::common::{eve_lines, golden, run_in, Scratch};
use super::golden::app_capture;

const NO_SIGNATURES: &str =
    "alert tcp any any -> any any (msg:\"never\"; content:\"no such bytes here\"; sid:1;)\n";

const PROXY_RULE: &str = r#"title: Login page reached through a dot-encoded path
id: 6f1c1a52-0000-4000-8000-000000000001
logsource:
    category: proxy
detection:
    selection:
        cs-host|endswith: 'portal.example'
        c-uri|contains: '%2ephp'
    condition: selection
level: high
tags:
    - attack.initial-access
"#;

const TLS_RULE: &str = r#"title: TLS to a provincial mail server name
id: 6f1c1a52-0000-4000-8000-000000000002
logsource:
    product: zeek
    service: ssl
detection:
    selection:
        server_name|endswith: '.hue.gov.vn'
    condition: selection
level: low
"#;

const DNS_AND_WINDOWS_RULES: &str = r#"title: Query for a dynamic DNS zone
logsource:
    category: dns
detection:
    selection:
        query|endswith: '.duckdns.org'
    condition: selection
---
title: Whoami run by a service account
id: 6f1c1a52-0000-4000-8000-000000000003
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\whoami.exe'
        User|contains: 'SYSTEM'
    condition: selection
level: medium
"#;

// A file that is not YAML, and a rule whose regular expression does not compile.
const BAD_YAML: &str = "title: [unclosed\n";
const BAD_REGEX: &str = "title: Bad regex\nid: 6f1c1a52-0000-4000-8000-000000000004\nlogsource:\n    category: proxy\ndetection:\n    selection:\n        c-uri|re: '(unclosed'\n    condition: selection\n";

fn sigma_folder(dir: &Scratch) {
    let s = dir.path("sigma");
    std::fs::create_dir_all(s.join("web")).expect("folder");
    std::fs::write(s.join("web/proxy.yml"), PROXY_RULE).expect("rule");
    std::fs::write(s.join("tls.yaml"), TLS_RULE).expect("rule");
    std::fs::write(s.join("mixed.yml"), DNS_AND_WINDOWS_RULES).expect("rule");
    std::fs::write(s.join("bad.yml"), BAD_YAML).expect("rule");
    std::fs::write(s.join("regex.yml"), BAD_REGEX).expect("rule");
}

#[test]
fn sigma_rules_check_report_golden() {
    let dir = Scratch::new("sigma-check");
    sigma_folder(&dir);
    let out = run_in(&dir.0, &["rules", "check", "--json", "sigma"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!((v["total"].as_u64(), v["loaded"].as_u64()), (Some(6), Some(4)), "{v:#}");
    assert_eq!(v["breakdown"]["network: http events"], 1);
    assert_eq!(v["breakdown"]["host logs: product windows"], 1);
    golden("sigma.rules-check.json", &String::from_utf8_lossy(&out.stdout));
    let text = run_in(&dir.0, &["rules", "check", "sigma"]);
    let t = String::from_utf8_lossy(&text.stdout);
    assert!(t.contains("at sigma/regex.yml: rule `Bad regex`"), "{t}");
}

#[test]
fn sigma_rules_alert_on_http_and_tls_events_in_replay() {
    let dir = Scratch::new("sigma-replay");
    app_capture().write_pcap(&dir.path("app.pcap")).expect("pcap");
    sigma_folder(&dir);
    std::fs::write(dir.path("none.rules"), NO_SIGNATURES).expect("rules");
    let out = run_in(
        &dir.0,
        &["replay", "app.pcap", "--rules", "none.rules", "--sigma", "sigma", "--eve", "eve.json"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sigma: 4 of 6 rules loaded"), "{stderr}");
    let events = eve_lines(&dir.path("eve.json"));
    let alerts: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["event_type"] == "alert" && e["alert"]["gid"] == 9300).collect();
    let names: Vec<&str> = alerts.iter().filter_map(|a| a["alert"]["signature"].as_str()).collect();
    assert_eq!(
        names,
        [
            "SIGMA Login page reached through a dot-encoded path",
            "SIGMA TLS to a provincial mail server name"
        ],
        "{alerts:#?}"
    );
    let web = alerts[0];
    assert_eq!(web["alert"]["severity"], 1, "level high");
    assert_eq!(web["alert"]["metadata"]["sigma_id"][0], "6f1c1a52-0000-4000-8000-000000000001");
    assert_eq!(web["alert"]["metadata"]["sigma_tags"][0], "attack.initial-access");
    assert_eq!(web["http"]["hostname"], "portal.example", "the transaction rides along");
    assert_eq!(alerts[1]["alert"]["severity"], 3, "level low");
    assert_eq!(alerts[1]["tls"]["sni"], "mail.hue.gov.vn");
    let stats = events.iter().rev().find(|e| e["event_type"] == "stats").expect("stats");
    assert_eq!(stats["stats"]["sigma"]["hits"], 2);
    assert_eq!(stats["stats"]["sigma"]["rules"]["http"], 1);
}

/// Two Windows events as `evtx_dump` writes them (pretty objects one after another).
const EVTX_EVENTS: &str = r##"{
  "Event": {
    "System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
               "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "ub-hue-01"},
    "EventData": {"Image": "C:\\Windows\\System32\\whoami.exe", "User": "NT AUTHORITY\\SYSTEM"}
  }
}
{
  "Event": {
    "System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational"},
    "EventData": {"Image": "C:\\Windows\\System32\\whoami.exe", "User": "HUE\\alice"}
  }
}
"##;

#[test]
fn logs_scan_and_regression_data() {
    let dir = Scratch::new("sigma-logs");
    sigma_folder(&dir);
    std::fs::write(dir.path("events.json"), EVTX_EVENTS).expect("events");
    // JSON lines with a broken line between two good ones: the good ones are read.
    let lines = "{\"Channel\": \"Microsoft-Windows-Sysmon/Operational\", \"EventID\": 1, \"Image\": \"C:\\\\x\\\\whoami.exe\", \"User\": \"SYSTEM\"}\n{oops\n{\"Channel\": \"Security\", \"EventID\": 4688, \"NewProcessName\": \"C:\\\\x\\\\whoami.exe\", \"User\": \"SYSTEM\"}\n";
    std::fs::write(dir.path("lines.jsonl"), lines).expect("events");
    let out =
        run_in(&dir.0, &["logs", "scan", "--sigma", "sigma", "--", "events.json", "lines.jsonl"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hits: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line per hit"))
        .collect();
    let at: Vec<(String, u64)> = hits
        .iter()
        .map(|h| {
            (h["file"].as_str().unwrap_or_default().to_string(), h["event"].as_u64().unwrap_or(99))
        })
        .collect();
    assert_eq!(
        at,
        [
            ("events.json".to_string(), 0),
            ("lines.jsonl".to_string(), 0),
            ("lines.jsonl".to_string(), 1)
        ],
        "the SYSTEM whoami events, including Security 4688 through its process-name aliases"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lines.jsonl: lines 2-2: the event is cut short"), "{stderr}");
    assert!(stderr.contains("4 events (0 network, 4 host; 1 unreadable)"), "{stderr}");

    // Regression data in SigmaHQ's layout: one test that holds, one that does not.
    let data = dir.path("regression_data");
    for (name, id, count) in [
        ("ok", "6f1c1a52-0000-4000-8000-000000000003", 1),
        ("wrong", "6f1c1a52-0000-4000-8000-000000000002", 1),
    ] {
        let folder = data.join(name);
        std::fs::create_dir_all(&folder).expect("folder");
        std::fs::write(folder.join("t.json"), EVTX_EVENTS).expect("events");
        let info = format!(
            "id: 1\nrule_metadata:\n    - id: {id}\n      title: {name}\nregression_tests_info:\n    - name: Positive\n      type: evtx\n      match_count: {count}\n      path: regression_data/{name}/t.evtx\n"
        );
        std::fs::write(folder.join("info.yml"), info).expect("info");
    }
    let out = run_in(&dir.0, &["logs", "regression", "--sigma", "sigma", "--", "regression_data"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a failing test fails the command: {stdout}");
    assert!(
        stdout.contains(
            "FAIL 6f1c1a52-0000-4000-8000-000000000002 (wrong) Positive: fired 0 times, expected 1"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("1 of 2 regression tests fire (1 do not)"), "{stdout}");
}

/// A temporal correlation over the two network rules above (GROUP_BY is replaced).
const TEMPORAL: &str = r#"title: Dot-encoded login path and provincial mail TLS
id: 6f1c1a52-0000-4000-8000-000000000010
correlation:
    type: temporal
    rules:
        - 6f1c1a52-0000-4000-8000-000000000001
        - 6f1c1a52-0000-4000-8000-000000000002
GROUP_BY    timespan: 1h
level: critical
"#;

#[test]
fn run_feeds_sensor_sigma_alerts_to_correlation_rules_and_stores_what_fires() {
    let dir = Scratch::new("sigma-run-correlation");
    app_capture().write_pcap(&dir.path("app.pcap")).expect("pcap");
    sigma_folder(&dir);
    std::fs::write(dir.path("none.rules"), NO_SIGNATURES).expect("rules");
    let run = |group_by: &str| {
        std::fs::write(dir.path("sigma/correlation.yml"), TEMPORAL.replace("GROUP_BY", group_by))
            .expect("rule");
        let _ = std::fs::remove_dir_all(dir.path("gatewatch-data"));
        let out = run_in(&dir.0, &["run", "app.pcap", "--rules", "none.rules", "--sigma", "sigma"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let list: serde_json::Value =
            serde_json::from_slice(&run_in(&dir.0, &["incidents", "list", "--json"]).stdout)
                .expect("JSON");
        let titles: Vec<String> = list
            .as_array()
            .expect("array")
            .iter()
            .flat_map(|i| {
                let o = run_in(&dir.0, &["incidents", "show", &i["id"].to_string(), "--json"]);
                let d: serde_json::Value = serde_json::from_slice(&o.stdout).expect("incident");
                d["alerts"].as_array().cloned().unwrap_or_default()
            })
            .filter_map(|a| a["signature"].as_str().map(str::to_string))
            .collect();
        (String::from_utf8_lossy(&out.stderr).into_owned(), titles)
    };
    // The proxy hit comes from 10.20.1.5, the TLS hit from 10.20.1.6: both within the
    // hour, so the ungrouped correlation fires once, beside the two hits it joins.
    let (stderr, titles) = run("");
    assert!(stderr.contains("correlator: 3 alerts ("), "{stderr}");
    let joined = titles.iter().filter(|t| t.contains("Dot-encoded login path and provincial"));
    assert_eq!(joined.count(), 1, "{titles:?}");
    // Grouped by client it stays silent: no one client did both.
    let (stderr, titles) = run("    group-by:\n        - src_ip\n");
    assert!(stderr.contains("correlator: 2 alerts ("), "{stderr} {titles:?}");
}
