//! Any bytes as a capture through the whole sensor pipeline with a small rule set.
#![no_main]
use std::sync::{Arc, OnceLock};

use gatewatch_rules::engine::{Limits, RuleSet};
use gatewatch_rules::load_report::LoadReport;
use gatewatch_rules::signature::{file, Vars};
use gatewatch_sensor::capture::pcap::PcapReader;
use gatewatch_sensor::config::{ChecksumMode, SensorConfig};
use gatewatch_sensor::output::NullSink;
use gatewatch_sensor::pipeline::Pipeline;
use libfuzzer_sys::fuzz_target;

const RULES: &str = r#"
alert tcp any any -> any any (content:"GET"; content:"HTTP"; distance:0; flowbits:set,x; sid:1;)
alert tcp any any -> any any (flowbits:isset,x; pcre:"/^[a-z]+\d/R"; content:"a"; sid:2;)
alert udp any any -> any 53 (content:"|00 01|"; offset:2; depth:2; threshold:type both, track by_src, count 2, seconds 5; sid:3;)
alert ip any any -> any any (sid:4;)
alert icmp any any -> any any (itype:>3; dsize:<100; sid:5;)
"#;

fn rules() -> Arc<RuleSet> {
    static RS: OnceLock<Arc<RuleSet>> = OnceLock::new();
    RS.get_or_init(|| {
        let mut sigs = Vec::new();
        file::load_text(RULES, "fuzz", &Vars::default(), &mut sigs, &mut LoadReport::default());
        Arc::new(RuleSet::build(sigs, Limits::default()))
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let mut cfg = SensorConfig::default();
    cfg.capture.checksum_validation = ChecksumMode::No;
    cfg.flow.max_flows = 64;
    cfg.stream.midstream = data.first().is_some_and(|b| b & 1 == 1);
    let mut sensor = Pipeline::new(cfg, rules());
    let mut sink = NullSink;
    if let Ok(mut r) = PcapReader::new(data, "fuzz") {
        while let Ok(Some(f)) = r.next_frame() {
            let _ = sensor.process(&f, &mut sink);
        }
    }
    let _ = sensor.finish(&mut sink);
    assert!(sensor.stats().flow.active <= 64);
});
