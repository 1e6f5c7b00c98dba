//! Any bytes as Kerberos: the whole input as one datagram (DER walking, principals,
//! encrypted parts), then as both directions of a TCP connection in pieces.
#![no_main]
use gatewatch_sensor::app::krb5::{parse, Krb5Conn};
use gatewatch_sensor::app::parser::feed_pieces;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse(data);
    let mut parser = Krb5Conn::default();
    feed_pieces(&mut parser, data);
});
