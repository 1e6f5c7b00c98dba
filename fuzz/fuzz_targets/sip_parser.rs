//! Any bytes as SIP: the whole input as one datagram, then as both directions of a
//! TCP connection in pieces (Content-Length framing, heads split anywhere).
#![no_main]
use gatewatch_sensor::app::parser::{feed_pieces, AppCx, AppParser};
use gatewatch_sensor::app::sip::SipConn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parser = SipConn::default();
    let mut counters = Default::default();
    let mut out = Default::default();
    parser.datagram(0, data, &mut AppCx { counters: &mut counters, out: &mut out });
    let mut parser = SipConn::default();
    feed_pieces(&mut parser, data);
});
