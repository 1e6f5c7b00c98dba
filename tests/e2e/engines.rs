//! The engines besides signatures, end to end through `gatewatch replay`: YARA on
//! extracted files and stream chunks.

use super::common::{eve_lines, run_in, Scratch};
use super::golden::app_capture;

const NO_SIGNATURES: &str =
    "alert tcp any any -> any any (msg:\"never\"; content:\"no such bytes here\"; sid:1;)\n";

const YARA_GOOD: &str = r#"
rule Exe_Attachment : mail pe {
  meta:
    description = "Windows executable named .exe"
    score = 80
  condition:
    uint16(0) == 0x5A4D and extension == "exe" and filetype contains "PE32"
}
"#;

const YARA_STREAM: &str = r#"
rule Encoded_Login_Path {
  meta:
    severity = "low"
  strings:
    $a = "login%2ephp"
  condition:
    $a
}
"#;

// Line 5 refers to a string that is not defined.
const YARA_BAD: &str = "rule Fine { condition: true and filesize > 1000000000 }\n\nrule Broken {\n  condition:\n    $missing\n}\n";

fn yara_folder(dir: &Scratch) -> std::path::PathBuf {
    let y = dir.path("yara");
    std::fs::create_dir_all(y.join("mail")).expect("folder");
    std::fs::write(y.join("mail/attachments.yar"), YARA_GOOD).expect("rule");
    std::fs::write(y.join("web.yara"), YARA_STREAM).expect("rule");
    std::fs::write(y.join("broken.yar"), YARA_BAD).expect("rule");
    std::fs::write(y.join("index.yar"), "include \"./web.yara\"\n").expect("rule");
    y
}

#[test]
fn yara_matches_files_and_streams_as_alerts() {
    let dir = Scratch::new("yara-replay");
    app_capture().write_pcap(&dir.path("app.pcap")).expect("pcap");
    yara_folder(&dir);
    std::fs::write(dir.path("none.rules"), NO_SIGNATURES).expect("rules");
    let out = run_in(
        &dir.0,
        &["replay", "app.pcap", "--rules", "none.rules", "--yara", "yara", "--eve", "eve.json"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("yara: 3 rules from 2 of 3 files"), "{stderr}");
    let events = eve_lines(&dir.path("eve.json"));
    let alerts: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["event_type"] == "alert").collect();
    let mut names: Vec<&str> =
        alerts.iter().map(|a| a["alert"]["signature"].as_str().unwrap_or("")).collect();
    // The stream's scan comes when its bytes are acknowledged or the flow ends: the
    // order of the two findings says nothing.
    names.sort();
    assert_eq!(
        names,
        [
            "YARA mail.attachments:Exe_Attachment — Windows executable named .exe",
            "YARA web:Encoded_Login_Path",
        ],
        "the HTTP body (MZ, but /auth is not .exe) does not match; the stream rule fires once"
    );
    for a in &alerts {
        assert_eq!(a["alert"]["gid"], 9100);
    }
    let by_name = |n: &str| {
        alerts
            .iter()
            .copied()
            .find(|a| a["alert"]["signature"].as_str().is_some_and(|s| s.contains(n)))
            .unwrap_or_else(|| panic!("no alert {n}"))
    };
    // The stream chunk: client to server of the HTTP flow.
    let web = by_name("Encoded_Login_Path");
    assert_eq!(web["src_ip"], "10.20.1.5");
    assert_eq!(web["dest_port"], 80);
    assert_eq!(web["direction"], "to_server");
    assert_eq!(web["alert"]["severity"], 3);
    // The attachment: the file, named, with its hashes; from the mail client.
    let mail = by_name("Exe_Attachment");
    assert_eq!(mail["fileinfo"]["filename"], "baocao.exe");
    assert_eq!(mail["fileinfo"]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(mail["src_ip"], "10.20.1.8");
    assert_eq!(mail["app_proto"], "smtp");
    assert_eq!(mail["alert"]["severity"], 1);
    assert_eq!(mail["alert"]["metadata"]["yara_tags"], serde_json::json!(["mail", "pe"]));
    let st = &events.iter().find(|e| e["event_type"] == "stats").expect("stats")["stats"];
    assert_eq!(st["yara"]["files"], 3, "two HTTP bodies and the attachment: {st}");
    assert_eq!(st["yara"]["matches"], 2);
    assert!(st["yara"]["streams"].as_u64().unwrap_or(0) >= 7, "{st}");
}

#[test]
fn yara_stream_scanning_can_be_turned_off() {
    let dir = Scratch::new("yara-off");
    app_capture().write_pcap(&dir.path("app.pcap")).expect("pcap");
    yara_folder(&dir);
    std::fs::write(dir.path("none.rules"), NO_SIGNATURES).expect("rules");
    let out = run_in(
        &dir.0,
        &[
            "replay",
            "app.pcap",
            "--rules",
            "none.rules",
            "--yara",
            "yara",
            "--eve",
            "eve.json",
            "--set",
            "yara.stream_depth=0",
            "--set",
            "yara.scan_files=false",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events = eve_lines(&dir.path("eve.json"));
    assert!(events.iter().all(|e| e["event_type"] != "alert"));
    let st = &events.iter().find(|e| e["event_type"] == "stats").expect("stats")["stats"];
    assert_eq!((st["yara"]["files"].as_u64(), st["yara"]["streams"].as_u64()), (Some(0), Some(0)));
}

#[test]
fn rules_check_reports_yara_files_with_line_and_reason() {
    let dir = Scratch::new("yara-check");
    yara_folder(&dir);
    let out = run_in(&dir.0, &["rules", "check", "yara", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(r["unit"], "YARA files");
    assert_eq!((r["total"].as_u64(), r["loaded"].as_u64()), (Some(3), Some(2)));
    assert_eq!(r["disabled"], 1, "the index file");
    assert_eq!(r["compiled_rules"], 3, "Fine compiled before the error, plus the two good files");
    let s = &r["skipped_rules"][0];
    assert_eq!(s["file"], "yara/broken.yar");
    assert_eq!(s["line"], 5);
    assert!(s["message"].as_str().unwrap_or("").contains("missing"), "{s}");

    // Signatures and YARA together: one report each.
    std::fs::write(dir.path("a.rules"), NO_SIGNATURES).expect("rules");
    let out = run_in(&dir.0, &["rules", "check", "a.rules", "yara"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("== signatures\n1 rules read"), "{text}");
    assert!(
        text.contains("== yara\n3 YARA files read (1 disabled not counted): 2 loaded"),
        "{text}"
    );
    assert!(text.contains("at yara/broken.yar:5:"), "{text}");
}

#[test]
fn indicator_lists_match_flows_names_urls_and_file_hashes() {
    let dir = Scratch::new("ioc-replay");
    app_capture().write_pcap(&dir.path("app.pcap")).expect("pcap");
    std::fs::write(dir.path("none.rules"), NO_SIGNATURES).expect("rules");
    // First pass: learn the attachment's hash from its fileinfo record.
    let out =
        run_in(&dir.0, &["replay", "app.pcap", "--rules", "none.rules", "--eve", "first.json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let first = eve_lines(&dir.path("first.json"));
    let sha = first
        .iter()
        .find(|e| e["fileinfo"]["filename"] == "baocao.exe")
        .and_then(|e| e["fileinfo"]["sha256"].as_str())
        .expect("attachment hash")
        .to_string();

    std::fs::create_dir_all(dir.path("lists")).expect("folder");
    std::fs::write(
        dir.path("lists/c2.txt"),
        "# C2 servers\n192.0.2.43 # mail relay abused\n*.hue.gov.vn\nthis is not one\n",
    )
    .expect("list");
    std::fs::write(
        dir.path("lists/misp.csv"),
        format!(
            "uuid,type,value,comment,to_ids\n1,url,http://portal.example/auth,credential phishing,1\n\
             2,filename|sha256,baocao.exe|{sha},dropper,1\n3,domain,portal.example,,0\n"
        ),
    )
    .expect("list");
    let out = run_in(
        &dir.0,
        &["replay", "app.pcap", "--rules", "none.rules", "--ioc", "lists", "--eve", "eve.json"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ioc: 4 indicators in 2 lists (1 lines not indicators"), "{stderr}");
    let events = eve_lines(&dir.path("eve.json"));
    let alerts: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["event_type"] == "alert").collect();
    let mut seen: Vec<(String, String)> = alerts
        .iter()
        .map(|a| {
            assert_eq!(a["alert"]["gid"], 9200);
            (
                a["alert"]["signature"].as_str().unwrap_or("").to_string(),
                a["alert"]["metadata"]["ioc_field"][0].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    seen.sort();
    let expected: Vec<(String, String)> = [
        ("IOC c2: domain *.hue.gov.vn", "tls.sni"),
        ("IOC c2: ip 192.0.2.43", "flow.dest_ip"),
        (&*format!("IOC misp: sha256 {sha}"), "fileinfo.sha256"),
        ("IOC misp: url http://portal.example/auth", "http.url"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(seen, expected);
    let ip = alerts.iter().find(|a| a["alert"]["metadata"]["ioc_kind"][0] == "ip").expect("ip");
    assert_eq!(ip["alert"]["source"]["ip"], "192.0.2.43");
    assert_eq!(ip["alert"]["target"]["ip"], "10.20.1.6");
    assert_eq!(ip["alert"]["metadata"]["ioc_comment"][0], "mail relay abused");
    let url = alerts.iter().find(|a| a["alert"]["metadata"]["ioc_kind"][0] == "url").expect("url");
    assert_eq!(url["http"]["url"], "/auth", "the alert carries its transaction");
    let st = &events.iter().find(|e| e["event_type"] == "stats").expect("stats")["stats"];
    assert_eq!(st["ioc"]["hits"], 4);

    let out = run_in(&dir.0, &["rules", "check", "lists"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("5 indicators read (0 disabled not counted): 4 loaded"), "{text}");
    assert!(text.contains("at lists/c2.txt:4: `this is not one`"), "{text}");
}
