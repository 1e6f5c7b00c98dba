//! What the automated response reads from attackers' traffic: domain names and tags in
//! an alert's EVE body become block targets. Any body is read without a panic; every
//! name it yields is canonical, and the allowlist's answer for it is the same as for its
//! upper-case or trailing-dot spelling (no way around the allowlist by spelling).
#![no_main]
use gatewatch_correlator::response::allowlist::{Allowlist, TargetValue};
use gatewatch_correlator::response::policy::{domains_in, tags_in};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let name = "critical".to_string();
    let entries = vec!["hue.gov.vn".to_string(), "10.46.0.0/16".to_string()];
    let allow = Allowlist::new([(&name, &entries)]).expect("allowlist");
    let inv = Default::default();
    let _ = tags_in(text);
    // Every address both internal and a resolver: the most names a body can yield.
    let mut names = domains_in(text, &|_| true, &|_| true);
    for n in &names {
        assert!(!n.starts_with('-'), "a target that reads as an option: {n}");
    }
    names.push(text.to_string());
    for d in names {
        let Some(t) = TargetValue::parse(&d) else { continue };
        let hit = allow.check(&t, &inv).is_some();
        if let TargetValue::Domain(c) = &t {
            assert_eq!(c, &c.to_ascii_lowercase());
            assert!(!c.ends_with('.'));
            for other in [c.to_ascii_uppercase(), format!("{c}.")] {
                let o = TargetValue::parse(&other).expect("a spelling of a name");
                assert_eq!(allow.check(&o, &inv).is_some(), hit, "{other}");
            }
        }
    }
});
