//! Host log text as the correlator receives it (JSON lines, pretty objects, arrays,
//! garbage) through the reader, the Windows flattening, the logsource lookup, the EVE →
//! Sigma event builder and a small rule set: nothing panics, every byte is either an
//! event or an error.
#![no_main]
use std::sync::OnceLock;

use gatewatch_rules::sigma::{self, host, network, SigmaSet};
use libfuzzer_sys::fuzz_target;

const RULES: &str = "title: a\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    s:\n        Image|endswith: '\\\\x.exe'\n        CommandLine|re: 'a+b'\n    condition: s\n---\ntitle: b\nlogsource:\n    category: proxy\ndetection:\n    s:\n        c-uri|contains|all: ['/a', 'b']\n    k:\n        - 'evil'\n    condition: s or k\n";

fn set() -> &'static SigmaSet {
    static SET: OnceLock<SigmaSet> = OnceLock::new();
    SET.get_or_init(|| {
        let mut report = Default::default();
        let mut parsed = sigma::Parsed::default();
        sigma::parse_text(RULES, "fuzz.yml", &mut report, &mut parsed);
        sigma::compile(parsed, sigma::NETWORK_PIPELINE, &mut report).expect("rules compile")
    })
}

fuzz_target!(|data: &[u8]| {
    let map = host::HostLogsources::parse(host::HOST_LOGSOURCES).expect("shipped map");
    let set = set();
    let _ = host::for_each_event(
        data,
        |v| {
            let flat = host::flatten_windows(&v);
            let _ = map.source_of(&flat);
            let _ = set.evaluate_host(&v);
            if let Some((t, ev)) = network::event_from_eve(&v) {
                let _ = set.evaluate_network(t, &ev);
            }
        },
        |e| assert!(e.starts_with("lines ")),
    );
});
