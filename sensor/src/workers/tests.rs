use std::collections::BTreeMap;
use std::sync::Arc;

use gatewatch_rules::engine::{Limits, RuleSet};
use gatewatch_rules::report::LoadReport;
use gatewatch_rules::signature::{file, Vars};
use serde_json::json;

use super::*;
use crate::output::AlertCollector;
use crate::pipeline::replay_files;
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
    let state = std::hash::RandomState::new();
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
