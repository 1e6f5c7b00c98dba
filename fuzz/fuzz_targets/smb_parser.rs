//! Any bytes as both directions of a SMB connection, in pieces with gaps: NetBIOS framing, SMB1/SMB2 messages, NTLMSSP, files and DCERPC over named pipes.
#![no_main]
use gatewatch_sensor::app::parser::feed_pieces;
use gatewatch_sensor::app::smb::SmbConn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parser = SmbConn::default();
    feed_pieces(&mut parser, data);
});
