//! Any bytes as both directions of an RDP connection, in pieces with gaps: TPKT and
//! X.224 framing, negotiation, client core data, the switch to TLS.
#![no_main]
use gatewatch_sensor::app::parser::feed_pieces;
use gatewatch_sensor::app::rdp::RdpConn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parser = RdpConn::default();
    feed_pieces(&mut parser, data);
});
