//! Any bytes as both directions of an HTTP/2 connection, in pieces with gaps: the
//! preface, frames of every type, HPACK blocks (dynamic table, Huffman), CONTINUATION,
//! padding, and streams as transactions. A second run goes through the `h2c` upgrade
//! of an HTTP/1 request.
#![no_main]
use gatewatch_sensor::app::http;
use gatewatch_sensor::app::http2::Http2Conn;
use gatewatch_sensor::app::parser::{feed_pieces, AppCx, AppOutput, TO_CLIENT, TO_SERVER};
use gatewatch_sensor::app::session::SessionLimits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parser = Http2Conn::new(http::Limits::default(), true);
    feed_pieces(&mut parser, data);
    // The same bytes after an accepted `Upgrade: h2c`.
    let mut up = (http::conn::REGISTRATION.new)(&SessionLimits::default());
    let (mut out, mut counters) = (AppOutput::default(), Default::default());
    let mut cx = AppCx { counters: &mut counters, out: &mut out };
    up.parse(TO_SERVER, b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n\r\n", &mut cx);
    up.parse(TO_CLIENT, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", &mut cx);
    feed_pieces(up.as_mut(), data);
});
