//! Any bytes as a DNS message (UDP) and as a DNS-over-TCP stream.
#![no_main]
use gatewatch_sensor::app::dns::{parse_message, split_tcp, MAX_RECORDS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = parse_message(data) {
        assert!(m.questions.len() <= MAX_RECORDS && m.answers.len() <= MAX_RECORDS);
        for q in &m.questions {
            assert!(q.name.len() <= 1025);
        }
    }
    let mut rest = data;
    while let Ok((msg, tail)) = split_tcp(rest) {
        let _ = parse_message(msg);
        assert!(tail.len() < rest.len());
        rest = tail;
    }
});
