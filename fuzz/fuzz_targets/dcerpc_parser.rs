//! Any bytes as both directions of a DCERPC connection, in pieces with gaps: PDU framing and resynchronisation, bind/ack, fragmented requests and responses.
#![no_main]
use gatewatch_sensor::app::parser::feed_pieces;
use gatewatch_sensor::app::dcerpc::DcerpcConn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parser = DcerpcConn::default();
    feed_pieces(&mut parser, data);
});
