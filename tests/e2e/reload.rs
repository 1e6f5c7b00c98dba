//! Rule reloads under load: a capture streamed through a FIFO into `gatewatch replay
//! --reload` while `gatewatch rules reload` swaps the rules in 20 times (and is refused
//! once). No packet is lost and the alerts are those of a run without reloads, including
//! alerts that depend on flowbits and thresholds set before a reload.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddrV4;
use std::process::Stdio;

use gatewatch_sensor::synth::{Capture, TcpSession};

use super::common::{eve_lines, gatewatch, run_in, Scratch};

const RULES: &str = r#"alert tcp any any -> any any (msg:"login seen"; content:"LOGIN"; flowbits:set,auth; flowbits:noalert; sid:1;)
alert tcp any any -> any any (msg:"secret after login"; flowbits:isset,auth; content:"secret"; sid:2;)
alert tcp any any -> any any (msg:"server OK, five per server"; content:"OK"; threshold:type limit, track by_src, count 5, seconds 3600; sid:3;)
alert tcp any any -> any any (msg:"GET"; content:"GET /"; sid:4;)
alert tcp any any -> any any (msg:"one per flow"; content:"bye"; threshold:type limit, track by_flow, count 1, seconds 3600; sid:5;)
"#;

/// The same rules in another order behind a rule with a flowbit of its own (that never
/// matches): every rule and flowbit index differs, so flow state must be carried over by
/// sid and flowbit name for the alerts to stay the same.
fn reordered_rules() -> String {
    let mut lines: Vec<&str> = RULES.lines().collect();
    lines.reverse();
    let mut out = String::from("alert tcp any any -> any any (msg:\"never\"; content:\"NEVER-SEEN\"; flowbits:set,other; sid:99;)\n");
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// 1,200 sessions overlapping in time: login, reply, request for a secret, goodbyes.
fn long_capture() -> Capture {
    let mut cap = Capture::default();
    for i in 0..1200u32 {
        let client = SocketAddrV4::new(
            [10, 30, (i / 250) as u8, (i % 250) as u8 + 1].into(),
            40000 + (i % 20000) as u16,
        );
        let server = SocketAddrV4::new([192, 0, 2, (i % 4) as u8 + 10].into(), 8080);
        let mut s = TcpSession::new(client, server, 1_800_000_000_000_000 + i as i64 * 300);
        s.handshake()
            .client_send(b"LOGIN user\r\n")
            .server_send(b"OK\r\n")
            .client_send(b"GET /secret HTTP/1.0\r\n\r\n")
            .client_send(b"bye")
            .client_send(b"bye")
            .close();
        cap.add(s.into_frames());
    }
    cap
}

fn alerts_by_sid(path: &std::path::Path) -> (BTreeMap<u64, usize>, serde_json::Value) {
    let events = eve_lines(path);
    let mut by = BTreeMap::new();
    for e in events.iter().filter(|e| e["event_type"] == "alert") {
        *by.entry(e["alert"]["signature_id"].as_u64().unwrap_or(0)).or_insert(0) += 1;
    }
    let stats =
        events.iter().rev().find(|e| e["event_type"] == "stats").expect("stats record").clone();
    (by, stats)
}

#[test]
fn twenty_reloads_during_a_capture_change_nothing() {
    let dir = Scratch::new("reload");
    let pcap = long_capture().to_pcap_bytes();
    std::fs::write(dir.path("long.pcap"), &pcap).expect("pcap");
    std::fs::write(dir.path("r.rules"), RULES).expect("rules");

    let base = run_in(&dir.0, &["replay", "long.pcap", "--rules", "r.rules", "--eve", "base.json"]);
    assert!(base.status.success(), "{}", String::from_utf8_lossy(&base.stderr));
    let (want, base_stats) = alerts_by_sid(&dir.path("base.json"));
    assert_eq!(want.get(&2), Some(&1200), "every session's secret follows its login: {want:?}");
    assert_eq!(want.get(&3), Some(&20), "five per server, four servers: {want:?}");

    let status =
        std::process::Command::new("mkfifo").arg(dir.path("live.pcap")).status().expect("mkfifo");
    assert!(status.success());
    let child = gatewatch()
        .current_dir(&dir.0)
        .args([
            "replay",
            "live.pcap",
            "--rules",
            "r.rules",
            "--reload",
            "--set",
            "control.dir=ctl",
            "--eve",
            "live.json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("replay starts");
    // Opening blocks until the replay opens its end, after it wrote its pid file.
    let mut fifo =
        std::fs::OpenOptions::new().write(true).open(dir.path("live.pcap")).expect("fifo");
    let chunks: Vec<&[u8]> = pcap.chunks(pcap.len() / 21 + 1).collect();
    assert_eq!(chunks.len(), 21);
    let reload = |expect_ok: bool| {
        let out =
            run_in(&dir.0, &["rules", "reload", "--set", "control.dir=ctl", "--timeout", "60"]);
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.success(), expect_ok, "{text}");
        text
    };
    for (i, chunk) in chunks.iter().enumerate() {
        fifo.write_all(chunk).expect("write capture");
        fifo.flush().expect("flush");
        if i == 20 {
            break;
        }
        if i == 10 {
            // A set that cannot load is refused and the running one stays.
            std::fs::rename(dir.path("r.rules"), dir.path("r.rules.off")).expect("rename");
            let text = reload(false);
            assert!(text.contains("reload FAILED") && text.contains("r.rules"), "{text}");
            assert!(text.contains("stay in use"), "{text}");
            std::fs::rename(dir.path("r.rules.off"), dir.path("r.rules")).expect("rename");
        }
        let (rules, count) = if i % 2 == 0 {
            (reordered_rules(), "6 signatures")
        } else {
            (RULES.to_string(), "5 signatures")
        };
        std::fs::write(dir.path("r.rules"), rules).expect("rules");
        let text = reload(true);
        assert!(text.contains("reloaded in") && text.contains(count), "{text}");
    }
    drop(fifo);
    let out = child.wait_with_output().expect("replay ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.matches("rules reloaded, generation").count(), 20, "{stderr}");
    assert!(!dir.path("ctl/sensor.pid").exists(), "the pid file goes with the process");

    let (got, stats) = alerts_by_sid(&dir.path("live.json"));
    assert_eq!(got, want, "alerts with 20 reloads equal those without");
    let pkts = |s: &serde_json::Value| s["stats"]["decoder"]["pkts"].as_u64();
    assert_eq!(pkts(&stats), pkts(&base_stats), "no packet lost");
    assert_eq!(stats["stats"]["detect"]["rules_generation"], 21);
    let reloads = stats["stats"]["detect"]["reloads"].as_u64().unwrap_or(0);
    assert!((1..=20).contains(&reloads), "swaps applied between packets: {reloads}");
}

#[test]
fn reload_without_a_running_process_says_so() {
    let dir = Scratch::new("reload-none");
    let out = run_in(&dir.0, &["rules", "reload", "--set", "control.dir=nowhere"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no running Gatewatch process accepts reloads here"), "{err}");
}
