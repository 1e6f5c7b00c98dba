//! Rule and indicator files as downloaded (`gatewatch rules update`) or written by hand:
//! Sigma YAML and indicator lists (text, CSV, MISP JSON) load or report, never panic.
#![no_main]
use std::path::Path;

use gatewatch_rules::ioc::{load_text, IocSet};
use gatewatch_rules::load_report::LoadReport;
use gatewatch_rules::sigma;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut report = LoadReport::default();
    let mut parsed = sigma::Parsed::default();
    sigma::parse_text(text, "fuzz.yml", &mut report, &mut parsed);
    if parsed.rules.len() <= 4 {
        let _ = sigma::compile(parsed, sigma::NETWORK_PIPELINE, &mut report);
    }
    for name in ["list.txt", "list.csv", "misp.json"] {
        let mut set = IocSet::default();
        let mut r = LoadReport::default();
        load_text(&mut set, text, Path::new(name), &mut r);
        for i in 0..set.len().min(8) {
            let _ = set.list_name(set.indicator(i as u32));
        }
    }
});
