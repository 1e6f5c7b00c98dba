//! The DER walk that reads a client certificate's common name and role (its
//! organizational unit): any bytes, no panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gatewatch_correlator::server::tls::common_name(data);
    let _ = gatewatch_correlator::server::tls::organizational_unit(data);
});
