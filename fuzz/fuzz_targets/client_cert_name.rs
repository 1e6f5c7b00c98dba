//! The DER walk that reads a client certificate's common name: any bytes, no panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gatewatch_correlator::server::tls::common_name(data);
});
