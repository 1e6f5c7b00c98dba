//! Any bytes as both directions of a FTP connection, in pieces with gaps: command and reply lines, multi-line and preliminary replies, data-channel ports.
#![no_main]
use gatewatch_sensor::app::parser::feed_pieces;
use gatewatch_sensor::app::ftp::FtpConn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parser = FtpConn::default();
    feed_pieces(&mut parser, data);
});
