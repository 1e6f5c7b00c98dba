//! A TCP session built from any bytes: segments in both directions with arbitrary
//! sequence numbers, flags and payloads, through reassembly, protocol detection and the
//! parsers of every registered protocol (the port hint picked by two flag bits). Memory
//! stays within the caps (reassembly, and parser state: small enough that the memcap
//! stop and HTTP's transaction bound are reached) and is all given back at the end.
#![no_main]
use gatewatch_sensor::app::parser::{AppCounters, AppOutput};
use gatewatch_sensor::app::session::{Segment, SegmentCx, SessionLimits, TcpSession};
use gatewatch_sensor::stream::Memcap;
use libfuzzer_sys::fuzz_target;

const CAP: usize = 64 * 1024;
const APP_CAP: usize = 16 * 1024;

fuzz_target!(|data: &[u8]| {
    // Both delivery modes: as acknowledged (the default) and inline.
    let inline = data.len() % 2 == 1;
    let mut limits =
        SessionLimits { depth: 32 * 1024, max_pending: 8 * 1024, inline, ..Default::default() };
    limits.http.max_tx = 4;
    let mut mem = Memcap::new(CAP);
    let mut app_mem = Memcap::new(APP_CAP);
    let mut counters = AppCounters::default();
    let mut s = TcpSession::default();
    let mut rest = data;
    // Segment: [flags|dir, seq hi, seq lo, len] + payload.
    while rest.len() >= 4 {
        let (h, r) = rest.split_at(4);
        let len = (h[3] as usize).min(r.len());
        let (payload, r) = r.split_at(len);
        rest = r;
        let to_server = h[0] & 0x80 == 0;
        let flags = h[0] & 0x1f;
        let seq = u16::from_be_bytes([h[1], h[2]]) as u32;
        // The acknowledgement: the same bytes the other way round, near the sequence
        // numbers in use.
        let ack = u16::from_be_bytes([h[2], h[1]]) as u32;
        let port = [53, 445, 21, 88][(h[0] >> 5) as usize & 3];
        let mut out = AppOutput::default();
        let mut cx = SegmentCx {
            ports: [40000, port],
            limits: &limits,
            mem: &mut mem,
            app_mem: &mut app_mem,
            counters: &mut counters,
        };
        s.on_segment(Segment { to_server, flags, seq, ack, payload }, &mut cx, &mut out);
        assert!(mem.used() <= CAP);
        assert!(app_mem.used() <= APP_CAP);
    }
    let mut out = AppOutput::default();
    let mut cx = SegmentCx {
        ports: [0, 0],
        limits: &limits,
        mem: &mut mem,
        app_mem: &mut app_mem,
        counters: &mut counters,
    };
    s.end(&mut cx, &mut out);
    assert_eq!(mem.used(), 0, "reassembly memory not released");
    assert_eq!(app_mem.used(), 0, "parser memory not given back");
});
