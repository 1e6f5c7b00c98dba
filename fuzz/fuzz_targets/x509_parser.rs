//! Any bytes as a DER certificate.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = gatewatch_sensor::app::x509::parse(data) {
        assert_eq!(c.fingerprint.len(), 59);
    }
});
