//! The commands as a user runs them.

use super::common::{golden, run_in, Scratch};
use std::path::Path;

#[test]
fn demo_builds_incidents_that_later_commands_see() {
    let dir = Scratch::new("demo");
    let out = run_in(&dir.0, &["demo", "--no-console"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("GW-DEMO SSH brute force"), "{text}");
    assert!(dir.path("gatewatch-data/gatewatch.db").exists());
    assert!(dir.path("gatewatch-data/demo/demo.pcap").exists());

    let list = run_in(&dir.0, &["incidents", "list", "--json"]);
    assert!(list.status.success());
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON array");
    let arr = v.as_array().expect("array");
    // One incident per asset attacked or compromised (the entity), from the inventory.
    let by_entity = |e: &str| {
        arr.iter().find(|i| i["entity"] == e).unwrap_or_else(|| panic!("no incident of {e}: {v:#}"))
    };
    assert_eq!(arr.len(), 3, "{v:#}");
    let portal = by_entity("10.46.10.20");
    assert_eq!(portal["agency"], "so-tai-chinh");
    assert_eq!(portal["system"], "Cổng thông tin điện tử");
    assert_eq!(portal["alert_count"], 8, "scan 4, Log4j 2, traversal 1, ICMP 1");
    assert_eq!(portal["tactics"], serde_json::json!(["TA0043", "TA0001"]));
    let ssh = by_entity("10.46.20.22");
    assert_eq!(ssh["alert_count"], 20, "SSH: 30 logins, detection_filter after 10");
    assert_eq!(ssh["security_level"], 4);
    let ws = by_entity("10.46.120.15");
    assert_eq!(ws["alert_count"], 10, "DNS 4, TLS 5, download 1");
    assert_eq!(ws["rsit"], "malicious-code");
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
    let rules_of = |id: &serde_json::Value| {
        let show = run_in(&dir.0, &["incidents", "show", &id.to_string(), "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&show.stdout).expect("JSON");
        v
    };
    let detail = rules_of(&portal["id"]);
    let count_of = |d: &serde_json::Value, sid: u64| {
        d["rules"]
            .as_array()
            .and_then(|r| r.iter().find(|x| x["sid"] == sid))
            .map(|x| x["alerts"].clone())
    };
    assert_eq!(count_of(&detail, 9000001), Some(4.into()), "scan: 200 SYNs, threshold every 50");
    assert_eq!(count_of(&detail, 9000003), Some(2.into()));
    let detail = rules_of(&ws["id"]);
    assert_eq!(count_of(&detail, 9000005), Some(4.into()));
    assert_eq!(count_of(&detail, 9000006), Some(5.into()));
    let download = detail["alerts"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["sid"] == 9000007))
        .expect("download alert");
    assert_eq!(download["src_ip"], "203.0.113.99");
    assert_eq!(rules_of(&ssh["id"])["alerts"].as_array().map(|a| a.len()), Some(20));

    // Running it again starts from a fresh store: same incidents, not twice as many.
    assert!(run_in(&dir.0, &["demo", "--no-console"]).status.success());
    let again: serde_json::Value =
        serde_json::from_slice(&run_in(&dir.0, &["incidents", "list", "--json"]).stdout)
            .expect("JSON");
    assert_eq!(again.as_array().map(|a| a.len()), Some(3));
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
alert modbus any any -> any any (msg:"app proto"; content:"x"; sid:102; rev:1;)
alert tcp any any -> any any (msg:"sticky buffer"; pgsql.query; content:"x"; sid:103; rev:1;)
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

/// Hardening finding 11: started under a permissive umask (000), everything `gatewatch
/// demo` writes (the store with its password hashes and sessions, reports, the demo's
/// capture and EVE) is its own: no file or folder readable or writable by others.
#[test]
fn finding_11_files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Scratch::new("umask");
    let bin = env!("CARGO_BIN_EXE_gatewatch");
    let out = std::process::Command::new("sh")
        .current_dir(&dir.0)
        .args(["-c", "umask 000 && exec \"$0\" demo --no-console", bin])
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut seen = 0;
    let mut stack = vec![dir.path("gatewatch-data")];
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p).expect("metadata");
        let mode = meta.permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", p.display());
        seen += 1;
        if meta.is_dir() {
            stack.extend(std::fs::read_dir(&p).expect("list").map(|e| e.expect("entry").path()));
        }
    }
    assert!(seen > 5, "{seen} paths");
    assert!(dir.path("gatewatch-data/gatewatch.db").exists());
}

/// Hardening finding 12: an impossible worker count is refused up front naming the key;
/// rules of which none loads stop `run` (a sensor would watch nothing) and make
/// `replay` say so; a capture of a link type that is not decoded is named.
#[test]
fn finding_12_what_cannot_work_is_said_up_front() {
    let dir = Scratch::new("minor");
    let mut cap = gatewatch_sensor::synth::Capture::default();
    cap.add(gatewatch_sensor::synth::TcpSession::demo_pair().into_frames());
    cap.write_pcap(&dir.path("x.pcap")).expect("pcap");
    std::fs::write(dir.path("bad.rules"), "alert tcp any any -> any any (nosuchkeyword; sid:1;)\n")
        .expect("rules");
    std::fs::write(
        dir.path("ok.rules"),
        "alert tcp any any -> any any (content:\"GET\"; sid:2;)\n",
    )
    .expect("rules");
    let err = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();
    let out = run_in(
        &dir.0,
        &[
            "replay",
            "x.pcap",
            "--rules",
            "ok.rules",
            "--eve",
            "e.json",
            "--set",
            "capture.workers=100000",
        ],
    );
    assert!(
        !out.status.success()
            && err(&out).contains("`capture.workers`: 100000 is out of range (1 to 256)"),
        "{}",
        err(&out)
    );
    let out = run_in(&dir.0, &["run", "--rules", "bad.rules", "--", "x.pcap"]);
    assert!(!out.status.success(), "{}", err(&out));
    assert!(
        err(&out).contains("none of the 1 rules in bad.rules loads")
            && err(&out).contains("bad.rules:1"),
        "{}",
        err(&out)
    );
    let out = run_in(&dir.0, &["replay", "x.pcap", "--rules", "bad.rules", "--eve", "eve.json"]);
    assert!(out.status.success() && err(&out).contains("nothing will alert"), "{}", err(&out));
    // Link type 147 (USER0): every packet is invalid, and the reason is named.
    let mut pcap = std::fs::read(dir.path("x.pcap")).expect("pcap");
    pcap[20..24].copy_from_slice(&147u32.to_le_bytes());
    std::fs::write(dir.path("user0.pcap"), pcap).expect("pcap");
    let out =
        run_in(&dir.0, &["replay", "user0.pcap", "--rules", "ok.rules", "--eve", "eve2.json"]);
    assert!(out.status.success(), "{}", err(&out));
    assert!(err(&out).contains("link type 147 is not one Gatewatch decodes"), "{}", err(&out));
}

/// `docs/reference/configuration.md` names every key `gatewatch config show` prints, in
/// the row of its section (`| \`section\` | ... \`key\` ... |`); a subsection
/// (`vars.address_groups`, `response.actions`, `report.deadlines`) has a row of its own.
#[test]
fn every_configuration_key_is_documented() {
    let dir = Scratch::new("config-doc");
    let show = run_in(&dir.0, &["config", "show"]);
    assert!(show.status.success(), "{}", String::from_utf8_lossy(&show.stderr));
    let config: toml::Table =
        String::from_utf8_lossy(&show.stdout).parse().expect("`config show` prints TOML");
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference/configuration.md");
    let doc = std::fs::read_to_string(&doc_path).expect("docs/reference/configuration.md");
    let row = |section: &str| -> Option<&str> {
        let head = format!("| `{section}` |");
        doc.lines().find(|l| l.starts_with(&head))
    };
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut sections: Vec<String> = Vec::new();
    for (name, value) in &config {
        let toml::Value::Table(table) = value else {
            panic!("`config show` has a top-level key `{name}` outside a section");
        };
        sections.push(name.clone());
        for (key, value) in table {
            match value {
                toml::Value::Table(sub) => {
                    let sub_name = format!("{name}.{key}");
                    sections.push(sub_name.clone());
                    keys.extend(sub.keys().map(|k| (sub_name.clone(), k.clone())));
                }
                toml::Value::Array(items)
                    if items.iter().all(|i| i.is_table()) && !items.is_empty() =>
                {
                    let sub_name = format!("{name}.{key}");
                    sections.push(sub_name.clone());
                    keys.push((name.clone(), key.clone()));
                    for item in items.iter().filter_map(|i| i.as_table()) {
                        keys.extend(item.keys().map(|k| (sub_name.clone(), k.clone())));
                    }
                }
                _ => keys.push((name.clone(), key.clone())),
            }
        }
    }
    // Keys without a default are listed after the table, as comments.
    let text = String::from_utf8_lossy(&show.stdout).into_owned();
    let (_, unset) = text
        .split_once("# Keys without a default (unset unless given):")
        .expect("`config show` lists the keys without a default");
    for line in unset.lines().filter_map(|l| l.trim().strip_prefix("#")).map(str::trim) {
        if let Some((section, key)) = line.rsplit_once('.') {
            keys.push((section.to_string(), key.to_string()));
        }
    }
    assert!(keys.iter().any(|(s, k)| s == "elasticsearch" && k == "password_file"), "{keys:?}");
    let missing_sections: Vec<&String> = sections.iter().filter(|s| row(s).is_none()).collect();
    assert!(
        missing_sections.is_empty(),
        "sections without a row in {}: {missing_sections:?}",
        doc_path.display()
    );
    let undocumented: Vec<String> = keys
        .iter()
        .filter(|(s, k)| {
            // A vars group or a named list is the user's own name, not a key of ours.
            let users_own =
                s.starts_with("vars.") || s == "response.allowlists" || s == "response.actions";
            !users_own && !row(s).is_some_and(|r| r.contains(&format!("`{k}`")))
        })
        .map(|(s, k)| format!("{s}.{k}"))
        .collect();
    assert!(
        sections.len() > 20 && keys.len() > 120,
        "{} sections, {} keys read",
        sections.len(),
        keys.len()
    );
    assert!(undocumented.is_empty(), "keys not in {}: {undocumented:?}", doc_path.display());
}
