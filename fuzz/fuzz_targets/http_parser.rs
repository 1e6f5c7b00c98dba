//! Any bytes as both directions of an HTTP/1 connection, fed in pieces of any size:
//! heads, chunked and length-delimited bodies, gzip/deflate decoding, close. Bounds
//! must hold for every input.
#![no_main]
use gatewatch_sensor::app::http::{Event, HttpParser, Limits, RequestInfo, Side};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else { return };
    let step = (ctl as usize % 97).max(1);
    let limits = Limits { max_head: 2048, body_limit: 512, decoded_limit: 4096, max_tx: 8 };
    let mut req = HttpParser::new(Side::Request, limits);
    let mut resp = HttpParser::new(Side::Response, limits);
    let mut out = Vec::new();
    for (i, chunk) in rest.chunks(step).enumerate() {
        // The low bit of each chunk's index picks the direction when asked by ctl.
        let to_client = ctl & 0x80 != 0 && i % 2 == 1;
        if to_client {
            let info = RequestInfo { head_method: ctl & 1 != 0, connect: ctl & 2 != 0 };
            resp.feed(chunk, || info, &mut out);
        } else {
            req.feed(chunk, RequestInfo::default, &mut out);
        }
        assert!(req.buffered() <= limits.max_head + limits.body_limit + step);
        assert!(resp.buffered() <= limits.max_head + limits.body_limit + step);
    }
    req.close(&mut out);
    resp.close(&mut out);
    for e in &out {
        if let Event::Done(b) = e {
            assert!(b.data.len() <= limits.decoded_limit.max(limits.body_limit));
        }
    }
});
