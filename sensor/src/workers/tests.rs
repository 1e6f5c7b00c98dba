use std::collections::BTreeMap;
use std::sync::Arc;

use gatewatch_rules::engine::{Limits, RuleSet};
use gatewatch_rules::load_report::LoadReport;
use gatewatch_rules::signature::{file, Vars};
use serde_json::json;

use super::*;
use crate::output::AlertCollector;
use crate::replay::replay_files;
use crate::synth::{self, demo};

fn demo_rules() -> Detection {
    let mut sigs = Vec::new();
    let mut vars = Vars::default();
    vars.addresses.insert("HOME_NET".into(), demo::HOME_NET.into());
    file::load_text(demo::RULES, "demo.rules", &vars, &mut sigs, &mut LoadReport::default());
    Arc::new(RuleSet::build(sigs, Limits::default())).into()
}

fn demo_pcap(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("gw-workers-{name}-{}.pcap", std::process::id()));
    demo::capture().write_pcap(&p).expect("pcap");
    p
}

/// Alerts by (sid, source, destination).
fn alerts_by_rule(alerts: &[AlertEvent]) -> BTreeMap<(u32, String, String), usize> {
    let mut m = BTreeMap::new();
    for a in alerts {
        let key = (a.alert.signature_id, a.src_ip.clone(), a.dest_ip.clone());
        *m.entry(key).or_insert(0) += 1;
    }
    m
}

#[test]
fn both_directions_of_a_flow_hash_alike() {
    let state = FlowHasher::new();
    let frames = synth::TcpSession::demo_pair().into_frames();
    let hashes: Vec<u64> =
        frames.iter().map(|(ts, f)| flow_hash(&state, &synth::frame(*ts, f))).collect();
    assert!(hashes.iter().all(|h| *h == hashes[0]), "{hashes:?}");
    // Another client port is another flow: over many, both of two workers get some.
    let mut per_worker = [0usize; 2];
    for port in 40_000..40_064u16 {
        let s = synth::TcpSession::new(
            format!("10.0.0.1:{port}").parse().expect("addr"),
            "10.0.0.2:80".parse().expect("addr"),
            0,
        );
        let mut s = s;
        s.handshake();
        let (ts, f) = &s.frames()[0];
        per_worker[(flow_hash(&state, &synth::frame(*ts, f)) % 2) as usize] += 1;
    }
    assert!(per_worker.iter().all(|n| *n >= 16), "{per_worker:?}");
}

#[test]
fn two_workers_raise_the_alerts_of_one_and_count_the_same() {
    let pcap = demo_pcap("same");
    let run = |workers: usize| {
        let mut cfg = SensorConfig::default();
        cfg.capture.workers = workers;
        let mut out = AlertCollector::default();
        let s =
            replay_files(&[&pcap], cfg, demo_rules(), &mut out, None, |_, _| {}).expect("replay");
        (s, out.alerts)
    };
    let (one, one_alerts) = run(1);
    let (two, two_alerts) = run(2);
    let _ = std::fs::remove_file(&pcap);
    assert!(!one_alerts.is_empty());
    // Thresholds by source (the SYN sweep over 200 flows, the SSH logins) are shared
    // between workers, so the counts match, not only the single-flow rules.
    assert_eq!(alerts_by_rule(&one_alerts), alerts_by_rule(&two_alerts));
    assert_eq!(two.workers, 2);
    for k in ["decoder.pkts", "decoder.bytes", "flow.total", "flow.tcp", "detect.alert"] {
        assert_eq!(one.counter(k), two.counter(k), "{k}");
    }
    assert_eq!(two.stats["detect"]["rules_loaded"], one.stats["detect"]["rules_loaded"]);
    assert_eq!(two.stats["capture"]["files"], 1);
    // Every flow was placed by load (the pin table never filled), one pin per flow
    // hash: at least as many as the flows, which share no hash here.
    assert!(two.counter("capture.flows_by_load") >= one.counter("flow.total"), "{:?}", two.stats);
    assert_eq!(two.counter("capture.flows_by_hash"), 0);
    // Rules without thresholds alert on the same packets: `pcap_cnt` keeps the
    // capture's numbering whichever worker saw the packet.
    let numbers = |alerts: &[AlertEvent]| {
        let mut v: Vec<(u32, Option<u64>)> = alerts
            .iter()
            .filter(|a| (9_000_003..=9_000_007).contains(&a.alert.signature_id))
            .map(|a| (a.alert.signature_id, a.pcap_cnt))
            .collect();
        v.sort_unstable();
        v
    };
    assert!(!numbers(&one_alerts).is_empty());
    assert_eq!(numbers(&one_alerts), numbers(&two_alerts));
}

#[test]
fn stats_add_up_except_times_and_rule_counts() {
    let a = json!({"uptime": 10, "decoder": {"pkts": 5, "event": {"ipv4": {"trunc": 1}}},
                   "detect": {"rules_loaded": 7, "alert": 2},
                   "sigma": {"rules": {"dns": 3}, "eval_us": 1.5}});
    let b = json!({"uptime": 12, "decoder": {"pkts": 6, "event": {"ipv4": {"trunc": 2}, "tcp": {"x": 1}}},
                   "detect": {"rules_loaded": 7, "alert": 3},
                   "sigma": {"rules": {"dns": 3}, "eval_us": 2.0}});
    let m = merge_stats(&[a, b]);
    assert_eq!(m["uptime"], 12);
    assert_eq!(m["decoder"]["pkts"], 11);
    assert_eq!(m["decoder"]["event"]["ipv4"]["trunc"], 3);
    assert_eq!(m["decoder"]["event"]["tcp"]["x"], 1);
    assert_eq!(m["detect"], json!({"rules_loaded": 7, "alert": 5}));
    assert_eq!(m["sigma"]["rules"]["dns"], 3);
    assert_eq!(m["sigma"]["eval_us"], 3.5);
}

#[test]
fn a_full_queue_drops_whole_batches_and_counts_every_frame() {
    // One worker, batches of 4, a queue of one batch: the demo capture dispatched at
    // once overruns it. Whatever the timing, drops are whole batches and every frame is
    // either processed or counted as dropped.
    let det = demo_rules();
    let limits = WorkerLimits { batch: 4, queue: 1 };
    let mut w = Workers::start(1, &SensorConfig::default(), &det, limits, Backpressure::Drop)
        .expect("start");
    let frames = demo::capture().frames;
    for (i, (ts, f)) in frames.iter().enumerate() {
        w.dispatch(&synth::frame(*ts, f), i as u64 + 1);
    }
    let dispatched = w.stats;
    let mut out = AlertCollector::default();
    let records = w.finish(&mut out).expect("finish").stats;
    let processed = merge_stats(&records)["decoder"]["pkts"].as_u64().expect("pkts");
    assert_eq!(dispatched.frames, frames.len() as u64);
    assert_eq!(dispatched.queue_drops % 4, 0, "whole batches");
    assert_eq!(processed + dispatched.queue_drops, dispatched.frames, "{dispatched:?}");
}

/// Many hosts and flows: fragmented datagrams of flows that also send whole ones
/// (fragments arrive last-first), a scanner counted by source across flows, flowbits
/// set by one packet and tested by the next, IP-only rules.
fn mixed_capture() -> crate::synth::Capture {
    use crate::synth::{eth_ipv4, eth_ipv4_fragments, tcp_segment, udp_datagram};
    use std::net::Ipv4Addr;
    let mut cap = crate::synth::Capture::default();
    let mut t = 1_700_000_000_000_000i64;
    let mut tick = || {
        t += 1_000;
        t
    };
    let server = Ipv4Addr::new(192, 0, 2, 53);
    let scanner = Ipv4Addr::new(203, 0, 113, 9);
    for i in 0..48u16 {
        let host = Ipv4Addr::new(10, 1, (i / 200) as u8, (i % 200) as u8 + 1);
        // A whole datagram that sets a flowbit, then a fragmented one with the secret.
        let hello = udp_datagram(host, server, 40000 + i, 5353, b"HELLO gw");
        cap.push(tick(), eth_ipv4(host, server, 17, &hello, i));
        let mut body = vec![b'.'; 300];
        body[150..163].copy_from_slice(b"SECRET-MARKER");
        let big = udp_datagram(host, server, 40000 + i, 5353, &body);
        let mut frags = eth_ipv4_fragments(host, server, 17, &big, 1000 + i, 96);
        frags.reverse();
        for f in frags {
            cap.push(tick(), f);
        }
        // The scanner touches this host: one SYN per port, every host.
        for port in [22u16, 80, 445] {
            let syn = tcp_segment(scanner, host, 50000 + i, port, 7, 0, 0x02, b"");
            cap.push(tick(), eth_ipv4(scanner, host, 6, &syn, 0));
        }
    }
    cap
}

const MIXED_RULES: &str = r#"
alert udp any any -> any 5353 (msg:"hello"; content:"HELLO"; flowbits:set,hello; flowbits:noalert; sid:1;)
alert udp any any -> any 5353 (msg:"secret after hello"; content:"SECRET-MARKER"; flowbits:isset,hello; sid:2;)
alert udp any any -> any 5353 (msg:"secret in a fragmented datagram"; flow:only_frag; content:"SECRET"; sid:3;)
alert tcp 203.0.113.9 any -> any any (msg:"scan every 5th by source"; flags:S; threshold:type threshold, track by_src, count 5, seconds 60; sid:4;)
alert tcp any any -> any 445 (msg:"smb scan limited by destination net"; flags:S; threshold:type limit, track by_src, count 7, seconds 60; sid:5;)
alert tcp any any -> any any (msg:"after 20 syns by source"; flags:S; detection_filter:track by_src, count 20, seconds 60; sid:6;)
alert ip 203.0.113.9 any -> any any (msg:"ip-only scanner"; sid:7;)
alert tcp any any -> any 22 (msg:"ssh syn both limit"; flags:S; threshold:type both, track by_rule, count 10, seconds 60; sid:8;)
"#;

/// (sid, flow endpoints in order, protocol, pcap_cnt) of every alert, as a multiset.
type AlertKey = (u32, String, Option<u16>, String, Option<u16>, String, Option<u64>);

fn alert_multiset(alerts: &[AlertEvent]) -> BTreeMap<AlertKey, usize> {
    let mut m = BTreeMap::new();
    for a in alerts {
        let x = (a.src_ip.clone(), a.src_port);
        let y = (a.dest_ip.clone(), a.dest_port);
        let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
        let key = (a.alert.signature_id, lo.0, lo.1, hi.0, hi.1, a.proto.clone(), a.pcap_cnt);
        *m.entry(key).or_insert(0) += 1;
    }
    m
}

#[test]
fn any_number_of_workers_raises_the_alerts_of_one() {
    let p = std::env::temp_dir().join(format!("gw-workers-mixed-{}.pcap", std::process::id()));
    mixed_capture().write_pcap(&p).expect("pcap");
    let mut sigs = Vec::new();
    file::load_text(
        MIXED_RULES,
        "mixed.rules",
        &Vars::default(),
        &mut sigs,
        &mut LoadReport::default(),
    );
    assert_eq!(sigs.len(), 8);
    let detection: Detection = Arc::new(RuleSet::build(sigs, Limits::default())).into();
    let run = |workers: usize| {
        let mut cfg = SensorConfig::default();
        cfg.capture.workers = workers;
        let mut out = AlertCollector::default();
        let s =
            replay_files(&[&p], cfg, detection.clone(), &mut out, None, |_, _| {}).expect("replay");
        (s, alert_multiset(&out.alerts))
    };
    let (one, base) = run(1);
    let per_sid = |sid: u32| base.iter().filter(|(k, _)| k.0 == sid).map(|(_, n)| n).sum::<usize>();
    // What one worker raises, worked out from the capture: every fragmented datagram
    // is reassembled within its flow (sids 2, 3); 144 SYNs from one source: every 5th
    // (sid 4), 7 of 48 to port 445 (sid 5), the 21st on (sid 6); sid 8 once at the 10th.
    assert_eq!(
        [per_sid(2), per_sid(3), per_sid(4), per_sid(5), per_sid(6), per_sid(8)],
        [48, 48, 28, 7, 124, 1]
    );
    assert!(per_sid(7) >= 48, "ip-only: at least once per scanned host");
    for workers in [2, 4, 2, 4] {
        let (s, got) = run(workers);
        assert_eq!(got, base, "{workers} workers");
        for k in [
            "decoder.pkts",
            "flow.total",
            "defrag.ipv4.reassembled",
            "detect.alert",
            "detect.alerts_suppressed",
        ] {
            assert_eq!(s.counter(k), one.counter(k), "{k} with {workers} workers");
        }
    }
    let _ = std::fs::remove_file(&p);
}

/// Later fragments whose first never comes are held, then processed when the clock
/// passes the defragmentation timeout, even if no packet follows (a quiet live source).
#[test]
fn held_fragments_are_processed_when_a_quiet_clock_passes_their_timeout() {
    use crate::synth::{eth_ipv4_fragments, udp_datagram};
    use std::net::Ipv4Addr;
    let det = demo_rules();
    let cfg = SensorConfig::default();
    let timeout_us = cfg.defrag.timeout_secs as i64 * 1_000_000;
    let mut w =
        Workers::start(2, &cfg, &det, WorkerLimits::default(), Backpressure::Wait).expect("start");
    let (a, b) = (Ipv4Addr::new(10, 9, 0, 1), Ipv4Addr::new(192, 0, 2, 9));
    let big = udp_datagram(a, b, 4000, 5000, &[b'x'; 400]);
    let frags = eth_ipv4_fragments(a, b, 17, &big, 77, 96);
    let t0 = 1_700_000_000_000_000i64;
    // Every fragment but the first.
    for (i, f) in frags.iter().skip(1).enumerate() {
        w.dispatch(&synth::frame(t0 + i as i64, f), i as u64 + 1);
    }
    let processed = |w: &mut Workers| {
        w.request_stats();
        let mut out = AlertCollector::default();
        let mut records = Vec::new();
        for _ in 0..200 {
            records.extend(
                w.drain_wait(&mut out, std::time::Duration::from_millis(20)).expect("drain"),
            );
            if records.len() == 2 {
                break;
            }
        }
        let stats: Vec<Value> = records.into_iter().map(|(_, v)| v).collect();
        merge_stats(&stats)["decoder"]["pkts"].as_u64().expect("pkts")
    };
    w.tick(t0 + 1_000_000);
    assert_eq!(processed(&mut w), 0, "held while the first may still come");
    w.tick(t0 + timeout_us + 2_000_000);
    assert_eq!(processed(&mut w), frags.len() as u64 - 1);
    w.finish(&mut AlertCollector::default()).expect("finish");
}
