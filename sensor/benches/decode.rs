//! Per-packet cost of decoding and of the whole pipeline.
//! `cargo bench -p gatewatch-sensor --bench decode`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gatewatch_rules::engine::{Limits, RuleSet};
use gatewatch_rules::load_report::LoadReport;
use gatewatch_rules::signature::{file, Vars};
use gatewatch_sensor::capture::LinkType;
use gatewatch_sensor::config::SensorConfig;
use gatewatch_sensor::decode::{decode_l3, decode_l4, Decoded};
use gatewatch_sensor::output::NullSink;
use gatewatch_sensor::pipeline::Pipeline;
use gatewatch_sensor::synth::{self, demo};

fn frames() -> Vec<(i64, Vec<u8>)> {
    let mut cap = demo::capture();
    cap.sorted().to_vec()
}

fn bench(c: &mut Criterion) {
    let frames = frames();
    let bytes: usize = frames.iter().map(|(_, f)| f.len()).sum();
    let mut g = c.benchmark_group("demo_capture");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("decode_l3_l4", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (_, f) in &frames {
                if let Ok((_, Decoded::Ip(l3))) = decode_l3(LinkType::ETHERNET, f) {
                    if let Ok(l4) = decode_l4(&l3, l3.payload) {
                        n += l4.payload().len();
                    }
                }
            }
            n
        })
    });
    let mut sigs = Vec::new();
    let mut vars = Vars::default();
    vars.addresses.insert("HOME_NET".into(), demo::HOME_NET.into());
    file::load_text(demo::RULES, "demo.rules", &vars, &mut sigs, &mut LoadReport::default());
    let rules = Arc::new(RuleSet::build(sigs, Limits::default()));
    for (name, rs) in [
        ("pipeline_no_rules", Arc::new(RuleSet::build(Vec::new(), Limits::default()))),
        ("pipeline_demo_rules", rules),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut s = Pipeline::new(SensorConfig::default(), rs.clone());
                let mut sink = NullSink;
                for (ts, f) in &frames {
                    let _ = s.process(&synth::frame(*ts, f), &mut sink);
                }
                let _ = s.finish(&mut sink);
                s.stats().detect.alerts
            })
        });
    }
    g.finish();
    eprintln!("demo capture: {} frames, {} bytes", frames.len(), bytes);
}

criterion_group!(benches, bench);
criterion_main!(benches);
