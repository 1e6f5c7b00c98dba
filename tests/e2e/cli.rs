//! The commands as a user runs them.

use super::common::{golden, run_in, Scratch};

#[test]
fn demo_builds_incidents_that_later_commands_see() {
    let dir = Scratch::new("demo");
    let out = run_in(&dir.0, &["demo"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("GW-DEMO SSH brute force"), "{text}");
    assert!(dir.path("gatewatch-data/gatewatch.db").exists());
    assert!(dir.path("gatewatch-data/demo/demo.pcap").exists());

    let list = run_in(&dir.0, &["incidents", "list", "--json"]);
    assert!(list.status.success());
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON array");
    let arr = v.as_array().expect("array");
    let by_sid = |sid: u64| {
        arr.iter().find(|i| i["sid"] == sid).unwrap_or_else(|| panic!("no incident for sid {sid}"))
    };
    assert_eq!(arr.len(), 8);
    assert_eq!(by_sid(9000001)["alert_count"], 4, "scan: 200 SYNs, threshold every 50");
    assert_eq!(by_sid(9000002)["alert_count"], 20, "SSH: 30 logins, detection_filter after 10");
    assert_eq!(by_sid(9000003)["alert_count"], 2);
    assert_eq!(by_sid(9000005)["alert_count"], 4);
    assert_eq!(by_sid(9000006)["alert_count"], 5);
    assert_eq!(by_sid(9000007)["src_ip"], "203.0.113.99");
    for i in arr {
        for key in [
            "id",
            "title",
            "severity",
            "score",
            "status",
            "agency",
            "alert_count",
            "first_seen",
            "last_seen",
        ] {
            assert!(i.get(key).is_some(), "incident lacks `{key}`: {i}");
        }
    }
    let id = by_sid(9000002)["id"].as_i64().expect("id").to_string();
    let show = run_in(&dir.0, &["incidents", "show", &id, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).expect("JSON");
    assert_eq!(v["alerts"].as_array().map(|a| a.len()), Some(20));

    // Running it again starts from a fresh store: same incidents, not twice as many.
    assert!(run_in(&dir.0, &["demo"]).status.success());
    let again: serde_json::Value =
        serde_json::from_slice(&run_in(&dir.0, &["incidents", "list", "--json"]).stdout)
            .expect("JSON");
    assert_eq!(again.as_array().map(|a| a.len()), Some(8));
}

#[test]
fn incidents_without_a_store_says_what_to_do() {
    let dir = Scratch::new("nostore");
    let out = run_in(&dir.0, &["incidents", "list"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("gatewatch demo"));
}

const MIXED_RULES: &str = r#"# a project-written rule file exercising every kind of load failure
alert tcp any any -> any any (msg:"fine"; content:"abc"; sid:100; rev:1;)
#alert tcp any any -> any any (msg:"disabled"; content:"abc"; sid:101; rev:1;)
alert smb any any -> any any (msg:"app proto"; content:"x"; sid:102; rev:1;)
alert tcp any any -> any any (msg:"sticky buffer"; sip.method; content:"x"; sid:103; rev:1;)
alert tcp any any -> any any (msg:"unknown word"; frobnicate:1; sid:104; rev:1;)
alert tcp any any -> any any (msg:"bad pcre"; pcre:"/(unclosed/"; sid:105; rev:1;)
alert tcp any any -> any (msg:"short header"; sid:106; rev:1;)
alert tcp $NOPE any -> any any (msg:"undefined var"; sid:107; rev:1;)
alert tcp any any -> any any (msg:"no sid"; content:"x";)
alert tcp any any -> any any (msg:"bad classtype"; classtype:made-up; sid:108; rev:1;)
alert tcp any any -> any any (msg:"dup"; content:"abc"; sid:100; rev:1;)
alert tcp any any -> any any (msg:"multi \
line"; content:"|0d 0a|"; \
sid:109; rev:1;)
"#;

#[test]
fn rules_check_report_golden() {
    let dir = Scratch::new("rulescheck");
    std::fs::write(dir.path("mixed.rules"), MIXED_RULES).expect("write");
    let out = run_in(&dir.0, &["rules", "check", "--json", "mixed.rules"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["total"], 11);
    assert_eq!(v["loaded"], 2);
    assert_eq!(v["disabled"], 1);
    assert_eq!(v["skipped"], 9);
    golden("mixed.rules-check.json", &String::from_utf8_lossy(&out.stdout));
    let text = run_in(&dir.0, &["rules", "check", "mixed.rules"]);
    let t = String::from_utf8_lossy(&text.stdout);
    assert!(t.contains("sid 104 at mixed.rules:6: unknown keyword `frobnicate`"), "{t}");
    let missing = run_in(&dir.0, &["rules", "check", "nope.rules"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stdout).contains("cannot read `nope.rules`"));
}

#[test]
fn config_check_names_the_bad_key() {
    let dir = Scratch::new("config");
    std::fs::write(dir.path("good.toml"), "[flow]\nmax_flows = 1000\n[stream]\nmidstream = true\n")
        .expect("write");
    std::fs::write(dir.path("bad.toml"), "[flow]\nmax_flows = 1000\ntcp_establised_timeout = 5\n")
        .expect("write");
    std::fs::write(dir.path("broken.toml"), "[flow\n").expect("write");
    let ok = run_in(&dir.0, &["config", "check", "good.toml"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let bad = run_in(&dir.0, &["config", "check", "bad.toml"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("tcp_establised_timeout"), "{err}");
    let broken = run_in(&dir.0, &["config", "check", "broken.toml"]);
    assert!(!broken.status.success());
    assert!(String::from_utf8_lossy(&broken.stderr).contains("broken.toml"));
    let show = run_in(&dir.0, &["config", "show"]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(text.contains("[flow]") && text.contains("max_flows = 262144"), "{text}");
}
