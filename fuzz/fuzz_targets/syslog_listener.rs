//! Bytes as a syslog TCP connection delivers them, in arbitrary pieces: the RFC 6587
//! framer, then every frame through the RFC 5424/3164 parser (with its auditd and JSON
//! bodies). Nothing panics; no frame is longer than the limit; a parsed message is a
//! JSON object with a timestamp.
#![no_main]
use chrono::{DateTime, FixedOffset};
use gatewatch_correlator::ingest::syslog::{parse, Framer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, rest)) = data.split_first() else { return };
    let tz = FixedOffset::east_opt(7 * 3600).expect("offset");
    let received: DateTime<FixedOffset> = DateTime::from_timestamp(1_795_400_000, 0).expect("time").with_timezone(&tz);
    let mut framer = Framer::new(256);
    let step = (cut as usize % 64) + 1;
    let check = |frame: &[u8]| {
        assert!(frame.len() <= 256);
        if let Ok(v) = parse(frame, received, tz) {
            assert!(v.is_object());
        }
    };
    for piece in rest.chunks(step) {
        framer.push(piece);
        while let Some((frame, _)) = framer.next_frame() {
            check(&frame);
        }
    }
    if let Some(last) = framer.finish() {
        let _ = parse(&last, received, tz);
    }
    // The whole input as one datagram too.
    let _ = parse(rest, received, tz);
});
